import KubeModel

/// What one node's kernel does with a packet, beside what the plan for that node says it should do,
/// with the differences on the packet's path worded as causes. Part of `krctl explain-policy` on a node.
public struct KernelVerdict: Sendable, Encodable {
    /// One rule that matched on the way; `rule` counts from 1, as `iptables -L --line-numbers` does.
    public struct Step: Sendable, Encodable, Equatable {
        public var chain: String
        public var rule: Int
        public var target: String
        public var comment: String
    }

    /// A set looked up on the way, with the entry the packet presents and what the set stands for.
    public struct SetLookup: Sendable, Encodable, Equatable {
        public var set: String
        public var entry: String
        public var member: Bool
        public var about: String
    }

    public var node: String
    /// Where the rules live: `iptables legacy` or `ip6tables legacy`.
    public var table: String
    /// The built-in chain the packet passes on this node: FORWARD (pod to pod, routed or bridged),
    /// INPUT (to the node) or OUTPUT (from the node); nil when the packet does not pass this node.
    public var hook: String?
    /// What this node enforces: `egress of NS/POD`, `ingress of NS/POD`.
    public var enforces: [String]
    /// The kernel's verdict (`accept`, `drop`, `reject`); nil when the packet does not pass this node.
    public var verdict: String?
    /// The verdict the planned rules give for the same packet.
    public var planned: String?
    /// True when the kernel's verdict is the planned one.
    public var agrees: Bool
    /// The rules the packet matched in the kernel, in order.
    public var path: [Step]
    /// The rule that decided (ACCEPT, DROP or REJECT); nil when the packet fell back to the built-in chain.
    public var decidedBy: Step?
    public var sets: [SetLookup]
    /// Differences between the plan and the kernel on the packet's path (its chains, hooks and sets).
    public var drift: [DriftFinding]
    /// Why there is no verdict, when there is none.
    public var note: String?

    public var hasDrift: Bool { !agrees || !drift.isEmpty }
}
