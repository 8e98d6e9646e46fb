#!/usr/bin/python3
"""Traffic for the firewall tests, run inside pod network namespaces.

serve tcp:8080 udp:53 ...   echo servers; prints "ready" once every socket listens
probe IP,PROTO,PORT ...     one attempt each; prints a JSON object {"IP,PROTO,PORT": true|false}
"""
import json
import socket
import sys
import threading


def serve(specs):
    sockets = []
    for spec in specs:
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
        conn, _ = s.accept()
        try:
            data = conn.recv(64)
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
        except OSError:
            ok = False
        results[target] = ok
    print(json.dumps(results), flush=True)


if __name__ == "__main__":
    {"serve": serve, "probe": probe}[sys.argv[1]](sys.argv[2:])
