import Foundation
import TestSupport
import Testing

@testable import Kernel
@testable import KubeAPI
@testable import KubeModel

/// IPv6 over MP-BGP (RFC 4760) with the three daemons: node s (pod CIDRs 10.244.10.0/24 and
/// fd00:244:10::/64, InternalIPs of both families) peers over IPv6 with BIRD, FRR and GoBGP. Each daemon's IPv6
/// pod CIDR lands in node s's kernel (protocol 201) via the daemon's address; ours lands in BIRD's and FRR's
/// kernels and GoBGP's RIB via node s's IPv6 InternalIP, and so does an IPv6 ClusterIP it announces; pods'
/// addresses ping across.
@Suite(.serialized, .enabled(if: BGPLab.available, "needs root, bird2, frr and gobgp (scripts/setup)"))
struct BGPIPv6InteropTests {
    static let daemons: [(name: String, index: Int, asn: UInt32)] = [("a", 1, 64601), ("b", 2, 64602), ("d", 4, 64604)]

    func v6(_ index: Int) -> String { "fd00:99::\(index)" }
    func pods(_ index: Int) -> String { "fd00:244:\(index)::/64" }
    func gateway(_ index: Int) -> String { "fd00:244:\(index)::1" }

    @Test func ipv6PodCIDRsExchangedWithBIRDFRRAndGoBGP() throws {
        let lab = try BGPLab()
        for (name, index, asn) in Self.daemons {
            try lab.addNode(name, ip: "10.99.0.\(index)", podCIDR: "10.244.\(index).0/24", asn: asn)
        }
        try lab.addNode("s", ip: "10.99.0.10", podCIDR: "10.244.10.0/24", asn: 64512)
        for (name, index) in Self.daemons.map({ ($0.name, $0.index) }) + [("s", 10)] {
            let n = lab.ns(name)
            try lab.sh("ip netns exec \(n) sysctl -qw net.ipv6.conf.all.forwarding=1")
            try lab.sh("ip -n \(n) addr add \(v6(index))/64 dev eth0 nodad")
            try lab.sh("ip -n \(n) addr add \(gateway(index))/64 dev pod0 nodad")
        }
        let s = v6(10)
        try startBIRD(lab, "a", peer: s)
        try startFRR(lab, "b", peer: s)
        try startGoBGP(lab, "d", peer: s)

        let node = """
            ---
            kind: Node
            metadata: {name: node-s}
            spec: {podCIDRs: [10.244.10.0/24, "fd00:244:10::/64"]}
            status: {addresses: [{type: InternalIP, address: 10.99.0.10}, {type: InternalIP, address: "\(s)"}]}

            """
        let (server, kubeconfig) = try lab.startAPIServer(in: "s", nodes: node)
        let stateDir = try lab.dir("agent")
        let agent = try AgentRun(
            netns: lab.ns("s"),
            arguments: [
                "--kubeconfig", kubeconfig, "--hostname-override", "node-s", "--run-firewall=false",
                "--run-service-proxy=false", "--cluster-asn", "64512",
                "--peer-router-ips", Self.daemons.map { v6($0.index) }.joined(separator: ","),
                "--peer-router-asns", Self.daemons.map { String($0.asn) }.joined(separator: ","),
                "--bgp-holdtime", "3s", "--state-dir", stateDir, "--health-port", "0",
            ])
        defer { agent.stop() }
        for (name, index, _) in Self.daemons {
            #expect(agent.waitForPeer(v6(index), stateDir: stateDir, timeout: 30), "\(name): \(agent.log)")
        }
        func routes(_ node: String, proto: String? = nil) -> String {
            Kernel.shell("ip -6 -n \(lab.ns(node)) route show\(proto.map { " proto \($0)" } ?? "")").1
        }
        do {
            try lab.eventually(15, "the three IPv6 pod CIDRs in node s's kernel") {
                let r = routes("s", proto: "201")
                return Self.daemons.allSatisfy { r.contains("\(pods($0.index)) via \(v6($0.index))") }
            }
            try lab.eventually(15, "fd00:244:10::/64 in BIRD's and FRR's kernels and GoBGP's RIB") {
                routes("a").contains("\(pods(10)) via \(s)") && routes("b").contains(pods(10))
                    && lab.gobgp("d", "global rib -a ipv6").contains(pods(10))
            }
        } catch {
            let detail = Self.daemons.map { "\($0.name):\n\(routes($0.name))" }.joined(separator: "\n")
            Issue.record("s:\n\(routes("s"))\n\(detail)\ngobgp: \(lab.gobgp("d", "global rib -a ipv6"))\n\(agent.log)")
            throw error
        }
        // An IPv6 ClusterIP announced by its annotation: a /128 in BIRD's and FRR's kernels.
        let service = """
            apiVersion: v1
            kind: Service
            metadata:
              name: web6
              namespace: default
              annotations: {kube-router.io/service.advertise.clusterip: "true"}
            spec: {ipFamilies: [IPv6], clusterIP: "fd00:96::10", clusterIPs: ["fd00:96::10"], ports: [{port: 80}]}
            """
        try NetworkNamespace.run(lab.ns("s")) { [config = server.config()] in
            _ = try KubeClient(config: config).create(
                .services, namespace: "default", object: try JSONValue.parseYAMLDocuments(service)[0])
        }
        try lab.eventually(15, "fd00:96::10 in BIRD's and FRR's kernels") {
            routes("a").contains("fd00:96::10 via \(s)") && routes("b").contains("fd00:96::10")
        }
        // Pods' addresses reach each other over the installed routes.
        for (name, index) in [("a", 1), ("b", 2)] {
            let (status, out) = Kernel.shell(
                "ip netns exec \(lab.ns("s")) ping -6 -c 1 -W 2 -I \(gateway(10)) \(gateway(index))")
            #expect(status == 0, "s → \(name): \(out)")
        }
    }

    func startBIRD(_ lab: BGPLab, _ node: String, peer: String) throws {
        let me = lab.nodes[node]!
        let index = Int(me.ip.split(separator: ".").last!)!
        let d = try lab.dir(node)
        let conf = """
            log "\(d)/bird.log" all;
            router id \(me.ip);
            protocol device { scan time 10; }
            protocol direct pod { ipv6; interface "pod0"; }
            protocol kernel { ipv6 { import none; export where source = RTS_BGP; }; }
            protocol bgp peer0 {
              local \(v6(index)) as \(me.asn);
              neighbor \(peer) as 64512;
              direct;
              hold time 3; startup hold time 3; keepalive time 1;
              connect delay time 1; connect retry time 1; error wait time 1, 10;
              ipv6 { import all; export where source = RTS_DEVICE; next hop self; };
            }

            """
        try lab.startBIRD(namespace: lab.ns(node), dir: d, config: conf)
    }

    func startFRR(_ lab: BGPLab, _ node: String, peer: String) throws {
        let me = lab.nodes[node]!
        let index = Int(me.ip.split(separator: ".").last!)!
        let d = try lab.dir(node)
        let conf = """
            frr defaults traditional
            hostname frr-\(node)
            log file \(d)/bgpd.log informational
            !
            router bgp \(me.asn)
             bgp router-id \(me.ip)
             no bgp ebgp-requires-policy
             no bgp default ipv4-unicast
             no bgp network import-check
             timers bgp 1 3
             neighbor \(peer) remote-as 64512
             neighbor \(peer) timers connect 1
             neighbor \(peer) timers 1 3
             neighbor \(peer) advertisement-interval 0
             address-family ipv6 unicast
              network \(pods(index))
              neighbor \(peer) activate
             exit-address-family

            """
        try lab.startFRR(node, bgpd: conf)
    }

    func startGoBGP(_ lab: BGPLab, _ node: String, peer: String) throws {
        let me = lab.nodes[node]!
        let index = Int(me.ip.split(separator: ".").last!)!
        let conf = """
            [global.config]
              as = \(me.asn)
              router-id = "\(me.ip)"
              port = 179
              local-address-list = ["\(v6(index))"]

            [[neighbors]]
              [neighbors.config]
                neighbor-address = "\(peer)"
                peer-as = 64512
              [neighbors.timers.config]
                connect-retry = 1
                hold-time = 3
                keepalive-interval = 1
                minimum-advertisement-interval = 0
              [neighbors.transport.config]
                local-address = "\(v6(index))"
              [[neighbors.afi-safis]]
                [neighbors.afi-safis.config]
                  afi-safi-name = "ipv6-unicast"

            """
        try lab.startGoBGP(node, config: conf, announce: "-a ipv6 \(pods(index)) nexthop \(v6(index))")
    }
}
