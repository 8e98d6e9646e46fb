import Foundation
import TestSupport
import Testing

@testable import Kernel
@testable import KubeAPI
@testable import KubeModel

/// Service IPs over BGP with real peers: the agent (node s) announces a ClusterIP its annotation turns on and
/// an external IP the flag turns on; BIRD and FRR install them towards node s. A service whose internal
/// traffic policy is Local appears only once node s has a ready endpoint of it; a deleted service's routes are
/// withdrawn from both.
@Suite(.serialized, .enabled(if: BGPLab.available, "needs root, bird2 and frr (scripts/setup)"))
struct ServiceAdvertisementKernelTests {
    static let services = """
        apiVersion: v1
        kind: Service
        metadata: {name: web, namespace: default, annotations: {kube-router.io/service.advertise.clusterip: "true"}}
        spec: {clusterIP: 10.96.0.10, clusterIPs: [10.96.0.10], externalIPs: [203.0.113.10], ports: [{port: 80}]}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: local, namespace: default, annotations: {kube-router.io/service.advertise.clusterip: "true"}}
        spec:
          clusterIP: 10.96.0.11
          clusterIPs: [10.96.0.11]
          internalTrafficPolicy: Local
          ports: [{port: 80}]
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: plain, namespace: default}
        spec: {clusterIP: 10.96.0.12, clusterIPs: [10.96.0.12], ports: [{port: 80}]}
        ---
        \(slice(node: "node-b"))
        """

    static func slice(node: String) -> String {
        """
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata: {name: local-abc, namespace: default, labels: {kubernetes.io/service-name: local}}
        addressType: IPv4
        ports: [{port: 8080, protocol: TCP}]
        endpoints:
        - {addresses: [10.244.10.5], conditions: {ready: true, serving: true, terminating: false}, nodeName: \(node)}
        """
    }

    /// Creates or replaces the objects of `yaml` in the API server.
    func apply(_ yaml: String, _ server: TestAPIServer, _ lab: BGPLab) throws {
        let config = server.config()
        try NetworkNamespace.run(lab.ns("s")) {
            let client = KubeClient(config: config)
            for doc in try JSONValue.parseYAMLDocuments(yaml) {
                guard let resource = APIResource.forKind(doc["kind"]?.stringValue ?? "") else { continue }
                let namespace = doc["metadata"]?["namespace"]?.stringValue
                let name = doc["metadata"]?["name"]?.stringValue ?? ""
                if (try? client.get(resource, namespace: namespace, name: name)) != nil {
                    _ = try client.update(resource, namespace: namespace, name: name, object: doc)
                } else {
                    _ = try client.create(resource, namespace: namespace, object: doc)
                }
            }
        }
    }

    @Test func serviceIPsReachBIRDAndFRRFromTheRightNode() throws {
        let lab = try BGPLab()
        try lab.addNode("a", ip: "10.99.0.1", podCIDR: "10.244.1.0/24", asn: 64601)
        try lab.addNode("b", ip: "10.99.0.2", podCIDR: "10.244.2.0/24", asn: 64602)
        try lab.addNode("s", ip: "10.99.0.10", podCIDR: "10.244.10.0/24", asn: 64512)
        let s = lab.nodes["s"]!
        try lab.startBIRD("a", peers: [s])
        try lab.startFRR("b", peers: [s])
        let (server, kubeconfig) = try lab.startAPIServer(
            in: "s", nodes: BGPLab.nodeYAML("node-s", podCIDR: "10.244.10.0/24", ip: "10.99.0.10"))
        try apply(Self.services, server, lab)
        let stateDir = try lab.dir("agent")
        let agent = try AgentRun(
            netns: lab.ns("s"),
            arguments: [
                "--kubeconfig", kubeconfig, "--hostname-override", "node-s", "--run-firewall=false",
                "--run-service-proxy=false", "--cluster-asn", "64512", "--peer-router-ips", "10.99.0.1,10.99.0.2",
                "--peer-router-asns", "64601,64602", "--bgp-holdtime", "3s", "--state-dir", stateDir,
                "--health-port", "0", "--advertise-external-ip=true",
            ])
        defer { agent.stop() }
        func bird() -> String { lab.routes("a") }
        func frr() -> String { lab.vtysh("b", ["show ip route bgp"]) }
        try lab.eventually(30, "web's ClusterIP and external IP in BIRD's and FRR's kernels") {
            bird().contains("10.96.0.10 via 10.99.0.10") && bird().contains("203.0.113.10 via 10.99.0.10")
                && frr().contains("10.96.0.10/32") && frr().contains("203.0.113.10/32")
        }
        // The pod CIDR went with them (one UPDATE per sync): by now the others would be there too.
        try lab.eventually(10, "the pod CIDR in BIRD's kernel") { bird().contains("10.244.10.0/24 via 10.99.0.10") }
        #expect(!bird().contains("10.96.0.12"), "plain: neither the flag nor an annotation: \(bird())")
        #expect(!bird().contains("10.96.0.11"), "local: no ready endpoint on node-s: \(bird())")
        #expect(!frr().contains("10.96.0.11/32") && !frr().contains("10.96.0.12/32"), "\(frr())")

        // An endpoint of `local` becomes ready on node-s: now node s announces it.
        try apply(Self.slice(node: "node-s"), server, lab)
        try lab.eventually(15, "local's ClusterIP once node s has its endpoint") {
            bird().contains("10.96.0.11 via 10.99.0.10") && frr().contains("10.96.0.11/32")
        }
        // web is deleted: both of its routes are withdrawn from both daemons.
        try NetworkNamespace.run(lab.ns("s")) { [config = server.config()] in
            try KubeClient(config: config).delete(.services, namespace: "default", name: "web")
        }
        try lab.eventually(15, "web's routes withdrawn") {
            !bird().contains("10.96.0.10 ") && !bird().contains("203.0.113.10")
                && !frr().contains("10.96.0.10/32") && !frr().contains("203.0.113.10/32")
        }
        #expect(bird().contains("10.96.0.11 via 10.99.0.10"), "local stays: \(bird())")
    }
}
