/// One rule of a chain with the kernel's counters: `krctl policy check` shows them beside each rule.
public struct RuleHit: Sendable, Encodable, Equatable {
    /// Counts from 1, as `iptables -L --line-numbers` does.
    public var rule: Int
    public var target: String
    public var comment: String
    public var packets: UInt64
    public var bytes: UInt64

    public init(rule: Int, target: String, comment: String, packets: UInt64, bytes: UInt64) {
        self.rule = rule
        self.target = target
        self.comment = comment
        self.packets = packets
        self.bytes = bytes
    }

    /// The chain's rules as the kernel counted them.
    public static func hits(_ counted: [DenialCount.Counted]) -> [RuleHit] {
        counted.enumerated().map { index, entry in
            RuleHit(
                rule: index + 1, target: name(entry.rule.target), comment: entry.rule.comment,
                packets: entry.packets, bytes: entry.bytes)
        }
    }

    static func name(_ target: Rule.Target) -> String {
        switch target {
        case .accept: "ACCEPT"
        case .drop: "DROP"
        case .reject: "REJECT"
        case .return: "RETURN"
        case .nflog: "NFLOG"
        case .masquerade: "MASQUERADE"
        case .mark: "MARK"
        case .jump(let chain): chain
        }
    }
}
