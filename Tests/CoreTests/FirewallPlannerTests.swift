import TestSupport
import Testing

@testable import KubeModel
@testable import Planning

/// The planned firewall, walked packet by packet as the kernel would, must give the engine's verdicts.
@Suite struct FirewallPlannerTests {
    /// Pods x/* and z/* on node-a, y/* on node-b; named ports differ between pods.
    static let cluster: String = {
        var s = ""
        for (n, ns) in ["x", "y", "z"].enumerated() {
            s += namespace(ns, ["ns": ns])
            for (i, name) in ["a", "b", "c"].enumerated() {
                let web = 8080 + i
                s += pod(
                    "\(ns)/\(name)", "10.0.\(n).\(i + 10)", ["pod": name, "tier": i == 2 ? "db" : "web"],
                    ports:
                        "[{name: http, containerPort: \(web)}, {name: dns, containerPort: 53, protocol: UDP}, "
                        + "{name: sig, containerPort: 82, protocol: SCTP}]",
                    node: ns == "y" ? "node-b" : "node-a")
            }
        }
        return s
    }()

    static let scenarios: [(String, [String])] = [
        ("no policies", []),
        ("default deny ingress", [policy("x/deny", "podSelector: {}")]),
        ("default deny both ways", [policy("x/deny", "podSelector: {}\npolicyTypes: [Ingress, Egress]")]),
        (
            "namespace selector and named port",
            [
                policy(
                    "x/from-y",
                    """
                    podSelector: {matchLabels: {tier: web}}
                    ingress: [{from: [{namespaceSelector: {matchLabels: {ns: y}}}], ports: [{port: http}]}]
                    """)
            ]
        ),
        (
            "pod and namespace selectors ANDed, ORed peers",
            [
                policy(
                    "z/p",
                    """
                    podSelector: {}
                    ingress:
                    - from:
                      - namespaceSelector: {matchLabels: {ns: x}}
                        podSelector: {matchLabels: {pod: b}}
                      - podSelector: {matchExpressions: [{key: tier, operator: In, values: [db]}]}
                    """)
            ]
        ),
        (
            "ipBlock with except",
            [
                policy(
                    "y/blocks",
                    """
                    podSelector: {}
                    ingress:
                    - from: [{ipBlock: {cidr: 10.0.0.0/16, except: [10.0.2.0/24]}}, {ipBlock: {cidr: 10.0.2.12/32}}]
                      ports: [{port: 8080, endPort: 8081}, {protocol: UDP}]
                    """)
            ]
        ),
        (
            "egress with named ports and DNS",
            [
                policy(
                    "x/egress",
                    """
                    podSelector: {matchLabels: {pod: a}}
                    policyTypes: [Egress]
                    egress:
                    - to: [{podSelector: {}, namespaceSelector: {matchLabels: {ns: y}}}]
                      ports: [{port: http}]
                    - ports: [{port: dns, protocol: UDP}]
                    """)
            ]
        ),
        (
            "stacked policies and SCTP",
            [
                policy(
                    "x/one",
                    "podSelector: {matchLabels: {pod: c}}\n"
                        + "ingress: [{from: [{podSelector: {matchLabels: {pod: a}}}]}]"),
                policy(
                    "x/two", "podSelector: {matchLabels: {pod: c}}\ningress: [{ports: [{port: 82, protocol: SCTP}]}]"),
                policy("y/egress-all", "podSelector: {}\npolicyTypes: [Egress]\negress: [{}]"),
            ]
        ),
    ]

    static let ports = [
        PortQuery("8080")!, PortQuery("8082")!, PortQuery("53/UDP")!, PortQuery("82/SCTP")!, PortQuery("80")!,
    ]

    func kernelAllows(
        _ plans: [String: FirewallWalk], from src: Pod, to dst: Pod, port: Int, proto: PortProtocol
    ) -> Bool {
        let packet = FirewallWalk.Packet(source: src.ips[0], destination: dst.ips[0], proto: proto, port: port)
        // Each node enforces only its own pods; a packet between nodes crosses both nodes' FORWARD.
        let nodes = Set([src.nodeName, dst.nodeName])
        return nodes.allSatisfy { plans[$0]!.walk(packet, builtin: "FORWARD").verdict == .accept }
    }

    /// Every scenario as written, and again with the agent's --netpol-default-deny.
    @Test(arguments: scenarios.indices, [false, true])
    func plannedRulesAgreeWithTheEngine(_ index: Int, defaultDeny: Bool) throws {
        let (name, policies) = Self.scenarios[index]
        let c = try Cluster([Self.cluster] + policies, defaultDeny: defaultDeny)
        let planner = FirewallPlanner(engine: c.engine)
        let plans = ["node-a", "node-b"].reduce(into: [String: FirewallWalk]()) {
            $0[$1] = FirewallWalk(plan: planner.plan(node: $1, family: .ipv4))
        }
        let pods = c.engine.endpointPods()
        var checked = 0
        for src in pods {
            for dst in pods where dst.key != src.key {
                for query in Self.ports {
                    guard case .number(let port) = query.value else { continue }
                    let s = TrafficEndpoint(kind: .pod(src), ip: src.ips[0])
                    let d = TrafficEndpoint(kind: .pod(dst), ip: dst.ips[0])
                    let intent = c.engine.allows(from: s, to: d, port: port, proto: query.proto)
                    let kernel = kernelAllows(plans, from: src, to: dst, port: port, proto: query.proto)
                    #expect(
                        intent == kernel,
                        "\(name): \(src.key) → \(dst.key) \(query): engine \(intent), rules \(kernel)"
                    )
                    checked += 1
                }
            }
        }
        #expect(checked == 9 * 8 * Self.ports.count)
    }

    @Test func externalSourcesAndNodeTraffic() throws {
        let c = try Cluster(
            Self.cluster,
            policy(
                "y/blocks",
                """
                podSelector: {}
                ingress: [{from: [{ipBlock: {cidr: 192.0.2.0/24, except: [192.0.2.128/25]}}]}]
                """))
        let walk = FirewallWalk(plan: FirewallPlanner(engine: c.engine).plan(node: "node-b", family: .ipv4))
        let dst = IPAddress("10.0.1.10")!
        #expect(
            walk.walk(
                .init(source: IPAddress("192.0.2.1")!, destination: dst, proto: .tcp, port: 80), builtin: "FORWARD"
            ).verdict == .accept)
        let denied = walk.walk(
            .init(source: IPAddress("192.0.2.200")!, destination: dst, proto: .tcp, port: 80), builtin: "FORWARD")
        #expect(denied.verdict == .reject)
        #expect(denied.decidingStep?.comment == "pod y/a ingress: denied by y/blocks")
        #expect(denied.steps.contains { $0.target == "NFLOG" }, "a denied packet is logged")
        // The node itself (kubelet probes) and established connections always pass.
        let probe = walk.walk(
            .init(source: IPAddress("192.168.0.2")!, destination: dst, proto: .tcp, port: 8080, sourceIsLocal: true),
            builtin: "OUTPUT")
        #expect(probe.verdict == .accept && probe.decidingStep?.comment.contains("kubelet") == true)
        let reply = walk.walk(
            .init(source: IPAddress("192.0.2.200")!, destination: dst, proto: .tcp, port: 80, state: "ESTABLISHED"),
            builtin: "FORWARD")
        #expect(reply.verdict == .accept)
    }

    @Test func namesFitTheKernelAndAreStable() throws {
        let c = try Cluster(
            Self.cluster, policy("x/deny", "podSelector: {}"),
            policy(
                "x/from-y",
                """
                podSelector: {}
                ingress: [{from: [{namespaceSelector: {matchLabels: {ns: y}}}], ports: [{port: http}]}]
                """))
        let plan = FirewallPlanner(engine: c.engine).plan(node: "node-a", family: .ipv4)
        #expect(plan.chains.allSatisfy { $0.name.count <= 28 })
        #expect(plan.sets.allSatisfy { $0.name.count <= 31 })
        #expect(plan.chains.contains { $0.name == FirewallNames.podChain("x/a") })
        #expect(
            plan == FirewallPlanner(engine: c.engine).plan(node: "node-a", family: .ipv4), "planning is deterministic")
        #expect(plan.chain(FirewallNames.podChain("z/a")) == nil, "z is not isolated: no chain")
        let named = try #require(plan.sets.first { $0.type == .hashIPPort })
        #expect(
            named.members == [
                .ipPort("10.0.0.10", .tcp, 8080), .ipPort("10.0.0.11", .tcp, 8081), .ipPort("10.0.0.12", .tcp, 8082),
            ])
        let text = plan.iptablesRestore()
        #expect(text.hasPrefix("*filter\n:KUBE-ROUTER-INPUT - [0:0]\n"))
        #expect(text.contains("-I FORWARD 1 -m comment --comment \"kube-router netpol\" -j KUBE-ROUTER-FORWARD"))
        #expect(text.contains("-m set --match-set \(named.name) dst,dst"))
        #expect(plan.ipsetRestore().contains("create \(named.name) hash:ip,port family inet -exist"))
    }

    @Test func ipv6PlanIsSeparate() throws {
        let c = try Cluster(
            namespace("v6") + pod("v6/a", "fd00::a", ["pod": "a"]) + pod("v6/b", "fd00::b", ["pod": "b"]),
            policy(
                "v6/p",
                "podSelector: {matchLabels: {pod: a}}\n"
                    + "ingress: [{from: [{ipBlock: {cidr: \"fd00::/64\", except: [\"fd00::b/128\"]}}]}]"
            ))
        let planner = FirewallPlanner(engine: c.engine)
        let v4 = planner.plan(node: "node-a", family: .ipv4)
        #expect(
            v4.chains.count == 3 && v4.chains.allSatisfy(\.rules.isEmpty) && v4.sets.isEmpty,
            "IPv6-only pods need no IPv4 rules")
        let walk = FirewallWalk(plan: planner.plan(node: "node-a", family: .ipv6))
        #expect(
            walk.walk(
                .init(source: IPAddress("fd00::b")!, destination: IPAddress("fd00::a")!, proto: .tcp, port: 80),
                builtin: "FORWARD"
            ).verdict == .reject)
        #expect(
            walk.walk(
                .init(source: IPAddress("fd00::c")!, destination: IPAddress("fd00::a")!, proto: .tcp, port: 80),
                builtin: "FORWARD"
            ).verdict == .accept)
    }
}
