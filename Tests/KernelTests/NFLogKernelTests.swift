import Foundation
import TestSupport
import Testing

@testable import Kernel
@testable import KubeModel
@testable import Planning

/// The NFLOG reader against the kernel, in a network namespace of its own: packets logged by a rule arrive
/// with their prefix, headers and sequence numbers; a second reader is told who holds the group.
@Suite(.serialized, .enabled(if: Kernel.available, Comment(rawValue: Kernel.reason)))
struct NFLogKernelTests {
    let ns = "krnflog\(String(UInt32.random(in: 0...0xFFFFF), radix: 16))"

    func withNamespace(_ body: () throws -> Void) throws {
        #expect(Kernel.shell("ip netns add \(ns) && ip -n \(ns) link set lo up").0 == 0)
        defer { Kernel.shell("ip netns del \(ns)") }
        try body()
    }

    func send(udp count: Int, port: Int) {
        let script =
            "import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); "
            + "[s.sendto(b'x' * 200, ('127.0.0.1', \(port))) for _ in range(\(count))]"
        #expect(Kernel.shell("ip netns exec \(ns) python3 -c \"\(script)\"").0 == 0)
    }

    /// Reads until `count` packets came or 10 s passed.
    func read(_ reader: NFLogReader, count: Int) throws -> [LoggedPacket] {
        var packets: [LoggedPacket] = []
        let deadline = Date().addingTimeInterval(10)
        while packets.count < count && Date() < deadline { packets += try reader.next(timeout: 1) }
        return packets
    }

    @Test func loggedPacketsArriveWithPrefixHeadersAndSequence() throws {
        try withNamespace {
            #expect(
                Kernel.shell(
                    "ip netns exec \(ns) iptables-legacy -A OUTPUT -p udp --dport 9999 "
                        + "-j NFLOG --nflog-group 100 --nflog-prefix 'kube-router test'"
                ).0 == 0)
            let reader = try NetworkNamespace.run(ns) { try NFLogReader(group: 100) }
            defer { reader.close() }
            send(udp: 5, port: 9999)
            send(udp: 3, port: 9998)  // not logged
            let packets = try read(reader, count: 5)
            #expect(packets.count == 5)
            for packet in packets {
                #expect(packet.prefix == "kube-router test" && packet.group == 100)
                #expect(packet.payload.count == 128, "the copy range: \(packet.payload.count)")
                let header = try #require(packet.header)
                #expect(header.proto == .udp && header.destinationPort == 9999)
                #expect(header.destination == IPAddress("127.0.0.1"))
                #expect(abs(packet.time.timeIntervalSinceNow) < 30)
            }
            let sequences = packets.compactMap(\.sequence)
            #expect(sequences.count == 5 && zip(sequences, sequences.dropFirst()).allSatisfy { $1 == $0 + 1 })
            #expect(reader.lost == 0)
            #expect(try reader.next(timeout: 0.2).isEmpty, "nothing else was logged")

            // The group is ours: a second reader is refused and told who holds it (this process).
            #expect {
                _ = try NetworkNamespace.run(ns) { try NFLogReader(group: 100) }
            } throws: { error in
                guard case .held(let group, let holder)? = error as? NFLogReader.Failure else { return false }
                return group == 100 && holder?.pid == Int(getpid())
            }

            // Closed, the group is free again; another group is independent of it.
            reader.close()
            let again = try NetworkNamespace.run(ns) { try NFLogReader(group: 100) }
            let other = try NetworkNamespace.run(ns) { try NFLogReader(group: 101) }
            other.close()
            again.close()
            #expect(try NetworkNamespace.run(ns) { NFLogHolder.find(group: 100) } == nil)
        }
    }

    /// Another process holding the group (as tcpdump -i nflog:100 would): its pid comes from /proc.
    @Test func anotherProcessHoldingTheGroupIsNamed() throws {
        try withNamespace {
            let holder = Process()
            holder.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
            // A raw NETLINK_NETFILTER socket binding group 100 (NFULNL_MSG_CONFIG, cmd BIND), then waiting.
            let script = """
                import socket, struct, sys
                s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 12)
                s.bind((0, 0))
                cmd = struct.pack('HHB3x', 5, 1, 1)
                body = struct.pack('BBH', 0, 0, socket.htons(100)) + cmd
                msg = struct.pack('IHHII', 16 + len(body), (4 << 8) | 1, 5, 1, 0) + body
                s.send(msg)
                reply = s.recv(4096)
                err = struct.unpack('i', reply[16:20])[0]
                print('bound' if err == 0 else 'error %d' % err, flush=True)
                sys.stdin.read()
                """
            holder.arguments = ["netns", "exec", ns, "/usr/bin/python3", "-c", script]
            let input = Pipe()
            let output = Pipe()
            holder.standardInput = input
            holder.standardOutput = output
            try holder.run()
            defer {
                try? input.fileHandleForWriting.close()
                holder.waitUntilExit()
            }
            let line = String(decoding: output.fileHandleForReading.readData(ofLength: 6), as: UTF8.self)
            #expect(line == "bound\n", "the helper bound group 100: \(line)")
            #expect {
                _ = try NetworkNamespace.run(ns) { try NFLogReader(group: 100) }
            } throws: { error in
                guard case .held(_, let found)? = error as? NFLogReader.Failure, let found else { return false }
                return found.pid == Int(holder.processIdentifier) || found.command == "python3"
            }
        }
    }
}
