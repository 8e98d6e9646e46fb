#!/usr/bin/env python3
"""A long-lived TCP connection for the lab's rolling-restart test.

serve PORT             echo every line back; prints "listening" once bound
client HOST PORT       send a numbered line every --interval seconds over ONE connection and wait for its echo
                       (up to --timeout); on SIGTERM print a JSON summary: sent, echoed, late (echoes that took
                       longer than --timeout), maxGapMs (longest wait for an echo), closed (the connection broke)
"""
import json, signal, socket, sys, threading, time


def serve(port):
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("", port))
    listener.listen(16)
    print("listening", flush=True)

    def echo(conn):
        with conn:
            while True:
                data = conn.recv(4096)
                if not data:
                    return
                conn.sendall(data)

    while True:
        conn, _ = listener.accept()
        threading.Thread(target=echo, args=(conn,), daemon=True).start()


def client(host, port, interval, timeout):
    stats = {"sent": 0, "echoed": 0, "late": 0, "maxGapMs": 0, "closed": False, "error": ""}
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    conn = socket.create_connection((host, port), timeout=5)
    conn.settimeout(0.2)
    print("connected", flush=True)
    buffer = b""
    while not stop.is_set():
        stats["sent"] += 1
        line = f"{stats['sent']}\n".encode()
        started = time.monotonic()
        try:
            conn.sendall(line)
            while line not in buffer and not stop.is_set():
                try:
                    data = conn.recv(4096)
                except socket.timeout:
                    continue
                if not data:
                    raise ConnectionError("closed by the peer")
                buffer += data
        except (OSError, ConnectionError) as error:
            stats["closed"] = True
            stats["error"] = str(error)
            break
        gap = (time.monotonic() - started) * 1000
        if line in buffer:
            buffer = buffer.split(line, 1)[1]
            stats["echoed"] += 1
            if gap > timeout * 1000:
                stats["late"] += 1
        stats["maxGapMs"] = max(stats["maxGapMs"], int(gap))
        time.sleep(interval)
    print(json.dumps(stats), flush=True)


if __name__ == "__main__":
    # A test runner's threads block most signals and children inherit that: take SIGTERM and SIGINT back.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM, signal.SIGINT])
    args = sys.argv[1:]
    if args[0] == "serve":
        serve(int(args[1]))
    else:
        interval = float(args[args.index("--interval") + 1]) if "--interval" in args else 0.05
        timeout = float(args[args.index("--timeout") + 1]) if "--timeout" in args else 1.0
        client(args[1], int(args[2]), interval, timeout)
