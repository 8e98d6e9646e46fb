import Foundation
import KubeModel

/// One packet the kernel logged to an NFLOG group, as values: read by `NFLogReader` (Kernel), attributed by
/// `DropAttribution` (pure).
public struct LoggedPacket: Sendable, Equatable {
    /// An address and port, as conntrack saw them first (the service VIP before IPVS rewrote it).
    public struct Original: Sendable, Equatable {
        public var address: IPAddress
        public var port: Int?

        public init(address: IPAddress, port: Int?) {
            self.address = address
            self.port = port
        }
    }

    public var time: Date
    public var group: Int
    /// The NFLOG rule's prefix: for ours, a key of `FirewallPlan.denials`.
    public var prefix: String
    /// The group's own sequence number (NFULNL_CFG_F_SEQ): a gap means samples were lost.
    public var sequence: UInt32?
    /// The bridge port the packet came in by (a pod's veth), when it was bridged.
    public var bridgePortIn: String?
    /// The bridge port the packet was to leave by.
    public var bridgePortOut: String?
    /// The packet from its L3 header, at most the copy range.
    public var payload: [UInt8]
    public var original: Original?

    public init(
        time: Date, group: Int, prefix: String, sequence: UInt32? = nil, bridgePortIn: String? = nil,
        bridgePortOut: String? = nil, payload: [UInt8], original: Original? = nil
    ) {
        self.time = time
        self.group = group
        self.prefix = prefix
        self.sequence = sequence
        self.bridgePortIn = bridgePortIn
        self.bridgePortOut = bridgePortOut
        self.payload = payload
        self.original = original
    }

    /// The addresses, protocol and ports of the payload; nil when it is no IPv4 or IPv6 packet.
    public var header: PacketHeader? { PacketHeader(payload) }
}
