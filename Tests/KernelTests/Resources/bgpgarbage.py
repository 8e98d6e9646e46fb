#!/usr/bin/python3
"""A misbehaving BGP peer for the interop tests.

garbage ADDRESS   listen on ADDRESS:179; on the first connection read the speaker's OPEN and answer with
                  a message whose marker is not all ones; print the NOTIFICATION received as
                  "notification CODE SUBCODE"; then wait for the speaker to connect again and print
                  "reconnected".
"""
import socket
import sys


def read_message(conn):
    header = b""
    while len(header) < 19:
        chunk = conn.recv(19 - len(header))
        if not chunk:
            return None
        header += chunk
    length = int.from_bytes(header[16:18], "big")
    body = b""
    while len(body) < length - 19:
        chunk = conn.recv(length - 19 - len(body))
        if not chunk:
            return None
        body += chunk
    return header[18], body


def main(address):
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind((address, 179))
    server.listen(4)
    print("ready", flush=True)
    conn, _ = server.accept()
    conn.settimeout(10)
    message = read_message(conn)
    assert message and message[0] == 1, "expected an OPEN"
    conn.sendall(b"\xfe" + b"\xff" * 15 + b"\x00\x13\x04")  # a KEEPALIVE with a broken marker
    while True:
        message = read_message(conn)
        if message is None:
            print("closed without notification", flush=True)
            break
        if message[0] == 3:
            print("notification %d %d" % (message[1][0], message[1][1]), flush=True)
            break
    conn.close()
    again, _ = server.accept()
    print("reconnected", flush=True)
    again.close()


if __name__ == "__main__":
    {"garbage": main}[sys.argv[1]](sys.argv[2])
