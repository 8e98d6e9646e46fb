import TestSupport
import Testing

@testable import Kernel
@testable import KubeModel
@testable import Planning

/// The service proxy's sync logic against an in-memory IPVS table: no root, no IPVS module.
@Suite struct IPVSSyncTests {
    static func planned(
        _ vip: String, port: UInt16 = 80, _ endpoints: [String], origin: String? = nil
    ) -> PlannedVirtualService {
        PlannedVirtualService(
            service: IPVSService(address: IPAddress(vip)!, proto: .tcp, port: port),
            destinations: endpoints.map { IPVSDestination(address: IPAddress($0)!, port: 8080) },
            origin: origin ?? "shop/\(vip):\(port)", kind: .clusterIP)
    }

    let plan = [planned("10.96.0.1", ["10.244.1.10", "10.244.2.10"]), planned("10.96.0.2", ["10.244.1.11"])]

    @Test func fullSyncFromEmptyThenNothingThenOneCallPerEndpointChange() throws {
        let ipvs = FakeIPVS()
        let sync = IPVSSync(backend: ipvs)
        var report = try sync.apply(plan, previous: nil, owned: [])
        #expect(
            report.calls == 5 && report.servicesAdded == 2 && report.destinationsAdded == 3 && report.errors.isEmpty)
        ipvs.resetCount()
        report = try sync.apply(plan, previous: nil, owned: [])
        #expect(report.calls == 0 && ipvs.changeCount == 0, "a full sync of an unchanged table changes nothing")
        // An event: one endpoint goes, another drains (weight 0): two calls, against what was applied.
        var next = plan
        next[0].destinations = [IPVSDestination(address: IPAddress("10.244.1.10")!, port: 8080, weight: 0)]
        report = try sync.apply(next, previous: plan, owned: [])
        #expect(report.calls == 2 && report.destinationsDeleted == 1 && report.destinationsUpdated == 1)
        #expect(ipvs.entries["TCP 10.96.0.1:80"]?.destinations.map(\.weight) == [0])
    }

    @Test func fullSyncRepairsDriftAndLeavesOthersAlone() throws {
        let ipvs = FakeIPVS()
        let sync = IPVSSync(backend: ipvs)
        _ = try sync.apply(plan, previous: nil, owned: [])
        // Someone else's service, and damage by hand to ours.
        let foreign = IPVSService(address: IPAddress("192.0.2.1")!, proto: .udp, port: 53)
        try ipvs.add(foreign)
        try ipvs.delete(IPVSDestination(address: IPAddress("10.244.2.10")!, port: 8080), from: plan[0].service)
        try ipvs.delete(plan[1].service)
        ipvs.resetCount()
        // An event sync trusts what it applied: it does not see the damage.
        #expect(try sync.apply(plan, previous: plan, owned: []).calls == 0)
        // The full sync reads the table back and repairs exactly the damage.
        let report = try sync.apply(plan, previous: nil, owned: [])
        #expect(report.destinationsAdded == 2 && report.servicesAdded == 1 && report.calls == 3, "\(report)")
        #expect(ipvs.entries["UDP 192.0.2.1:53"] != nil, "a service that is not ours stays")
        // A stale service is deleted only when it is recorded as ours.
        #expect(try sync.apply([plan[0]], previous: nil, owned: []).servicesDeleted == 0)
        #expect(try sync.apply([plan[0]], previous: nil, owned: ["TCP 10.96.0.2:80"]).servicesDeleted == 1)
        #expect(ipvs.entries["UDP 192.0.2.1:53"] != nil)
    }

    @Test func aFailingServiceDoesNotStopTheOthers() throws {
        let ipvs = FakeIPVS()
        ipvs.failing = ["TCP 10.96.0.1:80"]
        let report = try IPVSSync(backend: ipvs).apply(
            plan + [Self.planned("10.96.0.3", ["10.244.1.12"])], previous: nil, owned: [])
        #expect(
            report.errors.count == 1 && report.errors[0].hasPrefix("shop/10.96.0.1:80 (TCP 10.96.0.1:80): "),
            "\(report.errors)")
        #expect(Set(ipvs.entries.keys) == ["TCP 10.96.0.2:80", "TCP 10.96.0.3:80"])
        // A stale service of ours the kernel will not delete stays recorded, to be retried.
        ipvs.failing = ["TCP 10.96.0.2:80"]
        let stale = try IPVSSync(backend: ipvs).apply(
            [], previous: nil, owned: ["TCP 10.96.0.2:80", "TCP 10.96.0.3:80"])
        #expect(stale.undeleted == ["TCP 10.96.0.2:80"] && stale.servicesDeleted == 1)
    }

    @Test func theDiffIsAValue() {
        let current = [IPVSEntry(service: plan[0].service, destinations: plan[0].destinations)]
        var changed = plan[0]
        changed.service.scheduler = "lc"
        changed.destinations.append(IPVSDestination(address: IPAddress("10.244.3.10")!, port: 8080))
        let groups = IPVSDiff.groups(planned: [changed], actual: current) { _ in false }
        #expect(groups.count == 1)
        #expect(
            groups[0].changes == [
                .updateService(changed.service),
                .addDestination(IPVSDestination(address: IPAddress("10.244.3.10")!, port: 8080), of: changed.service),
            ])
        // Two Services planned on one VIP and port: the first one is kept, the other is not planned.
        let twice = IPVSDiff.groups(
            planned: [
                Self.planned("10.96.0.9", ["10.0.0.1"], origin: "a"),
                Self.planned("10.96.0.9", ["10.0.0.2"], origin: "b"),
            ],
            actual: []
        ) { _ in false }
        #expect(twice.map(\.origin) == ["a (TCP 10.96.0.9:80)"])
    }
}
