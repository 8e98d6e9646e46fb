import KubeModel

/// The difference between a table plan and the table (or what this process last applied): pure.
public enum IPTablesDiff {
    /// Whether the planned hooks are in place in `builtins` (the built-in chains' rules). With
    /// `exactly` (a full sync), there must also be no other hook of ours.
    public static func hooksInPlace(
        _ hooks: [Rule], builtins: [String: [Rule]], owner: IPTablesOwner, exactly: Bool
    ) -> Bool {
        let placed = hooks.allSatisfy { hook in
            let rules = builtins[hook.chain] ?? []
            return owner.hooksFirst ? rules.first == hook : rules.contains(hook)
        }
        guard placed, exactly else { return placed }
        return owner.builtins.allSatisfy { chain in
            (builtins[chain] ?? []).filter(owner.isHook).count == hooks.filter { $0.chain == chain }.count
        }
    }

    /// The changes that bring our chains (`actual`: name → rules) to `plan`, in the order they must be
    /// applied: every chain exists before a rule jumps to it; stale chains are all flushed before any is
    /// deleted (they may jump to each other). Empty when the table already matches.
    public static func changes(
        chains planned: [FirewallPlan.Chain], hooks: [Rule], actual: [String: [Rule]],
        existing: Set<String>, hooksInPlace: Bool
    ) -> [IPTablesChange] {
        let changed = planned.filter { actual[$0.name] != $0.rules }
        let plannedNames = Set(planned.map(\.name))
        let stale = actual.keys.filter { !plannedNames.contains($0) }.sorted()
        if changed.isEmpty && stale.isEmpty && hooksInPlace { return [] }
        var changes: [IPTablesChange] = []
        for chain in changed where !existing.contains(chain.name) { changes.append(.createChain(chain.name)) }
        for chain in changed { changes.append(.fill(chain: chain.name, rules: chain.rules)) }
        if !hooksInPlace { changes.append(.placeHooks(hooks)) }
        for chain in stale where existing.contains(chain) { changes.append(.flush(chain)) }
        for chain in stale where existing.contains(chain) { changes.append(.deleteChain(chain)) }
        return changes
    }

    /// The counters a rewritten chain keeps: each new rule identical to an old one (matched in order, so that
    /// twins keep theirs) gets the old rule's counters, by position in the new chain (0 = first). A chain
    /// flushed and refilled would otherwise restart every rule at 0 at each sync that touches it.
    public static func keptCounters(
        old: [(rule: Rule, packets: UInt64, bytes: UInt64)], new: [Rule]
    ) -> [(position: Int, packets: UInt64, bytes: UInt64)] {
        var used = Array(repeating: false, count: old.count)
        var kept: [(position: Int, packets: UInt64, bytes: UInt64)] = []
        for (position, rule) in new.enumerated() {
            guard let index = old.indices.first(where: { !used[$0] && old[$0].rule == rule }) else { continue }
            used[index] = true
            if old[index].packets > 0 || old[index].bytes > 0 {
                kept.append((position, old[index].packets, old[index].bytes))
            }
        }
        return kept
    }
}
