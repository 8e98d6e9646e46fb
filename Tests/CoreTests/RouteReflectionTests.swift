import TestSupport
import Testing

@testable import KubeModel
@testable import Planning

/// Route reflection (RFC 4456): the attributes on the wire, loop detection in the RIB, which best path goes to
/// which peer and with what, the cluster ID as kube-router reads it, and the peers of reflectors and clients.
@Suite struct RouteReflectionTests {
    func path(_ peer: String, client: Bool = false, external: Bool = false, originator: UInt32? = nil) -> BGPRib.Path {
        var a = BGPPathAttributes()
        a.origin = .igp
        a.asPath = []
        a.localPref = 100
        a.originatorID = originator
        var p = BGPRib.Path(
            peer: IPAddress(peer)!, peerASN: 64512, peerRouterID: UInt32(truncatingIfNeeded: IPAddress(peer)!.low),
            external: external, nextHop: IPAddress(peer)!, attributes: a)
        p.fromClient = client
        return p
    }

    @Test func originatorAndClusterListRoundTrip() throws {
        var a = BGPPathAttributes()
        a.origin = .igp
        a.asPath = []
        a.localPref = 100
        a.nextHop = IPAddress("10.99.0.11")
        a.originatorID = 0x0A63_000B
        a.clusterList = [42, 7]
        let update = BGPUpdate(attributes: a, nlri: [CIDR("10.244.11.0/24")!])
        let bytes = BGPMessage.update(update).encode()
        // Optional non-transitive (0x80), type 9 then 10, as RFC 4456 §7 has them.
        #expect(bytes.windowContains([0x80, 9, 4, 0x0A, 0x63, 0x00, 0x0B]))
        #expect(bytes.windowContains([0x80, 10, 8, 0, 0, 0, 42, 0, 0, 0, 7]))
        #expect(try BGPMessage.decode(bytes) == .update(update))
    }

    @Test(arguments: [[0x80, 9, 3, 1, 2, 3], [0x80, 10, 3, 1, 2, 3], [0x40, 9, 4, 1, 2, 3, 4]] as [[UInt8]])
    func malformedReflectionAttributesWithdrawTheRoutes(_ attribute: [UInt8]) throws {
        let bytes = BGPCodecTests.update(attributes: [0x40, 1, 1, 0, 0x40, 2, 0, 0x40, 3, 4, 10, 0, 0, 1] + attribute)
        guard case .update(let u) = try BGPMessage.decode(bytes) else {
            Issue.record("not an UPDATE")
            return
        }
        #expect(
            u.treatAsWithdraw?.contains("ORIGINATOR_ID") == true || u.treatAsWithdraw?.contains("CLUSTER_LIST") == true)
        #expect(u.allWithdrawn == [CIDR("10.244.1.0/24")!])
    }

    @Test func theRIBRefusesWhatCameBackAndPrefersFewerClusters() {
        var rib = BGPRib(localASN: 64512)
        rib.routerID = 0x0A63_000A
        rib.clusterID = 42
        let prefix = CIDR("10.244.11.0/24")!
        var back = path("10.99.0.20", originator: 0x0A63_000A)
        #expect(rib.rejection(prefix, back) == .originatorLoop)
        back.attributes.originatorID = nil
        back.attributes.clusterList = [7, 42]
        #expect(rib.rejection(prefix, back) == .clusterLoop)
        var ebgp = back
        ebgp.external = true
        ebgp.attributes.originatorID = 0x0A63_000A
        #expect(rib.rejection(prefix, ebgp) == nil, "the reflection attributes mean nothing over eBGP")
        // Two reflected copies of one route: the shorter CLUSTER_LIST wins, the ORIGINATOR_ID stands for the
        // router ID.
        var near = path("10.99.0.30", originator: 0x0A63_000B)
        near.attributes.clusterList = [9]
        var far = path("10.99.0.31", originator: 0x0A63_000B)
        far.attributes.clusterList = [9, 8]
        #expect(BGPRib.better(near, far) && !BGPRib.better(far, near))
        let lowID = path("10.99.0.40", originator: 1)
        #expect(BGPRib.better(lowID, near), "the originator's ID, not the reflector's")
    }

    @Test func reflectionRules() {
        let fromClient = path("10.99.0.11", client: true)
        let fromPeer = path("10.99.0.20")
        let client = BGPReflection.Target(address: IPAddress("10.99.0.12")!, client: true)
        let nonClient = BGPReflection.Target(address: IPAddress("10.99.0.21")!, client: false)
        #expect(BGPReflection.reflects(fromClient, to: client))
        #expect(BGPReflection.reflects(fromClient, to: nonClient))
        #expect(BGPReflection.reflects(fromPeer, to: client))
        #expect(!BGPReflection.reflects(fromPeer, to: nonClient), "non-client to non-client: never")
        let origin = BGPReflection.Target(address: IPAddress("10.99.0.11")!, client: true)
        #expect(!BGPReflection.reflects(fromClient, to: origin), "never back to where it came from")
        var originator = client
        originator.routerID = fromClient.peerRouterID
        #expect(!BGPReflection.reflects(fromClient, to: originator), "never to its originator")
        var external = fromClient
        external.external = true
        #expect(!BGPReflection.reflects(external, to: client), "eBGP routes are not passed on")

        var reflected = fromClient
        reflected.attributes.clusterList = [7]
        let a = BGPReflection.attributes(of: reflected, clusterID: 42)
        #expect(a.originatorID == fromClient.peerRouterID && a.clusterList == [42, 7] && a.localPref == 100)
        var again = reflected
        again.attributes.originatorID = 5
        #expect(BGPReflection.attributes(of: again, clusterID: 42).originatorID == 5, "set once, then kept")
    }

    @Test(
        arguments: [
            ("42", 42), ("0x2a", 42), ("052", 42), ("0o52", 42), ("0b101010", 42), ("10.0.0.1", 0x0A00_0001),
            ("4294967295", 4_294_967_295),
        ] as [(String, UInt32)])
    func clusterIDsAsKubeRouterReadsThem(_ text: String, _ id: UInt32) {
        #expect(BGPReflection.clusterID(text) == id)
    }

    @Test(arguments: ["", "x", "4294967296", "fd00::1", "-1", "09"])
    func badClusterIDs(_ text: String) {
        #expect(BGPReflection.clusterID(text) == nil)
    }

    @Test func largeAnnouncementsAreSplitWithinTheMessageSize() throws {
        let prefixes = (0..<1000).map { CIDR("10.96.\($0 / 250).\($0 % 250)/32")! }
        var a = BGPPathAttributes()
        a.origin = .igp
        a.asPath = [.init(.sequence, [64512])]
        a.communities = Array(0..<64)
        let updates = BGPUpdate.announcing(prefixes, attributes: a, nextHop: IPAddress("10.99.0.10")!)
        #expect(updates.flatMap(\.nlri) == prefixes)
        for update in updates { #expect(BGPMessage.update(update).encode().count <= BGPMessage.maximumLength) }
        let v6 = (0..<500).map { CIDR("fd00:10:96::\(String($0, radix: 16))/128")! }
        let six = BGPUpdate.announcing(v6, attributes: a, nextHop: IPAddress("fd00:99::10")!)
        #expect(six.flatMap { $0.attributes.mpReach?.nlri ?? [] } == v6)
        for update in six + BGPUpdate.withdrawing(prefixes + v6) {
            #expect(BGPMessage.update(update).encode().count <= BGPMessage.maximumLength)
        }
    }

    static func nodes(_ roles: [String: String]) -> String {
        (1...4).map { i in
            let name = "n\(i)"
            let annotations = roles[name].map { ", annotations: {\($0)}" } ?? ""
            return """
                kind: Node
                metadata: {name: \(name)\(annotations)}
                spec: {podCIDR: 10.244.\(i).0/24}
                status: {addresses: [{type: InternalIP, address: 10.0.0.\(i)}]}
                """
        }.joined(separator: "\n---\n")
    }

    @Test func reflectorsPeerWithAllAndClientsWithReflectorsAlone() throws {
        let roles = [
            "n1": "kube-router.io/rr.server: \"42\"", "n2": "kube-router.io/rr.client: \"42\"",
            "n3": "kube-router.io/rr.client: \"42\"",
        ]
        let snapshot = ClusterSnapshot(try objects(Self.nodes(roles)))
        func plan(_ node: String) -> RouterPlan {
            RouterPlanner.plan(node: node, nodes: snapshot.nodes, settings: RouterSettings(), bgpPort: 179)
        }
        let server = plan("n1")
        #expect(server.clusterID == 42)
        #expect(server.peers.map(\.address.description) == ["10.0.0.2", "10.0.0.3", "10.0.0.4"])
        #expect(server.peers.map(\.routeReflectorClient) == [true, true, false])
        let client = plan("n2")
        #expect(client.clusterID == nil)
        #expect(client.peers.map(\.address.description) == ["10.0.0.1"], "a client peers with the reflector alone")
        #expect(client.peers.allSatisfy { !$0.routeReflectorClient })
        #expect(plan("n4").peers.count == 3, "a node without a role stays in the mesh")

        let bad = ClusterSnapshot(try objects(Self.nodes(["n1": "kube-router.io/rr.server: \"ten\""])))
        let badPlan = RouterPlanner.plan(node: "n1", nodes: bad.nodes, settings: RouterSettings(), bgpPort: 179)
        #expect(badPlan.clusterID == nil && badPlan.peers.count == 3)
        #expect(badPlan.problems.contains { $0.contains("kube-router.io/rr.server=\"ten\" is not a cluster ID") })
    }
}

extension Array where Element == UInt8 {
    fileprivate func windowContains(_ needle: [UInt8]) -> Bool {
        guard needle.count <= count else { return false }
        return (0...(count - needle.count)).contains { Array(self[$0..<$0 + needle.count]) == needle }
    }
}
