import KubeModel

/// The L3 and L4 header fields of a logged packet: parsed from its first bytes, IPv4 or IPv6, TCP, UDP or
/// SCTP ports (ICMP has none).
public struct PacketHeader: Sendable, Equatable {
    public var source: IPAddress
    public var destination: IPAddress
    /// The IP protocol number (6 TCP, 17 UDP, 132 SCTP, 1 ICMP, 58 ICMPv6).
    public var protocolNumber: UInt8
    public var sourcePort: Int?
    public var destinationPort: Int?

    /// The protocol as NetworkPolicy names it; nil for protocols policies cannot name (ICMP).
    public var proto: PortProtocol? {
        switch protocolNumber {
        case 6: .tcp
        case 17: .udp
        case 132: .sctp
        default: nil
        }
    }

    /// `TCP`, `UDP`, `SCTP`, `ICMP`, `ICMPv6` or the number.
    public var protocolName: String {
        if let proto { return proto.rawValue }
        switch protocolNumber {
        case 1: return "ICMP"
        case 58: return "ICMPv6"
        default: return "\(protocolNumber)"
        }
    }

    public init(
        source: IPAddress, destination: IPAddress, protocolNumber: UInt8, sourcePort: Int?, destinationPort: Int?
    ) {
        self.source = source
        self.destination = destination
        self.protocolNumber = protocolNumber
        self.sourcePort = sourcePort
        self.destinationPort = destinationPort
    }

    public init?(_ bytes: [UInt8]) {
        guard let first = bytes.first else { return nil }
        func word(_ at: Int) -> UInt64 {
            (0..<8).reduce(UInt64(0)) { ($0 << 8) | UInt64(bytes[at + $1]) }
        }
        var l4: Int
        switch first >> 4 {
        case 4:
            guard bytes.count >= 20 else { return nil }
            let address = { (at: Int) in
                IPAddress(v4: (0..<4).reduce(UInt32(0)) { ($0 << 8) | UInt32(bytes[at + $1]) })
            }
            source = address(12)
            destination = address(16)
            protocolNumber = bytes[9]
            l4 = Int(first & 0x0F) * 4
            // A fragment after the first carries no L4 header.
            if (UInt16(bytes[6] & 0x1F) << 8 | UInt16(bytes[7])) != 0 { l4 = Int.max }
        case 6:
            guard bytes.count >= 40 else { return nil }
            source = IPAddress(v6: word(8), word(16))
            destination = IPAddress(v6: word(24), word(32))
            protocolNumber = bytes[6]
            l4 = 40
        default:
            return nil
        }
        if [6, 17, 132].contains(protocolNumber), l4 < bytes.count, bytes.count - l4 >= 4 {
            sourcePort = Int(bytes[l4]) << 8 | Int(bytes[l4 + 1])
            destinationPort = Int(bytes[l4 + 2]) << 8 | Int(bytes[l4 + 3])
        } else {
            sourcePort = nil
            destinationPort = nil
        }
    }
}
