import KubeModel

/// Compares a plan with what the kernel holds. Pure: the kernel is read by `ObservedFirewall.read()`.
public enum FirewallDrift {
    /// Differences within a scope: `chains` and `sets` limit the objects compared (nil: all of ours,
    /// stale ones included); `rules` limits the rules compared in those chains (for one pod's rules in
    /// the shared top-level chains).
    public static func compare(
        _ plan: FirewallPlan, _ observed: ObservedFirewall, chains: Set<String>? = nil,
        sets: Set<String>? = nil, hooks: Bool = true,
        rules: (@Sendable (Rule) -> Bool)? = nil
    ) -> [DriftFinding] {
        var findings: [DriftFinding] = []
        if hooks {
            for hook in plan.hooks {
                guard case .jump(let target) = hook.target else { continue }
                let index = observed.hooks.firstIndex(of: hook)
                if index == nil || observed.hookPositions[index!] != 0 {
                    findings.append(
                        DriftFinding(kind: .missingHook, chain: hook.chain, item: target, about: hook.comment))
                }
            }
        }
        let planned = Dictionary(plan.chains.map { ($0.name, $0.rules) }, uniquingKeysWith: { a, _ in a })
        let subjects = Dictionary(plan.chains.map { ($0.name, $0.subject) }, uniquingKeysWith: { a, _ in a })
        let chainNames = chains ?? Set(planned.keys).union(observed.chains.keys)
        for name in chainNames.sorted() {
            let want = planned[name]
            let have = observed.chains[name]
            switch (want, have) {
            case (nil, nil): continue
            case (_?, nil):
                findings.append(
                    DriftFinding(kind: .missingChain, chain: name, about: subjects[name]?.description ?? ""))
            case (nil, _?):
                findings.append(DriftFinding(kind: .staleChain, chain: name, about: ""))
            case (let want?, let have?):
                let w = rules.map { want.filter($0) } ?? want
                let h = rules.map { have.filter($0) } ?? have
                if w == h { continue }
                findings += compareRules(chain: name, want: w, have: h, about: subjects[name]?.description ?? "")
            }
        }
        let plannedSets = Dictionary(plan.sets.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let observedSets = Dictionary(observed.sets.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let setNames = sets ?? Set(plannedSets.keys).union(observedSets.keys)
        for name in setNames.sorted() {
            switch (plannedSets[name], observedSets[name]) {
            case (nil, nil): continue
            case (let want?, nil):
                findings.append(DriftFinding(kind: .missingSet, set: name, about: want.comment))
            case (nil, _?):
                findings.append(DriftFinding(kind: .staleSet, set: name, about: ""))
            case (let want?, let have?):
                if want.type != have.type {
                    findings.append(
                        DriftFinding(
                            kind: .wrongSetType, set: name,
                            item: "\(have.type.rawValue), planned \(want.type.rawValue)", about: want.comment))
                    continue
                }
                let w = Set(want.members)
                let h = Set(have.members)
                for member in w.subtracting(h).map(\.restoreText).sorted() {
                    findings.append(DriftFinding(kind: .missingMember, set: name, item: member, about: want.comment))
                }
                for member in h.subtracting(w).map(\.restoreText).sorted() {
                    findings.append(DriftFinding(kind: .staleMember, set: name, item: member, about: want.comment))
                }
            }
        }
        return findings
    }

    /// Rules planned but absent, present but not planned, or all present in another order.
    static func compareRules(chain: String, want: [Rule], have: [Rule], about: String) -> [DriftFinding] {
        var unused = Array(have.indices)
        var findings: [DriftFinding] = []
        for rule in want {
            if let i = unused.firstIndex(where: { have[$0] == rule }) {
                unused.remove(at: i)
            } else {
                findings.append(
                    DriftFinding(
                        kind: .missingRule, chain: chain, item: FirewallPlan.arguments(rule), about: rule.comment))
            }
        }
        for i in unused {
            findings.append(
                DriftFinding(
                    kind: .staleRule, chain: chain, item: FirewallPlan.arguments(have[i]), about: have[i].comment))
        }
        if findings.isEmpty { findings.append(DriftFinding(kind: .rulesOutOfOrder, chain: chain, about: about)) }
        return findings
    }
}
