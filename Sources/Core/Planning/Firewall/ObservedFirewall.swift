import KubeModel

/// The firewall objects of ours a node's kernel holds: our chains with their rules, our jumps from
/// the built-in chains, and our sets with their members. Read by the same code for the agent and for
/// krctl (`ObservedFirewall.read()`); compared against a plan by `FirewallDrift`.
public struct ObservedFirewall: Sendable {
    public var chains: [String: [Rule]]
    /// Our jumps in INPUT, FORWARD and OUTPUT, with `position` their index in the built-in chain.
    public var hooks: [Rule]
    public var hookPositions: [Int]
    public var sets: [IPSetSpec]

    public init(chains: [String: [Rule]], hooks: [Rule], hookPositions: [Int]? = nil, sets: [IPSetSpec]) {
        self.chains = chains
        self.hooks = hooks
        self.hookPositions = hookPositions ?? Array(repeating: 0, count: hooks.count)
        self.sets = sets
    }

    /// The plan as if the kernel held it exactly (hooks first in their chains).
    public init(_ plan: FirewallPlan) {
        self.init(
            chains: Dictionary(plan.chains.map { ($0.name, $0.rules) }, uniquingKeysWith: { a, _ in a }),
            hooks: plan.hooks, sets: plan.sets)
    }

    /// True when nothing of ours is in the kernel: no agent has programmed this node (or namespace).
    public var isEmpty: Bool { chains.isEmpty && hooks.isEmpty && sets.isEmpty }

    public func set(_ name: String) -> IPSetSpec? { sets.first { $0.name == name } }
}
