#!/usr/bin/python3
"""Traffic for the firewall tests, run inside pod network namespaces.

serve tcp:8080 udp:53 ... [name=NAME]
                            echo servers; prints "ready" once every socket listens. Asked "who"
                            over TCP, a server answers "NAME PEER-ADDRESS" (who served, whom it saw)
probe IP,PROTO,PORT ...     one attempt each (a timeout is retried once); prints a JSON object {"IP,PROTO,PORT": true|false}
who IP PORT COUNT           COUNT TCP connections asking "who"; prints a JSON list of the answers
                            ("refused", "timeout" for failures)
"""
import json
import socket
import sys
import threading


NAME = "server"


def serve(specs):
    global NAME
    sockets = []
    for spec in specs:
        if spec.startswith("name="):
            NAME = spec[5:]
            continue
        proto, port = spec.split(":")
        kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
        # One dual-stack socket per port: IPv4 arrives as IPv4-mapped IPv6.
        s = socket.socket(socket.AF_INET6, kind)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        s.bind(("::", int(port)))
        if proto == "tcp":
            s.listen(64)
        sockets.append((proto, s))
    for proto, s in sockets:
        threading.Thread(target=tcp_loop if proto == "tcp" else udp_loop, args=(s,), daemon=True).start()
    print("ready", flush=True)
    threading.Event().wait()


def tcp_loop(s):
    while True:
        conn, peer = s.accept()
        try:
            data = conn.recv(64)
            if data == b"who":
                address = peer[0][7:] if peer[0].startswith("::ffff:") else peer[0]
                data = ("%s %s" % (NAME, address)).encode()
            conn.sendall(data or b"ok")
        except OSError:
            pass
        finally:
            conn.close()


def udp_loop(s):
    while True:
        data, peer = s.recvfrom(64)
        s.sendto(data, peer)


def probe(targets):
    results = {}
    for target in targets:
        ip, proto, port = target.split(",")
        ok = False
        # A refusal (our REJECT) is an answer; a timeout is retried once, so that a packet lost while the
        # lab's neighbours are still being resolved is not taken for a denial.
        for _ in range(2):
            try:
                if proto == "tcp":
                    with socket.create_connection((ip, int(port)), timeout=2) as c:
                        c.sendall(b"ping")
                        ok = c.recv(64) == b"ping"
                else:
                    family = socket.AF_INET6 if ":" in ip else socket.AF_INET
                    with socket.socket(family, socket.SOCK_DGRAM) as c:
                        c.settimeout(2)
                        c.connect((ip, int(port)))
                        c.send(b"ping")
                        ok = c.recv(64) == b"ping"
                break
            except socket.timeout:
                continue
            except OSError:
                break
        results[target] = ok
    print(json.dumps(results), flush=True)


def who(args):
    ip, port, count = args[0], int(args[1]), int(args[2])
    answers = []
    for _ in range(count):
        try:
            with socket.create_connection((ip, port), timeout=2) as c:
                c.sendall(b"who")
                answers.append(c.recv(128).decode())
        except ConnectionRefusedError:
            answers.append("refused")
        except OSError:
            answers.append("timeout")
    print(json.dumps(answers), flush=True)


if __name__ == "__main__":
    {"serve": serve, "probe": probe, "who": who}[sys.argv[1]](sys.argv[2:])
