import Foundation
import TestSupport
import Testing

@testable import Agent
@testable import Kernel
@testable import KubeAPI
@testable import KubeModel
@testable import Planning

func objects(_ yaml: String) throws -> [KubeObject] {
    var reader = ObjectReader()
    for document in try JSONValue.parseYAMLDocuments(yaml) { reader.read(document, source: "test.yaml") }
    #expect(reader.errors.isEmpty, "\(reader.errors)")
    return reader.objects
}

func stateDirectory() throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kr-ctl-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

/// Waits (polling the status file the controller writes) until `predicate` holds.
func waitForStatus<T: StatusFile>(_ type: T.Type, _ dir: String, timeout: Double = 10, _ predicate: (T) -> Bool) -> Bool
{
    let deadline = Date(timeIntervalSinceNow: timeout)
    while Date() < deadline {
        if let status = T.read(stateDir: dir), predicate(status) { return true }
        usleep(5_000)
    }
    return false
}

/// The firewall controller against in-memory ipsets and tables and a fake cluster: no root.
@Suite struct FirewallControllerTests {
    static let cluster = """
        kind: Namespace
        metadata: {name: shop}
        ---
        kind: Pod
        metadata: {name: web, namespace: shop, labels: {app: web}}
        spec: {nodeName: n1}
        status: {phase: Running, podIP: 10.244.1.10}
        ---
        kind: Pod
        metadata: {name: api, namespace: shop, labels: {app: api}}
        spec: {nodeName: n1}
        status: {phase: Running, podIP: 10.244.1.11}
        ---
        kind: Pod
        metadata: {name: far, namespace: shop, labels: {app: web}}
        spec: {nodeName: n2}
        status: {phase: Running, podIP: 10.244.2.10}
        ---
        kind: NetworkPolicy
        metadata: {name: api, namespace: shop}
        spec:
          podSelector: {matchLabels: {app: api}}
          ingress: [{from: [{podSelector: {matchLabels: {app: web}}}]}]
        """

    @Test func eventsSyncIncrementallyAndAFreshControllerRepairsDrift() throws {
        let cluster = FakeCluster(try objects(Self.cluster))
        let (ipsets, iptables) = (FakeIPSets(), FakeIPTables())
        let dir = try stateDirectory()
        let log = Log()
        var controller = FirewallController(
            cluster: cluster, node: "n1", period: 3600, defaultDeny: false, stateDir: dir, log: log,
            backends: .fakes(ipsets: ipsets, iptables: iptables))
        controller.start()
        #expect(waitForStatus(FirewallStatus.self, dir) { $0.syncs == 1 && $0.lastSyncFull == true })
        let podChain = FirewallNames.podChain("shop/api")
        #expect(iptables.chains().contains(podChain))
        #expect(
            iptables.rules("FORWARD").first?.target == .jump("KUBE-ROUTER-FORWARD"), "the firewall's hook comes first")
        let peers = try #require(
            ipsets.all.values.first { $0.members.contains(.ip("10.244.2.10")) }, "the web pods' set")
        #expect(Set(peers.members) == [.ip("10.244.1.10"), .ip("10.244.2.10")])
        // A remote pod joins: an event sync, which changes only the set (from the event, without planning the
        // node again) and does not list the kernel.
        let listsBefore = ipsets.lists
        let far2 = try objects(
            """
            kind: Pod
            metadata: {name: far2, namespace: shop, labels: {app: web}}
            spec: {nodeName: n3}
            status: {phase: Running, podIP: 10.244.3.10}
            """)
        var version = cluster.apply(far2)
        controller.handle(.added(far2[0]))
        #expect(
            waitForStatus(FirewallStatus.self, dir) {
                $0.hasSynced(atLeast: version, of: ["pods"]) && $0.lastSyncFull == false
            })
        #expect(ipsets.all[peers.name]?.members.contains(.ip("10.244.3.10")) == true)
        #expect(ipsets.lists == listsBefore, "an event sync trusts what it applied")
        // Damage by hand: an event sync does not see it; a restarted agent's full sync repairs it.
        try iptables.edit { try $0.flush(podChain) }
        version = cluster.apply(try objects("kind: Namespace\nmetadata: {name: other}"))
        controller.markDirty()
        #expect(waitForStatus(FirewallStatus.self, dir) { $0.hasSynced(atLeast: version, of: ["pods"]) })
        #expect(iptables.rules(podChain).isEmpty)
        controller.stop()
        controller = FirewallController(
            cluster: cluster, node: "n1", period: 3600, defaultDeny: false, stateDir: dir, log: log,
            backends: .fakes(ipsets: ipsets, iptables: iptables))
        controller.start()
        defer { controller.stop() }
        #expect(waitForStatus(FirewallStatus.self, dir) { $0.syncs == 1 && $0.lastSyncFull == true })
        #expect(!iptables.rules(podChain).isEmpty, "the full sync put the pod's rules back")
    }

    @Test func eventsDuringASyncAreCoalescedAndAFailedSyncIsRetriedInFull() throws {
        let cluster = FakeCluster(try objects(Self.cluster))
        let ipsets = FakeIPSets()
        let (entered, gate) = (DispatchSemaphore(value: 0), DispatchSemaphore(value: 0))
        let holding = Locked(false)
        let failOnce = Locked(false)
        ipsets.beforeApply = {
            if holding.get() {
                holding.set(false)
                entered.signal()
                gate.wait()
            }
            let fail = failOnce.mutate { value -> Bool in
                let was = value
                value = false
                return was
            }
            if fail { throw FakeIPSets.Failure(description: "injected") }
        }
        let dir = try stateDirectory()
        let controller = FirewallController(
            cluster: cluster, node: "n1", period: 3600, defaultDeny: false, stateDir: dir, log: Log(),
            backends: .fakes(ipsets: ipsets), retry: 0.2)
        controller.start()
        defer { controller.stop() }
        #expect(waitForStatus(FirewallStatus.self, dir) { $0.syncs == 1 })
        // A sync is held in the kernel while 50 events arrive: together they make one more sync.
        holding.set(true)
        controller.markDirty()
        entered.wait()
        for _ in 0..<50 { controller.markDirty() }
        gate.signal()
        #expect(waitForStatus(FirewallStatus.self, dir) { $0.syncs == 3 })
        let version = cluster.apply(try objects("kind: Namespace\nmetadata: {name: later}"))
        controller.markDirty()
        #expect(waitForStatus(FirewallStatus.self, dir) { $0.hasSynced(atLeast: version, of: ["namespaces"]) })
        #expect(FirewallStatus.read(stateDir: dir)?.syncs == 4, "50 events during one sync made one sync, not 50")
        // A failing kernel: the rules stay, the status does not advance, and the retry is a full sync.
        failOnce.set(true)
        controller.markDirty()
        #expect(waitForStatus(FirewallStatus.self, dir) { $0.syncs == 5 && $0.lastSyncFull == true })
    }
}

/// The service proxy controller against in-memory IPVS, links, ipsets and tables: no root.
@Suite struct ServiceProxyControllerTests {
    static func slice(_ ips: [String]) -> String {
        let endpoints = ips.map { "{addresses: [\"\($0)\"], nodeName: n1, conditions: {ready: true}}" }.joined(
            separator: ", ")
        return """
            apiVersion: discovery.k8s.io/v1
            kind: EndpointSlice
            metadata: {name: web-abc, namespace: shop, labels: {kubernetes.io/service-name: web}}
            addressType: IPv4
            endpoints: [\(endpoints)]
            ports: [{name: http, port: 8080, protocol: TCP}]
            """
    }

    static let cluster = """
        kind: Node
        metadata: {name: n1}
        status: {addresses: [{type: InternalIP, address: 192.168.0.11}]}
        ---
        kind: Service
        metadata: {name: web, namespace: shop}
        spec: {clusterIP: 10.96.0.10, ports: [{name: http, port: 80, targetPort: http}]}
        ---
        kind: Service
        metadata: {name: db, namespace: shop}
        spec: {clusterIP: 10.96.0.20, ports: [{port: 5432}]}
        ---

        """ + slice(["10.244.1.10", "10.244.1.11", "10.244.1.12"])

    @Test func oneEndpointChangeIsOneIPVSChangeAndOthersAreLeftAlone() throws {
        let cluster = FakeCluster(try objects(Self.cluster))
        let (ipvs, links) = (FakeIPVS(), FakeLinks())
        let foreign = IPVSService(address: IPAddress("192.0.2.1")!, proto: .udp, port: 53)
        try ipvs.add(foreign)
        let dir = try stateDirectory()
        let options = ServiceProxyController.Options(
            period: 3600, gracefulTermination: false, masqueradeAll: false, hairpinAll: false,
            stateDir: dir)
        let controller = ServiceProxyController(
            cluster: cluster, node: "n1", options: options, log: Log(),
            backends: .fakes(ipvs: ipvs, links: links))
        controller.start()
        defer { controller.stop() }
        #expect(waitForStatus(ServiceProxyStatus.self, dir) { $0.syncs == 1 })
        #expect(ipvs.entries["TCP 10.96.0.10:80"]?.destinations.count == 3)
        #expect(
            Set(links.all[NodeNetwork.dummyInterface] ?? []) == [IPAddress("10.96.0.10")!, IPAddress("10.96.0.20")!])
        #expect(ipvs.entries["UDP 192.0.2.1:53"] != nil, "a service that is not ours stays")
        ipvs.resetCount()
        var version = cluster.apply(try objects(Self.slice(["10.244.1.10", "10.244.1.11"])))
        controller.handle(
            .updated(old: try objects(Self.slice([]))[0], new: try objects(Self.slice(["10.244.1.10"]))[0]))
        #expect(waitForStatus(ServiceProxyStatus.self, dir) { $0.hasSynced(atLeast: version, of: ["endpointslices"]) })
        #expect(ipvs.changeCount == 1, "one endpoint gone is one netlink change")
        // The service goes: its IPVS service and its VIP go; the other service and the foreign one stay.
        let db = try objects(Self.cluster).first { $0.key == "shop/db" }!
        version = cluster.delete(kind: "Service", key: "shop/db")
        controller.handle(.deleted(db))
        #expect(waitForStatus(ServiceProxyStatus.self, dir) { $0.hasSynced(atLeast: version, of: ["services"]) })
        #expect(ipvs.entries["TCP 10.96.0.20:5432"] == nil && ipvs.entries["TCP 10.96.0.10:80"] != nil)
        #expect(links.all[NodeNetwork.dummyInterface] == [IPAddress("10.96.0.10")!])
        #expect(ipvs.entries["UDP 192.0.2.1:53"] != nil)
    }

    @Test func aFailingServiceDoesNotStopTheOthers() throws {
        let cluster = FakeCluster(try objects(Self.cluster))
        let ipvs = FakeIPVS()
        ipvs.failing = ["TCP 10.96.0.20:5432"]
        let dir = try stateDirectory()
        let options = ServiceProxyController.Options(
            period: 3600, gracefulTermination: false, masqueradeAll: false, hairpinAll: false,
            stateDir: dir)
        let controller = ServiceProxyController(
            cluster: cluster, node: "n1", options: options, log: Log(), backends: .fakes(ipvs: ipvs))
        controller.start()
        defer { controller.stop() }
        #expect(waitForStatus(ServiceProxyStatus.self, dir) { $0.syncs >= 1 })
        let status = try #require(ServiceProxyStatus.read(stateDir: dir))
        #expect(status.problems.contains { $0.contains("shop/db") && $0.contains("injected") }, "\(status.problems)")
        #expect(ipvs.entries["TCP 10.96.0.10:80"]?.destinations.count == 3)
    }
}
