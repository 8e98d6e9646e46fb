import CIPTables
import Foundation

/// Brings a table to a plan in one commit: the owner's chains created, refilled and the stale ones
/// deleted; its hooks placed in the built-in chains. Rules of others, in their chains or in the
/// built-in ones, are left as they are. Nothing is committed when the table already matches.
public enum IPTablesSync {
    /// Who a chain belongs to: two controllers share the filter table, each syncs only its own chains.
    public struct Owner: Sendable {
        public var table: String
        public var prefixes: [String]
        /// The built-in chains the hooks go into.
        public var builtins: [String]
        /// The firewall's hooks must come first; others only need to be present (they come after).
        public var hooksFirst: Bool

        public init(table: String, prefixes: [String], builtins: [String], hooksFirst: Bool) {
            self.table = table; self.prefixes = prefixes; self.builtins = builtins; self.hooksFirst = hooksFirst
        }

        public func owns(_ chain: String) -> Bool { prefixes.contains { chain.hasPrefix($0) } }

        public static let firewall = Owner(table: "filter",
                                           prefixes: ["KUBE-ROUTER-INPUT", "KUBE-ROUTER-FORWARD", "KUBE-ROUTER-OUTPUT", "KUBE-POD-FW-", "KUBE-NWPLCY-"],
                                           builtins: ["INPUT", "FORWARD", "OUTPUT"], hooksFirst: true)
    }

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

    public static func read(_ table: IPTablesTable, owner: Owner = .firewall) -> Actual {
        var chains: [String: [Rule]] = [:]
        for chain in table.chains() where owner.owns(chain) { chains[chain] = table.rules(chain) }
        var hooks: [Rule] = []
        for builtin in owner.builtins {
            hooks += table.rules(builtin).filter { if case .jump(let t) = $0.target { owner.owns(t) } else { false } }
        }
        return Actual(chains: chains, hooks: hooks)
    }

    /// Brings the table to `plan`. With `previous` (the plan this process last applied), only the
    /// chains that differ from it are rewritten and the kernel's rules are not read back: the cheap
    /// path for event syncs. Without it, every chain of ours is read and compared: the periodic full
    /// sync that repairs drift.
    @discardableResult
    public static func apply(_ plan: FirewallPlan, previous: FirewallPlan? = nil, owner: Owner = .firewall) throws -> Report {
        try XtablesLock.withLock { try applyLocked(plan, previous: previous, owner: owner) }
    }

    private static func applyLocked(_ plan: FirewallPlan, previous: FirewallPlan?, owner: Owner) throws -> Report {
        let table = try IPTablesTable(owner.table, family: plan.family)
        var report = Report()
        let actual: [String: [Rule]]
        let hooksInPlace: Bool
        func placed(_ hook: Rule) -> Bool {
            owner.hooksFirst ? table.rules(hook.chain).first == hook : table.rules(hook.chain).contains(hook)
        }
        if let previous {
            actual = Dictionary(previous.chains.map { ($0.name, $0.rules) }, uniquingKeysWith: { a, _ in a })
            hooksInPlace = plan.hooks.allSatisfy(placed)
        } else {
            let read = read(table, owner: owner)
            actual = read.chains
            hooksInPlace = read.hooks.count == plan.hooks.count && plan.hooks.allSatisfy { hook in
                placed(hook) && read.hooks.filter({ $0.chain == hook.chain }).count == plan.hooks.filter({ $0.chain == hook.chain }).count
            }
        }
        let changed = plan.chains.filter { actual[$0.name] != $0.rules }
        let stale = actual.keys.filter { name in !plan.chains.contains { $0.name == name } }
        if changed.isEmpty && stale.isEmpty && hooksInPlace { return report }
        // Every chain exists before any rule jumps to it.
        for chain in changed where !table.hasChain(chain.name) {
            try table.createChain(chain.name)
            report.chainsCreated += 1
        }
        for chain in changed {
            try table.flush(chain.name)
            for rule in chain.rules {
                try table.append(rule)
                report.rulesWritten += 1
            }
        }
        if !hooksInPlace { try placeHooks(plan.hooks, in: table, owner: owner) }
        // Flush every stale chain before deleting any: they may jump to each other.
        for chain in stale where table.hasChain(chain) { try table.flush(chain) }
        for chain in stale where table.hasChain(chain) {
            try table.deleteChain(chain)
            report.chainsDeleted += 1
        }
        try table.commit()
        report.committed = true
        return report
    }

    static func placeHooks(_ hooks: [Rule], in table: IPTablesTable, owner: Owner) throws {
        for builtin in owner.builtins {
            // Remove our old jumps (from the end, so positions stay valid), then insert ours first, in order.
            let rules = table.rules(builtin)
            for (index, rule) in rules.enumerated().reversed() {
                if case .jump(let t) = rule.target, owner.owns(t) { try table.delete(chain: builtin, at: index) }
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
    public static func cleanup(family: IPAddress.Family = .ipv4, owner: Owner = .firewall) throws -> Report {
        try XtablesLock.withLock { try cleanupLocked(family: family, owner: owner) }
    }

    private static func cleanupLocked(family: IPAddress.Family, owner: Owner) throws -> Report {
        let table = try IPTablesTable(owner.table, family: family)
        let actual = read(table, owner: owner)
        var report = Report()
        guard !actual.chains.isEmpty || !actual.hooks.isEmpty else { return report }
        try placeHooks([], in: table, owner: owner)
        for chain in actual.chains.keys { try table.flush(chain) }
        for chain in actual.chains.keys {
            try table.deleteChain(chain)
            report.chainsDeleted += 1
        }
        try table.commit()
        report.committed = true
        return report
    }
}

/// Runs work on a dedicated thread inside a named network namespace (`ip netns add NAME`): netfilter
/// state is per namespace, and switching namespaces must never happen on a shared pool thread.
public enum NetworkNamespace {
    public static func run<T: Sendable>(_ name: String, _ body: @escaping @Sendable () throws -> T) throws -> T {
        let result = LockedResult<T>()
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            defer { done.signal() }
            guard kr_setns_path("/run/netns/\(name)") == 0 else {
                result.set(.failure(IPTablesTable.Failure(description: "cannot enter network namespace \(name)")))
                return
            }
            result.set(Result { try body() })
        }
        thread.start()
        done.wait()
        return try result.get()
    }

    final class LockedResult<T: Sendable>: @unchecked Sendable {
        private let lock = NSLock()
        private var value: Result<T, any Error>?
        func set(_ v: Result<T, any Error>) { lock.withLock { value = v } }
        func get() throws -> T { try lock.withLock { value! }.get() }
    }
}
