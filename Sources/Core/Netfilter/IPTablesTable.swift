import CIPTables
import Foundation

/// One x_tables table (IPv4, legacy, through libiptc): read whole, changed in memory, committed in
/// one atomic replacement. libiptc keeps global state and is not thread-safe: all use is serialised.
public final class IPTablesTable: @unchecked Sendable {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    static let lock = NSRecursiveLock()
    private var handle: OpaquePointer?
    public let name: String

    public init(_ name: String = "filter") throws {
        self.name = name
        Self.lock.lock()
        defer { Self.lock.unlock() }
        guard let h = iptc_init(name) else {
            throw Failure(description: "cannot read the \(name) table (iptables legacy): \(String(cString: kr_iptc_strerror(kr_errno())))")
        }
        handle = h
    }

    deinit {
        if let handle { Self.lock.withLock { iptc_free(handle) } }
    }

    private func fail(_ what: String) -> Failure {
        Failure(description: "\(what): \(String(cString: kr_iptc_strerror(kr_errno())))")
    }

    public func chains() -> [String] {
        Self.lock.withLock {
            var names: [String] = []
            var chain = iptc_first_chain(handle)
            while let c = chain {
                names.append(String(cString: c))
                chain = iptc_next_chain(handle)
            }
            return names
        }
    }

    public func hasChain(_ chain: String) -> Bool { Self.lock.withLock { iptc_is_chain(chain, handle) != 0 } }

    public func createChain(_ chain: String) throws {
        try Self.lock.withLock { if iptc_create_chain(chain, handle) == 0 { throw fail("create chain \(chain)") } }
    }

    public func flush(_ chain: String) throws {
        try Self.lock.withLock { if iptc_flush_entries(chain, handle) == 0 { throw fail("flush chain \(chain)") } }
    }

    public func deleteChain(_ chain: String) throws {
        try Self.lock.withLock { if iptc_delete_chain(chain, handle) == 0 { throw fail("delete chain \(chain)") } }
    }

    public func append(_ rule: Rule) throws {
        try withEntry(rule) { entry in
            if iptc_append_entry(rule.chain, entry, handle) == 0 { throw fail("append to \(rule.chain) (\(rule.comment))") }
        }
    }

    /// Inserts at `position` (0 = first).
    public func insert(_ rule: Rule, at position: Int) throws {
        try withEntry(rule) { entry in
            if iptc_insert_entry(rule.chain, entry, UInt32(position), handle) == 0 { throw fail("insert into \(rule.chain)") }
        }
    }

    public func delete(chain: String, at position: Int) throws {
        try Self.lock.withLock { if iptc_delete_num_entry(chain, UInt32(position), handle) == 0 { throw fail("delete rule \(position) of \(chain)") } }
    }

    /// Replaces the kernel's table with this one, atomically.
    public func commit() throws {
        try Self.lock.withLock { if iptc_commit(handle) == 0 { throw fail("commit the \(name) table") } }
    }

    /// The rules of a chain, decoded. Rules with matches or targets we do not write come back with
    /// `foreign` set in their comment (never ours, so never touched).
    public func rules(_ chain: String) -> [Rule] {
        Self.lock.withLock {
            var rules: [Rule] = []
            var entry = iptc_first_rule(chain, handle)
            while let e = entry {
                let target = String(cString: iptc_get_target(e, handle))
                rules.append(RuleCodec.decode(e, chain: chain, target: target))
                entry = iptc_next_rule(e, handle)
            }
            return rules
        }
    }

    private func withEntry(_ rule: Rule, _ body: (UnsafePointer<ipt_entry>) throws -> Void) throws {
        try Self.lock.withLock {
            var builder = kr_rule()
            guard kr_rule_init(&builder) == 0 else { throw Failure(description: "out of memory") }
            defer { kr_rule_free(&builder) }
            try RuleCodec.encode(rule, into: &builder)
            try body(UnsafePointer(kr_rule_entry(&builder)))
        }
    }
}
