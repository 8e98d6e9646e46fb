import CIPTables
import Foundation
import KubeModel
import Planning

/// One x_tables table of one family (legacy: libip4tc for IPv4, libip6tc for IPv6): read whole,
/// changed in memory, committed in one atomic replacement. libiptc keeps global state and is not
/// thread-safe: all use is serialised.
public final class IPTablesTable: @unchecked Sendable {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    static let lock = NSRecursiveLock()
    private var handle: OpaquePointer?
    public let name: String
    public let family: IPAddress.Family
    private var v6: Bool { family == .ipv6 }
    private var tool: String { v6 ? "ip6tables legacy" : "iptables legacy" }

    public init(_ name: String = "filter", family: IPAddress.Family = .ipv4) throws {
        self.name = name
        self.family = family
        Self.lock.lock()
        defer { Self.lock.unlock() }
        var h = family == .ipv6 ? ip6tc_init(name) : iptc_init(name)
        if h == nil && kr_errno() == ENOPROTOOPT {
            // x_tables not loaded: load it as iptables does (the kernel loads the table's own module itself).
            Self.loadModule(family == .ipv6 ? "ip6_tables" : "ip_tables")
            h = family == .ipv6 ? ip6tc_init(name) : iptc_init(name)
        }
        guard let h else {
            throw Failure(
                description:
                    "cannot read the \(name) table (\(family == .ipv6 ? "ip6tables" : "iptables") legacy): "
                    + "\(Self.errorText(family))"
            )
        }
        handle = h
    }

    /// `modprobe -q MODULE` with the kernel's modprobe (/proc/sys/kernel/modprobe), as xtables does.
    static func loadModule(_ module: String) {
        let modprobe =
            (try? String(contentsOfFile: "/proc/sys/kernel/modprobe", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? "/sbin/modprobe"
        _ = try? Subprocess.run(modprobe.isEmpty ? "/sbin/modprobe" : modprobe, ["-q", module])
    }

    deinit {
        guard let handle else { return }
        Self.lock.withLock { if v6 { ip6tc_free(handle) } else { iptc_free(handle) } }
    }

    private static func errorText(_ family: IPAddress.Family) -> String {
        String(cString: family == .ipv6 ? kr_ip6tc_strerror(kr_errno()) : kr_iptc_strerror(kr_errno()))
    }

    private func fail(_ what: String) -> Failure {
        Failure(description: "\(what) (\(tool)): \(Self.errorText(family))")
    }

    /// Runs a libiptc call of the table's family; a zero result is the failure `what`.
    private func call(_ what: @autoclosure () -> String, v4: () -> Int32, v6 call6: () -> Int32) throws {
        try Self.lock.withLock {
            if (v6 ? call6() : v4()) == 0 { throw fail(what()) }
        }
    }

    public func chains() -> [String] {
        Self.lock.withLock {
            var names: [String] = []
            var chain = v6 ? ip6tc_first_chain(handle) : iptc_first_chain(handle)
            while let c = chain {
                names.append(String(cString: c))
                chain = v6 ? ip6tc_next_chain(handle) : iptc_next_chain(handle)
            }
            return names
        }
    }

    public func createChain(_ chain: String) throws {
        try call(
            "create chain \(chain)", v4: { iptc_create_chain(chain, handle) }, v6: { ip6tc_create_chain(chain, handle) }
        )
    }

    public func flush(_ chain: String) throws {
        try call(
            "flush chain \(chain)", v4: { iptc_flush_entries(chain, handle) },
            v6: { ip6tc_flush_entries(chain, handle) })
    }

    public func deleteChain(_ chain: String) throws {
        try call(
            "delete chain \(chain)", v4: { iptc_delete_chain(chain, handle) }, v6: { ip6tc_delete_chain(chain, handle) }
        )
    }

    public func append(_ rule: Rule) throws {
        try withEntry(rule) { entry in
            try call(
                "append to \(rule.chain) (\(rule.comment))",
                v4: { iptc_append_entry(rule.chain, entry.assumingMemoryBound(to: ipt_entry.self), handle) },
                v6: { ip6tc_append_entry(rule.chain, entry.assumingMemoryBound(to: ip6t_entry.self), handle) })
        }
    }

    /// Inserts at `position` (0 = first).
    public func insert(_ rule: Rule, at position: Int) throws {
        try withEntry(rule) { entry in
            try call(
                "insert into \(rule.chain)",
                v4: {
                    iptc_insert_entry(
                        rule.chain, entry.assumingMemoryBound(to: ipt_entry.self), UInt32(position), handle)
                },
                v6: {
                    ip6tc_insert_entry(
                        rule.chain, entry.assumingMemoryBound(to: ip6t_entry.self), UInt32(position), handle)
                })
        }
    }

    public func delete(chain: String, at position: Int) throws {
        try call(
            "delete rule \(position) of \(chain)",
            v4: { iptc_delete_num_entry(chain, UInt32(position), handle) },
            v6: { ip6tc_delete_num_entry(chain, UInt32(position), handle) })
    }

    /// Replaces the kernel's table with this one, atomically.
    public func commit() throws {
        try call("commit the \(name) table", v4: { iptc_commit(handle) }, v6: { ip6tc_commit(handle) })
    }

    /// The rules of a chain, decoded. Rules with matches we do not write come back with a note in
    /// their comment (never ours, so never touched).
    public func rules(_ chain: String) -> [Rule] { rulesWithCounters(chain).map(\.rule) }

    /// A rule's packet and byte counters, as the kernel counted them (this handle's snapshot).
    public struct Counters: Sendable, Equatable {
        public var packets: UInt64
        public var bytes: UInt64
    }

    /// The rules of a chain, decoded, each with its counters, in order.
    public func rulesWithCounters(_ chain: String) -> [(rule: Rule, counters: Counters)] {
        Self.lock.withLock {
            var rules: [(Rule, Counters)] = []
            if v6 {
                var entry = ip6tc_first_rule(chain, handle)
                while let e = entry {
                    let rule = RuleCodec.decode(
                        RuleCodec.view(e), chain: chain, target: String(cString: ip6tc_get_target(e, handle)))
                    rules.append((rule, Counters(packets: e.pointee.counters.pcnt, bytes: e.pointee.counters.bcnt)))
                    entry = ip6tc_next_rule(e, handle)
                }
            } else {
                var entry = iptc_first_rule(chain, handle)
                while let e = entry {
                    let rule = RuleCodec.decode(
                        RuleCodec.view(e), chain: chain, target: String(cString: iptc_get_target(e, handle)))
                    rules.append((rule, Counters(packets: e.pointee.counters.pcnt, bytes: e.pointee.counters.bcnt)))
                    entry = iptc_next_rule(e, handle)
                }
            }
            return rules
        }
    }

    /// A chain's entries as the rules are, and their counters, in one pass, nothing decoded: the entries' bytes
    /// into `entries` (emptied first; one buffer reused for every chain) with what does not make the rule
    /// zeroed: the counters, and the bytes after the NUL of each match's and target's name, which the kernel
    /// does not write (`xt_match_to_user` copies the name's length only): they are whatever libiptc's buffer
    /// held. Equal bytes, equal rules; each rule's packets and bytes in order.
    func fingerprint(_ chain: String, into entries: inout [UInt8]) -> (packets: [UInt64], bytes: [UInt64]) {
        Self.lock.withLock {
            var packets: [UInt64] = []
            var bytes: [UInt64] = []
            entries.removeAll(keepingCapacity: true)
            if v6 {
                var entry = ip6tc_first_rule(chain, handle)
                while let e = entry {
                    Self.normalized(
                        UnsafeRawPointer(e), header: MemoryLayout<ip6t_entry>.size,
                        counters: MemoryLayout<ip6t_entry>.offset(of: \ip6t_entry.counters)!,
                        target: Int(e.pointee.target_offset), size: Int(e.pointee.next_offset), into: &entries)
                    packets.append(e.pointee.counters.pcnt)
                    bytes.append(e.pointee.counters.bcnt)
                    entry = ip6tc_next_rule(e, handle)
                }
            } else {
                var entry = iptc_first_rule(chain, handle)
                while let e = entry {
                    Self.normalized(
                        UnsafeRawPointer(e), header: MemoryLayout<ipt_entry>.size,
                        counters: MemoryLayout<ipt_entry>.offset(of: \ipt_entry.counters)!,
                        target: Int(e.pointee.target_offset), size: Int(e.pointee.next_offset), into: &entries)
                    packets.append(e.pointee.counters.pcnt)
                    bytes.append(e.pointee.counters.bcnt)
                    entry = iptc_next_rule(e, handle)
                }
            }
            return (packets, bytes)
        }
    }

    /// An entry's bytes appended to `scratch`, with its counters and the unwritten tails of its match and target
    /// names zeroed. Matches lie from `header` to `target`; each and the target start with their size (2 bytes)
    /// and a 29-byte name (`xt_entry_match`, `xt_entry_target`).
    static func normalized(
        _ e: UnsafeRawPointer, header: Int, counters: Int, target: Int, size: Int, into scratch: inout [UInt8]
    ) {
        let start = scratch.count
        scratch.append(contentsOf: UnsafeRawBufferPointer(start: e, count: size))
        scratch.withUnsafeMutableBytes { all in
            let p = all.baseAddress! + start
            if counters + MemoryLayout<xt_counters>.size <= size {
                memset(p + counters, 0, MemoryLayout<xt_counters>.size)
            }
            func clearName(at offset: Int) {
                let length = min(29, size - offset - 2)
                guard length > 0, let nul = memchr(p + offset + 2, 0, length) else { return }
                memset(nul, 0, length - (nul - (p + offset + 2)))
            }
            var offset = header
            while offset + 2 <= min(target, size) {
                let matchSize =
                    Int(p.load(fromByteOffset: offset, as: UInt8.self))
                    | Int(p.load(fromByteOffset: offset + 1, as: UInt8.self)) << 8
                clearName(at: offset)
                guard matchSize > 0 else { break }
                offset += matchSize
            }
            if target + 2 <= size { clearName(at: target) }
        }
    }

    public func counted(_ chain: String) -> [(rule: Rule, packets: UInt64, bytes: UInt64)] {
        rulesWithCounters(chain).map { ($0.rule, $0.counters.packets, $0.counters.bytes) }
    }

    /// Sets a rule's counters for the commit (libiptc numbers rules from 1 here; `position` counts from 0).
    public func setCounters(chain: String, position: Int, packets: UInt64, bytes: UInt64) throws {
        var counters = xt_counters(pcnt: packets, bcnt: bytes)
        try call(
            "set the counters of rule \(position + 1) of \(chain)",
            v4: { iptc_set_counter(chain, UInt32(position + 1), &counters, handle) },
            v6: { ip6tc_set_counter(chain, UInt32(position + 1), &counters, handle) })
    }

    private func withEntry(_ rule: Rule, _ body: (UnsafeRawPointer) throws -> Void) throws {
        try Self.lock.withLock {
            var builder = kr_rule()
            guard kr_rule_init_family(&builder, v6 ? 1 : 0) == 0 else { throw Failure(description: "out of memory") }
            defer { kr_rule_free(&builder) }
            try RuleCodec.encode(rule, into: &builder)
            try body(UnsafeRawPointer(builder.buf))
        }
    }
}
