import Foundation
import KubeModel
import Planning

/// Reads our chains' rules with their counters, one libiptc snapshot per call, and decodes a chain's rules
/// only when its entries (counters aside) differ from the previous call's: `krctl top` reads every pod chain's
/// counters every tick, and at 20,000 rules decoding them all each time costs more than the rest of the tick.
/// A chain is known by its entries' bytes with the counters zeroed, kept from the last call and compared
/// whole (exact, and faster than hashing them: about 5 MB at 20,000 rules); a jump's target is an offset in the
/// table, so a change in one chain can make later chains decode again (never the reverse).
public final class RuleCounterReader: @unchecked Sendable {
    /// One chain's rules and their counters, in order.
    public struct Chain: Sendable {
        public var rules: [Rule]
        public var packets: [UInt64]
        public var bytes: [UInt64]
        /// Changes exactly when the chain's rules were decoded again (they may have changed); equal
        /// generations, equal rules.
        public var generation: Int

        /// The rules with their counters, as `DenialCount.match` takes them.
        public var counted: [DenialCount.Counted] {
            rules.indices.map { DenialCount.Counted(rule: rules[$0], packets: packets[$0], bytes: bytes[$0]) }
        }
    }

    public let family: IPAddress.Family
    private let owns: @Sendable (String) -> Bool
    private var cache: [String: (entries: [UInt8], rules: [Rule], generation: Int)] = [:]
    /// One buffer for every chain's entries, so that an unchanged chain costs no allocation.
    private var scratch: [UInt8] = []
    private var generation = 0
    /// How many chains the last `read` decoded (the rest came from the cache).
    public private(set) var decodedChains = 0

    public init(
        family: IPAddress.Family, owns: @escaping @Sendable (String) -> Bool = { IPTablesOwner.firewall.owns($0) }
    ) {
        self.family = family
        self.owns = owns
    }

    /// Every chain `owns` accepts, from one snapshot of the filter table (current network namespace).
    public func read() throws -> [String: Chain] {
        let table = try IPTablesTable("filter", family: family)
        var result: [String: Chain] = [:]
        var seen: [String: (entries: [UInt8], rules: [Rule], generation: Int)] = [:]
        decodedChains = 0
        for name in table.chains() where owns(name) {
            let (packets, bytes) = table.fingerprint(name, into: &scratch)
            var entry = cache[name]
            if entry == nil || !Self.same(entry!.entries, scratch) {
                let rules = table.rules(name)
                generation += 1
                decodedChains += 1
                entry = (scratch, rules, generation)
            }
            guard let entry, entry.rules.count == packets.count else { continue }
            seen[name] = entry
            result[name] = Chain(rules: entry.rules, packets: packets, bytes: bytes, generation: entry.generation)
        }
        cache = seen
        return result
    }

    static func same(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        a.count == b.count
            && a.withUnsafeBytes { x in
                b.withUnsafeBytes { y in x.count == 0 || memcmp(x.baseAddress!, y.baseAddress!, x.count) == 0 }
            }
    }
}
