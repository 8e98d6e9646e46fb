import CIPTables
import Foundation
import KubeModel
import Planning

/// Brings a table to a plan in one commit: the owner's chains created, refilled and the stale ones
/// deleted; its hooks placed in the built-in chains. Rules of others, in their chains or in the
/// built-in ones, are left as they are. Nothing is committed when the table already matches. The
/// decisions are `IPTablesDiff`'s; this reads the table and applies them.
public enum IPTablesSync {
    public typealias Owner = IPTablesOwner
    /// Opens a table of a family for one transaction.
    public typealias Opener = @Sendable (_ table: String, _ family: IPAddress.Family) throws -> any IPTablesBackend

    public static let kernel: Opener = { try IPTablesTable($0, family: $1) }

    public struct Report: Sendable, Equatable {
        public var committed = false
        public var chainsCreated = 0
        public var chainsDeleted = 0
        public var rulesWritten = 0
    }

    /// Our chains with their rules, and our hooks, as the kernel holds them now.
    public struct Actual: Sendable {
        public var chains: [String: [Rule]]
        public var hooks: [Rule]
    }

    public static func read(_ table: any IPTablesBackend, owner: Owner = .firewall) -> Actual {
        var chains: [String: [Rule]] = [:]
        for chain in table.chains() where owner.owns(chain) { chains[chain] = table.rules(chain) }
        var hooks: [Rule] = []
        for builtin in owner.builtins { hooks += table.rules(builtin).filter(owner.isHook) }
        return Actual(chains: chains, hooks: hooks)
    }

    /// Brings the table to `plan`. With `previous` (the plan this process last applied), only the
    /// chains that differ from it are rewritten and the kernel's rules are not read back: the cheap
    /// path for event syncs. Without it, every chain of ours is read and compared: the periodic full
    /// sync that repairs drift.
    @discardableResult
    public static func apply(
        _ plan: FirewallPlan, previous: FirewallPlan? = nil, owner: Owner = .firewall,
        open: Opener = kernel
    ) throws -> Report {
        // An event that changed no chain (set members only) leaves the table alone: not even read (libiptc copies
        // the whole table to read it, tens of milliseconds at 20,000 rules).
        if let previous, previous.chains == plan.chains, previous.hooks == plan.hooks { return Report() }
        return try XtablesLock.withLock {
            try apply(plan, previous: previous, owner: owner, in: try open(owner.table, plan.family))
        }
    }

    /// One transaction on an open table (the caller holds the xtables lock).
    public static func apply(
        _ plan: FirewallPlan, previous: FirewallPlan?, owner: Owner,
        in table: any IPTablesBackend
    ) throws -> Report {
        var builtins: [String: [Rule]] = [:]
        for chain in owner.builtins { builtins[chain] = table.rules(chain) }
        let actual =
            previous.map { Dictionary($0.chains.map { ($0.name, $0.rules) }, uniquingKeysWith: { a, _ in a }) }
            ?? read(table, owner: owner).chains
        let hooksInPlace = IPTablesDiff.hooksInPlace(
            plan.hooks, builtins: builtins, owner: owner, exactly: previous == nil)
        let changes = IPTablesDiff.changes(
            chains: plan.chains, hooks: plan.hooks, actual: actual,
            existing: Set(table.chains()), hooksInPlace: hooksInPlace)
        return try apply(changes, to: table, owner: owner)
    }

    /// Applies the changes in order and commits once (nothing when there are none).
    public static func apply(_ changes: [IPTablesChange], to table: any IPTablesBackend, owner: Owner) throws -> Report
    {
        var report = Report()
        guard !changes.isEmpty else { return report }
        let existing = Set(table.chains())
        for change in changes {
            switch change {
            case .createChain(let chain):
                try table.createChain(chain)
                report.chainsCreated += 1
            case .fill(let chain, let rules):
                // The rules that stay keep their counters (the drops krctl and the metrics count).
                let old = existing.contains(chain) ? table.counted(chain) : []
                try table.flush(chain)
                for rule in rules { try table.append(rule) }
                for kept in IPTablesDiff.keptCounters(old: old, new: rules) {
                    try table.setCounters(
                        chain: chain, position: kept.position, packets: kept.packets, bytes: kept.bytes)
                }
                report.rulesWritten += rules.count
            case .placeHooks(let hooks):
                try placeHooks(hooks, in: table, owner: owner)
            case .flush(let chain):
                try table.flush(chain)
            case .deleteChain(let chain):
                try table.deleteChain(chain)
                report.chainsDeleted += 1
            }
        }
        try table.commit()
        report.committed = true
        return report
    }

    static func placeHooks(_ hooks: [Rule], in table: any IPTablesBackend, owner: Owner) throws {
        for builtin in owner.builtins {
            // Remove our old jumps (from the end, so positions stay valid), then insert ours first, in order.
            for (index, rule) in table.rules(builtin).enumerated().reversed() where owner.isHook(rule) {
                try table.delete(chain: builtin, at: index)
            }
            // Hooks that need not be first go after the leading jumps into kube-router's other chains
            // (the firewall's), so that neither owner keeps moving the other's.
            var position = 0
            if !owner.hooksFirst {
                for rule in table.rules(builtin) {
                    guard case .jump(let t) = rule.target, t.hasPrefix("KUBE-") else { break }
                    position += 1
                }
            }
            for hook in hooks.filter({ $0.chain == builtin }).reversed() { try table.insert(hook, at: position) }
        }
    }

    /// `--cleanup-config`: our hooks and chains go; nothing else is touched.
    @discardableResult
    public static func cleanup(
        family: IPAddress.Family = .ipv4, owner: Owner = .firewall, open: Opener = kernel
    ) throws -> Report {
        try XtablesLock.withLock {
            let table = try open(owner.table, family)
            let actual = read(table, owner: owner)
            guard !actual.chains.isEmpty || !actual.hooks.isEmpty else { return Report() }
            let chains = actual.chains.keys.sorted()
            return try apply(
                [.placeHooks([])] + chains.map { .flush($0) } + chains.map { .deleteChain($0) }, to: table, owner: owner
            )
        }
    }
}
