import Foundation
import KubeModel
import Planning

/// Reads the counters behind `krctl drops`: the pod chains' rules from one libiptc snapshot (no xtables lock:
/// the snapshot is an atomic copy), and the conntrack table's statistics.
public enum DenialCounters {
    /// The plan's denials with the kernel's counters (current network namespace).
    public static func read(plan: FirewallPlan) throws -> [DenialCount] {
        let table = try IPTablesTable("filter", family: plan.family)
        let present = Set(table.chains())
        var kernel: [String: [DenialCount.Counted]] = [:]
        for chain in Set(plan.denials.map(\.chain)) where present.contains(chain) {
            kernel[chain] = table.rulesWithCounters(chain).map {
                DenialCount.Counted(rule: $0.rule, packets: $0.counters.packets, bytes: $0.counters.bytes)
            }
        }
        return DenialCount.match(plan: plan, kernel: kernel)
    }

    /// Every chain of ours (pod and policy chains) with its rules' counters, from one snapshot (a one-off
    /// `RuleCounterReader`; keep a reader to read again without decoding what did not change).
    public static func rules(family: IPAddress.Family) throws -> [String: [DenialCount.Counted]] {
        try RuleCounterReader(family: family).read().mapValues(\.counted)
    }

    /// `/proc/net/stat/nf_conntrack` of the calling thread's namespace; nil where conntrack is not loaded.
    public static func conntrack(net: String = "/proc/thread-self/net") -> ConntrackStatistics? {
        (try? String(contentsOfFile: net + "/stat/nf_conntrack", encoding: .utf8)).flatMap {
            ConntrackStatistics(text: $0)
        }
    }
}
