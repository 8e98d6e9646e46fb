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

public enum KernelCheck {
    /// Where a packet meets `node`'s firewall: its built-in chain, whether it leaves from the node's
    /// own addresses, and the sides the node enforces. Nil when neither end is on the node.
    public static func hook(
        from source: TrafficEndpoint, to destination: TrafficEndpoint, node: String
    )
        -> (chain: String, sourceIsLocal: Bool, enforces: [String])?
    {
        func isHost(_ e: TrafficEndpoint) -> Bool {
            switch e.kind {
            case .node(let name): return name == node
            case .pod(let pod): return pod.hostNetwork && pod.nodeName == node
            case .external: return false
            }
        }
        func localPod(_ e: TrafficEndpoint) -> Pod? {
            guard let pod = e.pod, pod.isPolicySubject, pod.nodeName == node else { return nil }
            return pod
        }
        var enforces: [String] = []
        if let pod = localPod(source) { enforces.append("egress of \(pod.key)") }
        if let pod = localPod(destination) { enforces.append("ingress of \(pod.key)") }
        if isHost(source) { return ("OUTPUT", true, enforces) }
        if isHost(destination) { return ("INPUT", false, enforces) }
        if !enforces.isEmpty { return ("FORWARD", false, enforces) }
        return nil
    }

    /// Walks the packet through the planned and the kernel's firewall of `node`.
    public static func verdict(
        plan: FirewallPlan, observed: ObservedFirewall, node: String,
        from source: TrafficEndpoint, to destination: TrafficEndpoint,
        port: Int, proto: PortProtocol
    ) -> KernelVerdict {
        let table = plan.family == .ipv6 ? "ip6tables legacy" : "iptables legacy"
        guard let hook = hook(from: source, to: destination, node: node) else {
            return KernelVerdict(
                node: node, table: table, hook: nil, enforces: [], verdict: nil, planned: nil, agrees: true, path: [],
                decidedBy: nil, sets: [], drift: [],
                note:
                    "neither end is on node \(node): its firewall does not see this packet "
                    + "(run krctl on the source's or the destination's node)"
            )
        }
        let packet = FirewallWalk.Packet(
            source: source.ip, destination: destination.ip, proto: proto, port: port,
            sourceIsLocal: hook.sourceIsLocal)
        let planned = FirewallWalk(plan: plan).walk(packet, builtin: hook.chain)
        let kernel = FirewallWalk(observed: observed).walk(packet, builtin: hook.chain)
        // The drift that matters here: the chains and sets either walk touched, and the hook it entered by.
        let chains = Set(
            (planned.steps + kernel.steps).flatMap { step in
                step.target.hasPrefix("KUBE-") ? [step.chain, step.target] : [step.chain]
            }
        ).subtracting(["INPUT", "FORWARD", "OUTPUT"])
        let sets = Set((planned.setLookups + kernel.setLookups).map(\.set))
        let plannedHook = FirewallPlan(
            family: plan.family, sets: [], chains: [], hooks: plan.hooks.filter { $0.chain == hook.chain })
        let drift =
            FirewallDrift.compare(plannedHook, observed, chains: [], sets: [])
            + FirewallDrift.compare(plan, observed, chains: chains, sets: sets, hooks: false)
        let about = Dictionary(
            (plan.sets + observed.sets).map { ($0.name, $0.comment) }, uniquingKeysWith: { a, b in a.isEmpty ? b : a })
        func step(_ s: FirewallWalk.Step) -> KernelVerdict.Step {
            KernelVerdict.Step(chain: s.chain, rule: s.index + 1, target: s.target, comment: s.comment)
        }
        return KernelVerdict(
            node: node, table: table, hook: hook.chain, enforces: hook.enforces, verdict: kernel.verdict.rawValue,
            planned: planned.verdict.rawValue, agrees: kernel.verdict == planned.verdict,
            path: kernel.steps.map(step), decidedBy: kernel.decidingStep.map(step),
            sets: kernel.setLookups.map {
                KernelVerdict.SetLookup(set: $0.set, entry: $0.entry, member: $0.matched, about: about[$0.set] ?? "")
            },
            drift: drift, note: nil)
    }
}
