import TestSupport
import Testing

@testable import Kernel
@testable import KubeModel
@testable import Planning

/// The iptables sync's logic against in-memory tables: no root, no x_tables.
@Suite struct IPTablesSyncTests {
    static func jump(_ from: String, _ to: String, _ comment: String = "") -> Rule {
        Rule(chain: from, target: .jump(to), comment: comment)
    }

    static func plan(pods: [String]) -> FirewallPlan {
        var chains = [
            FirewallPlan.Chain(name: "KUBE-ROUTER-INPUT", rules: []),
            FirewallPlan.Chain(
                name: "KUBE-ROUTER-FORWARD", rules: pods.map { jump("KUBE-ROUTER-FORWARD", "KUBE-POD-FW-\($0)") }),
            FirewallPlan.Chain(name: "KUBE-ROUTER-OUTPUT", rules: []),
        ]
        for pod in pods {
            chains.insert(
                FirewallPlan.Chain(
                    name: "KUBE-POD-FW-\(pod)",
                    rules: [
                        jump("KUBE-POD-FW-\(pod)", "KUBE-NWPLCY-\(pod)"),
                        Rule(chain: "KUBE-POD-FW-\(pod)", target: .reject, comment: "pod \(pod)"),
                    ]), at: 0)
            chains.insert(
                FirewallPlan.Chain(
                    name: "KUBE-NWPLCY-\(pod)", rules: [Rule(chain: "KUBE-NWPLCY-\(pod)", target: .return, comment: "")]
                ), at: 0)
        }
        let hooks = ["INPUT", "FORWARD", "OUTPUT"].map { jump($0, "KUBE-ROUTER-\($0)") }
        return FirewallPlan(family: .ipv4, sets: [], chains: chains, hooks: hooks)
    }

    @Test func oneCommitThenNoneAndHooksFirst() throws {
        let kernel = FakeIPTables()
        // Another program's rule and chain, there first.
        try kernel.edit { t in
            try t.createChain("DOCKER-USER")
            try t.append(Self.jump("FORWARD", "DOCKER-USER"))
        }
        let plan = Self.plan(pods: ["A", "B"])
        var report = try IPTablesSync.apply(plan, open: kernel.opener)
        #expect(report.committed && report.chainsCreated == 7 && kernel.commits == 2)
        #expect(
            kernel.rules("FORWARD") == [
                Self.jump("FORWARD", "KUBE-ROUTER-FORWARD"), Self.jump("FORWARD", "DOCKER-USER"),
            ])
        report = try IPTablesSync.apply(plan, open: kernel.opener)
        #expect(!report.committed && kernel.commits == 2, "an unchanged table is not committed")
        report = try IPTablesSync.apply(plan, previous: plan, open: kernel.opener)
        #expect(!report.committed)
    }

    @Test func fullSyncRepairsDriftAndStaleChainsGoInOrder() throws {
        let kernel = FakeIPTables()
        let plan = Self.plan(pods: ["A", "B"])
        try IPTablesSync.apply(plan, open: kernel.opener)
        // By hand: a pod chain's reject deleted, and a rule put before our hook.
        try kernel.edit { t in
            try t.delete(chain: "KUBE-POD-FW-A", at: 1)
            try t.insert(Rule(chain: "INPUT", target: .accept, comment: "someone"), at: 0)
        }
        // An event sync that changes no chain (set members only) does not even read the table: the periodic
        // full sync repairs.
        var report = try IPTablesSync.apply(plan, previous: plan, open: kernel.opener)
        #expect(!report.committed && kernel.rules("INPUT").first?.comment == "someone")
        // An event sync that changes a chain trusts the other chains it applied, but checks the hooks.
        let next = Self.plan(pods: ["A", "B", "C"])
        report = try IPTablesSync.apply(next, previous: plan, open: kernel.opener)
        #expect(report.committed && kernel.rules("INPUT").first == Self.jump("INPUT", "KUBE-ROUTER-INPUT"))
        #expect(kernel.rules("KUBE-POD-FW-A").count == 1)
        report = try IPTablesSync.apply(plan, previous: next, open: kernel.opener)
        report = try IPTablesSync.apply(plan, open: kernel.opener)
        #expect(report.committed && report.rulesWritten == 2 && kernel.rules("KUBE-POD-FW-A").count == 2)
        #expect(
            kernel.rules("INPUT").contains(Rule(chain: "INPUT", target: .accept, comment: "someone")),
            "others' rules stay")
        // Pod B goes: its chains jump to each other, so all are flushed before any is deleted.
        let smaller = Self.plan(pods: ["A"])
        let changes = IPTablesDiff.changes(
            chains: smaller.chains, hooks: smaller.hooks,
            actual: Dictionary(uniqueKeysWithValues: plan.chains.map { ($0.name, $0.rules) }),
            existing: Set(kernel.chains()), hooksInPlace: true)
        #expect(
            changes == [
                .fill(chain: "KUBE-ROUTER-FORWARD", rules: smaller.chain("KUBE-ROUTER-FORWARD")!.rules),
                .flush("KUBE-NWPLCY-B"), .flush("KUBE-POD-FW-B"), .deleteChain("KUBE-NWPLCY-B"),
                .deleteChain("KUBE-POD-FW-B"),
            ])
        report = try IPTablesSync.apply(smaller, previous: plan, open: kernel.opener)
        #expect(report.chainsDeleted == 2 && !kernel.chains().contains("KUBE-POD-FW-B"))
    }

    @Test func aSecondOwnerHooksAfterTheFirstAndCleanupTakesOnlyOurs() throws {
        let kernel = FakeIPTables()
        try IPTablesSync.apply(Self.plan(pods: ["A"]), open: kernel.opener)
        let services = FirewallPlan(
            family: .ipv4, sets: [], chains: [.init(name: ServiceProxyNetfilter.servicesChain, rules: [])],
            hooks: [Self.jump("INPUT", ServiceProxyNetfilter.servicesChain)])
        try IPTablesSync.apply(services, owner: ServiceProxyNetfilter.filterOwner, open: kernel.opener)
        #expect(
            kernel.rules("INPUT") == [
                Self.jump("INPUT", "KUBE-ROUTER-INPUT"), Self.jump("INPUT", ServiceProxyNetfilter.servicesChain),
            ])
        // The firewall's full sync keeps its hook first and leaves the service proxy's.
        #expect(try !IPTablesSync.apply(Self.plan(pods: ["A"]), open: kernel.opener).committed)
        let report = try IPTablesSync.cleanup(open: kernel.opener)
        #expect(report.chainsDeleted == 5)
        #expect(kernel.rules("INPUT") == [Self.jump("INPUT", ServiceProxyNetfilter.servicesChain)])
        #expect(kernel.chains().contains(ServiceProxyNetfilter.servicesChain))
    }
}
