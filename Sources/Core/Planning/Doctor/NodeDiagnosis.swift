import Foundation
import KubeModel

/// The node checks: `NodeFacts` in, one `DoctorCheck` per check out, in a stable order. Pure: the
/// same facts give the same report, so the agent (at start and every 10 minutes) and `krctl doctor`
/// agree, and the tests feed it facts directly.
///
/// A check whose problem concerns only controllers that are not enabled is reported as SKIP (with
/// what it found), so a node without the service proxy does not fail for want of IPVS.
public enum NodeDiagnosis {
    public static func evaluate(
        _ facts: NodeFacts, enabled: Set<DoctorController> = Set(DoctorController.allCases)
    ) -> DoctorReport {
        var checks: [DoctorCheck] = []
        checks += DoctorCatalog.modules.map { module(facts, $0) }
        checks += [
            ipForward(facts), bridgeCallIPTables(facts), rpFilter(facts), ipvsConntrack(facts),
            conntrackTable(facts),
        ]
        checks += [
            backends(facts.netfilter), iptablesVersion(facts.netfilter), forwardDrop(facts.netfilter),
            kubeProxyLeftovers(facts), xtablesLock(facts.xtablesLock),
        ]
        checks += [
            cniConfig(facts.cni), cniPlugins(facts.cni), nodeAddresses(facts), nodePodCIDR(facts),
            podCIDRRoutes(facts), networkdForeignRoutes(facts.networkd),
        ]
        checks += [rbac(facts.api, enabled: enabled), agentHealth(facts)]
        return DoctorReport(checks: checks.map { scoped($0, enabled: enabled) })
    }

    /// A problem that only disabled controllers would have is not this node's problem: SKIP, saying so.
    static func scoped(_ check: DoctorCheck, enabled: Set<DoctorController>) -> DoctorCheck {
        guard check.status == .warn || check.status == .fail, !check.controllers.isEmpty,
            enabled.isDisjoint(with: check.controllers)
        else { return check }
        let who = check.controllers.map(\.flag).joined(separator: ", ")
        return DoctorCheck(
            id: check.id, status: .skip,
            message: "not needed while \(who) \(check.controllers.count == 1 ? "is" : "are") off (found: "
                + "\(check.status.rawValue): \(check.message))",
            issue: check.issue, controllers: check.controllers)
    }

    // MARK: helpers shared by the checks

    /// `a, b and c`.
    static func list(_ items: [String]) -> String {
        switch items.count {
        case 0: ""
        case 1: items[0]
        default: items.dropLast().joined(separator: ", ") + " and " + items.last!
        }
    }

    /// The first `limit` items, then how many more.
    static func some(_ items: [String], limit: Int = 4) -> String {
        let shown = items.prefix(limit).joined(separator: ", ")
        return items.count > limit ? "\(shown) and \(items.count - limit) more" : shown
    }

    static func plural(_ n: Int, _ word: String) -> String { "\(n) \(word)\(n == 1 ? "" : "s")" }

    /// Whether /proc/sys could be read at all (every IPv4 kernel has ip_forward): tells a missing
    /// setting from an unreadable tree.
    static func procSysReadable(_ facts: NodeFacts) -> Bool {
        facts.sysctls[DoctorCatalog.Sysctl.ipForward] != nil
    }

    static func date(_ text: String) -> Date? { Timestamp.date(text) }

    /// `42s`, `5m`, `3h`.
    static func age(_ seconds: TimeInterval) -> String {
        let s = max(0, Int(seconds))
        if s < 120 { return "\(s)s" }
        if s < 7200 { return "\(s / 60)m" }
        return "\(s / 3600)h"
    }
}
