import TestSupport
import Testing

@testable import KubeModel
@testable import Planning

/// Which service IPs a node announces: by flag or annotation, Local traffic policies only from nodes with a
/// ready endpoint, nothing for headless or ExternalName services.
@Suite struct ServiceAdvertisementTests {
    static let cluster = """
        kind: Node
        metadata: {name: n1}
        spec: {podCIDR: 10.244.1.0/24}
        status: {addresses: [{type: InternalIP, address: 10.0.0.1}]}
        ---
        kind: Service
        metadata: {name: web, namespace: shop}
        spec:
          clusterIP: 10.96.0.10
          clusterIPs: [10.96.0.10]
          externalIPs: [203.0.113.10]
          ports: [{port: 80}]
        ---
        kind: Service
        metadata: {name: local, namespace: shop}
        spec:
          type: LoadBalancer
          clusterIP: 10.96.0.11
          clusterIPs: [10.96.0.11]
          internalTrafficPolicy: Local
          externalTrafficPolicy: Local
          ports: [{port: 80, nodePort: 30080}]
        status: {loadBalancer: {ingress: [{ip: 198.51.100.11}]}}
        ---
        kind: Service
        metadata: {name: lb, namespace: shop, annotations: {kube-router.io/service.advertise.clusterip: "false"}}
        spec:
          type: LoadBalancer
          clusterIP: 10.96.0.12
          clusterIPs: [10.96.0.12, "fd00:96::12"]
          ports: [{port: 80, nodePort: 30081}]
        status: {loadBalancer: {ingress: [{ip: 198.51.100.12}, {hostname: lb.example.com}]}}
        ---
        kind: Service
        metadata: {name: headless, namespace: shop, annotations: {kube-router.io/service.advertise.clusterip: "true"}}
        spec: {clusterIP: None, ports: [{port: 80}]}
        ---
        kind: Service
        metadata: {name: odd, namespace: shop, annotations: {kube-router.io/service.advertise.externalip: "yes"}}
        spec: {clusterIP: 10.96.0.13, clusterIPs: [10.96.0.13], externalIPs: [203.0.113.13], ports: [{port: 80}]}
        ---
        kind: EndpointSlice
        metadata: {name: local-a, namespace: shop, labels: {kubernetes.io/service-name: local}}
        addressType: IPv4
        ports: [{port: 8080}]
        endpoints:
        - {addresses: [10.244.2.5], conditions: {ready: true}, nodeName: n2}
        - {addresses: [10.244.1.5], conditions: {ready: false}, nodeName: n1}
        """

    func routes(_ advertise: ServiceAdvertisement, node: String = "n1", extra: String? = nil) throws -> [String] {
        let snapshot = ClusterSnapshot(try objects(Self.cluster + (extra.map { "\n---\n" + $0 } ?? "")))
        return advertise.routes(node: node, services: snapshot.services, slices: snapshot.endpointSlices).routes
            .map(\.description)
    }

    @Test func nothingUnlessAFlagOrAnAnnotationSaysSo() throws {
        #expect(try routes(ServiceAdvertisement()) == [], "the headless service has no IP to announce")
        #expect(
            try routes(.init(clusterIP: true))
                == ["10.96.0.10/32", "10.96.0.13/32"],
            "lb's annotation says false; local's traffic policy is Local without a ready endpoint here")
        #expect(try routes(.init(externalIP: true)) == ["203.0.113.10/32", "203.0.113.13/32"])
        #expect(try routes(.init(loadBalancerIP: true)) == ["198.51.100.12/32"], "ingress hostnames are skipped")
    }

    @Test func localTrafficPoliciesFollowTheReadyEndpoints() throws {
        let ready = """
            kind: EndpointSlice
            metadata: {name: local-b, namespace: shop, labels: {kubernetes.io/service-name: local}}
            addressType: IPv4
            ports: [{port: 8080}]
            endpoints:
            - {addresses: [10.244.1.6], conditions: {ready: true}, nodeName: n1}
            """
        let all = ServiceAdvertisement(clusterIP: true, externalIP: true, loadBalancerIP: true)
        #expect(try !routes(all).contains("10.96.0.11/32"))
        #expect(try !routes(all).contains("198.51.100.11/32"))
        let withEndpoint = try routes(all, extra: ready)
        #expect(withEndpoint.contains("10.96.0.11/32") && withEndpoint.contains("198.51.100.11/32"), "\(withEndpoint)")
        #expect(try routes(all, node: "n2").contains("10.96.0.11/32"), "n2 has the ready endpoint")
        #expect(try routes(all).contains("fd00:96::12/128") == false, "lb's ClusterIPs are off by its annotation")
    }

    @Test func aBadAnnotationIsNamedAndTheFlagApplies() throws {
        let snapshot = ClusterSnapshot(try objects(Self.cluster))
        let result = ServiceAdvertisement(externalIP: false).routes(
            node: "n1", services: snapshot.services, slices: snapshot.endpointSlices)
        #expect(result.routes.isEmpty)
        #expect(
            result.problems == [
                "service shop/odd: annotation kube-router.io/service.advertise.externalip=\"yes\" is not true or "
                    + "false; using the flag (false)"
            ])
    }

    @Test func thePlanAnnouncesServiceRoutesBesideThePodCIDRs() throws {
        let snapshot = ClusterSnapshot(try objects(Self.cluster))
        var settings = RouterSettings()
        settings.advertise = .init(clusterIP: true)
        let plan = RouterPlanner.plan(
            node: "n1", nodes: snapshot.nodes, settings: settings, bgpPort: 179, services: snapshot.services,
            slices: snapshot.endpointSlices)
        #expect(plan.advertised.map(\.description) == ["10.244.1.0/24"], "the CNI file's ranges stay the pod CIDRs")
        #expect(plan.announced.map(\.description) == ["10.244.1.0/24", "10.96.0.10/32", "10.96.0.13/32"])
    }
}
