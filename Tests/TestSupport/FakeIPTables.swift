import Foundation
import Kernel
import KubeModel
import Planning

/// In-memory x_tables for tests without root: per table and family, chains with their rules. A
/// transaction (`open`) works on a copy that `commit` puts in place whole, as libiptc does; like the
/// kernel it refuses to create a chain that exists, to delete a built-in chain, one with rules or one a
/// rule jumps to, and to touch a chain that does not exist.
public final class FakeIPTables: @unchecked Sendable {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
        public init(description: String) { self.description = description }
    }

    struct Table {
        var order: [String]
        var rules: [String: [Rule]]
        let builtins: Set<String>
    }

    private let lock = NSLock()
    private var tables: [String: Table] = [:]
    private var commitCount = 0

    public init() {}

    public var commits: Int { lock.withLock { commitCount } }

    static func builtins(_ table: String) -> [String] {
        table == "nat" ? ["PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"] : ["INPUT", "FORWARD", "OUTPUT"]
    }

    private func key(_ table: String, _ family: IPAddress.Family) -> String { "\(family.rawValue) \(table)" }

    func snapshot(_ table: String, _ family: IPAddress.Family) -> Table {
        lock.withLock {
            tables[key(table, family)]
                ?? Table(order: Self.builtins(table), rules: [:], builtins: Set(Self.builtins(table)))
        }
    }

    func store(_ value: Table, _ table: String, _ family: IPAddress.Family) {
        lock.withLock {
            tables[key(table, family)] = value
            commitCount += 1
        }
    }

    /// An opener for `IPTablesSync.apply(..., open:)`.
    public var opener: IPTablesSync.Opener { { [self] table, family in Handle(self, table, family) } }

    /// A committed table's rules of a chain, for assertions.
    public func rules(_ chain: String, table: String = "filter", family: IPAddress.Family = .ipv4) -> [Rule] {
        snapshot(table, family).rules[chain] ?? []
    }

    public func chains(table: String = "filter", family: IPAddress.Family = .ipv4) -> [String] {
        snapshot(table, family).order
    }

    /// A change by hand (another program, an operator): one transaction of its own.
    public func edit(
        table: String = "filter", family: IPAddress.Family = .ipv4, _ body: (any IPTablesBackend) throws -> Void
    ) throws {
        let handle = Handle(self, table, family)
        try body(handle)
        try handle.commit()
    }

    final class Handle: IPTablesBackend {
        let owner: FakeIPTables
        let name: String
        let family: IPAddress.Family
        var table: Table

        init(_ owner: FakeIPTables, _ name: String, _ family: IPAddress.Family) {
            self.owner = owner
            self.name = name
            self.family = family
            table = owner.snapshot(name, family)
        }

        func chains() -> [String] { table.order }
        func hasChain(_ chain: String) -> Bool { table.order.contains(chain) }
        func rules(_ chain: String) -> [Rule] { table.rules[chain] ?? [] }

        private func need(_ chain: String) throws {
            guard hasChain(chain) else { throw Failure(description: "\(chain): No chain/target/match by that name") }
        }

        func createChain(_ chain: String) throws {
            guard !hasChain(chain) else { throw Failure(description: "\(chain): Chain already exists") }
            table.order.append(chain)
        }

        func flush(_ chain: String) throws {
            try need(chain)
            table.rules[chain] = []
        }

        func deleteChain(_ chain: String) throws {
            try need(chain)
            guard !table.builtins.contains(chain) else { throw Failure(description: "\(chain): built-in chain") }
            guard (table.rules[chain] ?? []).isEmpty else {
                throw Failure(description: "\(chain): Directory not empty")
            }
            let referenced = table.rules.values.joined().contains {
                if case .jump(let t) = $0.target { t == chain } else { false }
            }
            guard !referenced else { throw Failure(description: "\(chain): Too many links") }
            table.order.removeAll { $0 == chain }
            table.rules[chain] = nil
        }

        private func checkTarget(_ rule: Rule) throws {
            if case .jump(let target) = rule.target { try need(target) }
        }

        func append(_ rule: Rule) throws {
            try need(rule.chain)
            try checkTarget(rule)
            table.rules[rule.chain, default: []].append(rule)
        }

        func insert(_ rule: Rule, at position: Int) throws {
            try need(rule.chain)
            try checkTarget(rule)
            let count = table.rules[rule.chain]?.count ?? 0
            guard position <= count else { throw Failure(description: "\(rule.chain): Index of insertion too big") }
            table.rules[rule.chain, default: []].insert(rule, at: position)
        }

        func delete(chain: String, at position: Int) throws {
            try need(chain)
            guard position < (table.rules[chain]?.count ?? 0) else {
                throw Failure(description: "\(chain): Index of deletion too big")
            }
            table.rules[chain]?.remove(at: position)
        }

        func commit() throws { owner.store(table, name, family) }
    }
}
