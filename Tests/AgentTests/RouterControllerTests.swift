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
}
