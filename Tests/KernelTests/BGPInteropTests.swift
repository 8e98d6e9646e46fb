import Foundation
import TestSupport
import Testing

@testable import Kernel
@testable import KubeAPI
@testable import KubeModel

/// The agent's BGP speaker against BIRD 2, FRR 8 and GoBGP 3 in network namespaces: sessions
/// established, routes both ways and in the kernels, pods reachable over them, a stopped peer's routes
/// gone within the hold time, route refresh answered, and `krctl bgp peers` showing it all.
@Suite(.serialized, .enabled(if: BGPLab.available, "needs root and bird2, frr, gobgpd (scripts/setup)"))
struct BGPInteropTests {
    enum Mode { case ibgp, ebgpMD5 }

    /// A lab of the three daemons and our agent (node s, pod CIDR 10.244.10.0/24) peering with each.
    func run(_ mode: Mode) throws {
        let lab = try BGPLab()
        let ebgp = mode == .ebgpMD5
        let password: String? = ebgp ? "s3cret" : nil
        try lab.addNode("a", ip: "10.99.0.1", podCIDR: "10.244.1.0/24", asn: ebgp ? 4_200_000_001 : 64512)
        try lab.addNode("b", ip: "10.99.0.2", podCIDR: "10.244.2.0/24", asn: ebgp ? 4_200_000_002 : 64512)
        try lab.addNode("d", ip: "10.99.0.4", podCIDR: "10.244.4.0/24", asn: ebgp ? 4_200_000_004 : 64512)
        try lab.addNode("s", ip: "10.99.0.10", podCIDR: "10.244.10.0/24", asn: ebgp ? 4_200_000_010 : 64512)
        let s = lab.nodes["s"]!
        try lab.startBIRD("a", peers: [s], password: password)
        try lab.startFRR("b", peers: [s], password: password)
        try lab.startGoBGP("d", peers: [s], password: password)

        // The agent, against an API server in its namespace that knows its node and pod CIDR.
        let (server, kubeconfig) = try lab.startAPIServer(
            in: "s", nodes: BGPLab.nodeYAML("node-s", podCIDR: "10.244.10.0/24", ip: "10.99.0.10"))
        let peers = ["a", "b", "d"].map { lab.nodes[$0]! }
        let stateDir = try lab.dir("agent")
        var arguments = [
            "--kubeconfig", kubeconfig, "--hostname-override", "node-s", "--run-firewall=false",
            "--run-service-proxy=false",
            "--cluster-asn", String(s.asn), "--peer-router-ips", peers.map(\.ip).joined(separator: ","),
            "--peer-router-asns", peers.map { String($0.asn) }.joined(separator: ","),
            "--bgp-holdtime", "3s", "--state-dir", stateDir,
        ]
        if let password {
            let encoded = Data(password.utf8).base64EncodedString()
            arguments += [
                "--peer-router-passwords", Array(repeating: encoded, count: peers.count).joined(separator: ","),
            ]
        }
        let agent = try AgentRun(netns: lab.ns("s"), arguments: arguments)
        defer { agent.stop() }
        for peer in peers {
            #expect(
                agent.waitForPeer(peer.ip, stateDir: stateDir, timeout: 20) {
                    $0.state == "Established" && $0.asn == peer.asn
                }, "\(peer.name): \(agent.log)")
        }

        // Routes both ways, in the kernels: ours learned under protocol 201; BIRD's and FRR's from us.
        do {
            try lab.eventually(10, "the three pod CIDRs in node s's kernel") {
                let r = lab.routes("s", proto: "201")
                return peers.allSatisfy { r.contains("\($0.podCIDR) via \($0.ip)") }
            }
        } catch {
            let gobgpLog = (try? String(contentsOfFile: "\(lab.state)/d/gobgpd.log", encoding: .utf8)) ?? ""
            let detail = "\(error)\nroutes of s:\n\(lab.routes("s"))\nagent log:\n\(agent.log)\n"
            Issue.record("\(detail)gobgpd:\n\(gobgpLog.suffix(3000))")
            throw error
        }
        try lab.eventually(10, "10.244.10.0/24 in BIRD's and FRR's kernels and GoBGP's RIB") {
            lab.routes("a").contains("10.244.10.0/24 via 10.99.0.10 dev eth0 proto bird")
                && lab.routes("b").contains("10.244.10.0/24 nhid") && lab.routes("b").contains("proto bgp")
                && lab.gobgp("d", "global rib -a ipv4").contains("10.244.10.0/24")
        }
        // Pods reach each other over the installed routes.
        for peer in ["a", "b"] {
            let target = lab.nodes[peer]!.podCIDR.replacingOccurrences(of: ".0/24", with: ".1")
            let ping = Kernel.shell("ip netns exec \(lab.ns("s")) ping -c 1 -W 2 -I 10.244.10.1 \(target)")
            let plain = Kernel.shell("ip netns exec \(lab.ns("s")) ping -c 1 -W 2 \(target)").1
            let routes = "routes of \(peer): \(lab.routes(peer))\nroutes of s: \(lab.routes("s"))"
            #expect(ping.0 == 0, "ping \(target): \(ping.1)\nno -I: \(plain)\n\(routes)")
        }

        // krctl bgp peers, as an operator sees it.
        let (status, out, err) = try TestSupport.run(
            "/usr/sbin/ip",
            [
                "netns", "exec", lab.ns("s"), builtExecutable("krctl").path,
                "bgp", "peers", "-o", "json", "--state-dir", stateDir,
            ])
        #expect(status == 0, "\(err)")
        let list = try JSONValue.parseJSON(Data(out.utf8)).arrayValue ?? []
        #expect(list.count == 3)
        for item in list {
            #expect(item["state"]?.stringValue == "Established" && item["prefixesAccepted"]?.intValue == 1, "\(item)")
            #expect(
                item["asn"]?.intValue.map { UInt32($0) } == peers.first { $0.ip == item["address"]?.stringValue }?.asn)
        }
        let table = try TestSupport.run(
            "/usr/sbin/ip",
            ["netns", "exec", lab.ns("s"), builtExecutable("krctl").path, "bgp", "routes", "--state-dir", stateDir])
        #expect(table.0 == 0 && table.1.contains("10.244.1.0/24") && table.1.contains("ok"), "\(table.1)\(table.2)")
        try expectTop(lab: lab, stateDir: stateDir, kubeconfig: kubeconfig, peers: peers, ebgp: ebgp)

        // Route refresh: FRR asks (soft inbound reset), we answer.
        let before = agent.bgpPeers(stateDir: stateDir)?.first { $0.address == "10.99.0.2" }
        let refreshes = before?.routeRefreshesReceived ?? 0
        _ = lab.vtysh("b", ["clear bgp 10.99.0.10 soft in"])
        #expect(
            agent.waitForPeer("10.99.0.2", stateDir: stateDir, timeout: 10) {
                ($0.routeRefreshesReceived ?? 0) > refreshes
            }, "\(agent.log)")

        // A stopped peer (SIGSTOP: no FIN, no NOTIFICATION): its routes go when the hold timer expires.
        let stopped = Date()
        lab.signal("\(lab.state)/a/bird.pid", SIGSTOP)
        try lab.eventually(8, "BIRD's route gone from node s") {
            !lab.routes("s", proto: "201").contains("10.244.1.0/24")
        }
        #expect(Date().timeIntervalSince(stopped) < 6, "gone within the hold time (3 s) and a sync")
        #expect(agent.log.contains("Hold Timer Expired"), "\(agent.log)")
        #expect(lab.routes("s", proto: "201").contains("10.244.2.0/24"), "the other peers' routes stay")
        lab.signal("\(lab.state)/a/bird.pid", SIGCONT)
    }

    /// krctl top's BGP pane (its JSON): BIRD, FRR and GoBGP Established with their type, the routes in the kernel.
    func expectTop(lab: BGPLab, stateDir: String, kubeconfig: String, peers: [BGPLab.Node], ebgp: Bool) throws {
        let (status, out, err) = try TestSupport.run(
            "/usr/sbin/ip",
            [
                "netns", "exec", lab.ns("s"), builtExecutable("krctl").path, "top", "--once", "-o", "json",
                "--interval", "1s", "--state-dir", stateDir, "--kubeconfig", kubeconfig, "--no-doctor",
            ])
        #expect(status == 0, "\(out)\(err)")
        let snapshot = try JSONValue.parseJSON(Data(out.utf8))
        let shown = snapshot["peers"]?.arrayValue ?? []
        #expect(shown.count == 3, "\(out)")
        for peer in peers {
            let row = shown.first { $0["address"]?.stringValue == peer.ip }
            #expect(
                row?["state"]?.stringValue == "Established" && row?["accepted"]?.intValue == 1, "\(peer.name): \(out)")
            #expect(row?["type"]?.stringValue == (ebgp ? "eBGP" : "iBGP"), "\(peer.name): \(out)")
        }
        let routes = snapshot["routes"]?.arrayValue ?? []
        for peer in peers {
            let route = routes.first { $0["prefix"]?.stringValue == peer.podCIDR }
            #expect(
                route?["inKernel"] == .bool(true) && route?["status"]?.stringValue == "ok", "\(peer.podCIDR): \(out)")
        }
    }

    @Test func iBGPWithBirdFRRAndGoBGP() throws { try run(.ibgp) }

    @Test func eBGPWithFourOctetASNsAndMD5() throws { try run(.ebgpMD5) }
}

/// Three agents in a full mesh (each with its own API server holding the same three nodes): every
/// node learns the others' pod CIDRs and pods ping across; with graceful restart a killed agent's
/// routes stay on its peers until it is back; and a peer that sends garbage gets a NOTIFICATION and a
/// new connection.
@Suite(.serialized, .enabled(if: BGPLab.available, "needs root and bird2, frr, gobgpd (scripts/setup)"))
struct BGPMeshTests {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
        "Resources/bgpgarbage.py"
    ).path

    @Test func threeAgentsInAFullMesh() throws {
        let lab = try BGPLab()
        let names = ["n1", "n2", "n3"]
        for (i, name) in names.enumerated() {
            try lab.addNode(name, ip: "10.99.0.\(11 + i)", podCIDR: "10.244.\(11 + i).0/24", asn: 64512)
        }
        try lab.addNode("g", ip: "10.99.0.20", podCIDR: "10.244.20.0/24", asn: 65020)
        // The misbehaving peer, an external router of n1.
        let garbage = Process()
        garbage.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        garbage.arguments = ["netns", "exec", lab.ns("g"), "/usr/bin/python3", Self.script, "garbage", "10.99.0.20"]
        let garbageOut = Pipe()
        garbage.standardOutput = garbageOut
        garbage.standardError = FileHandle.nullDevice
        try garbage.run()
        defer { if garbage.isRunning { kill(garbage.processIdentifier, SIGKILL) } }
        #expect(String(decoding: garbageOut.fileHandleForReading.readData(ofLength: 6), as: UTF8.self) == "ready\n")

        var nodes = ""
        let peerAnnotations =
            ", annotations: {kube-router.io/peer.ips: 10.99.0.20, kube-router.io/peer.asns: \"65020\"}"
        for (i, name) in names.enumerated() {
            nodes += """
                ---
                kind: Node
                metadata: {name: \(name)\(name == "n1" ? peerAnnotations : "")}
                spec: {podCIDR: 10.244.\(11 + i).0/24}
                status: {addresses: [{type: InternalIP, address: 10.99.0.\(11 + i)}]}

                """
        }
        var servers: [TestAPIServer] = []
        var agents: [String: AgentRun] = [:]
        func startAgent(_ name: String, _ kubeconfig: String) throws -> AgentRun {
            try AgentRun(
                netns: lab.ns(name),
                arguments: [
                    "--kubeconfig", kubeconfig, "--hostname-override", name, "--run-firewall=false",
                    "--run-service-proxy=false",
                    "--bgp-holdtime", "3s", "--bgp-graceful-restart", "--bgp-graceful-restart-time", "30s",
                    "--state-dir", try lab.dir("state-\(name)"),
                ])
        }
        var kubeconfigs: [String: String] = [:]
        for name in names {
            let (server, kubeconfig) = try lab.startAPIServer(in: name, nodes: nodes)
            servers.append(server)
            kubeconfigs[name] = kubeconfig
            agents[name] = try startAgent(name, kubeconfigs[name]!)
        }
        defer { agents.values.forEach { $0.stop() } }
        for (i, name) in names.enumerated() {
            for (j, other) in names.enumerated() where other != name {
                let established = agents[name]!.waitForPeer("10.99.0.\(11 + j)", stateDir: try lab.dir("state-\(name)"))
                #expect(established, "\(name)–\(other):\n\(agents[name]!.log)")
            }
            try lab.eventually(10, "\(name) has the other pod CIDRs") {
                let r = lab.routes(name, proto: "201")
                return names.indices.filter { $0 != i }.allSatisfy {
                    r.contains("10.244.\(11 + $0).0/24 via 10.99.0.\(11 + $0)")
                }
            }
        }
        for (i, name) in names.enumerated() {
            for j in names.indices where j != i {
                let ping = Kernel.shell(
                    "ip netns exec \(lab.ns(name)) ping -c 1 -W 2 -I 10.244.\(11 + i).1 10.244.\(11 + j).1")
                #expect(ping.0 == 0, "\(name) → 10.244.\(11 + j).1: \(ping.1)")
            }
        }

        // A route removed behind the agent's back (as a link bounce does): krctl bgp routes flags it at once, and
        // the periodic check (every 10 s) puts it back.
        #expect(Kernel.shell("ip -n \(lab.ns("n1")) route del 10.244.12.0/24 proto 201").0 == 0)
        let drift = try TestSupport.run(
            "/usr/sbin/ip",
            [
                "netns", "exec", lab.ns("n1"), builtExecutable("krctl").path, "bgp", "routes",
                "--state-dir", try lab.dir("state-n1"),
            ])
        #expect(drift.0 == 2 && drift.1.contains("missing in kernel"), "\(drift.1)\(drift.2)")
        try lab.eventually(15, "10.244.12.0/24 back on n1") {
            lab.routes("n1", proto: "201").contains("10.244.12.0/24 via 10.99.0.12")
        }

        // Garbage from a peer: a NOTIFICATION (Message Header Error / Connection Not Synchronized), then a new
        // connection.
        let reply = String(decoding: garbageOut.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(reply == "notification 1 1\nreconnected\n", "\(reply)\n\(agents["n1"]!.log)")
        // A session that fails before Established leaves its NOTIFICATION and its failure in the log.
        let n1Log = agents["n1"]!.log
        let sent = "bgp: peer 10.99.0.20: sent NOTIFICATION Message Header Error / Connection Not Synchronized (1/1)"
        #expect(n1Log.contains(sent), "\(n1Log)")
        #expect(n1Log.contains("bgp: peer 10.99.0.20: session failed in OpenSent"), "\(n1Log)")

        // Graceful restart: n3's agent dies; its peers keep its route while it restarts, and it comes back.
        agents["n3"]!.stop()
        let down = agents["n1"]!.waitForPeer("10.99.0.13", stateDir: try lab.dir("state-n1"), timeout: 10) {
            $0.state != "Established"
        }
        #expect(down, "\(agents["n1"]!.log)")
        #expect(agents["n1"]!.log.contains("keeping its routes for its restart (30 s)"), "\(agents["n1"]!.log)")
        #expect(lab.routes("n1", proto: "201").contains("10.244.13.0/24 via 10.99.0.13"), "kept while n3 restarts")
        #expect(
            Kernel.shell("ip netns exec \(lab.ns("n1")) ping -c 1 -W 2 -I 10.244.11.1 10.244.13.1").0 == 0,
            "forwarding goes on")
        agents["n3"] = try startAgent("n3", kubeconfigs["n3"]!)
        let back = agents["n3"]!.waitForPeer("10.99.0.11", stateDir: try lab.dir("state-n3"))
        #expect(back, "\(agents["n3"]!.log)")
        try lab.eventually(10, "n3 has its routes again") {
            lab.routes("n3", proto: "201").contains("10.244.11.0/24 via 10.99.0.11")
        }
        #expect(lab.routes("n1", proto: "201").contains("10.244.13.0/24 via 10.99.0.13"))
        _ = servers
    }
}
