#!/usr/bin/python3
"""A small scripted BGP peer for the hardening tests (plain sockets, no BGP library).

bgppeer.py LOCAL AGENT ASN [options]
  --idle N          first open N idle TCP connections from LOCAL to AGENT:179 (they never send a byte) and
                    keep them open; print "idle K" after every 25 and "idle-done" when all are through
  --announce P,...  once established, announce these IPv4 prefixes (next hop LOCAL), one UPDATE each
  --count N         once established, announce N /32 prefixes (10.200.0.0 upwards), packed into UPDATEs
  --gr SECONDS      announce graceful restart (RFC 4724) with this restart time, IPv4 unicast preserved
  --two-octet       a 2-octet AS speaker (no 4-octet AS capability, RFC 6793): AS_PATH in 2-octet ASes, and
                    each UPDATE received printed as "update PREFIXES as_path=AS,... as4_path=AS,..." ("-": none)
Then the session is kept up (KEEPALIVEs) and its events are printed: "established", "announced",
"withdrawn", "notification CODE SUBCODE", "closed", or "timeout" when not established within 30 s.
Lines on stdin: "withdraw" withdraws every prefix announced, "close" closes the connection without a
NOTIFICATION (as a restarting speaker does), "shutdown TEXT" sends a Cease / Administrative Shutdown with
TEXT (Python escapes such as \x1b decoded) as its RFC 9003 shutdown communication, then closes.
Reading stdin to its end stops the script.
"""
import argparse
import codecs
import ipaddress
import resource
import select
import socket
import struct
import sys
import time

MARKER = b"\xff" * 16


def message(kind, body):
    return MARKER + struct.pack("!HB", 19 + len(body), kind) + body


def open_message(asn, router_id, hold, restart_time=None, two_octet=False):
    caps = b"\x01\x04\x00\x01\x00\x01" + b"\x02\x00"
    if not two_octet:
        caps += b"\x41\x04" + struct.pack("!I", asn)
    if restart_time is not None:
        caps += b"\x40\x06" + struct.pack("!H", restart_time & 0x0FFF) + b"\x00\x01\x01\x80"
    params = b"\x02" + bytes([len(caps)]) + caps
    my_as = asn if asn <= 0xFFFF else 23456
    return message(1, struct.pack("!BHH4sB", 4, my_as, hold, socket.inet_aton(router_id), len(params)) + params)


def prefix_bytes(prefix):
    net = ipaddress.ip_network(prefix, strict=False)
    length = net.prefixlen
    return bytes([length]) + net.network_address.packed[: (length + 7) // 8]


def withdraw(prefixes):
    withdrawn = b"".join(prefix_bytes(p) for p in prefixes)
    return message(2, struct.pack("!H", len(withdrawn)) + withdrawn + struct.pack("!H", 0))


def update(prefixes, asn, next_hop, two_octet=False):
    attributes = b"\x40\x01\x01\x00"                                   # ORIGIN igp
    if two_octet:
        attributes += b"\x40\x02\x04\x02\x01" + struct.pack("!H", asn)  # AS_PATH: one sequence, 2-octet
    else:
        attributes += b"\x40\x02\x06\x02\x01" + struct.pack("!I", asn)  # AS_PATH: one sequence, 4-octet
    attributes += b"\x40\x03\x04" + socket.inet_aton(next_hop)         # NEXT_HOP
    nlri = b"".join(prefix_bytes(p) for p in prefixes)
    return message(2, struct.pack("!H", 0) + struct.pack("!H", len(attributes)) + attributes + nlri)


def describe_update(body, as_size):
    """An UPDATE's IPv4 NLRI, AS_PATH (ASes of as_size octets) and AS4_PATH, as one line."""
    withdrawn = struct.unpack("!H", body[:2])[0]
    pos = 2 + withdrawn
    length = struct.unpack("!H", body[pos:pos + 2])[0]
    attributes, nlri = body[pos + 2:pos + 2 + length], body[pos + 2 + length:]
    found = {}
    i = 0
    while i < len(attributes):
        flags, code = attributes[i], attributes[i + 1]
        if flags & 0x10:
            size, start = struct.unpack("!H", attributes[i + 2:i + 4])[0], i + 4
        else:
            size, start = attributes[i + 2], i + 3
        found[code] = attributes[start:start + size]
        i = start + size

    def path(data, size):
        out = []
        j = 0
        while j + 2 <= len(data):
            count = data[j + 1]
            j += 2
            for _ in range(count):
                out.append(str(int.from_bytes(data[j:j + size], "big")))
                j += size
        return ",".join(out) or "-"

    prefixes = []
    j = 0
    while j < len(nlri):
        bits = nlri[j]
        octets = (bits + 7) // 8
        prefixes.append("%s/%d" % (socket.inet_ntoa(nlri[j + 1:j + 1 + octets] + bytes(4 - octets)), bits))
        j += 1 + octets
    return "update %s as_path=%s as4_path=%s" % (
        ",".join(prefixes) or "-", path(found.get(2, b""), as_size), path(found[17], 4) if 17 in found else "-")


class Reader:
    def __init__(self, conn):
        self.conn = conn
        self.buffer = b""
        self.commands = []
        self.stdin = b""

    def next(self, timeout):
        """The next (type, body), None on timeout; raises EOFError when the connection ends."""
        deadline = time.time() + timeout
        while True:
            if len(self.buffer) >= 19:
                length = struct.unpack("!H", self.buffer[16:18])[0]
                if len(self.buffer) >= length:
                    kind, body = self.buffer[18], self.buffer[19:length]
                    self.buffer = self.buffer[length:]
                    return kind, body
            left = deadline - time.time()
            if left <= 0:
                return None
            ready, _, _ = select.select([self.conn, sys.stdin], [], [], left)
            if sys.stdin in ready:
                data = sys.stdin.buffer.read1(4096)
                if not data:
                    sys.exit(0)
                self.stdin += data
                while b"\n" in self.stdin:
                    line, self.stdin = self.stdin.split(b"\n", 1)
                    self.commands.append(line.decode().strip())
                if self.commands:
                    return None
            if self.conn in ready:
                chunk = self.conn.recv(65536)
                if not chunk:
                    raise EOFError
                self.buffer += chunk


def say(text):
    print(text, flush=True)


def flood(local, agent, count):
    # Room for every connection (the default soft limit is often 1,024 descriptors).
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < count + 256:
        resource.setrlimit(resource.RLIMIT_NOFILE, (count + 256, max(hard, count + 256)))
    held = []
    for i in range(count):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind((local, 0))
        s.setblocking(False)
        try:
            s.connect((agent, 179))
        except BlockingIOError:
            pass
        held.append(s)
        if (i + 1) % 25 == 0:
            # Until this batch is through the handshake (or refused), so the agent has seen it.
            deadline = time.time() + 5
            pending = held[-25:]
            while pending and time.time() < deadline:
                _, writable, _ = select.select([], pending, [], 0.2)
                pending = [s for s in pending if s not in writable]
            say("idle %d" % (i + 1))
    say("idle-done")
    return held


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("local")
    parser.add_argument("agent")
    parser.add_argument("asn", type=int)
    parser.add_argument("--idle", type=int, default=0)
    parser.add_argument("--announce", default="")
    parser.add_argument("--count", type=int, default=0)
    parser.add_argument("--gr", type=int, default=None)
    parser.add_argument("--two-octet", action="store_true")
    args = parser.parse_args()
    held = flood(args.local, args.agent, args.idle) if args.idle else []
    deadline = time.time() + 20
    while True:
        conn = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        conn.bind((args.local, 0))
        try:
            conn.connect((args.agent, 179))
            break
        except ConnectionRefusedError:
            conn.close()
            if time.time() > deadline:
                raise
            time.sleep(0.1)
    conn.sendall(open_message(args.asn, args.local, 9, args.gr, args.two_octet))
    reader = Reader(conn)
    established = False
    got_open = False
    last_keepalive = 0.0
    announced = []
    started = time.time()
    try:
        while True:
            if not established and time.time() - started > 30:
                say("timeout")
                break
            while reader.commands:
                command = reader.commands.pop(0)
                if command == "withdraw":
                    for start in range(0, len(announced), 500):
                        conn.sendall(withdraw(announced[start:start + 500]))
                    announced = []
                    say("withdrawn")
                elif command == "close":
                    conn.close()
                    raise EOFError
                elif command.startswith("shutdown "):
                    text = codecs.decode(command[len("shutdown "):], "unicode_escape").encode()[:255]
                    conn.sendall(message(3, bytes([6, 2, len(text)]) + text))
                    conn.close()
                    raise EOFError
            if got_open and time.time() - last_keepalive >= 1:
                conn.sendall(message(4, b""))
                last_keepalive = time.time()
            received = reader.next(0.3)
            if received is None:
                continue
            kind, body = received
            if kind == 1:
                got_open = True
                conn.sendall(message(4, b""))
                last_keepalive = time.time()
            elif kind == 2 and args.two_octet:
                say(describe_update(body, 2))
            elif kind == 3:
                say("notification %d %d" % (body[0], body[1]))
                break
            elif kind == 4 and not established:
                established = True
                say("established")
                for prefix in [p for p in args.announce.split(",") if p]:
                    conn.sendall(update([prefix], args.asn, args.local, args.two_octet))
                prefixes = [str(ipaddress.ip_address("10.200.0.0") + i) + "/32" for i in range(args.count)]
                for start in range(0, len(prefixes), 500):
                    conn.sendall(update(prefixes[start:start + 500], args.asn, args.local, args.two_octet))
                announced = [p for p in args.announce.split(",") if p] + prefixes
                say("announced")
    except (EOFError, ConnectionResetError, BrokenPipeError, OSError):
        say("closed")
    # Stay (and keep the idle connections) until the test is done.
    while sys.stdin.buffer.read1(4096):
        pass
    del held


if __name__ == "__main__":
    main()
