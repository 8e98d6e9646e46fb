import KubeModel

/// The true number of one pod chain direction's drops: its REJECT rule's counters (NFLOG samples are rate
/// limited; counters are not). Also the chain's conntrack INVALID drops, which no policy decides.
public struct DenialCount: Sendable, Codable, Equatable {
    public var pod: String
    public var direction: String
    public var chain: String
    public var family: IPAddress.Family
    public var policies: [String]
    /// Packets and bytes the REJECT rule refused (since the rule was created: the agent keeps them across
    /// rewrites); nil when the kernel does not hold the planned rule.
    public var packets: UInt64?
    public var bytes: UInt64?
    /// Packets the chain dropped as conntrack INVALID (counted once per chain, on its ingress entry).
    public var invalidPackets: UInt64?

    /// One rule as the kernel holds it, with its counters.
    public struct Counted: Sendable, Equatable {
        public var rule: Rule
        public var packets: UInt64
        public var bytes: UInt64

        public init(rule: Rule, packets: UInt64, bytes: UInt64) {
            self.rule = rule
            self.packets = packets
            self.bytes = bytes
        }
    }

    /// The plan's denials with the counters of the kernel's rules, found by identity (the rule as planned),
    /// never by position.
    public static func match(plan: FirewallPlan, kernel: [String: [Counted]]) -> [DenialCount] {
        var invalidSeen = Set<String>()
        return plan.denials.map { denial in
            let rules = kernel[denial.chain] ?? []
            let reject = rules.first { $0.rule == denial.reject }
            var count = DenialCount(
                pod: denial.pod, direction: denial.direction.word, chain: denial.chain, family: plan.family,
                policies: denial.policies, packets: reject?.packets, bytes: reject?.bytes, invalidPackets: nil)
            if invalidSeen.insert(denial.chain).inserted {
                count.invalidPackets =
                    rules.first { $0.rule.conntrackStates == ["INVALID"] && $0.rule.target == .drop }?.packets
            }
            return count
        }
    }
}
