import KubeModel

/// Where a plan refuses packets: one pod chain's direction, with the NFLOG rule's prefix and the REJECT rule
/// that end it. A logged packet maps back to its pod by looking its prefix up here (never by reading the text),
/// and the REJECT rule's counters are the true count of that direction's drops.
public struct FirewallDenial: Sendable, Equatable {
    public var chain: String
    /// The pod whose policies refuse: `namespace/name`.
    public var pod: String
    public var direction: NetworkPolicy.Direction
    /// The policies that isolate the pod in this direction (empty under default deny).
    public var policies: [String]
    /// The NFLOG rule's prefix (`FirewallNames.logPrefix`).
    public var logPrefix: String
    /// The rule that refuses, as planned: found in the kernel by identity for its counters.
    public var reject: Rule

    public init(
        chain: String, pod: String, direction: NetworkPolicy.Direction, policies: [String], logPrefix: String,
        reject: Rule
    ) {
        self.chain = chain
        self.pod = pod
        self.direction = direction
        self.policies = policies
        self.logPrefix = logPrefix
        self.reject = reject
    }
}
