import KubeModel

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
