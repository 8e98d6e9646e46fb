import Foundation
import TestSupport
import Testing

@testable import Agent
@testable import Kernel
@testable import KubeAPI
@testable import KubeModel
@testable import Planning

/// The router controller on a fake cluster and in-memory routes: no root (its speaker listens on a high
/// port, and no peer ever answers).
@Suite(.serialized) struct RouterControllerTests {
    static let nodes = """
        kind: Node
        metadata: {name: n1}
        spec: {podCIDR: 10.244.1.0/24}
        status: {addresses: [{type: InternalIP, address: 10.99.0.1}]}
        """
    static let other = """
        kind: Node
        metadata: {name: n2}
        spec: {podCIDR: 10.244.2.0/24}
        status: {addresses: [{type: InternalIP, address: 10.99.0.2}]}
        """

    @Test func nodeEventsAreSyncedIntoTheStatusAndStopEndsTheSpeaker() throws {
        let dir = try stateDirectory()
        let cluster = FakeCluster(try objects(Self.nodes))
        let port = UInt16(20000 + Int(getpid() % 20000))
        let options = RouterController.Options(
            settings: RouterSettings(), bgpPort: port, maxPrefixes: 100, holdTime: 9,
            gracefulRestartTime: nil, cniConfigPath: dir + "/cni.conflist",
            controlSocketPath: dir + "/" + ControlSocket.fileName, stateDir: dir)
        let routes = FakeRoutes()
        let controller = RouterController(cluster: cluster, node: "n1", options: options, log: Log(), routes: routes)
        try controller.start()
        defer { controller.stop() }
        #expect(
            waitForStatus(RouterStatus.self, dir) {
                $0.pid == getpid() && $0.advertised == ["10.244.1.0/24"] && $0.peersConfigured == 0 && $0.asn == 64512
                    && $0.routerID == "10.99.0.1"
            }, "\(String(describing: RouterStatus.read(stateDir: dir)))")
        #expect(
            FileManager.default.contents(atPath: dir + "/cni.conflist").map { String(decoding: $0, as: UTF8.self) }?
                .contains("10.244.1.0/24") == true)
        // A node joins: one event, one more peer in the full mesh, at the cluster's new version.
        let version = cluster.apply(try objects(Self.other))
        controller.handle(.added(try objects(Self.other)[0]))
        #expect(
            waitForStatus(RouterStatus.self, dir) {
                $0.peersConfigured == 1 && $0.hasSynced(atLeast: version, of: ["nodes"])
            }, "\(String(describing: RouterStatus.read(stateDir: dir)))")
        #expect(RouterStatus.read(stateDir: dir)?.peersEstablished == 0)
        // The control socket answers from the speaker.
        let peers = try ControlSocket.ask(path: options.controlSocketPath, "bgp peers", timeout: 5)
        #expect(String(decoding: peers, as: UTF8.self).contains("\"address\":\"10.99.0.2\""))
        // Stopped: the speaker's listener is closed, and events sync nothing more.
        controller.stop()
        let syncs = RouterStatus.read(stateDir: dir)?.syncs ?? -1
        controller.handle(.updated(old: try objects(Self.other)[0], new: try objects(Self.other)[0]))
        usleep(200_000)
        #expect(RouterStatus.read(stateDir: dir)?.syncs == syncs)
        let empty = try ControlSocket.ask(path: options.controlSocketPath, "bgp peers", timeout: 5)
        #expect(String(decoding: empty, as: UTF8.self) == "[]")
        #expect(routes.all.isEmpty)
    }

    /// The CNI file appears only after the firewall's first full sync (and the router's own): a pod the
    /// kubelet starts once the file is there is never unprotected (kube-router #873). The firewall's first
    /// sync is held in its ipset pass; the router syncs meanwhile, and writes the file when it ends.
    @Test func theCNIFileWaitsForTheFirewallsFirstFullSync() throws {
        let dir = try stateDirectory()
        let cluster = FakeCluster(try objects(Self.nodes + "\n---\n" + FirewallControllerTests.cluster))
        let ipsets = FakeIPSets()
        let (entered, gate) = (DispatchSemaphore(value: 0), DispatchSemaphore(value: 0))
        let holding = Locked(true)
        ipsets.beforeApply = {
            if holding.get() {
                holding.set(false)
                entered.signal()
                gate.wait()
            }
        }
        let firewall = FirewallController(
            cluster: cluster, node: "n1", period: 3600, defaultDeny: false, stateDir: nil, log: Log(),
            backends: .fakes(ipsets: ipsets, iptables: FakeIPTables()))
        let cni = dir + "/net.d/10-kuberouter.conflist"
        let template: JSONValue = .object([
            "cniVersion": "0.3.0", "name": "pods",
            "plugins": .array([
                .object(["type": "bridge", "ipam": .object(["type": "host-local", "subnet": "192.0.2.0/24"])])
            ]),
        ])
        let options = RouterController.Options(
            settings: RouterSettings(), bgpPort: UInt16(20000 + Int(getpid() % 20000) + 1), maxPrefixes: 100,
            holdTime: 9, gracefulRestartTime: nil, cniConfigPath: cni, cniTemplate: template,
            controlSocketPath: dir + "/" + ControlSocket.fileName, stateDir: dir)
        let router = RouterController(cluster: cluster, node: "n1", options: options, log: Log(), routes: FakeRoutes())
        router.writeCNIAfter([firewall.monitor])
        firewall.start()
        defer {
            holding.set(false)
            gate.signal()
            firewall.stop()
            router.stop()
        }
        #expect(entered.wait(timeout: .now() + 10) == .success, "the firewall's first sync is under way")
        try router.start()
        // The router has synced (its status says what it advertises), but the file waits for the firewall.
        #expect(
            waitForStatus(RouterStatus.self, dir) { $0.pid == getpid() && $0.advertised == ["10.244.1.0/24"] },
            "\(String(describing: RouterStatus.read(stateDir: dir)))")
        #expect(!FileManager.default.fileExists(atPath: cni), "no CNI file before the firewall's first sync")
        #expect(firewall.monitor.snapshot.fullSuccesses == 0)
        gate.signal()
        // The firewall's first full sync ends; it wakes the router, which writes the file.
        let deadline = Date(timeIntervalSinceNow: 10)
        while !FileManager.default.fileExists(atPath: cni) && Date() < deadline { usleep(5_000) }
        let written = try #require(FileManager.default.contents(atPath: cni), "the CNI file after the first sync")
        #expect(firewall.monitor.snapshot.fullSuccesses >= 1)
        let network = try JSONValue.parseJSON(written)
        let ipam = network["plugins"]?.arrayValue?.first?["ipam"]
        #expect(ipam?["subnet"] == nil, "the template's subnet is replaced by the pod CIDRs")
        #expect(ipam?["ranges"] == .array([.array([.object(["subnet": "10.244.1.0/24"])])]), "\(network)")
        #expect(network["name"] == "pods")
    }

    /// Pod egress keeps the cluster's pod CIDRs and node addresses in its sets as nodes come, repairs its chain
    /// at the periodic sync, and an agent started with it off removes what an earlier one set up.
    @Test func podEgressFollowsTheNodesAndIsRemovedWhenOff() throws {
        let dir = try stateDirectory()
        let cluster = FakeCluster(try objects(Self.nodes))
        let (ipsets, iptables) = (FakeIPSets(), FakeIPTables())
        var options = RouterController.Options(
            settings: RouterSettings(), bgpPort: UInt16(20000 + Int(getpid() % 20000) + 2), maxPrefixes: 100,
            holdTime: 9, gracefulRestartTime: nil, controlSocketPath: dir + "/" + ControlSocket.fileName,
            stateDir: dir, period: 1, podEgress: true)
        var router = RouterController(
            cluster: cluster, node: "n1", options: options, log: Log(), routes: FakeRoutes(),
            backends: .fakes(ipsets: ipsets, iptables: iptables))
        try router.start()
        #expect(waitForStatus(RouterStatus.self, dir) { $0.pid == getpid() && $0.syncs >= 1 })
        #expect(ipsets.all["kube-router-pod-subnets"]?.members == [.net(CIDR("10.244.1.0/24")!)])
        #expect(ipsets.all["kube-router-node-ips"]?.members == [.ip("10.99.0.1")])
        let rule = try #require(iptables.rules(PodEgress.chain, table: "nat").first)
        #expect(rule.target == .masquerade)
        #expect(
            rule.sets.map(\.name) == ["kube-router-pod-subnets", "kube-router-pod-subnets", "kube-router-node-ips"])
        #expect(rule.sets.map(\.negated) == [false, true, true])
        #expect(iptables.rules("POSTROUTING", table: "nat").contains { $0.target == .jump(PodEgress.chain) })
        // A node joins: its pod CIDR and address join the sets.
        let version = cluster.apply(try objects(Self.other))
        router.handle(.added(try objects(Self.other)[0]))
        #expect(waitForStatus(RouterStatus.self, dir) { $0.hasSynced(atLeast: version, of: ["nodes"]) })
        #expect(
            Set(ipsets.all["kube-router-pod-subnets"]?.members ?? [])
                == [.net(CIDR("10.244.1.0/24")!), .net(CIDR("10.244.2.0/24")!)])
        #expect(Set(ipsets.all["kube-router-node-ips"]?.members ?? []) == [.ip("10.99.0.1"), .ip("10.99.0.2")])
        // Flushed by hand: the periodic (full) sync puts the rule back.
        try iptables.edit(table: "nat") { try $0.flush(PodEgress.chain) }
        let deadline = Date(timeIntervalSinceNow: 10)
        while iptables.rules(PodEgress.chain, table: "nat").isEmpty && Date() < deadline { usleep(20_000) }
        #expect(iptables.rules(PodEgress.chain, table: "nat").count == 1)
        router.stop()
        // Turned off: the next agent removes the chain, its hook and the sets.
        options.podEgress = false
        options.controlSocketPath = dir + "/second.sock"  // the first one's socket still answers
        router = RouterController(
            cluster: cluster, node: "n1", options: options, log: Log(), routes: FakeRoutes(),
            backends: .fakes(ipsets: ipsets, iptables: iptables))
        try router.start()
        defer { router.stop() }
        #expect(waitForStatus(RouterStatus.self, dir) { $0.syncs >= 1 && $0.pid == getpid() })
        let gone = Date(timeIntervalSinceNow: 10)
        while ipsets.all["kube-router-pod-subnets"] != nil && Date() < gone { usleep(20_000) }
        #expect(!iptables.chains(table: "nat").contains(PodEgress.chain))
        #expect(!iptables.rules("POSTROUTING", table: "nat").contains { $0.target == .jump(PodEgress.chain) })
        #expect(ipsets.all.keys.filter { $0.hasPrefix("kube-router-") }.isEmpty, "\(ipsets.all.keys)")
    }

    @Test func theBuiltInCNIConfigurationWithoutATemplate() throws {
        let cidrs = [try #require(CIDR("10.244.1.0/24")), try #require(CIDR("fd00:10:244:1::/64"))]
        let network = try JSONValue.parseJSON(Data(RouterController.cniConfig(template: nil, podCIDRs: cidrs).utf8))
        let bridge = network["plugins"]?.arrayValue?.first
        #expect(bridge?["type"] == "bridge" && bridge?["bridge"] == "kube-bridge")
        #expect(
            bridge?["ipam"]?["ranges"]
                == .array([
                    .array([.object(["subnet": "10.244.1.0/24"])]), .array([.object(["subnet": "fd00:10:244:1::/64"])]),
                ]))
    }
}
