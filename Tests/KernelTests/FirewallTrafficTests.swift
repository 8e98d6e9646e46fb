import Foundation
import TestSupport
import Testing

@testable import Kernel
@testable import KubeAPI
@testable import KubeModel
@testable import Planning

/// A node in a network namespace with the bridge pods hang off, pods in namespaces of their own on
/// veth pairs, and an outside host; the agent and the API test server run in the node's namespace.
final class Lab: @unchecked Sendable {
    struct PodHost {
        var key: String
        var netns: String
        var ip: String
        var ip6: String
    }

    let id = String(UInt32.random(in: 0...0xFFFFF), radix: 16)
    let node: String
    let external: PodHost
    var pods: [PodHost] = []
    private var servers: [Process] = []
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
        "Resources/netcheck.py"
    ).path

    init(pods keys: [String]) throws {
        node = "kr\(id)n"
        external = PodHost(key: "external", netns: "kr\(id)x", ip: "192.0.2.10", ip6: "2001:db8:2::10")
        try sh("ip netns add \(node)")
        try sh("ip -n \(node) link set lo up")
        try sh("ip netns exec \(node) sysctl -qw net.ipv4.ip_forward=1")
        try sh("ip netns exec \(node) sysctl -qw net.ipv6.conf.all.forwarding=1")
        try sh("ip -n \(node) link add kube-bridge type bridge")
        try sh("ip -n \(node) addr add 10.244.1.1/24 dev kube-bridge")
        try sh("ip -n \(node) addr add fd00:244:1::1/64 dev kube-bridge nodad")
        try sh("ip -n \(node) link set kube-bridge up")
        // Bridged pod-to-pod traffic must pass the node's iptables, as with the bridge CNI plugin.
        Kernel.shell("ip netns exec \(node) sysctl -qw net.bridge.bridge-nf-call-iptables=1")
        Kernel.shell("ip netns exec \(node) sysctl -qw net.bridge.bridge-nf-call-ip6tables=1")
        for (i, key) in keys.enumerated() {
            let host = PodHost(key: key, netns: "kr\(id)p\(i)", ip: "10.244.1.\(10 + i)", ip6: "fd00:244:1::\(10 + i)")
            // A pod: its veth's node end on the bridge, as the bridge CNI plugin wires it.
            try attach(
                host, nodeEnd: "v\(id)p\(i)", gateway: "10.244.1.1", gateway6: "fd00:244:1::1",
                nodeSide: "master kube-bridge")
            pods.append(host)
        }
        // The outside host: routed through the node, which holds 192.0.2.254 (2001:db8:2::254) on its end.
        try attach(
            external, nodeEnd: "v\(id)x", gateway: "192.0.2.254", gateway6: "2001:db8:2::254",
            nodeAddress: "192.0.2.254/24", nodeAddress6: "2001:db8:2::254/64")
        for pod in pods { try startServer(in: pod.netns, name: pod.key) }
    }

    /// A host namespace with `eth0` (the host's address, a default route) on a veth pair to the node.
    /// Dual stack; `nodad` makes the IPv6 addresses usable at once (no duplicate detection wait).
    private func attach(
        _ host: PodHost, nodeEnd: String, gateway: String, gateway6: String, nodeSide: String = "",
        nodeAddress: String? = nil, nodeAddress6: String? = nil
    ) throws {
        try sh("ip netns add \(host.netns)")
        try sh("ip -n \(node) link add \(nodeEnd) type veth peer name eth0 netns \(host.netns)")
        if let nodeAddress { try sh("ip -n \(node) addr add \(nodeAddress) dev \(nodeEnd)") }
        if let nodeAddress6 { try sh("ip -n \(node) addr add \(nodeAddress6) dev \(nodeEnd) nodad") }
        try sh("ip -n \(node) link set \(nodeEnd) \(nodeSide) up")
        try sh("ip -n \(host.netns) addr add \(host.ip)/24 dev eth0")
        try sh("ip -n \(host.netns) addr add \(host.ip6)/64 dev eth0 nodad")
        try sh("ip -n \(host.netns) link set eth0 up")
        try sh("ip -n \(host.netns) link set lo up")
        try sh("ip -n \(host.netns) route add default via \(gateway)")
        try sh("ip -n \(host.netns) -6 route add default via \(gateway6)")
    }

    func sh(_ command: String) throws {
        let (status, output) = Kernel.shell(command)
        guard status == 0 else { throw IPTablesTable.Failure(description: "\(command): \(output)") }
    }

    /// Echo servers on TCP 8080 and 9000 and UDP 53; returns once they listen.
    private func startServer(in netns: String, name: String) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        p.arguments = [
            "netns", "exec", netns, "/usr/bin/python3", Self.script, "serve", "tcp:8080", "tcp:9000", "udp:53",
            "name=\(name)",
        ]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        servers.append(p)
        let line = out.fileHandleForReading.readData(ofLength: 6)
        guard String(decoding: line, as: UTF8.self).hasPrefix("ready") else {
            throw IPTablesTable.Failure(description: "echo server in \(netns) did not start")
        }
    }

    /// `count` TCP connections from `netns` asking "who": each answer is "SERVER-KEY CLIENT-ADDRESS-SEEN",
    /// or "refused" / "timeout".
    func who(from netns: String, _ ip: String, _ port: Int, count: Int) throws -> [String] {
        let (status, out, err) = try run(
            "/usr/sbin/ip",
            ["netns", "exec", netns, "/usr/bin/python3", Self.script, "who", ip, String(port), String(count)])
        guard status == 0, let json = try? JSONValue.parseJSON(Data(out.utf8)), case .array(let items) = json else {
            throw IPTablesTable.Failure(description: "who from \(netns) failed: \(err)")
        }
        return items.compactMap(\.stringValue)
    }

    /// One attempt from `netns` to each target; true where the connection (and an echo) succeeded.
    func probe(from netns: String, _ targets: [(ip: String, proto: String, port: Int)]) throws -> [String: Bool] {
        let specs = targets.map { "\($0.ip),\($0.proto),\($0.port)" }
        let (status, out, err) = try run(
            "/usr/sbin/ip", ["netns", "exec", netns, "/usr/bin/python3", Self.script, "probe"] + specs)
        guard status == 0, let json = try? JSONValue.parseJSON(Data(out.utf8)), case .object(let o) = json else {
            throw IPTablesTable.Failure(description: "probe from \(netns) failed: \(err)")
        }
        return o.mapValues { $0 == .bool(true) }
    }

    deinit {
        // SIGKILL: a signal mask inherited from the test runner may block SIGTERM in the children.
        for s in servers {
            kill(s.processIdentifier, SIGKILL)
            s.waitUntilExit()
        }
        for pod in pods { Kernel.shell("ip netns del \(pod.netns)") }
        Kernel.shell("ip netns del \(external.netns)")
        Kernel.shell("ip netns del \(node)")
    }
}

/// The firewall agent in the node's namespace; its log tells when a sync has taken effect.
final class AgentProcess: @unchecked Sendable {
    private let run: AgentRun
    let stateDir: String

    init(node: String, kubeconfig: String, stateDir: String, period: String = "30s") throws {
        self.stateDir = stateDir
        run = try AgentRun(
            netns: node,
            arguments: [
                "--kubeconfig", kubeconfig, "--hostname-override", "node-1",
                "--run-service-proxy=false", "--run-router=false",
                "--iptables-sync-period", period, "--state-dir", stateDir, "--metrics-port", "9103",
            ])
    }

    var log: String { run.log }

    /// Waits until a sync has applied every change of `resources` up to `version` (the agent's status
    /// file says so).
    func waitForSync(atLeast version: Int, of resources: [String] = ["networkpolicies"], timeout: Double = 30) -> Bool {
        run.waitForStatus(FirewallStatus.self, stateDir: stateDir, timeout: timeout) {
            $0.hasSynced(atLeast: version, of: resources)
        }
    }

    func stop() { run.stop() }
}

@Suite(
    .serialized,
    .enabled(
        if: Kernel.available && FileManager.default.isExecutableFile(atPath: "/usr/bin/python3"),
        Comment(rawValue: Kernel.reason + " and /usr/bin/python3")))
struct FirewallTrafficTests {
    static let pods: [(key: String, labels: [String: String], ports: String)] = [
        ("shop/web", ["app": "web"], "[{name: http, containerPort: 8080}]"),
        (
            "shop/api", ["app": "api"],
            "[{name: http, containerPort: 9000}, {name: dns, containerPort: 53, protocol: UDP}]"
        ),
        ("shop/db", ["app": "db"], "[{name: http, containerPort: 8080}]"),
        ("other/client", ["app": "client"], "[]"),
    ]

    static let scenarios: [(name: String, policies: [String])] = [
        ("no policies", []),
        (
            "default deny in shop",
            [
                """
                kind: NetworkPolicy
                metadata: {name: deny, namespace: shop}
                spec: {podSelector: {}}
                """
            ]
        ),
        (
            "namespace selector and named port",
            [
                """
                kind: NetworkPolicy
                metadata: {name: api, namespace: shop}
                spec:
                  podSelector: {matchLabels: {app: api}}
                  ingress:
                  - from: [{namespaceSelector: {matchLabels: {team: other}}}]
                    ports: [{port: http}]
                  - from: [{podSelector: {matchLabels: {app: web}}}]
                """
            ]
        ),
        (
            "ipBlock with except",
            [
                """
                kind: NetworkPolicy
                metadata: {name: edge, namespace: shop}
                spec:
                  podSelector: {matchLabels: {app: web}}
                  ingress:
                  - from: [{ipBlock: {cidr: 192.0.2.0/24, except: [192.0.2.0/28]}}, {ipBlock: {cidr: 10.244.1.13/32}}]
                    ports: [{port: 8080}]
                """,
                """
                kind: NetworkPolicy
                metadata: {name: db, namespace: shop}
                spec:
                  podSelector: {matchLabels: {app: db}}
                  ingress: [{from: [{ipBlock: {cidr: 192.0.2.0/24}}]}]
                """,
            ]
        ),
        (
            "egress",
            [
                """
                kind: NetworkPolicy
                metadata: {name: web-egress, namespace: shop}
                spec:
                  podSelector: {matchLabels: {app: web}}
                  policyTypes: [Egress]
                  egress:
                  - to: [{podSelector: {matchLabels: {app: api}}}]
                    ports: [{port: http}, {port: dns, protocol: UDP}]
                """
            ]
        ),
    ]

    static let ports: [(proto: String, port: Int)] = [("tcp", 8080), ("tcp", 9000), ("udp", 53)]

    /// Creates the objects through the API (from inside the node's namespace, where the server runs).
    func apply(_ yaml: String, _ server: TestAPIServer, _ lab: Lab) throws -> Int {
        let config = server.config()
        return try NetworkNamespace.run(lab.node) { () -> Int in
            let client = KubeClient(config: config)
            var version = 0
            for doc in try JSONValue.parseYAMLDocuments(yaml) {
                let kind = doc["kind"]?.stringValue ?? ""
                guard let resource = APIResource.forKind(kind) else { continue }
                let created = try client.create(
                    resource, namespace: doc["metadata"]?["namespace"]?.stringValue, object: doc)
                version = max(version, Int(created["metadata"]?["resourceVersion"]?.stringValue ?? "") ?? 0)
            }
            return version
        }
    }

    func deletePolicies(_ server: TestAPIServer, _ lab: Lab) throws -> Int {
        let config = server.config()
        return try NetworkNamespace.run(lab.node) { () -> Int in
            let client = KubeClient(config: config)
            var version = 0
            for item in try client.list(.networkPolicies).items {
                let gone = try client.delete(
                    .networkPolicies, namespace: item["metadata"]?["namespace"]?.stringValue,
                    name: item["metadata"]?["name"]?.stringValue ?? "")
                version = max(version, Int(gone["metadata"]?["resourceVersion"]?.stringValue ?? "") ?? 0)
            }
            return version
        }
    }

    /// The observed connectivity beside the engine's verdicts, for every pair and port, over IPv4 and IPv6.
    func compare(_ scenario: String, _ server: TestAPIServer, _ lab: Lab) throws {
        let config = server.config()
        let snapshot = try NetworkNamespace.run(lab.node) { try APISource(config: config).snapshot() }
        let engine = PolicyEngine(snapshot)
        var sources = lab.pods
        sources.append(lab.external)
        func address(_ host: Lab.PodHost, _ family: IPAddress.Family) -> String { family == .ipv6 ? host.ip6 : host.ip }
        for source in sources {
            let targets = lab.pods.filter { $0.key != source.key }.flatMap { t in
                [IPAddress.Family.ipv4, .ipv6].flatMap { f in Self.ports.map { (address(t, f), $0.proto, $0.port) } }
            }
            var intents: [String: Bool] = [:]
            for target in lab.pods where target.key != source.key {
                for family in [IPAddress.Family.ipv4, .ipv6] {
                    for port in Self.ports {
                        let src =
                            source.key == "external"
                            ? TrafficEndpoint(kind: .external, ip: IPAddress(address(source, family))!)
                            : try engine.resolve(EndpointReference(source.key)!).first { $0.ip.family == family }!
                        let dst = try engine.resolve(EndpointReference(target.key)!).first { $0.ip.family == family }!
                        intents["\(address(target, family)),\(port.proto),\(port.port)"] = engine.allows(
                            from: src, to: dst, port: port.port, proto: port.proto == "tcp" ? .tcp : .udp)
                    }
                }
            }
            var observed = try lab.probe(from: source.netns, targets)
            // An allowed connection that failed is tried again, twice at most: under a loaded machine an IPv6
            // neighbour can answer too late for one attempt (seen in CI: every port of one IPv6 pair at once). A
            // denied connection that got through is never retried away.
            for _ in 0..<2 {
                let failed = targets.filter { t in
                    let key = "\(t.0),\(t.1),\(t.2)"
                    return intents[key] == true && observed[key] != true
                }
                guard !failed.isEmpty else { break }
                for (key, value) in try lab.probe(from: source.netns, failed) { observed[key] = value }
            }
            for target in lab.pods where target.key != source.key {
                for family in [IPAddress.Family.ipv4, .ipv6] {
                    for port in Self.ports {
                        let key = "\(address(target, family)),\(port.proto),\(port.port)"
                        let intent = intents[key] ?? false
                        let actual = observed[key] ?? false
                        #expect(
                            actual == intent,
                            """
                            \(scenario): \(source.key) → \(target.key) \
                            \(family.rawValue) \(port.port)/\(port.proto): observed \(actual), engine \(intent)
                            """
                        )
                    }
                }
            }
        }
    }

    /// The namespaces, the node and the pods of `pods`, as YAML.
    static var clusterObjects: String {
        var objects = """
            kind: Namespace
            metadata: {name: shop, labels: {team: shop}}
            ---
            kind: Namespace
            metadata: {name: other, labels: {team: other}}
            ---
            kind: Node
            metadata: {name: node-1}
            status: {addresses: [{type: InternalIP, address: 10.244.1.1}, {type: InternalIP, address: "fd00:244:1::1"}]}
            """
        for (i, pod) in Self.pods.enumerated() {
            let parts = pod.key.split(separator: "/")
            let labels = pod.labels.map { "\($0.key): \($0.value)" }.joined(separator: ", ")
            objects += """

                ---
                kind: Pod
                metadata: {name: \(parts[1]), namespace: \(parts[0]), labels: {\(labels)}}
                spec: {nodeName: node-1, containers: [{name: c, ports: \(pod.ports)}]}
                status: {phase: Running, podIP: 10.244.1.\(10 + i),
                         podIPs: [{ip: 10.244.1.\(10 + i)}, {ip: "fd00:244:1::\(10 + i)"}]}
                """
        }
        return objects
    }

    @Test func connectivityMatchesTheEngine() throws {
        let lab = try Lab(pods: Self.pods.map(\.key))
        let server = try TestAPIServer(
            arguments: ["--bookmark-interval", "0.2"], launcher: ["/usr/sbin/ip", "netns", "exec", lab.node])
        let kubeconfig = try server.writeKubeconfig()
        var version = try apply(Self.clusterObjects, server, lab)
        let stateDir = FileManager.default.temporaryDirectory.appendingPathComponent("kr-agent-\(lab.id)").path
        var agent = try AgentProcess(node: lab.node, kubeconfig: kubeconfig, stateDir: stateDir)
        defer { agent.stop() }
        #expect(agent.waitForSync(atLeast: version, of: ["pods"]), "agent log:\n\(agent.log)")

        for scenario in Self.scenarios {
            version = max(try deletePolicies(server, lab), version)
            for policy in scenario.policies { version = max(version, try apply(policy, server, lab)) }
            #expect(agent.waitForSync(atLeast: version), "\(scenario.name): agent log:\n\(agent.log)")
            try compare(scenario.name, server, lab)
        }
        // Every refused packet is counted: the metric is the sum of the pod chains' REJECT rule counters.
        let saved = Kernel.shell("ip netns exec \(lab.node) iptables-legacy-save -c -t filter").1
        var rejected = 0
        for line in saved.split(separator: "\n") where line.contains("-A KUBE-POD-FW-") && line.contains(" -j REJECT") {
            if let packets = line.dropFirst().split(separator: ":").first.flatMap({ Int($0) }) { rejected += packets }
        }
        let metrics = Kernel.shell("ip netns exec \(lab.node) curl -sS --max-time 5 http://127.0.0.1:9103/metrics").1
        let series = "kube_router_firewall_rejected_packets_total{family=\"IPv4\"} "
        let reported = metrics.split(separator: "\n").first { $0.hasPrefix(series) }.map { $0.dropFirst(series.count) }
        #expect(rejected > 0, "the scenarios refuse some connections: \(saved)")
        #expect(reported.flatMap { Double($0) } == Double(rejected), "\(rejected) rejected; metrics:\n\(metrics)")

        // A pod label change takes effect: other/client becomes a web pod the egress policy does not allow... and
        // the api policy's namespace rule still admits it on http.
        let relabel = try NetworkNamespace.run(lab.node) { [config = server.config()] () -> Int in
            let patched = try KubeClient(config: config).patch(
                .pods, namespace: "shop", name: "web",
                mergePatch: .object(["metadata": .object(["labels": .object(["app": "web-v2"])])]))
            return Int(patched["metadata"]?["resourceVersion"]?.stringValue ?? "") ?? 0
        }
        #expect(agent.waitForSync(atLeast: relabel, of: ["pods"]))
        try compare("after relabelling shop/web", server, lab)

        // A restart opens no window: with the agent gone the rules stay, and a new agent keeps them.
        agent.stop()
        try compare("agent stopped", server, lab)
        agent = try AgentProcess(node: lab.node, kubeconfig: kubeconfig, stateDir: stateDir)
        #expect(agent.waitForSync(atLeast: relabel, of: ["pods"]))
        try compare("agent restarted", server, lab)
        let status = try JSONValue.parseJSON(try Data(contentsOf: URL(fileURLWithPath: stateDir + "/firewall.json")))
        #expect(status["node"]?.stringValue == "node-1" && (status["syncs"]?.intValue ?? 0) >= 1, "\(status)")
        // After the relabel no local pod is isolated any more: no pod chain, none reported.
        #expect(status["podChains"]?.objectValue?.isEmpty == true, "\(status)")

        // --cleanup-config leaves nothing of ours behind: rules, sets, and the routes of our protocol (201), but
        // not another protocol's route.
        agent.stop()
        #expect(Kernel.shell("ip -n \(lab.node) route add 10.250.0.0/24 via 10.244.1.10 proto 201").0 == 0)
        #expect(Kernel.shell("ip -n \(lab.node) route add 10.251.0.0/24 via 10.244.1.10 proto static").0 == 0)
        let (code, out, err) = try run(
            "/usr/sbin/ip", ["netns", "exec", lab.node, builtExecutable("kube-router").path, "--cleanup-config"])
        #expect(code == 0, "\(out)\(err)")
        #expect(!Kernel.shell("ip netns exec \(lab.node) iptables-legacy-save").1.contains("KUBE-"))
        #expect(!Kernel.shell("ip netns exec \(lab.node) ip6tables-legacy-save").1.contains("KUBE-"))
        #expect(!Kernel.shell("ip netns exec \(lab.node) ipset list -n").1.contains("KUBE-"))
        #expect(Kernel.shell("ip -n \(lab.node) route show proto 201").1.isEmpty)
        #expect(Kernel.shell("ip -n \(lab.node) route show proto static").1.contains("10.251.0.0/24"))
    }

    /// Fail closed: a policy whose new version cannot be read keeps its last good version in force, on
    /// the watch event and after a relist (410) alike; the pod it isolates stays isolated, with real traffic.
    @Test func malformedPolicyKeepsItsLastGoodVersionThroughARelist() throws {
        let lab = try Lab(pods: Self.pods.map(\.key))
        let server = try TestAPIServer(
            arguments: ["--bookmark-interval", "0.2"], launcher: ["/usr/sbin/ip", "netns", "exec", lab.node])
        let kubeconfig = try server.writeKubeconfig()
        var version = try apply(Self.clusterObjects, server, lab)
        version = max(version, try apply(Self.scenarios[1].policies.joined(separator: "\n---\n"), server, lab))
        let stateDir = FileManager.default.temporaryDirectory.appendingPathComponent("kr-agent-\(lab.id)").path
        let agent = try AgentProcess(node: lab.node, kubeconfig: kubeconfig, stateDir: stateDir, period: "1h")
        defer { agent.stop() }
        #expect(agent.waitForSync(atLeast: version, of: ["pods", "networkpolicies"]), "agent log:\n\(agent.log)")
        let (web, api) = (lab.pods[0], lab.pods[1])
        func passes() throws -> Bool {
            try lab.probe(from: web.netns, [(api.ip, "tcp", 9000)])["\(api.ip),tcp,9000"] ?? false
        }
        #expect(try !passes(), "shop/deny isolates shop/api")

        let touched = try NetworkNamespace.run(lab.node) { [config = server.config()] () -> Int in
            let client = KubeClient(config: config)
            func hook(_ name: String, _ body: JSONValue? = nil) throws {
                _ = try client.send(body == nil ? "GET" : "POST", "/_test/\(name)", body: body?.jsonData(), what: name)
            }
            // The same policy, broken as a buggy controller might write it; read as written, it would allow.
            try hook(
                "inject/apis/networking.k8s.io/v1/namespaces/shop/networkpolicies",
                .object([
                    "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                    "metadata": .object(["name": "deny", "namespace": "shop"]),
                    "spec": .object([
                        "podSelector": .object([:]),
                        "ingress": .array([
                            .object(["from": .array([.object(["ipBlock": .object(["cidr": "0.0.0.0/0x"])])])])
                        ]),
                    ]),
                ]))
            // The history is compacted while the watches are silent: the agent must relist.
            try hook("stall-watches")
            let patched = try client.patch(
                .pods, namespace: "shop", name: "db",
                mergePatch: .object(["metadata": .object(["labels": .object(["touched": "yes"])])]))
            try hook("compact")
            try hook("drop-watches")
            return Int(patched["metadata"]?["resourceVersion"]?.stringValue ?? "") ?? 0
        }
        #expect(agent.waitForSync(atLeast: touched, of: ["pods"]), "agent log:\n\(agent.log)")
        let status = FirewallStatus.read(stateDir: stateDir)
        #expect(
            status?.rejectedObjects == 1 && status?.rejected == ["NetworkPolicy shop/deny"],
            "\(String(describing: status))")
        #expect(try !passes(), "the last good shop/deny still isolates shop/api after the relist")
        #expect(agent.log.contains("expired (410): relisting"), "the relist happened: \(agent.log)")
        // The control: deleted, shop/deny stops isolating, and the same probe passes (so the denials above
        // were the policy's, not a lab that carries nothing); the rejection ends with the object.
        let deleted = try deletePolicies(server, lab)
        #expect(agent.waitForSync(atLeast: deleted, of: ["networkpolicies"]), "agent log:\n\(agent.log)")
        #expect(try passes(), "without shop/deny, shop/web reaches shop/api")
        let after = FirewallStatus.read(stateDir: stateDir)
        #expect(after?.rejectedObjects == 0 && (after?.rejected ?? []).isEmpty, "\(String(describing: after))")
    }

    /// krctl on the node: the kernel's verdict beside the policies', drift after damage by hand, and
    /// the kernel verdicts match the packets that really pass.
    @Test func krctlReportsKernelVerdictsAndDrift() throws {
        let lab = try Lab(pods: Self.pods.map(\.key))
        let server = try TestAPIServer(
            arguments: ["--bookmark-interval", "0.2"], launcher: ["/usr/sbin/ip", "netns", "exec", lab.node])
        let kubeconfig = try server.writeKubeconfig()
        var version = try apply(Self.clusterObjects, server, lab)
        version = max(version, try apply(Self.scenarios[2].policies.joined(separator: "\n---\n"), server, lab))
        let stateDir = FileManager.default.temporaryDirectory.appendingPathComponent("kr-agent-\(lab.id)").path
        let agent = try AgentProcess(node: lab.node, kubeconfig: kubeconfig, stateDir: stateDir, period: "1h")
        #expect(agent.waitForSync(atLeast: version, of: ["pods", "networkpolicies"]), "agent log:\n\(agent.log)")
        // A malformed policy (as a buggy controller might write it) is skipped, counted and changes nothing;
        // a later change still syncs. Had it been read as written, it would isolate every pod of shop.
        let touched = try NetworkNamespace.run(lab.node) { [config = server.config()] () -> Int in
            let client = KubeClient(config: config)
            let broken: JSONValue = .object([
                "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                "metadata": .object(["name": "broken", "namespace": "shop"]),
                "spec": .object([
                    "podSelector": .object([:]),
                    "ingress": .array([
                        .object(["from": .array([.object(["ipBlock": .object(["cidr": "not-a-cidr"])])])])
                    ]),
                ]),
            ])
            _ = try client.send(
                "POST", "/_test/inject/apis/networking.k8s.io/v1/namespaces/shop/networkpolicies",
                body: broken.jsonData(), what: "inject a malformed policy")
            let patched = try client.patch(
                .pods, namespace: "shop", name: "db",
                mergePatch: .object(["metadata": .object(["labels": .object(["touched": "yes"])])]))
            return Int(patched["metadata"]?["resourceVersion"]?.stringValue ?? "") ?? 0
        }
        #expect(agent.waitForSync(atLeast: touched, of: ["pods"]), "agent log:\n\(agent.log)")
        let rejected = FirewallStatus.read(stateDir: stateDir)
        #expect(
            rejected?.rejectedObjects == 1 && rejected?.rejected == ["NetworkPolicy shop/broken"],
            "\(String(describing: rejected))")
        // Stopped, so that no sync repairs the damage below; its rules stay.
        agent.stop()

        func krctl(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
            try run(
                "/usr/sbin/ip",
                ["netns", "exec", lab.node, builtExecutable("krctl").path] + arguments
                    + ["--kubeconfig", kubeconfig, "--state-dir", stateDir, "--no-color"])
        }
        func explain(
            _ from: String, _ to: String, _ port: String
        ) throws -> (status: Int32, kernel: JSONValue?, text: String) {
            let json = try krctl(["explain-policy", "--from", from, "--to", to, "--port", port, "-o", "json"])
            let text = try krctl(["explain-policy", "--from", from, "--to", to, "--port", port])
            #expect(json.status == text.status, "\(json.err)\(text.err)")
            return (json.status, try? JSONValue.parseJSON(Data(json.out.utf8))["kernel"], text.out + text.err)
        }
        func passes(_ from: Lab.PodHost, _ to: Lab.PodHost, _ port: Int) throws -> Bool {
            try lab.probe(from: from.netns, [(to.ip, "tcp", port)])["\(to.ip),tcp,\(port)"] ?? false
        }
        let (web, api, client) = (lab.pods[0], lab.pods[1], lab.pods[3])

        // As synced: the kernel agrees with the plan, and with the packets.
        var r = try explain("shop/web", "shop/api", "9000")
        #expect(r.status == 0, "\(r.text)")
        #expect(r.kernel?["node"]?.stringValue == "node-1" && r.kernel?["hook"]?.stringValue == "FORWARD")
        #expect(r.kernel?["verdict"]?.stringValue == "accept" && r.kernel?["agrees"] == .bool(true), "\(r.text)")
        #expect(r.kernel?["drift"]?.arrayValue?.isEmpty == true)
        #expect(r.text.contains("Kernel of node node-1 (FORWARD, iptables legacy): ACCEPT, as planned"), "\(r.text)")
        #expect(try passes(web, api, 9000))
        r = try explain("shop/db", "shop/api", "9000")
        #expect(r.status == 0 && r.kernel?["verdict"]?.stringValue == "reject", "\(r.text)")
        #expect(
            r.kernel?["decidedBy"]?["comment"]?.stringValue == "pod shop/api ingress: denied by shop/api", "\(r.text)")
        #expect(try !passes(lab.pods[2], api, 9000))
        let check = try krctl(["policy", "check", "shop/api"])
        #expect(
            check.status == 0 && check.out.contains("State: protected as the policies say"), "\(check.out)\(check.err)")
        #expect(check.out.contains("The agent cannot read 1 object: NetworkPolicy shop/broken"), "\(check.out)")

        // A pod IP removed from a set by hand: the kernel now rejects, krctl names the cause, packets agree.
        let webSet = try #require(
            Kernel.shell("ip netns exec \(lab.node) ipset save").1.split(separator: "\n")
                .first { $0.hasPrefix("add KUBE-SRC-") && $0.hasSuffix(" 10.244.1.10") }?.split(separator: " ")[1])
        #expect(Kernel.shell("ip netns exec \(lab.node) ipset del \(webSet) 10.244.1.10").0 == 0)
        r = try explain("shop/web", "shop/api", "9000")
        #expect(r.status == 2, "\(r.text)")
        #expect(r.kernel?["verdict"]?.stringValue == "reject" && r.kernel?["planned"]?.stringValue == "accept")
        #expect(
            r.text.contains("10.244.1.10 is missing from set \(webSet) (shop/api ingress rule 1 peer pods)"),
            "\(r.text)")
        #expect(try !passes(web, api, 9000), "the kernel verdict is what the packets meet")

        // A rule deleted by hand: drift names the missing rule; policy check reports it too.
        let policyChain = FirewallNames.policyChain("shop/api", .ingress)
        #expect(Kernel.shell("ip netns exec \(lab.node) iptables-legacy -D \(policyChain) 1").0 == 0)
        r = try explain("other/client", "shop/api", "9000")
        #expect(r.status == 2 && r.kernel?["verdict"]?.stringValue == "reject", "\(r.text)")
        #expect(r.text.contains("rule missing from \(policyChain) (shop/api ingress rule 0)"), "\(r.text)")
        #expect(try !passes(client, api, 9000))
        let damaged = try krctl(["policy", "check", "shop/api", "-o", "json"])
        let json = try JSONValue.parseJSON(Data(damaged.out.utf8))
        #expect(damaged.status == 2 && json["state"]?.stringValue == "drift", "\(damaged.out)\(damaged.err)")
        #expect(json["drift"]?.arrayValue?.count == 2 && json["lastSync"]?.stringValue != nil, "\(damaged.out)")
        // Another pod's firewall is not this one's drift; a pod of another node is refused with advice.
        #expect(try krctl(["policy", "check", "shop/web"]).status == 0)
        let elsewhere = try krctl(["policy", "check", "shop/api", "--node", "node-2"])
        #expect(
            elsewhere.status == 1 && elsewhere.err.contains("runs on node node-1, and this is node node-2"),
            "\(elsewhere.err)")

        // The agent's full sync (its first after a start) repairs the damage: no drift, packets pass again.
        let repairing = try AgentProcess(node: lab.node, kubeconfig: kubeconfig, stateDir: stateDir, period: "1h")
        defer { repairing.stop() }
        #expect(
            repairing.waitForSync(atLeast: version, of: ["pods", "networkpolicies"]), "agent log:\n\(repairing.log)")
        #expect(FirewallStatus.read(stateDir: stateDir)?.lastSyncFull == true, "\(repairing.log)")
        r = try explain("shop/web", "shop/api", "9000")
        #expect(
            r.status == 0 && r.kernel?["agrees"] == .bool(true) && r.kernel?["drift"]?.arrayValue?.isEmpty == true,
            "\(r.text)")
        #expect(try krctl(["policy", "check", "shop/api"]).status == 0)
        #expect(try passes(web, api, 9000) && passes(client, api, 9000))
    }
}
