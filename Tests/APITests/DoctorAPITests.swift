import Foundation
import TestSupport
import Testing

@testable import KubeAPI
@testable import KubeModel

/// SelfSubjectAccessReviews on kube-test-server, and `krctl doctor`'s API checks against it.
@Suite(.serialized) struct DoctorAPITests {
    static let networkPolicies = AccessReview.Request(
        verb: "watch", group: "networking.k8s.io", resource: "networkpolicies")

    func node(_ name: String, podCIDR: String?, internalIP: String) -> JSONValue {
        var spec: [String: JSONValue] = [:]
        if let podCIDR { spec["podCIDR"] = .string(podCIDR) }
        return .object([
            "apiVersion": "v1", "kind": "Node", "metadata": .object(["name": .string(name)]), "spec": .object(spec),
            "status": .object([
                "addresses": .array([.object(["type": "InternalIP", "address": .string(internalIP)])])
            ]),
        ])
    }

    @Test func accessReviewsAnswerFromTheServersRules() throws {
        let server = try TestAPIServer(arguments: ["--deny", "admin:watch:networkpolicies"])
        let admin = KubeClient(config: server.config())
        let listPods = AccessReview.Request(verb: "list", group: "", resource: "pods")
        let reviews = try admin.reviewAccess([listPods, Self.networkPolicies])
        #expect(reviews.map(\.allowed) == [true, false])
        #expect(reviews[1].reason?.contains("watch networkpolicies") == true)
        // The review says what the request gets: a watch is refused, a list is not.
        let refused = try #require(throws: KubeAPIError.self) {
            try admin.send(
                "GET", "/apis/networking.k8s.io/v1/networkpolicies", query: ["watch": "1", "timeoutSeconds": "1"],
                what: "watch networkpolicies")
        }
        #expect(refused.statusCode == 403, "\(refused)")
        #expect(try admin.list(.networkPolicies).items.isEmpty)
        // A user who may do nothing may still ask (system:basic-user), and learns the answer is no.
        let mallory = KubeClient(config: server.config(token: "ro-token"))
        #expect(try mallory.reviewAccess([listPods]).map(\.allowed) == [false])
    }

    @Test func krctlDoctorChecksRBACAndTheNode() throws {
        let server = try TestAPIServer(arguments: ["--deny", "admin:watch:networkpolicies"])
        let admin = KubeClient(config: server.config())
        _ = try admin.create(.nodes, namespace: nil, object: node("n1", podCIDR: nil, internalIP: "10.0.0.5"))
        let kubeconfig = try server.writeKubeconfig()
        let fixture = try NodeFixture()
        let krctl = builtExecutable("krctl").path
        func doctor(_ extra: [String]) throws -> (Int32, [String: [String: Any]]) {
            let (status, out, err) = try run(
                krctl,
                ["doctor", "--root", fixture.root, "--kubeconfig", kubeconfig, "--node", "n1", "-o", "json"]
                    + extra)
            let json = try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any], "\(err)")
            let checks = try #require(json["checks"] as? [[String: Any]])
            return (status, Dictionary(uniqueKeysWithValues: checks.map { ($0["id"] as? String ?? "", $0) }))
        }
        var (status, checks) = try doctor([])
        #expect(status == 2)
        let rbac = try #require(checks["api-rbac"])
        #expect(rbac["status"] as? String == "FAIL")
        #expect((rbac["message"] as? String)?.contains("watch networkpolicies.networking.k8s.io") == true, "\(rbac)")
        #expect((rbac["message"] as? String)?.contains("--run-firewall") == true)
        #expect(checks["node-pod-cidr"]?["status"] as? String == "FAIL")
        #expect(checks["node-addresses"]?["status"] as? String == "OK", "10.0.0.5 is on the fixture's eth0")

        // Without the firewall nobody needs network policies; with a pod CIDR the node is ready.
        _ = try admin.delete(.nodes, namespace: nil, name: "n1")
        _ = try admin.create(
            .nodes, namespace: nil, object: node("n1", podCIDR: "10.244.1.0/24", internalIP: "10.0.0.5"))
        (status, checks) = try doctor(["--controllers", "service-proxy,router"])
        #expect(checks["api-rbac"]?["status"] as? String == "OK", "\(checks["api-rbac"] ?? [:])")
        #expect(checks["node-pod-cidr"]?["status"] as? String == "OK")
        #expect(checks["pod-cidr-routes"]?["status"] as? String == "OK")
        #expect(status == 0)

        // A server that is gone is a failure of the API check, not of krctl.
        server.stop()
        (status, checks) = try doctor(["--request-timeout", "2s"])
        #expect(status == 2)
        #expect(checks["api-rbac"]?["status"] as? String == "FAIL")
        #expect((checks["api-rbac"]?["message"] as? String)?.contains("cannot connect") == true)
        #expect(checks["node-pod-cidr"]?["status"] as? String == "SKIP")
    }
}
