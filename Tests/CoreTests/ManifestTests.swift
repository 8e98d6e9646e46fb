import Foundation
import Testing

@testable import KubeModel
@testable import Planning

@Suite struct ManifestDecodingTests {
    @Test func readsPodWithPortsAddressesAndDefaults() throws {
        let objs = try objects(
            """
            apiVersion: v1
            kind: Pod
            metadata: {name: web, labels: {app: web}, unknownField: 1}
            spec:
              nodeName: n1
              containers:
              - name: a
                ports: [{name: http, containerPort: 8080}, {containerPort: 53, protocol: UDP}]
            status:
              phase: Running
              podIPs: [{ip: 10.0.0.5}, {ip: "fd00::5"}]
              hostIP: 192.168.0.1
            """)
        guard case .pod(let pod) = try #require(objs.first) else {
            Issue.record("not a pod")
            return
        }
        #expect(pod.key == "default/web", "a namespaced object without a namespace lands in default")
        #expect(pod.ips.map(\.description) == ["10.0.0.5", "fd00::5"])
        #expect(pod.namedPorts("http", proto: .tcp) == [8080])
        #expect(pod.namedPorts("http", proto: .udp) == [])
        #expect(pod.ports.last?.proto == .udp)
        #expect(pod.hostIP?.description == "192.168.0.1")
        #expect(pod.isEndpoint && pod.isPolicySubject)
    }

    @Test func podIPFallbackAndFinishedPods() throws {
        let objs = try objects(
            """
            apiVersion: v1
            kind: Pod
            metadata: {name: job, namespace: batch}
            status: {phase: Succeeded, podIP: 10.0.0.9}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: pending, namespace: batch}
            status: {phase: Pending}
            """)
        let pods = objs.compactMap { if case .pod(let p) = $0 { p } else { nil } }
        #expect(pods.map(\.ips.count) == [1, 0])
        #expect(pods.allSatisfy { !$0.isEndpoint })
    }

    @Test func readsListsTypedListsAndSkipsUnknownKinds() throws {
        let objs = try objects(
            """
            apiVersion: v1
            kind: List
            items:
            - {apiVersion: v1, kind: Namespace, metadata: {name: a}}
            - {apiVersion: apps/v1, kind: Deployment, metadata: {name: d}}
            ---
            apiVersion: v1
            kind: PodList
            items:
            - {metadata: {name: p1, namespace: a}, status: {podIP: 10.0.0.1}}
            - {metadata: {name: p2, namespace: a}, status: {podIP: 10.0.0.2}}
            """)
        #expect(objs.map(\.kind) == ["Namespace", "Pod", "Pod"])
    }

    @Test func namespacesCarryTheAutomaticNameLabel() throws {
        let snapshot = ClusterSnapshot(try objects(namespace("prod", ["team": "x"]) + pod("other/p", "10.0.0.1")))
        #expect(snapshot.namespaces["prod"]?.labels == ["team": "x", "kubernetes.io/metadata.name": "prod"])
        #expect(
            snapshot.namespaces["other"]?.labels == ["kubernetes.io/metadata.name": "other"],
            "a namespace only referenced by objects is implied")
    }

    @Test func readsNetworkPolicyAndDefaultsPolicyTypes() throws {
        let objs = try objects(
            policy(
                "ns/p",
                """
                podSelector: {matchLabels: {app: db}}
                ingress:
                - from:
                  - podSelector: {matchLabels: {app: api}}
                    namespaceSelector: {matchExpressions: [{key: team, operator: In, values: [a, b]}]}
                  - ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16]}
                  ports: [{port: 5432}, {protocol: UDP, port: 1000, endPort: 2000}, {port: http}, {protocol: SCTP}]
                egress:
                - {}
                """))
        guard case .networkPolicy(let np) = try #require(objs.first) else {
            Issue.record("not a policy")
            return
        }
        #expect(np.policyTypes == [.ingress, .egress])
        #expect(np.ingress[0].peers.count == 2)
        #expect(
            np.ingress[0].ports.map(\.description) == ["5432/TCP", "1000-2000/UDP", "\"http\"/TCP", "all SCTP ports"])
        #expect(np.egress == [NetworkPolicy.Rule()])
    }

    @Test func emptyEgressListWithoutPolicyTypesDoesNotIsolateEgress() throws {
        let objs = try objects(policy("ns/p", "podSelector: {}\negress: []"))
        guard case .networkPolicy(let np) = try #require(objs.first) else {
            Issue.record("expected a NetworkPolicy, got \(String(describing: objs.first))")
            return
        }
        #expect(np.policyTypes == [.ingress])
    }

    @Test func readsJSONFilesAndFolders() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
            "kr-manifests-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(
            at: dir.appendingPathComponent("sub"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try #"{"kind":"Namespace","apiVersion":"v1","metadata":{"name":"j","labels":{"a":"b"}}}"#
            .write(to: dir.appendingPathComponent("ns.json"), atomically: true, encoding: .utf8)
        try pod("j/p", "10.0.0.1").write(
            to: dir.appendingPathComponent("sub/pod.yml"), atomically: true, encoding: .utf8)
        try "ignored".write(to: dir.appendingPathComponent("README.md"), atomically: true, encoding: .utf8)
        let snapshot = try ManifestSource(paths: [dir.path]).snapshot()
        #expect(snapshot.namespaces["j"]?.labels["a"] == "b")
        #expect(snapshot.pods["j/p"] != nil)
    }

    @Test func missingPathIsAnError() {
        #expect(throws: ManifestLoadError.self) { try ManifestSource(paths: ["/nonexistent/kr"]).snapshot() }
    }

    @Test func laterObjectWithSameKeyWins() throws {
        let snapshot = ClusterSnapshot(try objects(pod("a/p", "10.0.0.1") + pod("a/p", "10.0.0.2")))
        #expect(snapshot.pods["a/p"]?.ips.first?.description == "10.0.0.2")
    }

    @Test func readsServicesEndpointSlicesAndNodes() throws {
        let objs = try objects(
            """
            apiVersion: v1
            kind: Service
            metadata: {name: web, namespace: shop}
            spec:
              type: NodePort
              clusterIP: 10.96.0.10
              ports: [{name: http, port: 80, targetPort: http, nodePort: 30080}]
              selector: {app: web}
              sessionAffinity: ClientIP
            ---
            apiVersion: discovery.k8s.io/v1
            kind: EndpointSlice
            metadata: {name: web-abc, namespace: shop, labels: {kubernetes.io/service-name: web}}
            addressType: IPv4
            endpoints:
            - addresses: [10.0.0.5]
              conditions: {ready: false, terminating: true}
              targetRef: {kind: Pod, name: web-1, namespace: shop}
            ports: [{name: http, port: 8080}]
            ---
            apiVersion: v1
            kind: Node
            metadata: {name: n1}
            spec: {podCIDRs: [10.244.1.0/24, "fd00:1::/64"]}
            status: {addresses: [{type: InternalIP, address: 192.168.1.1}, {type: Hostname, address: n1}]}
            """)
        guard case .service(let svc) = objs[0], case .endpointSlice(let slice) = objs[1], case .node(let node) = objs[2]
        else {
            Issue.record("wrong kinds \(objs.map(\.kind))")
            return
        }
        #expect(svc.clusterIPs.map(\.description) == ["10.96.0.10"])
        #expect(svc.ports.first?.nodePort == 30080 && svc.ports.first?.targetPort == "http")
        #expect(svc.sessionAffinityClientIP && svc.sessionAffinityTimeout == 10800)
        #expect(slice.serviceName == "web")
        #expect(slice.endpoints.first.map { !$0.ready && $0.terminating && !$0.serving } == true)
        #expect(slice.endpoints.first?.podKey == "shop/web-1")
        #expect(node.podCIDRs.map(\.description) == ["10.244.1.0/24", "fd00:1::/64"])
        #expect(node.internalIPs.map(\.description) == ["192.168.1.1"])
    }
}

@Suite struct ManifestValidationTests {
    /// The error for a single bad object, as printed.
    func message(_ yaml: String) throws -> String {
        let errs = try errors(yaml)
        #expect(errs.count == 1)
        return errs.first?.description ?? ""
    }

    @Test func badCIDRNamesFileObjectAndField() throws {
        let text = try message(
            policy(
                "prod/allow",
                """
                podSelector: {}
                ingress:
                - from: [{ipBlock: {cidr: 10.0.0.0/33}}]
                """))
        #expect(
            text
                == "bad.yaml: NetworkPolicy prod/allow: spec.ingress[0].from[0].ipBlock.cidr: \"10.0.0.0/33\" "
                + "is not a valid CIDR (expected ADDRESS/PREFIX, e.g. 10.0.0.0/16)"
        )
    }

    @Test(
        arguments: [
            ("ports: [{port: 0}]", "spec.ingress[0].ports[0].port", "out of range"),
            ("ports: [{port: 65536}]", "spec.ingress[0].ports[0].port", "out of range"),
            ("ports: [{port: 80, protocol: ICMP}]", "spec.ingress[0].ports[0].protocol", "unknown protocol \"ICMP\""),
            ("ports: [{port: 80, protocol: tcp}]", "spec.ingress[0].ports[0].protocol", "unknown protocol \"tcp\""),
            ("ports: [{port: 80, endPort: 79}]", "spec.ingress[0].ports[0].endPort", "79 is below port 80"),
            ("ports: [{endPort: 79}]", "spec.ingress[0].ports[0].endPort", "without port"),
            ("ports: [{port: http, endPort: 90}]", "spec.ingress[0].ports[0].endPort", "named port"),
            ("ports: [{port: \"80\"}]", "spec.ingress[0].ports[0].port", "not a valid port name"),
            ("ports: [{port: 80, endPort: 70000}]", "spec.ingress[0].ports[0].endPort", "out of range"),
            (
                "from: [{podSelector: {matchExpressions: [{key: a, operator: Equals, values: [x]}]}}]",
                "spec.ingress[0].from[0].podSelector.matchExpressions[0].operator",
                "unknown selector operator \"Equals\""
            ),
            (
                "from: [{podSelector: {matchExpressions: [{key: a, operator: In}]}}]",
                "spec.ingress[0].from[0].podSelector.matchExpressions[0].values", "non-empty"
            ),
            (
                "from: [{podSelector: {matchExpressions: [{key: a, operator: Exists, values: [x]}]}}]",
                "spec.ingress[0].from[0].podSelector.matchExpressions[0].values", "must be empty"
            ),
            (
                "from: [{ipBlock: {cidr: 10.0.0.0/8, except: [11.0.0.0/16]}}]",
                "spec.ingress[0].from[0].ipBlock.except[0]", "strict subset"
            ),
            (
                "from: [{ipBlock: {cidr: 10.0.0.0/8, except: [10.0.0.0/8]}}]",
                "spec.ingress[0].from[0].ipBlock.except[0]", "strict subset"
            ),
            (
                "from: [{ipBlock: {cidr: 10.0.0.0/8}, podSelector: {}}]", "spec.ingress[0].from[0]",
                "may not specify both"
            ),
            ("from: [{}]", "spec.ingress[0].from[0]", "must specify"),
            (
                "from: [{podSelector: {matchLabels: {version: 1.5}}}]",
                "spec.ingress[0].from[0].podSelector.matchLabels.version", "expected a string"
            ),
        ] as [(String, String, String)])
    func invalidIngressRule(rule: String, field: String, problem: String) throws {
        let text = try message(policy("ns/bad", "podSelector: {}\ningress:\n- " + rule))
        #expect(text.hasPrefix("bad.yaml: NetworkPolicy ns/bad: \(field): "), "\(text)")
        #expect(text.contains(problem), "\(text)")
    }

    @Test func unknownPolicyType() throws {
        let text = try message(policy("ns/bad", "podSelector: {}\npolicyTypes: [Ingress, Sideways]"))
        #expect(text.contains("spec.policyTypes[1]: unknown policy type"))
    }

    @Test func badPodAddressAndPort() throws {
        #expect(
            try message("kind: Pod\nmetadata: {name: p}\nstatus: {podIP: 10.0.0.300}").contains(
                "Pod p: status.podIP: \"10.0.0.300\" is not a valid IP address"))
        #expect(
            try message(
                "kind: Pod\nmetadata: {name: p, namespace: x}\n"
                    + "spec: {containers: [{name: c, ports: [{containerPort: 70000}]}]}"
            )
            .contains("Pod x/p: spec.containers[0].ports[0].containerPort: port 70000 is out of range"))
    }

    @Test func missingKindAndName() throws {
        #expect(try message("metadata: {name: p}").contains("kind: is required"))
        #expect(try message("kind: Pod\nmetadata: {namespace: x}").contains("metadata.name: is required"))
    }

    @Test func aBadObjectDoesNotStopTheOthers() throws {
        var reader = ObjectReader()
        let yaml =
            pod("a/good", "10.0.0.1") + policy("a/bad", "podSelector: {}\ningress: [{ports: [{port: 0}]}]")
            + pod("a/also-good", "10.0.0.2")
        for doc in try JSONValue.parseYAMLDocuments(yaml) { reader.read(doc, source: "x.yaml") }
        #expect(reader.objects.count == 2)
        #expect(reader.errors.count == 1)
    }

    @Test func invalidYAMLIsReportedWithTheFile() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent(
            "kr-bad-\(UInt32.random(in: 0...UInt32.max)).yaml")
        try "kind: Pod\nmetadata: {name: [unclosed\n".write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let error = try #require(throws: ManifestLoadError.self) { try ManifestSource(paths: [file.path]).snapshot() }
        #expect(error.description.hasPrefix(file.path + ": not valid YAML"))
    }
}
