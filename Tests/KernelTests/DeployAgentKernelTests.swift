import Foundation
import TestSupport
import Testing

@testable import Kernel
@testable import KubeAPI
@testable import KubeModel

/// The DaemonSet's agent with nothing but its role: kube-test-server authorizes by RBAC (`--rbac`), kubectl
/// applies deploy/kube-router.yaml, and the agent runs in a node's network namespace with the container's
/// arguments and environment from that manifest (paths moved into the lab) and the service account's token.
/// It gets no 403: it turns ready, its node check api-rbac passes, its API request metrics hold no 403,
/// and it writes the CNI file (from the ConfigMap's template) once its first syncs are done.
@Suite(.serialized, .enabled(if: BGPLab.available, "needs root and bird2 (scripts/setup)"))
struct DeployAgentKernelTests {
    static let account = "system:serviceaccount:kube-system:kube-router"
    static let manifest = repositoryRoot.appendingPathComponent("deploy/kube-router.yaml").path

    func get(_ lab: BGPLab, _ url: String) -> (code: Int, body: String) {
        let (_, out) = Kernel.shell("ip netns exec \(lab.ns("s")) curl -sS --max-time 5 -w '\\n%{http_code}' '\(url)'")
        let lines = out.split(separator: "\n", omittingEmptySubsequences: false)
        return (Int(lines.last ?? "") ?? 0, lines.dropLast().joined(separator: "\n"))
    }

    @Test func theAgentNeedsNothingButItsRole() throws {
        let kubectl = try #require(
            ["/usr/bin/kubectl", "/usr/local/bin/kubectl"].first { FileManager.default.isExecutableFile(atPath: $0) },
            "kubectl is not installed: run scripts/setup")
        let lab = try BGPLab()
        try lab.addNode("s", ip: "10.99.0.10", podCIDR: "10.244.10.0/24", asn: 64512)
        let server = try TestAPIServer(
            arguments: ["--rbac", "--token", "agent-token:\(Self.account)"],
            launcher: ["/usr/sbin/ip", "netns", "exec", lab.ns("s")])
        let admin = try server.writeKubeconfig()
        let (applied, out, err) = try run(
            "/usr/sbin/ip",
            ["netns", "exec", lab.ns("s"), kubectl, "--kubeconfig", admin, "apply", "-f", Self.manifest])
        #expect(applied == 0, "\(out)\(err)")
        try NetworkNamespace.run(lab.ns("s")) { [config = server.config()] in
            let node: JSONValue = .object([
                "apiVersion": "v1", "kind": "Node", "metadata": .object(["name": "node-s"]),
                "spec": .object(["podCIDR": "10.244.10.0/24"]),
                "status": .object(["addresses": .array([.object(["type": "InternalIP", "address": "10.99.0.10"])])]),
            ])
            _ = try KubeClient(config: config).create(.nodes, namespace: nil, object: node)
        }

        // The container as the manifest has it; host paths moved into the lab.
        let objects = try JSONValue.parseYAMLDocuments(String(contentsOfFile: Self.manifest, encoding: .utf8))
        let daemonSet = try #require(objects.first { $0["kind"] == "DaemonSet" })
        let container = try #require(daemonSet["spec"]?["template"]?["spec"]?["containers"]?.arrayValue?.first)
        let configMap = try #require(objects.first { $0["kind"] == "ConfigMap" })
        let dir = try lab.dir("agent")
        let template = "\(dir)/10-kuberouter.conflist.template"
        try #require(configMap["data"]?["10-kuberouter.conflist"]?.stringValue)
            .write(toFile: template, atomically: true, encoding: .utf8)
        let cni = "\(dir)/net.d/10-kuberouter.conflist"
        var arguments = try #require(container["args"]?.arrayValue).compactMap(\.stringValue).map { argument in
            if argument.hasPrefix("--state-dir=") { return "--state-dir=\(dir)/state" }
            if argument.hasPrefix("--cni-conf-file=") { return "--cni-conf-file=\(cni)" }
            if argument.hasPrefix("--cni-conf-template=") { return "--cni-conf-template=\(template)" }
            return argument
        }
        #expect(arguments.contains("--health-port=20244") && arguments.contains("--metrics-port=20245"))
        // The service account's token (in a kubeconfig: the in-cluster paths are the node's own).
        let kubeconfig = "\(dir)/kubeconfig"
        try """
        apiVersion: v1
        kind: Config
        clusters: [{name: test, cluster: {server: "\(server.url)", certificate-authority: \(TestPKI.file("ca.crt"))}}]
        users: [{name: kube-router, user: {token: agent-token}}]
        contexts: [{name: test, context: {cluster: test, user: kube-router}}]
        current-context: test
        """.write(toFile: kubeconfig, atomically: true, encoding: .utf8)
        arguments += ["--kubeconfig", kubeconfig]
        let env = container["env"]?.arrayValue ?? []
        #expect(env.contains { $0["name"] == "NODE_NAME" })
        let agent = try AgentRun(netns: lab.ns("s"), arguments: arguments, environment: ["NODE_NAME": "node-s"])
        defer { agent.stop() }

        try lab.eventually(40, "/readyz answers 200") { get(lab, "http://127.0.0.1:20244/readyz").code == 200 }
        let verbose = get(lab, "http://127.0.0.1:20244/readyz?verbose").body
        #expect(verbose.contains("[+]informers ok") && verbose.contains("[+]node ok"), "\(verbose)")
        // The node checks ran after the first syncs and asked the server: api-rbac is OK, nothing was refused.
        try lab.eventually(20, "the api-rbac node check passes") {
            get(lab, "http://127.0.0.1:20245/metrics").body
                .contains("kube_router_node_check{check=\"api-rbac\",status=\"OK\"} 1")
        }
        let metrics = get(lab, "http://127.0.0.1:20245/metrics").body
        let requests = metrics.split(separator: "\n").filter { $0.hasPrefix("kube_router_api_requests_total{") }
        #expect(!requests.isEmpty, "\(metrics)")
        #expect(!requests.contains { $0.contains("code=\"403\"") }, "\(requests)")
        // The CNI file, from the ConfigMap's template with the node's pod CIDR.
        try lab.eventually(10, "the CNI file is written") { FileManager.default.fileExists(atPath: cni) }
        let written = try #require(FileManager.default.contents(atPath: cni))
        let network = try JSONValue.parseJSON(written)
        #expect(
            network["plugins"]?.arrayValue?.first?["ipam"]?["ranges"]
                == .array([.array([.object(["subnet": "10.244.10.0/24"])])]), "\(network)")
        _ = server
    }
}
