import TestSupport
import Testing

@testable import KubeModel
@testable import Planning

/// kube-router's node annotations for peers outside the cluster (`kube-router.io/peers`), communities and
/// AS-path prepending, and the flags --enable-ibgp and --advertise-pod-cidr.
@Suite struct RouterAnnotationTests {
    static func nodes(_ annotations: String) -> String {
        let indented = annotations.split(separator: "\n", omittingEmptySubsequences: false).map { "    " + $0 }
        return """
            kind: Node
            metadata:
              name: n1
              annotations:
            \(indented.joined(separator: "\n"))
            spec: {podCIDR: 10.244.1.0/24}
            status: {addresses: [{type: InternalIP, address: 10.0.0.1}]}
            ---
            kind: Node
            metadata: {name: n2}
            spec: {podCIDR: 10.244.2.0/24}
            status: {addresses: [{type: InternalIP, address: 10.0.0.2}]}
            """
    }

    func plan(_ annotations: String, settings: RouterSettings = RouterSettings()) throws -> RouterPlan {
        let snapshot = ClusterSnapshot(try objects(Self.nodes(annotations)))
        return RouterPlanner.plan(node: "n1", nodes: snapshot.nodes, settings: settings, bgpPort: 179)
    }

    @Test func thePeersAnnotationIsAYAMLListAndWinsOverThePositionalOnes() throws {
        let plan = try plan(
            """
            kube-router.io/peer.ips: "192.0.2.9"
            kube-router.io/peer.asns: "65009"
            kube-router.io/peers: |
              - remoteip: 192.0.2.1
                remoteasn: 65001
                password: czNjcmV0,
              - remoteip: "192.0.2.2"
                remoteasn: "65002"
                port: 1790
                localip: 10.0.0.1
            """)
        #expect(plan.problems == [])
        let external = plan.peers.filter { $0.address != IPAddress("10.0.0.2") }
        #expect(external.map(\.address) == [IPAddress("192.0.2.1")!, IPAddress("192.0.2.2")!])
        #expect(external.map(\.asn) == [65001, 65002])
        #expect(external[0].password == "s3cret" && external[0].port == 179 && external[0].localAddress == nil)
        #expect(
            external[1].password == nil && external[1].port == 1790 && external[1].localAddress == IPAddress("10.0.0.1")
        )
        #expect(external.allSatisfy { $0.origin == "node n1 annotation kube-router.io/peers" })
    }

    @Test(arguments: [
        ("- remoteasn: 65001", "kube-router.io/peers[0]: remoteip is required"),
        ("- {remoteip: 192.0.2.1}", "kube-router.io/peers[0]: remoteasn is required"),
        ("- {remoteip: nope, remoteasn: 1}", "kube-router.io/peers[0].remoteip: \"nope\" is not an IP address"),
        ("- {remoteip: 192.0.2.1, remoteasn: 0}", "kube-router.io/peers[0].remoteasn: \"0\" is not an AS number"),
        ("- {remoteip: 192.0.2.1, remoteasn: 1, port: 70000}", "kube-router.io/peers[0].port: \"70000\" is not a port"),
        ("- {remoteip: 192.0.2.1, remoteasn: 1, password: \"%%\"}", "kube-router.io/peers[0].password: not base64"),
        ("- {remoteip: 192.0.2.1, remoteasn: 1, localip: \"fd00::1\"}", "localip: \"fd00::1\" is not an IP address of"),
        ("remoteip: 192.0.2.1", "expected a YAML list of peers"),
    ])
    func aBadPeersAnnotationIsNamedAndAddsNoPeer(_ value: String, _ message: String) throws {
        let yaml = "kube-router.io/peers: |\n" + value.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n")
        let plan = try plan(yaml)
        #expect(plan.problems.count == 1 && plan.problems[0].contains(message), "\(plan.problems)")
        #expect(plan.problems.first?.hasPrefix("node n1 annotation kube-router.io/peers") == true)
        #expect(plan.peers.map(\.address) == [IPAddress("10.0.0.2")!], "the mesh stays")
    }

    @Test func communitiesAndPrependingGoToThePeersOutsideTheCluster() throws {
        let plan = try plan(
            """
            kube-router.io/node.bgp.communities: "no-export, 65000:100, 4294967041, 7, bogus, 70000:1"
            kube-router.io/path-prepend.as: "64512"
            kube-router.io/path-prepend.repeat-n: "2"
            kube-router.io/peers: "- {remoteip: 192.0.2.1, remoteasn: 65001}"
            """)
        let export = try #require(plan.exports[IPAddress("192.0.2.1")!])
        #expect(export.communities == [0xFFFF_FF01, 65000 << 16 | 100, 7], "no-export given twice counts once")
        #expect(export.prepend == [64512, 64512])
        #expect(plan.exports[IPAddress("10.0.0.2")!] == nil, "not towards the mesh")
        #expect(plan.problems.count == 2, "\(plan.problems)")
        #expect(plan.problems.first?.contains(": \"bogus\" is not a community (a 32-bit number, ASN:VALUE") == true)
        #expect(
            plan.problems.last?.hasPrefix("node n1: annotation kube-router.io/node.bgp.communities: \"70000:1\"")
                == true)
        let half = try self.plan("kube-router.io/path-prepend.as: \"64512\"")
        #expect(half.exports.isEmpty && half.problems.count == 1 && half.problems[0].contains("go together"))
    }

    @Test func withoutIBGPOnlyExternalPeersAndWithoutPodCIDRsOnlyServiceRoutes() throws {
        var settings = RouterSettings()
        settings.iBGP = false
        settings.advertisePodCIDR = false
        let plan = try plan("kube-router.io/peers: \"- {remoteip: 192.0.2.1, remoteasn: 65001}\"", settings: settings)
        #expect(plan.peers.map(\.address) == [IPAddress("192.0.2.1")!])
        #expect(plan.advertised.map(\.description) == ["10.244.1.0/24"], "the CNI file still gets the pod CIDR")
        #expect(plan.announced.isEmpty)
        #expect(
            BGPExport.community("graceful-shutdown") == 0xFFFF_0000 && BGPExport.community("65535:65281") == 0xFFFF_FF01
        )
    }

    @Test func eBGPSessionsAreSingleHopUnlessTheMultihopTTLSaysOtherwise() throws {
        let annotation = "kube-router.io/peers: \"- {remoteip: 192.0.2.1, remoteasn: 65001}\""
        var settings = RouterSettings(
            externalPeers: [BGPPeerConfig(address: IPAddress("192.0.2.7")!, asn: 64512, origin: "--peer-router-ips")])
        let single = try plan(annotation, settings: settings)
        #expect(single.peers.first { $0.address == IPAddress("192.0.2.1") }?.ttl == 1)
        #expect(single.peers.first { $0.address == IPAddress("192.0.2.7") }?.ttl == nil, "iBGP: the kernel's TTL")
        #expect(single.peers.first { $0.address == IPAddress("10.0.0.2") }?.ttl == nil, "the mesh")
        #expect(single.nodeAddresses == [IPAddress("10.0.0.1")!])
        settings.multihopTTL = 3
        #expect(try plan(annotation, settings: settings).peers.first { $0.asn == 65001 }?.ttl == 3)
        settings.multihopTTL = 1
        #expect(try plan(annotation, settings: settings).peers.first { $0.asn == 65001 }?.ttl == 1)
    }
}
