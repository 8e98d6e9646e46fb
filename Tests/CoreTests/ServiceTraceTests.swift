import Testing

@testable import Kernel
@testable import KubeModel
@testable import Planning

/// The trace krctl builds from the plan and the kernel for one service.
@Suite struct ServiceTraceTests {
    func plan() throws -> ServiceProxyPlan {
        ServiceProxyPlanner.plan(
            ClusterSnapshot(try objects(ServiceProxyPlannerTests.cluster)), node: "n1",
            nodeAddresses: [IPAddress("192.168.0.11")!], options: .init())
    }

    @Test func traceReportsDriftAgainstTheKernel() throws {
        let snapshot = ClusterSnapshot(try objects(ServiceProxyPlannerTests.cluster))
        let plan = try self.plan()
        let web = try #require(snapshot.services["shop/web"])
        let planned = plan.services.filter { $0.origin.hasPrefix("shop/web:") }
        let cluster = try #require(planned.first { $0.kind == .clusterIP })
        // The kernel lost one real server and holds another's weight wrong; the VIP is there.
        var kernel: [String: IPVSEntry] = [:]
        for p in planned { kernel[p.service.key] = IPVSEntry(service: p.service, destinations: p.destinations) }
        kernel[cluster.service.key]!.destinations = [
            IPVSDestination(address: IPAddress("10.244.1.10")!, port: 8080, weight: 5)
        ]
        let trace = ServiceTrace.build(
            service: web, node: "n1", planned: planned, vips: Set(plan.vips),
            observed: .init(vips: [IPAddress("10.96.0.10")!, IPAddress("203.0.113.7")!], ipvs: kernel),
            snapshot: snapshot, client: nil, route: { _ in nil }, policy: { _, _, _ in nil })
        #expect(trace.hasDrift)
        let drift = try #require(trace.virtualServices.first { $0.key == cluster.service.key }).drift
        #expect(drift.contains("real server 10.244.1.10:8080 has weight 5 where the plan says 1"), "\(drift)")
        #expect(drift.contains("real server 10.244.2.10:8080 is missing from TCP 10.96.0.10:80"), "\(drift)")
        let others = trace.virtualServices.filter { $0.key != cluster.service.key }
        #expect(others.allSatisfy { $0.drift.isEmpty }, "\(others.map(\.drift))")
        // Planned only (no kernel read): no drift can be claimed.
        let planOnly = ServiceTrace.build(
            service: web, node: "n1", planned: planned, vips: Set(plan.vips), observed: nil,
            snapshot: snapshot, client: nil, route: { _ in nil }, policy: { _, _, _ in nil })
        let inKernel = planOnly.virtualServices.map(\.inKernel)
        #expect(!planOnly.hasDrift && inKernel.allSatisfy { $0 == nil })
    }
}
