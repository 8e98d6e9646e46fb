import Testing

@testable import KubeModel
@testable import Planning

/// The service proxy's plan: which IPVS services and real servers a node holds for the cluster's Services.
@Suite struct ServiceProxyPlannerTests {
    static func slice(
        _ service: String, _ endpoints: [(ip: String, node: String, ready: Bool, terminating: Bool)],
        port: String = "http", number: Int = 8080, proto: String = "TCP", name: String? = nil
    ) -> String {
        let parts = service.split(separator: "/")
        let list = endpoints.map {
            "{addresses: [\"\($0.ip)\"], nodeName: \($0.node), "
                + "conditions: {ready: \($0.ready), serving: true, terminating: \($0.terminating)}}"
        }.joined(separator: ", ")
        return """
            ---
            apiVersion: discovery.k8s.io/v1
            kind: EndpointSlice
            metadata: {name: \(name ?? "\(parts[1])-abc"), namespace: \(parts[0]),
                       labels: {kubernetes.io/service-name: \(parts[1])}}
            addressType: IPv4
            endpoints: [\(list)]
            ports: [{name: \(port), port: \(number), protocol: \(proto)}]

            """
    }

    static let cluster = """
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: web, namespace: shop, annotations: {kube-router.io/service.scheduler: lc}}
        spec: {type: NodePort, clusterIP: 10.96.0.10,
               ports: [{name: http, port: 80, targetPort: http, nodePort: 30080}],
               sessionAffinity: ClientIP, sessionAffinityConfig: {clientIP: {timeoutSeconds: 600}},
               externalIPs: [203.0.113.7]}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: local, namespace: shop}
        spec: {type: LoadBalancer, clusterIP: 10.96.0.11, ports: [{name: http, port: 80, nodePort: 30081}],
               externalTrafficPolicy: Local, internalTrafficPolicy: Local}
        status: {loadBalancer: {ingress: [{ip: 198.51.100.9}]}}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: headless, namespace: shop}
        spec: {clusterIP: None, ports: [{port: 80}]}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: other, namespace: shop, labels: {service.kubernetes.io/service-proxy-name: cilium}}
        spec: {clusterIP: 10.96.0.12, ports: [{port: 80}]}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: odd, namespace: shop, annotations: {kube-router.io/service.scheduler: fastest}}
        spec: {clusterIP: 10.96.0.13, ports: [{port: 53, protocol: UDP}]}

        """
        + slice(
            "shop/web",
            [
                ("10.244.1.10", "n1", true, false), ("10.244.2.10", "n2", true, false),
                ("10.244.2.11", "n2", false, true),
            ])
        + slice("shop/local", [("10.244.1.20", "n1", true, false), ("10.244.2.20", "n2", true, false)])

    func plan(graceful: Bool = false) throws -> ServiceProxyPlan {
        ServiceProxyPlanner.plan(
            ClusterSnapshot(try objects(Self.cluster)), node: "n1", nodeAddresses: [IPAddress("192.168.0.11")!],
            options: .init(gracefulTermination: graceful))
    }

    @Test func clusterIPNodePortAndExternalIPs() throws {
        let p = try plan()
        let web = p.services.filter { $0.origin == "shop/web:http" }
        #expect(web.map(\.kind) == [.clusterIP, .nodePort, .externalIP])
        #expect(web.map(\.service.key) == ["TCP 10.96.0.10:80", "TCP 192.168.0.11:30080", "TCP 203.0.113.7:80"])
        #expect(web.allSatisfy { $0.service.scheduler == "lc" && $0.service.persistent && $0.service.timeout == 600 })
        #expect(
            web[0].destinations.map(\.description) == [
                "10.244.1.10:8080 weight 1 masquerade", "10.244.2.10:8080 weight 1 masquerade",
            ],
            "ready endpoints only; the terminating one is gone without graceful termination")
        #expect(
            p.vips == [
                IPAddress("10.96.0.10")!, IPAddress("10.96.0.11")!, IPAddress("10.96.0.13")!,
                IPAddress("198.51.100.9")!, IPAddress("203.0.113.7")!,
            ])
    }

    @Test func gracefulTerminationDrainsWithWeightZero() throws {
        let web = try plan(graceful: true).services.first { $0.origin == "shop/web:http" && $0.kind == .clusterIP }
        #expect(web?.destinations.first { $0.address == IPAddress("10.244.2.11") }?.weight == 0)
    }

    @Test func trafficPolicyLocalKeepsLocalEndpoints() throws {
        let local = try plan().services.filter { $0.origin == "shop/local:http" }
        #expect(local.map(\.kind) == [.clusterIP, .nodePort, .loadBalancer])
        #expect(local.allSatisfy { $0.destinations.map(\.address) == [IPAddress("10.244.1.20")!] })
    }

    /// An event's update of the assembled plan (one service's part replaced) equals assembling every part again,
    /// through services added, removed, given new addresses or a bad scheduler, and endpoints changed.
    @Test func reassemblingOneServiceEqualsAssemblingAll() throws {
        var generator = SystemRandomNumberGenerator()
        func yaml(_ n: Int, ip: Int, scheduler: String, endpoints: Int) -> String {
            """
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: svc-\(n), namespace: ns-\(n % 3),
                       annotations: {kube-router.io/service.scheduler: \(scheduler)}}
            spec: {clusterIP: 10.96.\(ip / 200).\(ip % 200 + 1),
                   ports: [{name: http, port: 80}, {name: dns, port: 53, protocol: UDP}]}

            """
                + Self.slice(
                    "ns-\(n % 3)/svc-\(n)", (0..<endpoints).map { ("10.244.\(n).\($0 + 1)", "n1", true, false) })
        }
        var snapshot = ClusterSnapshot()
        for n in 0..<30 {
            for object in try objects(yaml(n, ip: n, scheduler: "rr", endpoints: 2)) { snapshot.apply(object) }
        }
        let addresses = [IPAddress("192.168.0.11")!]
        var parts = ServiceProxyPlanner.parts(snapshot, node: "n1", nodeAddresses: addresses)
        var plan = ServiceProxyPlanner.assemble(parts, nodeAddresses: addresses)
        for _ in 0..<200 {
            let n = Int.random(in: 0..<40, using: &generator)
            let key = "ns-\(n % 3)/svc-\(n)"
            let old = parts[key]
            if Int.random(in: 0..<6, using: &generator) == 0 {
                parts[key] = nil  // the service deleted
            } else {
                let ip = Bool.random(using: &generator) ? n : Int.random(in: 0..<400, using: &generator)
                let scheduler = Int.random(in: 0..<8, using: &generator) == 0 ? "fastest" : "rr"
                let text = yaml(n, ip: ip, scheduler: scheduler, endpoints: Int.random(in: 0..<4, using: &generator))
                for object in try objects(text) { snapshot.apply(object) }
                parts[key] = ServiceProxyPlanner.plan(
                    service: snapshot.services[key]!, slices: ServiceProxyPlanner.slices(of: key, in: snapshot),
                    node: "n1", nodeAddresses: addresses)
            }
            ServiceProxyPlanner.reassemble(&plan, key: key, old: old, parts: parts, nodeAddresses: addresses)
            #expect(plan == ServiceProxyPlanner.assemble(parts, nodeAddresses: addresses), "after a change of \(key)")
        }
    }

    @Test func servicesThatAreNotOursAndBadSchedulers() throws {
        let p = try plan()
        #expect(!p.services.contains { $0.origin.hasPrefix("shop/headless") || $0.origin.hasPrefix("shop/other") })
        #expect(p.services.first { $0.origin == "shop/odd:53" }?.service.scheduler == "rr")
        #expect(
            p.problems == [
                "service shop/odd: annotation kube-router.io/service.scheduler=\"fastest\" "
                    + "is not an IPVS scheduler (dh, lc, mh, nq, rr, sed, sh, wlc, wrr); using rr"
            ])
    }
}
