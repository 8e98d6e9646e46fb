import KubeModel

/// Is a pod protected now, by which chains, and does the kernel hold them as planned? The answer of
/// `krctl policy check NS/POD`.
public struct PodProtection: Sendable, Encodable {
    /// Whether the pod is protected as the policies say. The raw values are what `-o json` shows.
    public enum State: String, Sendable, Codable {
        case protected
        case notIsolated = "not isolated"
        case notAPolicySubject = "not a policy subject"
        case drift
    }

    public struct Direction: Sendable, Encodable {
        public var direction: String
        /// True when a policy selects the pod for this direction.
        public var isolated: Bool
        public var policies: [String]
        /// The policy chains the pod's chain jumps to for this direction.
        public var chains: [ChainState]
        /// Packets the pod's chain refused in this direction (its REJECT rule's counter), when counted.
        public var drops: UInt64? = nil
    }

    public struct ChainState: Sendable, Encodable {
        public var chain: String
        /// The pod or `namespace/policy direction` the chain is for.
        public var about: String
        public var present: Bool
        public var plannedRules: Int
        /// Rules in the kernel (0 when absent).
        public var rules: Int
        /// The kernel's rules with their counters, when counted.
        public var hits: [RuleHit]? = nil
    }

    public struct SetState: Sendable, Encodable {
        public var set: String
        public var about: String
        public var present: Bool
        public var plannedMembers: Int
        public var members: Int
    }

    public var pod: String
    public var ip: String
    public var node: String
    public var state: State
    public var ingress: Direction
    public var egress: Direction
    /// The pod's chain (when a policy isolates it), and where it is entered from.
    public var chain: ChainState?
    public var enteredFrom: [String]
    public var sets: [SetState]
    public var lastSync: String?
    public var syncs: Int?
    /// Objects the agent skipped as unreadable (see its log), when it reported any.
    public var rejectedObjects: Int?
    /// Those objects, `Kind namespace/name`, when the agent named them.
    public var rejected: [String]?
    public var drift: [DriftFinding]
}

extension KernelCheck {
    /// The protection of a pod on `node`, from the plan of that node and what its kernel holds.
    public static func protection(
        of pod: Pod, engine: PolicyEngine, plan: FirewallPlan, observed: ObservedFirewall,
        node: String, status: FirewallStatus?, counters: [String: [DenialCount.Counted]]? = nil
    ) -> PodProtection {
        let ip = pod.ips.first { $0.family == plan.family }?.description ?? pod.ips.first?.description ?? ""
        func direction(_ d: NetworkPolicy.Direction) -> PodProtection.Direction {
            let policies = engine.isolatingPolicies(of: pod, direction: d).map(\.key)
            let chains = policies.map { key -> PodProtection.ChainState in
                let name = FirewallNames.policyChain(key, d)
                return chainState(
                    name, about: "\(key) \(d.word)", plan: plan, observed: observed, counters: counters)
            }
            var result = PodProtection.Direction(
                direction: d.word, isolated: engine.isIsolated(pod, direction: d), policies: policies, chains: chains)
            if let counters, let denial = plan.denials.first(where: { $0.pod == pod.key && $0.direction == d }) {
                result.drops = counters[denial.chain]?.first { $0.rule == denial.reject }?.packets
            }
            return result
        }
        let ingress = direction(.ingress)
        let egress = direction(.egress)
        var result = PodProtection(
            pod: pod.key, ip: ip, node: node, state: .notIsolated, ingress: ingress, egress: egress,
            chain: nil, enteredFrom: [], sets: [], lastSync: status?.lastSync, syncs: status?.syncs,
            rejectedObjects: status.flatMap { $0.rejectedObjects > 0 ? $0.rejectedObjects : nil },
            rejected: status?.rejected.flatMap { $0.isEmpty ? nil : $0 }, drift: [])
        guard pod.isPolicySubject else {
            result.state = .notAPolicySubject
            return result
        }
        let podChain = FirewallNames.podChain(pod.key)
        let policyChains = (ingress.chains + egress.chains).map(\.chain)
        let setNames = Set(policyChains.flatMap { plan.chain($0)?.rules ?? [] }.flatMap { $0.sets.map(\.name) })
        let comment = "pod \(pod.key) "
        let top: Set<String> = [FirewallNames.inputChain, FirewallNames.forwardChain, FirewallNames.outputChain]
        result.drift = FirewallDrift.compare(
            plan, observed, chains: top.union([podChain]).union(policyChains), sets: setNames,
            rules: { rule in !top.contains(rule.chain) || rule.comment.hasPrefix(comment) })
        result.sets = setNames.sorted().map { name in
            let want = plan.sets.first { $0.name == name }
            let have = observed.set(name)
            return PodProtection.SetState(
                set: name, about: want?.comment ?? "", present: have != nil,
                plannedMembers: want?.members.count ?? 0, members: have?.members.count ?? 0)
        }
        if ingress.isolated || egress.isolated {
            result.chain = chainState(
                podChain, about: "pod \(pod.key)", plan: plan, observed: observed, counters: counters)
            for name in top.sorted() {
                for (i, rule) in (observed.chains[name] ?? []).enumerated() where rule.target == .jump(podChain) {
                    result.enteredFrom.append("\(name) #\(i + 1)")
                }
            }
            result.state = result.drift.isEmpty ? .protected : .drift
        } else {
            result.state = result.drift.isEmpty ? .notIsolated : .drift
        }
        return result
    }

    static func chainState(
        _ name: String, about: String, plan: FirewallPlan, observed: ObservedFirewall,
        counters: [String: [DenialCount.Counted]]? = nil
    ) -> PodProtection.ChainState {
        PodProtection.ChainState(
            chain: name, about: about, present: observed.chains[name] != nil,
            plannedRules: plan.chain(name)?.rules.count ?? 0, rules: observed.chains[name]?.count ?? 0,
            hits: counters?[name].map(RuleHit.hits))
    }
}

extension FirewallText {
    public static func protection(_ p: PodProtection, terminal: Terminal) -> String {
        var lines: [String] = []
        lines.append(terminal.paint("Pod \(p.pod) (\(p.ip)) on node \(p.node)", .bold))
        if let last = p.lastSync {
            lines.append("Last firewall sync: \(last) (sync \(p.syncs ?? 0) of the agent)")
        } else {
            lines.append("Last firewall sync: unknown (no agent status file on this node)")
        }
        if let rejected = p.rejectedObjects {
            let names = p.rejected.map { ": " + $0.joined(separator: ", ") } ?? " (malformed policies?)"
            lines.append(
                terminal.paint(
                    "The agent cannot read \(rejected) object\(rejected == 1 ? "" : "s")\(names); "
                        + "the last good version of each stays in force (see its log)", .yellow))
        }
        for d in [p.ingress, p.egress] {
            if d.isolated {
                let by =
                    d.policies.isEmpty
                    ? "the node's default deny (--netpol-default-deny)" : d.policies.joined(separator: ", ")
                lines.append(
                    "\(d.direction.capitalized): isolated by \(by)"
                        + (d.drops.map { "; \($0) packet\($0 == 1 ? "" : "s") refused (REJECT counter)" } ?? ""))
            } else {
                lines.append(
                    "\(d.direction.capitalized): not isolated (no policy selects the pod for \(d.direction)): "
                        + "all allowed"
                )
            }
        }
        func present(_ c: PodProtection.ChainState) -> String {
            c.present
                ? "present, \(c.rules) rule\(c.rules == 1 ? "" : "s")"
                    + (c.rules == c.plannedRules ? "" : " (\(c.plannedRules) planned)")
                : terminal.paint("MISSING", .red)
        }
        if let chain = p.chain {
            let entered =
                p.enteredFrom.isEmpty
                ? terminal.paint("never entered", .red) : "entered from \(p.enteredFrom.joined(separator: ", "))"
            lines.append("Chain \(chain.chain): \(present(chain)); \(entered)")
            lines += hits(chain, indent: "    ")
            for c in p.ingress.chains + p.egress.chains {
                lines.append("  \(c.chain)  \(c.about): \(present(c))")
                lines += hits(c, indent: "      ")
            }
            for s in p.sets {
                let state =
                    s.present
                    ? "\(s.members) member\(s.members == 1 ? "" : "s")"
                        + (s.members == s.plannedMembers ? "" : " (\(s.plannedMembers) planned)")
                    : terminal.paint("MISSING", .red)
                lines.append("  set \(s.set)  \(s.about): \(state)")
            }
        }
        let state: String
        switch p.state {
        case .protected: state = terminal.paint("protected as the policies say", .green)
        case .notIsolated: state = "not isolated: no policy selects it, so the firewall leaves it alone"
        case .notAPolicySubject: state = "not subject to NetworkPolicy (host network)"
        case .drift: state = terminal.paint("DRIFT", .red)
        }
        lines.append("State: \(state)")
        lines += FirewallText.drift(p.drift, terminal: terminal)
        return lines.joined(separator: "\n")
    }

    /// A chain's rules with their hits: `#6 REJECT  30 pkts 1800 B  pod shop/api ingress: denied by shop/api`.
    static func hits(_ chain: PodProtection.ChainState, indent: String) -> [String] {
        guard let hits = chain.hits else { return [] }
        let width = hits.map { String($0.packets).count }.max() ?? 1
        return hits.map { hit in
            let packets = String(repeating: " ", count: width - String(hit.packets).count) + "\(hit.packets)"
            return "\(indent)#\(hit.rule) \(packets) pkts \(hit.bytes) B  \(hit.target)  \(hit.comment)"
        }
    }
}
