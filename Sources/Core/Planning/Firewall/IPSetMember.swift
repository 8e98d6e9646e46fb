import KubeModel

/// One member of an ipset, as a value: what the planners put in a set and what the kernel's listing is
/// read back as (`IPSetMember(listed:type:family:)` in `Kernel`). Equality is structural: a host prefix
/// of hash:net is the same member however the kernel prints it, an IPv6 address however it is written.
public enum IPSetMember: Hashable, Sendable, CustomStringConvertible, Encodable {
    /// A member of hash:ip: one address.
    case address(IPAddress)
    /// A member of hash:net: a prefix; `nomatch` excludes it from a shorter prefix of the set (the most
    /// specific prefix that contains an address decides).
    case net(CIDR, nomatch: Bool = false)
    /// A member of hash:ip,port: an address, a protocol and a port.
    case addressPort(IPAddress, PortProtocol, port: UInt16)
    /// A member read from the kernel that is none of the above (another set type's syntax, options we
    /// never set). No planned member is ever one, so a set holding one differs from any plan: it is
    /// refilled, never taken for right.
    case unparsed(String)

    /// The member in the syntax of `ipset restore` and libipset: `10.0.0.1`, `10.0.0.0/8`,
    /// `10.0.2.0/24 nomatch`, `10.0.0.1,tcp:8080`.
    public var restoreText: String {
        switch self {
        case .address(let address): address.description
        case .net(let cidr, let nomatch): nomatch ? "\(cidr) nomatch" : cidr.description
        case .addressPort(let address, let proto, let port): "\(address),\(proto.rawValue.lowercased()):\(port)"
        case .unparsed(let text): text
        }
    }

    public var description: String { restoreText }

    /// True for a member the reader could not make sense of.
    public var isUnparsed: Bool {
        if case .unparsed = self { true } else { false }
    }

    /// The family of the member's address; nil for an unparsed one.
    public var family: IPAddress.Family? {
        switch self {
        case .address(let address), .addressPort(let address, _, _): address.family
        case .net(let cidr, _): cidr.family
        case .unparsed: nil
        }
    }

    /// Encoded as its text, so JSON carries members as ipset writes them.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(restoreText)
    }
}
