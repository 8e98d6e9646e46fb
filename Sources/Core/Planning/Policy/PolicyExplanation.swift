import KubeModel

/// The answer to "may this packet pass?", with every reason, in a stable schema for `-o json|yaml`.
public struct PolicyExplanation: Sendable, Encodable {
    public enum Verdict: String, Sendable, Encodable { case allow, deny }

    /// One end of the packet as reported.
    public struct Endpoint: Sendable, Encodable {
        /// `pod`, `node` or `external`.
        public var kind: String
        public var ip: String
        public var pod: String?
        public var namespace: String?
        public var node: String?
        public var labels: [String: String]?
        public var hostNetwork: Bool?
    }

    /// How a named port in a rule was resolved on a destination pod.
    public struct NamedPort: Sendable, Encodable, Hashable {
        public var name: String
        public var `protocol`: PortProtocol
        public var pod: String?
        /// Container port numbers with that name and protocol; empty when it does not resolve.
        public var resolvedTo: [Int]
    }

    /// One rule of one policy, tried against the packet.
    public struct RuleResult: Sendable, Encodable {
        public var policy: String
        /// Index of the rule in `spec.ingress` or `spec.egress`.
        public var rule: Int
        public var allows: Bool
        /// Index of the first matching entry of `from`/`to`; nil when the rule has no peers (all match)
        /// or when none matches.
        public var peer: Int?
        /// Index of the first matching entry of `ports`; nil when the rule has no ports (all match)
        /// or when none matches.
        public var port: Int?
        /// Why the rule allows, or which part did not match.
        public var reason: String
    }

    /// One direction of the check: the source's egress or the destination's ingress.
    public struct Side: Sendable, Encodable {
        /// `egress` (checked at the source) or `ingress` (checked at the destination).
        public var direction: String
        /// The pod whose policies apply; nil when that end is not a pod.
        public var pod: String?
        /// False for non-pods and host-network pods: NetworkPolicy does not apply to them.
        public var subject: Bool
        /// True when at least one policy selects the pod for this direction.
        public var isolated: Bool
        /// The policies that select the pod for this direction (`namespace/name`).
        public var policies: [String]
        public var verdict: Verdict
        /// One sentence: why this side allows or denies.
        public var reason: String
        /// The rules that allow the packet (subset of `rules` with `allows == true`).
        public var allowedBy: [RuleResult]
        /// Every rule of every isolating policy, in policy-name then rule order.
        public var rules: [RuleResult]
        public var namedPorts: [NamedPort]
    }

    public var from: Endpoint
    public var to: Endpoint
    public var port: Int
    public var `protocol`: PortProtocol
    /// The port name the query gave (`--port http`); `port` is its number on the destination pod.
    public var portName: String?
    public var verdict: Verdict
    public var egress: Side
    public var ingress: Side
    /// What the kernel of the node krctl runs on does with the packet (only when run on a node).
    public var kernel: KernelVerdict? = nil
}
