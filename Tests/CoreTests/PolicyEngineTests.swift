import Testing

@testable import KubeModel
@testable import Planning

/// Scenarios after the categories of the upstream Kubernetes NetworkPolicy e2e suite
/// (test/e2e/network/netpol): pods x, y, z with labels pod=a|b|c in namespaces x, y, z.
let base: String = {
    var s = ""
    for (n, ns) in ["x", "y", "z"].enumerated() {
        s += namespace(ns, ["ns": ns])
        for (i, name) in ["a", "b", "c"].enumerated() {
            s += pod(
                "\(ns)/\(name)", "10.0.\(n).\(i + 10)", ["pod": name],
                ports:
                    "[{name: serve-80-tcp, containerPort: 80}, {name: serve-81-udp, containerPort: 81, protocol: UDP}, "
                    + "{name: serve-82-sctp, containerPort: 82, protocol: SCTP}]"
            )
        }
    }
    return s
}()

@Suite struct IsolationTests {
    @Test func noPoliciesAllowEverything() throws {
        let c = try Cluster(base)
        #expect(try c.allowed("x/a", "y/b", "80"))
        let e = try c.explain("x/a", "y/b", "80")
        #expect(!e.egress.isolated && !e.ingress.isolated)
        #expect(e.ingress.reason.contains("no NetworkPolicy selects y/b for ingress"))
    }

    @Test func defaultDenyIngressIsolatesOnlyItsNamespace() throws {
        let c = try Cluster(base, policy("x/deny", "podSelector: {}"))
        #expect(try !c.allowed("y/a", "x/a", "80"))
        #expect(try !c.allowed("x/b", "x/a", "80"), "same-namespace traffic is denied too")
        #expect(try c.allowed("x/a", "y/a", "80"), "ingress isolation does not restrict egress")
        #expect(try c.allowed("x/a", "y/b", "80"))
        let e = try c.explain("y/a", "x/a", "80")
        #expect(e.verdict == .deny && e.ingress.policies == ["x/deny"] && e.ingress.rules.isEmpty)
        #expect(e.ingress.reason.contains("allow no ingress traffic"))
    }

    @Test func explicitEmptyIngressListDeniesAll() throws {
        let c = try Cluster(base, policy("x/deny", "podSelector: {}\ningress: []\npolicyTypes: [Ingress]"))
        #expect(try !c.allowed("y/a", "x/a", "80"))
    }

    @Test func emptyRuleAllowsAll() throws {
        let c = try Cluster(
            base, policy("x/deny", "podSelector: {}"), policy("x/all", "podSelector: {}\ningress: [{}]"))
        #expect(try c.allowed("z/c", "x/a", "81/UDP"))
        let e = try c.explain("z/c", "x/a", "80")
        #expect(e.ingress.allowedBy.map(\.policy) == ["x/all"])
        #expect(e.ingress.allowedBy.first?.peer == nil && e.ingress.allowedBy.first?.port == nil)
    }

    @Test func defaultDenyEgress() throws {
        let c = try Cluster(base, policy("x/deny-egress", "podSelector: {}\npolicyTypes: [Egress]"))
        #expect(try !c.allowed("x/a", "y/a", "80"))
        #expect(try c.allowed("y/a", "x/a", "80"), "an Egress-only policy leaves ingress open")
        let e = try c.explain("x/a", "y/a", "80")
        #expect(e.egress.verdict == .deny && e.ingress.verdict == .allow)
    }

    @Test func egressRulesWithoutPolicyTypesIsolateEgress() throws {
        let c = try Cluster(
            base,
            policy(
                "x/egress",
                """
                podSelector: {matchLabels: {pod: a}}
                egress: [{to: [{podSelector: {matchLabels: {pod: b}}}]}]
                """))
        #expect(try c.allowed("x/a", "x/b", "80"))
        #expect(try !c.allowed("x/a", "x/c", "80"))
        #expect(try !c.allowed("x/b", "x/a", "80"), "Ingress is always in the defaulted policyTypes")
    }

    @Test func policyTypesEgressOnlyIgnoresIngressRules() throws {
        let c = try Cluster(
            base,
            policy(
                "x/p",
                """
                podSelector: {}
                policyTypes: [Egress]
                ingress: [{from: [{podSelector: {matchLabels: {pod: nobody}}}]}]
                egress: [{}]
                """))
        #expect(try c.allowed("y/a", "x/a", "80"))
        #expect(try !c.explain("y/a", "x/a", "80").ingress.isolated)
    }

    @Test func podSelectorOfThePolicyChoosesItsTargets() throws {
        let c = try Cluster(base, policy("x/deny-a", "podSelector: {matchLabels: {pod: a}}"))
        #expect(try !c.allowed("y/a", "x/a", "80"))
        #expect(try c.allowed("y/a", "x/b", "80"))
    }

    @Test func policiesAreUnioned() throws {
        let c = try Cluster(
            base,
            policy(
                "x/from-b",
                "podSelector: {matchLabels: {pod: a}}\ningress: [{from: [{podSelector: {matchLabels: {pod: b}}}]}]"),
            policy(
                "x/from-c",
                "podSelector: {matchLabels: {pod: a}}\ningress: [{from: [{podSelector: {matchLabels: {pod: c}}}]}]"))
        #expect(try c.allowed("x/b", "x/a", "80"))
        #expect(try c.allowed("x/c", "x/a", "80"))
        #expect(try !c.allowed("y/b", "x/a", "80"))
        let e = try c.explain("x/c", "x/a", "80")
        #expect(e.ingress.policies == ["x/from-b", "x/from-c"])
        #expect(e.ingress.allowedBy.map(\.policy) == ["x/from-c"])
        #expect(e.ingress.rules.map(\.allows) == [false, true])
    }

    @Test func podToPodNeedsEgressAndIngress() throws {
        let c = try Cluster(
            base,
            policy(
                "x/egress",
                "podSelector: {matchLabels: {pod: a}}\npolicyTypes: [Egress]\n"
                    + "egress: [{to: [{namespaceSelector: {matchLabels: {ns: y}}}]}]"
            ),
            policy(
                "y/ingress",
                "podSelector: {matchLabels: {pod: b}}\ningress: [{from: [{podSelector: {matchLabels: {pod: c}}}]}]"))
        #expect(try !c.allowed("x/a", "y/b", "80"), "egress allows but ingress does not")
        #expect(try c.allowed("x/a", "y/a", "80"))
        #expect(try !c.allowed("x/a", "z/a", "80"), "ingress would allow but egress does not")
        #expect(try c.allowed("y/c", "y/b", "80"))
        let e = try c.explain("x/a", "y/b", "80")
        #expect(e.egress.verdict == .allow && e.ingress.verdict == .deny && e.verdict == .deny)
    }
}

@Suite struct PeerTests {
    @Test func namespaceSelectorAllowsEveryPodOfMatchingNamespaces() throws {
        let c = try Cluster(
            base,
            policy("x/from-y", "podSelector: {}\ningress: [{from: [{namespaceSelector: {matchLabels: {ns: y}}}]}]"))
        #expect(try c.allowed("y/a", "x/a", "80"))
        #expect(try c.allowed("y/c", "x/b", "80"))
        #expect(try !c.allowed("z/a", "x/a", "80"))
        #expect(try !c.allowed("x/b", "x/a", "80"), "its own namespace does not match ns=y")
    }

    @Test func automaticNamespaceNameLabel() throws {
        let c = try Cluster(
            base,
            policy(
                "x/from-z",
                """
                podSelector: {}
                ingress: [{from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: z}}}]}]
                """))
        #expect(try c.allowed("z/a", "x/a", "80"))
        #expect(try !c.allowed("y/a", "x/a", "80"))
    }

    @Test func podSelectorAloneMeansThePolicysNamespace() throws {
        let c = try Cluster(
            base, policy("x/from-b", "podSelector: {}\ningress: [{from: [{podSelector: {matchLabels: {pod: b}}}]}]"))
        #expect(try c.allowed("x/b", "x/a", "80"))
        #expect(try !c.allowed("y/b", "x/a", "80"))
    }

    @Test func podAndNamespaceSelectorsInOnePeerAreANDed() throws {
        let c = try Cluster(
            base,
            policy(
                "x/p",
                """
                podSelector: {}
                ingress:
                - from:
                  - namespaceSelector: {matchLabels: {ns: y}}
                    podSelector: {matchLabels: {pod: b}}
                """))
        #expect(try c.allowed("y/b", "x/a", "80"))
        #expect(try !c.allowed("y/a", "x/a", "80"))
        #expect(try !c.allowed("z/b", "x/a", "80"))
        #expect(try !c.allowed("x/b", "x/a", "80"))
    }

    @Test func separatePeersAreORed() throws {
        let c = try Cluster(
            base,
            policy(
                "x/p",
                """
                podSelector: {}
                ingress:
                - from:
                  - namespaceSelector: {matchLabels: {ns: y}}
                  - podSelector: {matchLabels: {pod: b}}
                """))
        #expect(try c.allowed("y/a", "x/a", "80"))
        #expect(try c.allowed("x/b", "x/a", "80"))
        #expect(try !c.allowed("z/b", "x/a", "80"))
        #expect(try c.explain("x/b", "x/a", "80").ingress.allowedBy.first?.peer == 1)
    }

    @Test func emptyNamespaceSelectorMeansAllNamespaces() throws {
        let c = try Cluster(
            base,
            policy(
                "x/p",
                """
                podSelector: {}
                ingress: [{from: [{namespaceSelector: {}, podSelector: {matchLabels: {pod: c}}}]}]
                """))
        #expect(try c.allowed("z/c", "x/a", "80"))
        #expect(try c.allowed("y/c", "x/a", "80"))
        #expect(try !c.allowed("y/b", "x/a", "80"))
    }

    @Test func matchExpressionsInPeersAndTargets() throws {
        let c = try Cluster(
            base,
            policy(
                "x/p",
                """
                podSelector: {matchExpressions: [{key: pod, operator: NotIn, values: [c]}]}
                ingress:
                - from:
                  - namespaceSelector: {matchExpressions: [{key: ns, operator: In, values: [y, z]}]}
                    podSelector: {matchExpressions: [{key: pod, operator: Exists}]}
                """))
        #expect(try c.allowed("y/a", "x/a", "80"))
        #expect(try c.allowed("z/c", "x/b", "80"))
        #expect(try !c.allowed("x/b", "x/a", "80"))
        #expect(try c.allowed("x/b", "x/c", "80"), "x/c is not selected (NotIn) and so not isolated")
    }

    @Test func ipBlockWithExcept() throws {
        let c = try Cluster(
            base,
            policy(
                "x/p",
                """
                podSelector: {}
                ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/16, except: [10.0.1.0/24]}}]}]
                """))
        #expect(
            try c.allowed("10.0.2.10", "x/a", "80"), "z/a's address is in the block: ipBlock matches pods by address")
        #expect(try !c.allowed("y/a", "x/a", "80"), "10.0.1.10 is in the except range")
        #expect(try c.allowed("10.0.200.1", "x/a", "80"))
        #expect(try !c.allowed("192.168.1.1", "x/a", "80"))
        let e = try c.explain("10.0.200.1", "x/a", "80")
        #expect(e.from.kind == "external" && e.egress.reason.contains("not a pod"))
    }

    @Test func egressToIPBlock() throws {
        let c = try Cluster(
            base,
            policy(
                "x/p",
                """
                podSelector: {matchLabels: {pod: a}}
                policyTypes: [Egress]
                egress: [{to: [{ipBlock: {cidr: 8.8.8.0/24}}], ports: [{port: 53, protocol: UDP}]}]
                """))
        #expect(try c.allowed("x/a", "8.8.8.8", "53/UDP"))
        #expect(try !c.allowed("x/a", "8.8.8.8", "53/TCP"))
        #expect(try !c.allowed("x/a", "1.1.1.1", "53/UDP"))
        #expect(try !c.allowed("x/a", "y/a", "80"))
    }
}

@Suite struct PortTests {
    @Test func numericPortsAndDefaultProtocol() throws {
        let c = try Cluster(base, policy("x/p", "podSelector: {}\ningress: [{ports: [{port: 80}]}]"))
        #expect(try c.allowed("y/a", "x/a", "80"))
        #expect(try c.allowed("y/a", "x/a", "80/tcp"))
        #expect(try !c.allowed("y/a", "x/a", "81"))
        #expect(try !c.allowed("y/a", "x/a", "80/UDP"), "the protocol defaults to TCP")
    }

    @Test func namedPortIngressResolvesOnTheDestination() throws {
        let c = try Cluster(base, policy("x/p", "podSelector: {}\ningress: [{ports: [{port: serve-80-tcp}]}]"))
        #expect(try c.allowed("y/a", "x/a", "80"))
        #expect(try !c.allowed("y/a", "x/a", "81"))
        let e = try c.explain("y/a", "x/a", "serve-80-tcp")
        #expect(e.port == 80)
        #expect(e.ingress.namedPorts == [.init(name: "serve-80-tcp", protocol: .tcp, pod: "x/a", resolvedTo: [80])])
    }

    @Test func namedPortProtocolMustMatch() throws {
        let c = try Cluster(
            base, policy("x/p", "podSelector: {}\ningress: [{ports: [{port: serve-81-udp, protocol: TCP}]}]"))
        #expect(try !c.allowed("y/a", "x/a", "81/UDP"))
        #expect(try !c.allowed("y/a", "x/a", "81/TCP"))
        let e = try c.explain("y/a", "x/a", "81/TCP")
        #expect(e.ingress.namedPorts.first?.resolvedTo == [])
    }

    @Test func namedPortUDPAndSCTP() throws {
        let c = try Cluster(
            base,
            policy(
                "x/p",
                """
                podSelector: {}
                ingress: [{ports: [{port: serve-81-udp, protocol: UDP}, {port: serve-82-sctp, protocol: SCTP}]}]
                """))
        #expect(try c.allowed("y/a", "x/a", "81/UDP"))
        #expect(try c.allowed("y/a", "x/a", "82/SCTP"))
        #expect(try !c.allowed("y/a", "x/a", "82/TCP"))
    }

    @Test func namedPortInEgressResolvesOnTheDestinationPod() throws {
        let c = try Cluster(
            base + pod("y/other", "10.0.1.50", ["pod": "other"], ports: "[{name: serve-80-tcp, containerPort: 8080}]"),
            policy("x/p", "podSelector: {}\npolicyTypes: [Egress]\negress: [{ports: [{port: serve-80-tcp}]}]"))
        #expect(try c.allowed("x/a", "y/a", "80"))
        #expect(try c.allowed("x/a", "y/other", "8080"))
        #expect(try !c.allowed("x/a", "y/other", "80"), "the name means 8080 on y/other")
        #expect(try !c.allowed("x/a", "8.8.8.8", "80"), "a named port never matches a non-pod destination")
    }

    @Test func endPortRangeIsInclusive() throws {
        let c = try Cluster(base, policy("x/p", "podSelector: {}\ningress: [{ports: [{port: 80, endPort: 82}]}]"))
        #expect(try c.allowed("y/a", "x/a", "80"))
        #expect(try c.allowed("y/a", "x/a", "82"))
        #expect(try !c.allowed("y/a", "x/a", "79"))
        #expect(try !c.allowed("y/a", "x/a", "83"))
    }

    @Test func protocolWithoutPortMeansEveryPortOfThatProtocol() throws {
        let c = try Cluster(base, policy("x/p", "podSelector: {}\ningress: [{ports: [{protocol: UDP}]}]"))
        #expect(try c.allowed("y/a", "x/a", "81/UDP"))
        #expect(try c.allowed("y/a", "x/a", "65535/UDP"))
        #expect(try !c.allowed("y/a", "x/a", "81/TCP"))
    }

    @Test func sctpRules() throws {
        let c = try Cluster(base, policy("x/p", "podSelector: {}\ningress: [{ports: [{port: 82, protocol: SCTP}]}]"))
        #expect(try c.allowed("y/a", "x/a", "82/SCTP"))
        #expect(try !c.allowed("y/a", "x/a", "82/TCP"))
    }

    @Test func peerAndPortMustBothMatchInOneRule() throws {
        let c = try Cluster(
            base,
            policy(
                "x/p",
                """
                podSelector: {}
                ingress:
                - from: [{podSelector: {matchLabels: {pod: b}}}]
                  ports: [{port: 80}]
                - from: [{podSelector: {matchLabels: {pod: c}}}]
                  ports: [{port: 81, protocol: UDP}]
                """))
        #expect(try c.allowed("x/b", "x/a", "80"))
        #expect(try !c.allowed("x/b", "x/a", "81/UDP"))
        #expect(try c.allowed("x/c", "x/a", "81/UDP"))
        #expect(try !c.allowed("x/c", "x/a", "80"))
        let e = try c.explain("x/c", "x/a", "80")
        #expect(
            e.ingress.rules.map(\.reason) == [
                "x/c (10.0.0.12) matches none of pods {pod=b} in the policy's namespace",
                "80/TCP is not in 81/UDP",
            ])
    }
}

@Suite struct SpecialEndpointTests {
    @Test func hostNetworkPodsAreNotSubjectToPolicy() throws {
        let c = try Cluster(
            base + pod("x/host", "192.168.0.1", ["pod": "a"], node: "node-b", extra: ", hostNetwork: true"),
            policy("x/deny", "podSelector: {}\npolicyTypes: [Ingress, Egress]"))
        #expect(try c.allowed("y/a", "x/host", "80"))
        #expect(
            try !c.allowed("x/host", "x/a", "80"),
            "from another node, as a peer it is not matched by selectors, and x/a denies")
        let e = try c.explain("x/host", "y/a", "80")
        #expect(!e.egress.subject && e.egress.reason.contains("host network"))
    }

    @Test func hostNetworkPeersMatchOnlyByAddress() throws {
        let c = try Cluster(
            base + pod("y/host", "192.168.0.7", ["pod": "b"], extra: ", hostNetwork: true"),
            policy("x/p", "podSelector: {}\ningress: [{from: [{podSelector: {}, namespaceSelector: {}}]}]"),
            policy("x/q", "podSelector: {}\ningress: [{from: [{ipBlock: {cidr: 192.168.0.0/24}}]}]"))
        let e = try c.explain("y/host", "x/a", "80")
        #expect(e.verdict == .allow && e.ingress.allowedBy.map(\.policy) == ["x/q"])
    }

    @Test func podsWithoutAddressOrFinishedAreNotEndpoints() throws {
        let c = try Cluster(
            base, "---\nkind: Pod\nmetadata: {name: pending, namespace: x}\nstatus: {phase: Pending}\n",
            "---\nkind: Pod\nmetadata: {name: done, namespace: x}\nstatus: {phase: Succeeded, podIP: 10.0.0.99}\n")
        #expect(throws: QueryError.self) { try c.explain("x/pending", "x/a", "80") }
        #expect(throws: QueryError.self) { try c.explain("x/a", "x/done", "80") }
        #expect(throws: QueryError.self) { try c.explain("x/missing", "x/a", "80") }
        #expect(!c.engine.endpointPods().contains { $0.name == "pending" || $0.name == "done" })
        // The finished pod's old address now belongs to nobody: it is an external address.
        #expect(try c.explain("10.0.0.99", "x/a", "80").from.kind == "external")
    }

    @Test func trafficFromThePodsOwnNodeIsAllowed() throws {
        let node =
            "---\nkind: Node\nmetadata: {name: node-a}\n"
            + "status: {addresses: [{type: InternalIP, address: 192.168.0.10}]}\n"
        let c = try Cluster(base, node, policy("x/deny", "podSelector: {}"))
        let e = try c.explain("192.168.0.10", "x/a", "80")
        #expect(e.verdict == .allow && e.from.kind == "node")
        #expect(e.ingress.reason.contains("own node"))
        let other = try Cluster(
            base + pod("x/far", "10.0.0.77", node: "node-b"), node, policy("x/deny", "podSelector: {}"))
        #expect(try !other.allowed("192.168.0.10", "x/far", "80"), "another node's address gets no exemption")
    }

    @Test func hostNetworkPodOnTheSameNodeCountsAsNodeTraffic() throws {
        let c = try Cluster(
            base + pod("kube-system/agent", "192.168.0.10", ["app": "agent"], extra: ", hostNetwork: true")
                + pod("x/far", "10.0.0.77", node: "node-b"),
            policy("x/deny", "podSelector: {}"))
        #expect(try c.allowed("kube-system/agent", "x/a", "80"), "same node (node-a): always allowed")
        #expect(try !c.allowed("kube-system/agent", "x/far", "80"), "x/far runs on node-b")
    }

    @Test func aPodAlwaysReachesItself() throws {
        let c = try Cluster(base, policy("x/deny", "podSelector: {}\npolicyTypes: [Ingress, Egress]"))
        let e = try c.explain("x/a", "x/a", "80")
        #expect(e.verdict == .allow && e.ingress.reason.contains("never leaves"))
        #expect(try !c.allowed("x/a", "x/b", "80"))
    }

    @Test func unknownNamedQueryPortIsAClearError() throws {
        let c = try Cluster(base)
        let error = try #require(throws: QueryError.self) { try c.explain("x/a", "y/a", "nope") }
        #expect(error.description.contains("has no container port named \"nope\""))
        #expect(error.description.contains("serve-80-tcp=80/TCP"))
    }
}

@Suite struct IPv6Tests {
    let v6: String =
        namespace("v6") + pod("v6/a", "fd00::a", ["pod": "a"]) + pod("v6/b", "fd00::b", ["pod": "b"])
        + pod("v6/c", "fd00:1::c", ["pod": "c"])

    @Test func ipv6SelectorsAndBlocks() throws {
        let c = try Cluster(
            v6,
            policy(
                "v6/p",
                """
                podSelector: {matchLabels: {pod: a}}
                ingress:
                - from: [{ipBlock: {cidr: "fd00::/64", except: ["fd00::b/128"]}}]
                - from: [{podSelector: {matchLabels: {pod: c}}}]
                  ports: [{port: 443}]
                """))
        #expect(try !c.allowed("v6/b", "v6/a", "80"), "fd00::b is excepted")
        #expect(try c.allowed("fd00::99", "v6/a", "80"))
        #expect(try c.allowed("v6/c", "v6/a", "443"))
        #expect(try !c.allowed("v6/c", "v6/a", "80"))
        #expect(throws: QueryError.self, "an IPv4 source cannot reach an IPv6-only pod") {
            try c.allowed("10.0.0.1", "v6/a", "80")
        }
    }

    @Test func dualStackPodsPairByFamily() throws {
        let yaml = """
            ---
            kind: Pod
            metadata: {name: dual, namespace: v6, labels: {pod: d}}
            status: {podIPs: [{ip: 10.1.0.1}, {ip: "fd00::d"}]}

            """
        let c = try Cluster(v6, yaml)
        let e = try c.explain("v6/dual", "v6/a", "80")
        #expect(e.from.ip == "fd00::d")
        #expect(throws: QueryError.self) { try c.explain("10.9.9.9", "v6/a", "80") }
    }
}

@Suite struct MatrixTests {
    @Test func matrixAgreesWithSingleQueries() throws {
        let c = try Cluster(
            base,
            policy(
                "x/p",
                "podSelector: {matchLabels: {pod: a}}\n"
                    + "ingress: [{from: [{namespaceSelector: {matchLabels: {ns: y}}}], ports: [{port: serve-80-tcp}]}]"
            ),
            policy("y/q", "podSelector: {}\npolicyTypes: [Egress]\negress: [{to: [{podSelector: {}}]}]"))
        let pods = c.engine.endpointPods()
        let ports = [PortQuery("80")!, PortQuery("81/UDP")!]
        let m = c.engine.matrix(pods: pods, ports: ports)
        #expect(m.cells.count == 2 * 9 * 8)
        for (p, port) in ["80", "81/UDP"].enumerated() {
            for i in pods.indices {
                for j in pods.indices where i != j {
                    let cell = try #require(m.cell(from: i, to: j, port: p))
                    #expect(cell.from == pods[i].key && cell.to == pods[j].key)
                    #expect((cell.verdict == .allow) == (try c.allowed(pods[i].key, pods[j].key, port)))
                }
            }
        }
        #expect(m.cell(from: 0, to: 0, port: 0) == nil)
        #expect(m.cells.contains { $0.verdict == .allow } && m.cells.contains { $0.verdict == .deny })
    }

    @Test func textGridMarksEveryCell() throws {
        let c = try Cluster(base, policy("x/deny", "podSelector: {}"))
        let m = c.engine.matrix(pods: c.engine.endpointPods(namespaces: ["x", "y"]), ports: [PortQuery("80")!])
        let text = PolicyText.matrix(m, terminal: Terminal(color: false))
        #expect(text.contains("Port 80/TCP"))
        #expect(
            text.contains("15 of 30 pairs allowed"),
            "x denies all ingress: only the 15 pairs into y (6 from y, 9 from x)")
        #expect(!text.contains("\u{1B}["), "no colour when asked for none")
    }
}
