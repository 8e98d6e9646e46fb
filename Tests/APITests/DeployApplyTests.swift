import Foundation
import TestSupport
import Testing

@testable import KubeAPI
@testable import KubeModel
@testable import Planning

/// `kubectl apply -f deploy/kube-router.yaml` against kube-test-server, which serves the kinds it holds
/// (DaemonSet, ServiceAccount, ConfigMap, ClusterRole, ClusterRoleBinding), and authorizes with `--rbac`
/// by the applied rules: the agent's service account may read exactly what the agent reads, and a request
/// no rule grants is a 403, as on a real cluster.
@Suite(.serialized) struct DeployApplyTests {
    static let account = "system:serviceaccount:kube-system:kube-router"
    static let manifest = repositoryRoot.appendingPathComponent("deploy/kube-router.yaml").path

    func kubectl(_ kubeconfig: String, _ arguments: [String]) throws -> (Int32, String, String) {
        let path = try #require(KubectlTests.kubectl, "kubectl is not installed: run scripts/setup")
        let cache = FileManager.default.temporaryDirectory.appendingPathComponent("kr-kubectl-cache-\(getpid())").path
        return try run(
            path, ["--kubeconfig", kubeconfig, "--cache-dir", cache, "--request-timeout", "20s"] + arguments)
    }

    func statusCode(_ body: () throws -> Void) -> Int? {
        do {
            try body()
            return 200
        } catch let error as KubeAPIError {
            return error.statusCode
        } catch {
            return nil
        }
    }

    @Test func kubectlAppliesTheManifestAndItsRoleAuthorizesTheAgent() throws {
        let server = try TestAPIServer(arguments: ["--rbac", "--token", "agent-token:\(Self.account)"])
        let kubeconfig = try server.writeKubeconfig()
        let agent = KubeClient(config: server.config(token: "agent-token"))
        let agentNeeds = DoctorCatalog.accessRequests(for: [.firewall, .router])

        // Before the manifest: the service account may do nothing, not even ask.
        #expect(statusCode { _ = try agent.list(.pods) } == 403)
        #expect(statusCode { _ = try agent.reviewAccess(agentNeeds) } == 403)

        let (applied, out, err) = try kubectl(kubeconfig, ["apply", "-f", Self.manifest])
        #expect(applied == 0, "\(out)\(err)")
        for object in [
            "serviceaccount/kube-router created", "clusterrole.rbac.authorization.k8s.io/kube-router created",
            "clusterrolebinding.rbac.authorization.k8s.io/kube-router created", "configmap/kube-router-cni created",
            "daemonset.apps/kube-router created",
        ] {
            #expect(out.contains(object), "\(out)")
        }
        let (got, json, getErr) = try kubectl(
            kubeconfig, ["-n", "kube-system", "get", "daemonset", "kube-router", "-o", "json"])
        #expect(got == 0, "\(getErr)")
        let ds = try JSONValue.parseJSON(Data(json.utf8))
        #expect(ds["spec"]?["template"]?["spec"]?["hostNetwork"] == .bool(true))
        #expect(ds["metadata"]?["annotations"]?["kubectl.kubernetes.io/last-applied-configuration"] != nil)
        // Applying again changes nothing.
        let (again, unchanged, againErr) = try kubectl(kubeconfig, ["apply", "-f", Self.manifest])
        #expect(again == 0 && unchanged.contains("daemonset.apps/kube-router unchanged"), "\(unchanged)\(againErr)")

        // The agent's reads are allowed, and its node checks may ask and hear yes.
        for resource in [APIResource.nodes, .namespaces, .pods, .networkPolicies, .services, .endpointSlices] {
            #expect(statusCode { _ = try agent.list(resource) } == 200, "list \(resource)")
        }
        let reviews = try agent.reviewAccess(agentNeeds)
        let refused = reviews.filter { !$0.allowed }
        #expect(refused.isEmpty, "\(refused)")
        // Nothing more: other kinds (configmaps), gets, writes.
        #expect(statusCode { _ = try agent.send("GET", "/api/v1/configmaps", what: "list configmaps") } == 403)
        #expect(
            try agent.reviewAccess([.init(verb: "list", group: "", resource: "configmaps")]).map(\.allowed) == [false])
        #expect(statusCode { _ = try agent.get(.nodes, namespace: nil, name: "n1") } == 403, "no get")
        let node: JSONValue = .object(["apiVersion": "v1", "kind": "Node", "metadata": .object(["name": "n1"])])
        #expect(statusCode { _ = try agent.create(.nodes, namespace: nil, object: node) } == 403)
        #expect(
            statusCode {
                _ = try agent.send(
                    "GET", "/apis/apps/v1/namespaces/kube-system/daemonsets", what: "list daemonsets")
            } == 403)
        // A watch needs its own verb: the reflector's stream is authorized too.
        #expect(
            statusCode {
                _ = try agent.send(
                    "GET", "/api/v1/configmaps", query: ["watch": "1", "timeoutSeconds": "1"],
                    what: "watch configmaps")
            } == 403)

        // Removing the binding takes the access away again.
        let (deleted, _, deleteErr) = try kubectl(kubeconfig, ["delete", "clusterrolebinding", "kube-router"])
        #expect(deleted == 0, "\(deleteErr)")
        #expect(statusCode { _ = try agent.list(.pods) } == 403)
    }

    /// Both overlays apply with kubectl's kustomize; both roles let the agent read Services and EndpointSlices
    /// (the router announces service IPs), replace-kube-proxy runs the service proxy, the restricted DaemonSet
    /// asks for capabilities instead of privileged.
    @Test func kubectlAppliesTheOverlays() throws {
        for (overlay, proxy) in [("restricted", false), ("replace-kube-proxy", true)] {
            let server = try TestAPIServer(arguments: ["--rbac", "--token", "agent-token:\(Self.account)"])
            let kubeconfig = try server.writeKubeconfig()
            let folder = repositoryRoot.appendingPathComponent("deploy/overlays/\(overlay)").path
            let (applied, out, err) = try kubectl(kubeconfig, ["apply", "-k", folder])
            #expect(applied == 0, "\(overlay): \(out)\(err)")
            #expect(out.contains("daemonset.apps/kube-router created"), "\(overlay): \(out)")
            let agent = KubeClient(config: server.config(token: "agent-token"))
            #expect(statusCode { _ = try agent.list(.pods) } == 200, "\(overlay)")
            #expect(statusCode { _ = try agent.list(.services) } == 200, "\(overlay)")
            #expect(statusCode { _ = try agent.list(.endpointSlices) } == 200, "\(overlay)")
            let (_, json, _) = try kubectl(
                kubeconfig, ["-n", "kube-system", "get", "daemonset", "kube-router", "-o", "json"])
            let container = try JSONValue.parseJSON(Data(json.utf8))["spec"]?["template"]?["spec"]?["containers"]?
                .arrayValue?.first
            let args = container?["args"]?.arrayValue?.compactMap(\.stringValue) ?? []
            #expect(args.contains("--run-service-proxy=\(proxy)"), "\(overlay): \(args)")
            if overlay == "restricted" {
                #expect(container?["securityContext"]?["privileged"] != .bool(true))
                #expect(
                    container?["securityContext"]?["capabilities"]?["add"]?.arrayValue?.contains("NET_ADMIN") == true)
            }
        }
    }
}
