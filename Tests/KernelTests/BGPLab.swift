import Foundation
import TestSupport

@testable import Kernel
@testable import KubeAPI
@testable import KubeModel

/// Network namespaces on one bridge, each a router: BIRD 2, FRR 8 and GoBGP 3 from Debian, and
/// slots for our agent. Every node has `eth0` on the bridge (10.99.0.N/24) and a `pod0` veth pair
/// standing in for its pod bridge (10.244.M.1/24). Daemons run with per-lab state and are stopped by
/// PID; no interface ever appears in the host namespace.
final class BGPLab: @unchecked Sendable {
    struct Node {
        var name: String
        var ip: String
        var podCIDR: String
        var asn: UInt32
    }

    let id = String(UInt32.random(in: 0...0xFFFF), radix: 16)
    let state: String
    var nodes: [String: Node] = [:]
    private var pids: [Int32] = []
    /// Namespaces `attach` made, removed with the lab.
    private var extraNamespaces: [String] = []
    var bridge: String { "kb\(id)br" }

    static var available: Bool {
        Kernel.available
            && ["/usr/sbin/bird", "/usr/lib/frr/bgpd", "/usr/bin/gobgpd"].allSatisfy {
                FileManager.default.isExecutableFile(atPath: $0)
            }
    }

    func ns(_ node: String) -> String { "kb\(id)\(node)" }

    init() throws {
        state = FileManager.default.temporaryDirectory.appendingPathComponent("kr-bgp-\(id)").path
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        try sh("ip netns add \(bridge)")
        try sh("ip -n \(bridge) link add br0 type bridge")
        try sh("ip -n \(bridge) link set br0 up")
    }

    /// Starts a daemonizing program with only stdin, stdout and stderr open: a daemon would otherwise
    /// keep the test process's descriptors (Foundation watches its children through one) open forever.
    func daemon(_ command: String) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        let closeInherited =
            "for f in /proc/$$/fd/*; do n=${f##*/}; if [ \"$n\" -gt 2 ]; then eval \"exec $n>&-\"; fi; done; "
        p.arguments = ["-c", closeInherited + "exec " + command]
        p.standardInput = FileHandle.nullDevice
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw IPTablesTable.Failure(description: "\(command): exit status \(p.terminationStatus)")
        }
    }

    func sh(_ command: String) throws {
        let (status, output) = Kernel.shell(command)
        guard status == 0 else { throw IPTablesTable.Failure(description: "\(command): \(output)") }
    }

    /// A node: `eth0` on the bridge, `pod0` with the first address of its pod CIDR.
    func addNode(_ name: String, ip: String, podCIDR: String, asn: UInt32) throws {
        let n = ns(name)
        try sh("ip netns add \(n)")
        try sh("ip -n \(n) link set lo up")
        try sh("ip netns exec \(n) sysctl -qw net.ipv4.ip_forward=1")
        try sh("ip -n \(bridge) link add v\(id)\(name) type veth peer name eth0 netns \(n)")
        try sh("ip -n \(bridge) link set v\(id)\(name) master br0 up")
        try sh("ip -n \(n) addr add \(ip)/24 dev eth0")
        try sh("ip -n \(n) link set eth0 up")
        let gateway = podCIDR.replacingOccurrences(of: ".0/24", with: ".1/24")
        try sh("ip -n \(n) link add pod0 type veth peer name pod0p")
        try sh("ip -n \(n) addr add \(gateway) dev pod0")
        try sh("ip -n \(n) link set pod0 up")
        try sh("ip -n \(n) link set pod0p up")
        nodes[name] = Node(name: name, ip: ip, podCIDR: podCIDR, asn: asn)
    }

    func dir(_ node: String) throws -> String {
        let d = "\(state)/\(node)"
        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }

    /// Starts a daemon in a node's namespace; returns its PID (recorded for the teardown).
    @discardableResult
    func spawn(_ node: String, _ arguments: [String], log: String) throws -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        p.arguments = ["netns", "exec", ns(node)] + arguments
        FileManager.default.createFile(atPath: log, contents: nil)
        let handle = FileHandle(forWritingAtPath: log)
        p.standardOutput = handle
        p.standardError = handle
        try p.run()
        pids.append(p.processIdentifier)
        return p.processIdentifier
    }

    func record(pidFile: String) {
        if let text = try? String(contentsOfFile: pidFile, encoding: .utf8),
            let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
        {
            pids.append(pid)
        }
    }

    // MARK: Daemons (configurations as in ../shared/notes/bgp-lab.md, fast timers)

    /// kube-test-server in the node's namespace, holding `nodes` (YAML documents); with its kubeconfig.
    func startAPIServer(in node: String, nodes: String) throws -> (server: TestAPIServer, kubeconfig: String) {
        let server = try TestAPIServer(launcher: ["/usr/sbin/ip", "netns", "exec", ns(node)])
        try NetworkNamespace.run(ns(node)) { [config = server.config()] in
            let client = KubeClient(config: config)
            for document in try JSONValue.parseYAMLDocuments(nodes) {
                _ = try client.create(.nodes, namespace: nil, object: document)
            }
        }
        return (server, try server.writeKubeconfig())
    }

    /// A Node object's YAML: its name, pod CIDR and InternalIP.
    static func nodeYAML(_ name: String, podCIDR: String, ip: String) -> String {
        """
        ---
        kind: Node
        metadata: {name: \(name)}
        spec: {podCIDR: \(podCIDR)}
        status: {addresses: [{type: InternalIP, address: \(ip)}]}

        """
    }

    /// `gracefulRestart`: BIRD keeps a peer's routes as stale while it restarts (RFC 4724), for 60 s.
    func startBIRD(_ node: String, peers: [Node], password: String? = nil, gracefulRestart: Bool = false) throws {
        let me = nodes[node]!
        let d = try dir(node)
        var conf = """
            log "\(d)/bird.log" all;
            router id \(me.ip);
            protocol device { scan time 10; }
            protocol direct pod { ipv4; interface "pod0"; }
            protocol kernel { ipv4 { import none; export where source = RTS_BGP; }; merge paths on; }
            template bgp peer {
              local \(me.ip) as \(me.asn);
              direct;
              hold time 3; startup hold time 3; keepalive time 1;
              connect delay time 1; connect retry time 1; error wait time 1, 10;
              \(gracefulRestart ? "graceful restart on; graceful restart time 60;" : "")
              ipv4 { import all; export where source = RTS_DEVICE; next hop self; };
            }

            """
        for (i, peer) in peers.enumerated() {
            conf +=
                "protocol bgp peer\(i) from peer { neighbor \(peer.ip) as \(peer.asn);"
                + "\(password.map { " password \"\($0)\";" } ?? "") }\n"
        }
        try startBIRD(namespace: ns(node), dir: d, config: conf)
    }

    /// BIRD with a configuration of the test's own in `namespace` (a lab node's, or one `attach` made), its
    /// control socket `dir/bird.ctl`.
    func startBIRD(namespace: String, dir d: String, config: String) throws {
        try config.write(toFile: "\(d)/bird.conf", atomically: true, encoding: .utf8)
        try daemon("ip netns exec \(namespace) bird -c \(d)/bird.conf -s \(d)/bird.ctl -P \(d)/bird.pid")
        record(pidFile: "\(d)/bird.pid")
    }

    /// A namespace of its own joined to lab node `node` by a veth pair (`link` on the node, eth0 in it), with
    /// `nodeAddress` and `address` (CIDRs) on the two ends and, when given, a default route via `gateway`.
    /// Removed with the lab.
    func attach(
        _ name: String, to node: String, link: String, nodeAddress: String, address: String, gateway: String? = nil
    ) throws -> String {
        let n = ns(name)
        try sh("ip netns add \(n)")
        extraNamespaces.append(n)
        try sh("ip -n \(ns(node)) link add \(link) type veth peer name eth0 netns \(n)")
        try sh("ip -n \(ns(node)) addr add \(nodeAddress) dev \(link)")
        try sh("ip -n \(ns(node)) link set \(link) up")
        try sh("ip -n \(n) link set lo up")
        try sh("ip -n \(n) addr add \(address) dev eth0")
        try sh("ip -n \(n) link set eth0 up")
        if let gateway { try sh("ip -n \(n) route add default via \(gateway)") }
        return n
    }

    func startFRR(_ node: String, peers: [Node], password: String? = nil) throws {
        let me = nodes[node]!
        let d = try dir(node)
        var conf = """
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

            """
        for peer in peers {
            conf +=
                " neighbor \(peer.ip) remote-as \(peer.asn)\n neighbor \(peer.ip) timers connect 1\n"
                + " neighbor \(peer.ip) timers 1 3\n"
            conf += " neighbor \(peer.ip) advertisement-interval 0\n"
            if let password { conf += " neighbor \(peer.ip) password \(password)\n" }
        }
        conf += " address-family ipv4 unicast\n  network \(me.podCIDR)\n"
        for peer in peers { conf += "  neighbor \(peer.ip) activate\n" }
        conf += " exit-address-family\n"
        try startFRR(node, bgpd: conf)
    }

    /// FRR's zebra and bgpd in node `node`'s namespace, bgpd with the test's configuration.
    func startFRR(_ node: String, bgpd conf: String) throws {
        let d = try dir(node)
        try sh("chown frr:frr \(d)")
        try "hostname frr-\(node)\nlog file \(d)/zebra.log informational\n".write(
            toFile: "\(d)/zebra.conf", atomically: true, encoding: .utf8)
        try conf.write(toFile: "\(d)/bgpd.conf", atomically: true, encoding: .utf8)
        try sh("chown -R frr:frr \(d)")
        try daemon(
            "ip netns exec \(ns(node)) /usr/lib/frr/zebra -d -f \(d)/zebra.conf -i \(d)/zebra.pid -z \(d)/zserv.api "
                + "--vty_socket \(d) -P 0 -u frr -g frr"
        )
        try daemon(
            "ip netns exec \(ns(node)) /usr/lib/frr/bgpd -d -f \(d)/bgpd.conf -i \(d)/bgpd.pid -z \(d)/zserv.api "
                + "--vty_socket \(d) -P 0 -u frr -g frr"
        )
        record(pidFile: "\(d)/zebra.pid")
        record(pidFile: "\(d)/bgpd.pid")
    }

    func vtysh(_ node: String, _ commands: [String]) -> String {
        Kernel.shell("vtysh --vty_socket \(state)/\(node) " + commands.map { "-c '\($0)'" }.joined(separator: " ")).1
    }

    func startGoBGP(_ node: String, peers: [Node], password: String? = nil) throws {
        let me = nodes[node]!
        var conf = """
            [global.config]
              as = \(me.asn)
              router-id = "\(me.ip)"
              port = 179
              local-address-list = ["\(me.ip)"]

            """
        for peer in peers {
            conf += """
                [[neighbors]]
                  [neighbors.config]
                    neighbor-address = "\(peer.ip)"
                    peer-as = \(peer.asn)
                \(password.map { "    auth-password = \"\($0)\"" } ?? "")
                  [neighbors.timers.config]
                    connect-retry = 1
                    hold-time = 3
                    keepalive-interval = 1
                    minimum-advertisement-interval = 0
                  [neighbors.transport.config]
                    local-address = "\(me.ip)"
                  [[neighbors.afi-safis]]
                    [neighbors.afi-safis.config]
                      afi-safi-name = "ipv4-unicast"

                """
        }
        try startGoBGP(node, config: conf, announce: "-a ipv4 \(me.podCIDR) nexthop \(me.ip)")
    }

    /// gobgpd in node `node`'s namespace with the test's configuration; GoBGP has no static routes in it, so
    /// `announce` (`-a FAMILY PREFIX nexthop ADDRESS`) is added to its RIB once its API is up.
    func startGoBGP(_ node: String, config conf: String, announce: String) throws {
        let d = try dir(node)
        try conf.write(toFile: "\(d)/gobgpd.toml", atomically: true, encoding: .utf8)
        try spawn(
            node,
            ["gobgpd", "-f", "\(d)/gobgpd.toml", "--api-hosts", "unix://\(d)/gobgp.sock", "--pprof-disable", "-p"],
            log: "\(d)/gobgpd.log")
        try eventually(10, "gobgpd API up") {
            Kernel.shell("gobgp --target unix://\(d)/gobgp.sock global rib add \(announce)").0 == 0
        }
    }

    func gobgp(_ node: String, _ arguments: String) -> String {
        Kernel.shell("gobgp --target unix://\(state)/\(node)/gobgp.sock \(arguments)").1
    }

    func routes(_ node: String, proto: String? = nil) -> String {
        Kernel.shell("ip -n \(ns(node)) route show\(proto.map { " proto \($0)" } ?? "")").1
    }

    /// Polls `condition` (external daemons offer no event to wait on) until it holds or `timeout` passes.
    func eventually(_ timeout: Double, _ what: String, _ condition: () -> Bool) throws {
        let deadline = Date(timeIntervalSinceNow: timeout)
        while Date() < deadline {
            if condition() { return }
            usleep(100_000)
        }
        if condition() { return }
        throw IPTablesTable.Failure(description: "timed out after \(timeout) s waiting for: \(what)")
    }

    func signal(_ pidFile: String, _ sig: Int32) {
        if let text = try? String(contentsOfFile: pidFile, encoding: .utf8),
            let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
        {
            kill(pid, sig)
        }
    }

    deinit {
        for pid in pids {
            kill(pid, SIGCONT)
            kill(pid, SIGKILL)
        }
        // Whatever else runs in the lab's namespaces (a daemon whose PID file came late) goes too.
        for node in nodes.keys {
            Kernel.shell("ip netns pids \(ns(node)) | xargs -r kill -9")
            Kernel.shell("ip netns del \(ns(node))")
        }
        for n in extraNamespaces {
            Kernel.shell("ip netns pids \(n) | xargs -r kill -9")
            Kernel.shell("ip netns del \(n)")
        }
        Kernel.shell("ip netns del \(bridge)")
        try? FileManager.default.removeItem(atPath: state)
    }
}
