import CNetlink
import Foundation
import KubeModel
import Planning

/// Reads the packets the kernel logs to one NFLOG group (libnl-nf, NETLINK_NETFILTER), in the network
/// namespace it was opened in. Binds the group only while it is open and never the family's logger (a
/// PF_UNBIND would clear every other listener's). Copies the first `copyRange` bytes of each packet, numbers
/// them (a gap, or ENOBUFS when our buffer overflows, is counted in `lost`), and asks for conntrack's
/// original tuple where the kernel can give it. One listener per group: when another holds it, `open` throws
/// `.held` with the holder's pid. Not thread-safe: one thread reads.
public final class NFLogReader: @unchecked Sendable {
    public enum Failure: Error, CustomStringConvertible {
        /// Another socket holds the group (EPERM), or this process does already (EBUSY).
        case held(group: Int, holder: NFLogHolder?)
        case failed(String)

        public var description: String {
            switch self {
            case .held(let group, let holder):
                "NFLOG group \(group) is held by "
                    + (holder.map { $0.description } ?? "another process (not found in /proc)")
                    + ": only one listener per group (stop it, e.g. tcpdump -i nflog:\(group), to see samples)"
            case .failed(let text): text
            }
        }
    }

    public let group: Int
    public let copyRange: Int
    /// Whether samples carry conntrack's original tuple (the kernel has nf_conntrack_netlink).
    public private(set) var conntrack = false
    /// Samples lost: gaps in the group's sequence numbers, plus one per ENOBUFS the socket reported (the
    /// kernel does not say how many those were).
    public private(set) var lost = 0
    /// Times the socket reported ENOBUFS.
    public private(set) var overruns = 0
    private var socket: OpaquePointer?
    private var lastSequence: UInt32?
    private var buffer = [UInt8](repeating: 0, count: 256 * 1024)
    private var samples = [kr_nflog_sample](repeating: kr_nflog_sample(), count: 256)

    public init(group: Int = FirewallNames.logGroup, copyRange: Int = 128, bufferBytes: Int = 4 << 20) throws {
        self.group = group
        self.copyRange = min(copyRange, Int(KR_NFLOG_PAYLOAD_MAX))
        guard let sk = nl_socket_alloc() else { throw Failure.failed("netlink: out of memory") }
        var rc = kr_nflog_connect(sk)
        guard rc == 0 else {
            nl_socket_free(sk)
            throw Failure.failed("netlink: cannot open NETLINK_NETFILTER: \(String(cString: nl_geterror(rc)))")
        }
        _ = kr_nflog_set_buffer(sk, Int32(bufferBytes))
        rc = kr_nflog_bind(sk, UInt16(group), UInt32(self.copyRange), 1)
        if rc == -NLE_AGAIN {  // the kernel has just loaded its conntrack glue: ask again
            rc = kr_nflog_bind(sk, UInt16(group), UInt32(self.copyRange), 1)
        }
        if rc == 0 {
            conntrack = true
        } else if rc != -NLE_PERM && rc != -NLE_BUSY {
            // No conntrack data in this kernel (EOPNOTSUPP): the samples go without it.
            rc = kr_nflog_bind(sk, UInt16(group), UInt32(self.copyRange), 0)
        }
        guard rc == 0 else {
            nl_socket_free(sk)
            if rc == -NLE_PERM || rc == -NLE_BUSY {
                throw Failure.held(group: group, holder: NFLogHolder.find(group: group))
            }
            throw Failure.failed("netlink: cannot bind NFLOG group \(group): \(String(cString: nl_geterror(rc)))")
        }
        socket = sk
    }

    deinit { close() }

    /// Unbinds the group (this group only) and closes the socket.
    public func close() {
        guard let sk = socket else { return }
        _ = kr_nflog_unbind(sk, UInt16(group))
        nl_socket_free(sk)
        socket = nil
    }

    /// Waits up to `timeout` seconds for packets; returns those of one read (empty on timeout).
    public func next(timeout: Double) throws -> [LoggedPacket] {
        guard let sk = socket else { throw Failure.failed("the NFLOG reader is closed") }
        let count = buffer.withUnsafeMutableBufferPointer { bytes in
            samples.withUnsafeMutableBufferPointer { out in
                kr_nflog_receive(
                    sk, Int32(max(0, timeout * 1000)), out.baseAddress, Int32(out.count), bytes.baseAddress,
                    Int32(bytes.count))
            }
        }
        if count == -ENOBUFS {
            overruns += 1
            lost += 1
            lastSequence = nil  // the next sample starts a new run
            return []
        }
        guard count >= 0 else {
            throw Failure.failed("netlink: NFLOG receive failed: \(String(cString: strerror(-count)))")
        }
        var packets: [LoggedPacket] = []
        for i in 0..<Int(count) {
            let packet = Self.packet(samples[i])
            if let seq = packet.sequence {
                if let last = lastSequence, seq &- last > 1 { lost += Int(seq &- last &- 1) }
                lastSequence = seq
            }
            packets.append(packet)
        }
        return packets
    }

    static func packet(_ s: kr_nflog_sample) -> LoggedPacket {
        var sample = s
        let prefix = withUnsafeBytes(of: &sample.prefix) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        let payload = withUnsafeBytes(of: &sample.payload) { Array($0.prefix(Int(s.payload_len))) }
        var original: LoggedPacket.Original?
        if s.has_ct != 0 {
            let bytes = withUnsafeBytes(of: &sample.ct_dst) { Array($0) }
            let address: IPAddress? =
                Int32(s.ct_family) == AF_INET
                ? IPAddress(v4: bytes[0..<4].reduce(UInt32(0)) { ($0 << 8) | UInt32($1) })
                : Int32(s.ct_family) == AF_INET6
                    ? IPAddress(
                        v6: bytes[0..<8].reduce(UInt64(0)) { ($0 << 8) | UInt64($1) },
                        bytes[8..<16].reduce(UInt64(0)) { ($0 << 8) | UInt64($1) }) : nil
            if let address { original = LoggedPacket.Original(address: address, port: Int(s.ct_dst_port)) }
        }
        return LoggedPacket(
            // The kernel stamps only packets that carry a timestamp (not most locally sent ones): else now.
            time: s.sec == 0 ? Date() : Date(timeIntervalSince1970: Double(s.sec) + Double(s.usec) / 1_000_000),
            group: Int(s.group),
            prefix: prefix, sequence: s.has_seq != 0 ? s.seq : nil, bridgePortIn: interfaceName(s.physindev),
            bridgePortOut: interfaceName(s.physoutdev), payload: payload, original: original)
    }

    static func interfaceName(_ index: UInt32) -> String? {
        guard index != 0 else { return nil }
        var name = [CChar](repeating: 0, count: Int(IF_NAMESIZE) + 1)
        guard if_indextoname(index, &name) != nil else { return "if\(index)" }
        return String(cString: name)
    }
}
