import Foundation
import TestSupport
import Testing

@testable import Kernel
@testable import KubeAPI
@testable import KubeModel
@testable import Planning

/// The service proxy end to end, in the VM (the only kernel here with IPVS and dummy links): the agent
/// programs IPVS from the API test server; pods and an outside host connect to a ClusterIP and a
/// NodePort; krctl explains what it sees.
@Suite(.serialized, .enabled(if: IPVSKernel.available, Comment(rawValue: IPVSKernel.reason)))
struct ServiceProxyVMTests {
    static let pods = ["web-0", "web-1", "web-2", "client"].enumerated().map { i, name in
        """
        apiVersion: v1
        kind: Pod
        metadata: {name: \(name), namespace: shop, labels: {app: \(name.hasPrefix("web") ? "web" : "client")}}
        spec: {nodeName: node-1, containers: [{name: c, image: echo, ports: [{name: http, containerPort: 8080}]}]}
        status: {phase: Running, podIP: 10.244.1.\(10 + i), podIPs: [{ip: 10.244.1.\(10 + i)}]}
        """
    }.joined(separator: "\n---\n")

    static let objects = """
        apiVersion: v1
        kind: Namespace
        metadata: {name: shop}
        ---
        apiVersion: v1
        kind: Node
        metadata: {name: node-1}
        spec: {podCIDR: 10.244.1.0/24, podCIDRs: [10.244.1.0/24, "fd00:244:1::/64"]}
        status: {addresses: [{type: InternalIP, address: 192.0.2.254}]}
        ---
        \(pods)
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: web, namespace: shop}
        spec:
          type: NodePort
          clusterIP: 10.96.0.10
          clusterIPs: [10.96.0.10]
          selector: {app: web}
          ports: [{name: http, port: 80, targetPort: 8080, nodePort: 30080, protocol: TCP}]
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: sticky, namespace: shop}
        spec:
          clusterIP: 10.96.0.11
          clusterIPs: [10.96.0.11]
          selector: {app: web}
          sessionAffinity: ClientIP
          sessionAffinityConfig: {clientIP: {timeoutSeconds: 600}}
          ports: [{name: http, port: 80, targetPort: 8080, protocol: TCP}]
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: web6, namespace: shop}
        spec:
          ipFamilies: [IPv6]
          clusterIP: fd00:96::10
          clusterIPs: [fd00:96::10]
          selector: {app: web}
          ports: [{name: http, port: 80, targetPort: 8080, protocol: TCP}]
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: self, namespace: shop, annotations: {kube-router.io/service.hairpin: ""}}
        spec:
          clusterIP: 10.96.0.12
          clusterIPs: [10.96.0.12]
          ports: [{name: http, port: 80, targetPort: 8080, protocol: TCP}]
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata: {name: self-abc, namespace: shop, labels: {kubernetes.io/service-name: self}}
        addressType: IPv4
        ports: [{name: http, port: 8080, protocol: TCP}]
        endpoints:
        - {addresses: [10.244.1.10], conditions: {ready: true, serving: true, terminating: false}, nodeName: node-1}
        ---
        \(Self.slice("web", terminating: []))
        ---
        \(Self.slice("sticky", terminating: []))
        ---
        \(Self.slice("web6", terminating: [], family: .ipv6))
        """

    /// The service's EndpointSlice: web-0..2 ready, except those `terminating` (still serving).
    static func slice(
        _ service: String, terminating: Set<Int>, without: Set<Int> = [], family: IPAddress.Family = .ipv4
    ) -> String {
        let endpoints = (0..<3).filter { !without.contains($0) }.map { i in
            let t = terminating.contains(i)
            let address = family == .ipv4 ? "10.244.1.\(10 + i)" : "\"fd00:244:1::\(10 + i)\""
            return
                "  - {addresses: [\(address)], conditions: {ready: \(!t), serving: true, terminating: \(t)}, "
                + "nodeName: node-1, targetRef: {kind: Pod, namespace: shop, name: web-\(i)}}"
        }.joined(separator: "\n")
        return """
            apiVersion: discovery.k8s.io/v1
            kind: EndpointSlice
            metadata: {name: \(service)-abc, namespace: shop, labels: {kubernetes.io/service-name: \(service)}}
            addressType: \(family == .ipv4 ? "IPv4" : "IPv6")
            ports: [{name: http, port: 8080, protocol: TCP}]
            endpoints:
            \(endpoints)
            """
    }

    func create(_ yaml: String, _ server: TestAPIServer, _ lab: Lab) throws -> Int {
        let config = server.config()
        return try NetworkNamespace.run(lab.node) { () -> Int in
            let client = KubeClient(config: config)
            var version = 0
            for doc in try JSONValue.parseYAMLDocuments(yaml) {
                guard let resource = APIResource.forKind(doc["kind"]?.stringValue ?? "") else { continue }
                let namespace = doc["metadata"]?["namespace"]?.stringValue
                let name = doc["metadata"]?["name"]?.stringValue ?? ""
                let result: JSONValue
                if (try? client.get(resource, namespace: namespace, name: name)) != nil {
                    result = try client.update(resource, namespace: namespace, name: name, object: doc)
                } else {
                    result = try client.create(resource, namespace: namespace, object: doc)
                }
                version = max(version, Int(result["metadata"]?["resourceVersion"]?.stringValue ?? "") ?? 0)
            }
            return version
        }
    }

    /// Waits until a sync has applied every change of `resources` up to `version`.
    func synced(
        _ agent: AgentRun, stateDir: String, atLeast version: Int,
        of resources: [String] = ["services", "endpointslices"]
    ) -> Bool {
        agent.waitForStatus(ServiceProxyStatus.self, stateDir: stateDir, timeout: 60) {
            $0.hasSynced(atLeast: version, of: resources)
        }
    }

    /// The weight column of a real server in `ipvsadm -Ln` output.
    func weight(_ server: String, in table: String) -> String? {
        for line in table.split(separator: "\n") {
            let fields = line.split(separator: " ")
            if fields.count >= 4, fields[0] == "->", fields[1] == server { return String(fields[3]) }
        }
        return nil
    }

    /// Backend names from "who" answers ("shop/web-1 10.244.1.13").
    func servers(_ answers: [String]) -> [String: Int] {
        var counts: [String: Int] = [:]
        for a in answers { counts[String(a.split(separator: " ").first ?? ""), default: 0] += 1 }
        return counts
    }

    @Test func agentProgramsIPVSAndTrafficFollowsIt() throws {
        Kernel.shell("modprobe br_netfilter")
        let lab = try Lab(pods: ["shop/web-0", "shop/web-1", "shop/web-2", "shop/client"])
        let client = lab.pods[3]
        // Someone else's virtual service, which the agent must leave alone.
        #expect(Kernel.shell("ip netns exec \(lab.node) ipvsadm -A -t 10.50.0.1:80 -s wlc").0 == 0)
        let server = try TestAPIServer(
            arguments: ["--bookmark-interval", "0.2"], launcher: ["/usr/sbin/ip", "netns", "exec", lab.node])
        let kubeconfig = try server.writeKubeconfig()
        var version = try create(Self.objects, server, lab)
        let stateDir = NSTemporaryDirectory() + "kr-svc-\(lab.id)"
        defer { try? FileManager.default.removeItem(atPath: stateDir) }
        var agent = try AgentRun(
            netns: lab.node,
            arguments: [
                "--kubeconfig", kubeconfig, "--hostname-override", "node-1", "--run-firewall", "--run-router=false",
                "--run-service-proxy", "--ipvs-graceful-termination", "--ipvs-sync-period", "1h", "--state-dir",
                stateDir, "--metrics-port", "9102",
            ])
        defer { agent.stop() }
        #expect(synced(agent, stateDir: stateDir, atLeast: version), "agent log:\n\(agent.log)")
        // The firewall shares the filter table: its hook stays first in INPUT, the service proxy's follows.
        #expect(
            agent.waitForStatus(FirewallStatus.self, stateDir: stateDir, timeout: 60) { $0.syncs >= 1 },
            "agent log:\n\(agent.log)")
        let input = Kernel.shell("ip netns exec \(lab.node) iptables-legacy -w -S INPUT").1.split(separator: "\n")
            .filter { $0.hasPrefix("-A") }
        #expect(
            input.count == 2 && input[0].hasSuffix("-j KUBE-ROUTER-INPUT")
                && input[1].hasSuffix("-j KUBE-ROUTER-SERVICES"), "\(input)")

        // ipvsadm shows what the controller meant.
        let table = Kernel.shell("ip netns exec \(lab.node) ipvsadm -Ln").1
        for line in [
            "TCP  10.96.0.10:80 rr", "TCP  192.0.2.254:30080 rr", "TCP  10.96.0.11:80 rr persistent 600",
            "-> 10.244.1.10:8080", "-> 10.244.1.11:8080", "-> 10.244.1.12:8080", "TCP  10.50.0.1:80 wlc",
        ] {
            #expect(table.contains(line), "missing \(line) in\n\(table)")
        }
        #expect(Kernel.shell("ip -n \(lab.node) addr show kube-dummy-if").1.contains("10.96.0.10/32"))

        // A pod reaches the ClusterIP; round robin spreads connections over the three backends, and
        // the backends see the pod's own address (policy at the endpoint sees the real client).
        let fromPod = try lab.who(from: client.netns, "10.96.0.10", 80, count: 30)
        let spread = servers(fromPod)
        #expect(
            spread.keys.sorted() == ["shop/web-0", "shop/web-1", "shop/web-2"] && spread.values.allSatisfy { $0 == 10 },
            "\(fromPod)")
        #expect(fromPod.allSatisfy { $0.hasSuffix(" \(client.ip)") }, "\(fromPod)")
        // An outside host reaches the NodePort on the node's address, spread the same way.
        let fromOutside = try lab.who(from: lab.external.netns, "192.0.2.254", 30080, count: 12)
        #expect(servers(fromOutside).count == 3 && servers(fromOutside).values.allSatisfy { $0 == 4 }, "\(fromOutside)")
        // Session affinity: every connection of one client lands on the same backend.
        let sticky = servers(try lab.who(from: client.netns, "10.96.0.11", 80, count: 8))
        #expect(sticky.count == 1 && sticky.values.first == 8, "\(sticky)")
        // IPv6: the same over an IPv6 ClusterIP, the pod's IPv6 address kept.
        let v6 = try lab.who(from: client.netns, "fd00:96::10", 80, count: 9)
        #expect(servers(v6).count == 3 && v6.allSatisfy { $0.hasSuffix(" \(client.ip6)") }, "\(v6)")
        // Hairpin: a pod reaching itself through its service is masqueraded (it sees the node's address).
        #expect(Kernel.shell("ip -n \(lab.node) link set dev v\(lab.id)p0 type bridge_slave hairpin on").0 == 0)
        let hairpin = try lab.who(from: lab.pods[0].netns, "10.96.0.12", 80, count: 2)
        #expect(hairpin == ["shop/web-0 10.244.1.1", "shop/web-0 10.244.1.1"], "\(hairpin)")
        // A VIP on a port no service has is refused, not handed to the node's own sockets.
        #expect(try lab.who(from: client.netns, "10.96.0.10", 8080, count: 1) == ["refused"])

        // krctl names the table and traces the service.
        func krctl(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
            try run("/usr/sbin/ip", ["netns", "exec", lab.node, builtExecutable("krctl").path] + arguments)
        }
        let ipvs = try krctl(["ipvs", "--state-dir", stateDir, "-o", "json"])
        #expect(
            ipvs.status == 0 && ipvs.out.contains("\"service\" : \"shop/web:http\"")
                && ipvs.out.contains("\"kind\" : \"nodePort\""), "\(ipvs)")
        let trace = try krctl([
            "trace", "service", "shop/web", "--from", "shop/client", "--kubeconfig", kubeconfig, "--state-dir",
            stateDir,
        ])
        #expect(trace.status == 0, "\(trace)")
        print("krctl trace service shop/web --from shop/client:\n\(trace.out)")
        for text in [
            "TCP 10.96.0.10:80", "VIP on kube-dummy-if: present", "IPVS virtual service: present", "10.244.1.12:8080",
            "shop/web-2",
            "dev kube-bridge", "allow",
        ] {
            #expect(trace.out.contains(text), "missing \(text) in\n\(trace.out)")
        }

        // krctl top's Services pane (its JSON): the connections spread over the three endpoints, named by their
        // pods, and a Service without endpoints is NO-ENDPOINTS; sync durations from the metrics.
        let idle = """
            apiVersion: v1
            kind: Service
            metadata: {name: idle, namespace: shop}
            spec:
              clusterIP: 10.96.0.20
              clusterIPs: [10.96.0.20]
              selector: {app: nothing}
              ports: [{name: http, port: 80, targetPort: 8080, protocol: TCP}]
            """
        version = try create(idle, server, lab)
        #expect(synced(agent, stateDir: stateDir, atLeast: version, of: ["services"]), "agent log:\n\(agent.log)")
        // KR_TOP_RECORD: where to keep the snapshots (the README's screens of the Services pane).
        let record = ProcessInfo.processInfo.environment["KR_TOP_RECORD"].map { ["--record", $0] } ?? []
        let top = try krctl(
            [
                "top", "--once", "-o", "json", "--interval", "1s", "--kubeconfig", kubeconfig, "--state-dir", stateDir,
                "--metrics-url", "http://127.0.0.1:9102/metrics", "--no-doctor",
            ] + record)
        #expect(top.status == 0, "\(top)")
        let snapshot = try JSONValue.parseJSON(Data(top.out.utf8))
        let shown = snapshot["services"]?.arrayValue ?? []
        let webService = shown.first { $0["key"]?.stringValue == "TCP 10.96.0.10:80" }
        #expect(
            webService?["name"]?.stringValue == "shop/web:http" && webService?["state"]?.stringValue == "OK",
            "\(top.out)")
        let backends = webService?["servers"]?.arrayValue ?? []
        #expect(
            backends.compactMap { $0["pod"]?.stringValue }.sorted() == ["shop/web-0", "shop/web-1", "shop/web-2"],
            "\(top.out)")
        #expect(backends.allSatisfy { ($0["counters"]?["connections"]?.intValue ?? 0) >= 10 }, "\(backends)")
        let empty = shown.first { $0["key"]?.stringValue == "TCP 10.96.0.20:80" }
        #expect(empty?["state"]?.stringValue == "NO-ENDPOINTS", "\(top.out)")
        let proxy = snapshot["controllers"]?.arrayValue?.first { $0["name"]?.stringValue == "service-proxy" }
        #expect(proxy?["p50"] != nil && proxy?["p50"] != .null, "\(top.out)")

        // The metrics carry IPVS's own counters per service port: the 30 + 10 connections to the ClusterIP
        // (the trace's probe may add some), and the table's size.
        let metrics = Kernel.shell("ip netns exec \(lab.node) curl -sS --max-time 5 http://127.0.0.1:9102/metrics").1
        func sample(_ series: String) -> Double? {
            metrics.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap {
                Double($0.dropFirst(series.count + 1))
            }
        }
        let web = "namespace=\"shop\",service=\"web\",protocol=\"TCP\",port=\"80\",address_type=\"clusterIP\""
        #expect((sample("kube_router_service_connections_total{\(web)}") ?? 0) >= 30, "\(metrics)")
        #expect((sample("kube_router_service_packets_in_total{\(web)}") ?? 0) >= 90, "\(metrics)")
        #expect((sample("kube_router_ipvs_services") ?? 0) >= 5, "\(metrics)")
        #expect(
            sample("kube_router_syncs_total{controller=\"service-proxy\",kind=\"full\",result=\"success\"}") ?? 0 >= 1)

        // A terminating endpoint is drained: weight 0, no new connections.
        version = try create(Self.slice("web", terminating: [2]), server, lab)
        #expect(synced(agent, stateDir: stateDir, atLeast: version, of: ["endpointslices"]), "agent log:\n\(agent.log)")
        #expect(
            weight("10.244.1.12:8080", in: Kernel.shell("ip netns exec \(lab.node) ipvsadm -Ln -t 10.96.0.10:80").1)
                == "0")
        let drained = servers(try lab.who(from: client.netns, "10.96.0.10", 80, count: 10))
        #expect(drained["shop/web-2"] == nil && drained.count == 2, "\(drained)")
        // The event sync changed one real server per virtual service of shop/web: two netlink calls.
        let report = ServiceProxyStatus.read(stateDir: stateDir)?.lastReport
        #expect(report?.calls == 2 && report?.destinationsUpdated == 2, "\(String(describing: report))")
        // Gone from the slice: gone from IPVS.
        version = try create(Self.slice("web", terminating: [], without: [2]), server, lab)
        #expect(synced(agent, stateDir: stateDir, atLeast: version, of: ["endpointslices"]), "agent log:\n\(agent.log)")
        #expect(!Kernel.shell("ip netns exec \(lab.node) ipvsadm -Ln -t 10.96.0.10:80").1.contains("10.244.1.12"))

        // Drift: a real server removed behind the agent's back is reported by krctl (exit 2), and the
        // full sync of a restarted agent repairs it.
        #expect(Kernel.shell("ip netns exec \(lab.node) ipvsadm -d -t 10.96.0.10:80 -r 10.244.1.10:8080").0 == 0)
        let drift = try krctl([
            "trace", "service", "shop/web", "--port", "http", "--kubeconfig", kubeconfig, "--state-dir", stateDir,
        ])
        #expect(
            drift.status == 2 && drift.out.contains("real server 10.244.1.10:8080 is missing from TCP 10.96.0.10:80"),
            "\(drift)")
        agent.stop()
        agent = try AgentRun(
            netns: lab.node,
            arguments: [
                "--kubeconfig", kubeconfig, "--hostname-override", "node-1", "--run-firewall=false",
                "--run-router=false",
                "--ipvs-sync-period", "1h", "--state-dir", stateDir,
            ])
        #expect(synced(agent, stateDir: stateDir, atLeast: version, of: ["endpointslices"]), "agent log:\n\(agent.log)")
        #expect(
            Kernel.shell("ip netns exec \(lab.node) ipvsadm -Ln -t 10.96.0.10:80").1.contains("-> 10.244.1.10:8080"))
        #expect(
            try krctl(["trace", "service", "shop/web", "--kubeconfig", kubeconfig, "--state-dir", stateDir]).status == 0
        )

        // A deleted service goes from IPVS and its VIP from kube-dummy-if; the foreign one stays.
        version = try NetworkNamespace.run(lab.node) { [config = server.config()] in
            let gone = try KubeClient(config: config).delete(.services, namespace: "shop", name: "sticky")
            return Int(gone["metadata"]?["resourceVersion"]?.stringValue ?? "") ?? 0
        }
        #expect(synced(agent, stateDir: stateDir, atLeast: version, of: ["services"]), "agent log:\n\(agent.log)")
        let after = Kernel.shell("ip netns exec \(lab.node) ipvsadm -Ln").1
        #expect(!after.contains("10.96.0.11") && after.contains("TCP  10.50.0.1:80 wlc"), "\(after)")
        #expect(!Kernel.shell("ip -n \(lab.node) addr show kube-dummy-if").1.contains("10.96.0.11"))
        agent.stop()

        // --cleanup-config removes what the agent owns, and only that.
        let cleanup = try run(
            "/usr/sbin/ip",
            [
                "netns", "exec", lab.node, builtExecutable("kube-router").path, "--cleanup-config", "--state-dir",
                stateDir,
            ])
        // The agent's virtual services when the table was cleaned, idle's (krctl top's check) among them.
        #expect(cleanup.0 == 0 && cleanup.1.contains("5 IPVS services removed"), "\(cleanup)")
        let left = Kernel.shell("ip netns exec \(lab.node) ipvsadm -Ln").1
        #expect(!left.contains("10.96.0.10") && left.contains("TCP  10.50.0.1:80 wlc"), "\(left)")
        #expect(Kernel.shell("ip -n \(lab.node) link show kube-dummy-if").0 != 0)
        #expect(!Kernel.shell("ip netns exec \(lab.node) iptables-legacy-save -t nat").1.contains("KUBE-ROUTER-SVC"))
    }
}
