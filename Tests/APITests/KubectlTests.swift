import Foundation
import TestSupport
import Testing

@testable import KubeAPI
@testable import KubeModel

/// The real kubectl against the test server, and krctl live against the same objects.
@Suite(.serialized) struct KubectlTests {
    static let kubectl: String? = ["/usr/bin/kubectl", "/usr/local/bin/kubectl"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }

    func kubectl(_ kubeconfig: String, _ arguments: [String]) throws -> (Int32, String, String) {
        let path = try #require(Self.kubectl, "kubectl is not installed: run scripts/setup")
        let cache = FileManager.default.temporaryDirectory.appendingPathComponent("kr-kubectl-cache-\(getpid())").path
        return try run(
            path, ["--kubeconfig", kubeconfig, "--cache-dir", cache, "--request-timeout", "20s"] + arguments)
    }

    @Test func applyGetLabelWatchDelete() throws {
        let server = try TestAPIServer()
        let kubeconfig = try server.writeKubeconfig()
        let examples = repositoryRoot.appendingPathComponent("examples/cluster").path

        let (applied, out, err) = try kubectl(kubeconfig, ["apply", "-f", examples])
        #expect(applied == 0, "\(err)")
        #expect(out.contains("pod/api created") && out.contains("networkpolicy.networking.k8s.io/default-deny created"))

        let (got, json, _) = try kubectl(kubeconfig, ["get", "pods", "-A", "-o", "json"])
        #expect(got == 0)
        let list = try JSONValue.parseJSON(Data(json.utf8))
        #expect(
            Set(list["items"]?.arrayValue?.compactMap { $0["metadata"]?["name"]?.stringValue } ?? []) == [
                "frontend", "api", "db", "prometheus", "debug",
            ])

        // A second apply changes nothing.
        let (_, again, _) = try kubectl(kubeconfig, ["apply", "-f", examples])
        #expect(again.contains("pod/api unchanged"))

        let (labelled, _, labelErr) = try kubectl(kubeconfig, ["label", "pod", "-n", "shop", "api", "audited=yes"])
        #expect(labelled == 0, "\(labelErr)")
        let api = try KubeClient(config: server.config()).get(.pods, namespace: "shop", name: "api")
        #expect(api["metadata"]?["labels"]?["audited"]?.stringValue == "yes")

        let (patched, _, patchErr) = try kubectl(
            kubeconfig,
            [
                "patch", "pod", "-n", "shop", "db", "--type", "json",
                "-p", #"[{"op":"add","path":"/metadata/labels/backup","value":"nightly"}]"#,
            ])
        #expect(patched == 0, "\(patchErr)")
        let (_, selected, _) = try kubectl(kubeconfig, ["get", "pods", "-A", "-l", "backup=nightly", "-o", "name"])
        #expect(selected.trimmingCharacters(in: .whitespacesAndNewlines) == "pod/db")
        let (_, all, _) = try kubectl(kubeconfig, ["get", "all", "-n", "shop", "-o", "name"])
        #expect(all.contains("pod/api"))

        // `get -w` streams: start it, make a change, and read until the new pod's line arrives.
        let watcher = Process()
        watcher.executableURL = URL(fileURLWithPath: try #require(Self.kubectl))
        watcher.arguments = ["--kubeconfig", kubeconfig, "get", "pods", "-n", "dev", "-w", "--output-watch-events"]
        let pipe = Pipe()
        watcher.standardOutput = pipe
        watcher.standardError = FileHandle.nullDevice
        try watcher.run()
        defer {
            watcher.terminate()
            watcher.waitUntilExit()
        }
        var seen = ""
        func readUntil(_ needle: String) -> Bool {
            let deadline = Date(timeIntervalSinceNow: 20)
            while Date() < deadline {
                let chunk = pipe.fileHandleForReading.availableData
                if chunk.isEmpty { return false }
                seen += String(decoding: chunk, as: UTF8.self)
                if seen.contains(needle) { return true }
            }
            return false
        }
        #expect(readUntil("debug"), "the initial list: \(seen)")
        _ = try KubeClient(config: server.config()).create(
            .pods, namespace: "dev", object: podJSON("dev", "newcomer", ip: "10.244.1.99"))
        #expect(readUntil("newcomer"), "the watch event: \(seen)")

        let (deleted, deleteOut, _) = try kubectl(kubeconfig, ["delete", "-f", examples])
        #expect(deleted == 0)
        #expect(deleteOut.contains("pod \"api\" deleted") || deleteOut.contains("pod/api deleted"), "\(deleteOut)")
        // Namespaces terminate as on a real cluster; kubectl waits for them over a watch.
        let (waited, _, waitErr) = try kubectl(
            kubeconfig,
            [
                "wait", "--for=delete", "namespace/shop", "namespace/dev",
                "namespace/monitoring", "--timeout=20s",
            ])
        #expect(waited == 0, "\(waitErr)")
        let (_, remaining, _) = try kubectl(kubeconfig, ["get", "pods", "-A", "-o", "json"])
        #expect(
            try JSONValue.parseJSON(Data(remaining.utf8))["items"]?.arrayValue?.isEmpty == true,
            "deleting the namespaces removed their pods too")
    }

    @Test func krctlLiveGivesTheSameAnswersAsManifests() throws {
        let server = try TestAPIServer()
        let kubeconfig = try server.writeKubeconfig()
        let examples = repositoryRoot.appendingPathComponent("examples/cluster").path
        let (applied, _, err) = try kubectl(kubeconfig, ["apply", "-f", examples])
        #expect(applied == 0, "\(err)")
        let krctl = builtExecutable("krctl").path
        let queries: [[String]] = [
            ["--from", "shop/frontend", "--to", "shop/api", "--port", "http"],
            ["--from", "dev/debug", "--to", "shop/db", "--port", "5432"],
            ["--from", "203.0.113.9", "--to", "shop/frontend", "--port", "8080"],
            ["--from", "192.168.10.12", "--to", "shop/db", "--port", "5432"],
            ["--matrix", "--port", "5432", "--port", "http", "--port", "53/UDP"],
        ]
        for query in queries {
            let (offlineStatus, offline, _) = try run(krctl, ["explain-policy", "-f", examples, "-o", "json"] + query)
            let (liveStatus, live, liveErr) = try run(
                krctl, ["explain-policy", "--kubeconfig", kubeconfig, "-o", "json"] + query)
            #expect(offlineStatus == 0 && liveStatus == 0, "\(liveErr)")
            #expect(live == offline, "live and offline differ for \(query)")
        }
        // Bare pod names live in the context's namespace, as with kubectl.
        let inShop = try server.writeKubeconfig(namespace: "shop")
        let (bareStatus, bare, bareErr) = try run(
            krctl,
            [
                "explain-policy", "--kubeconfig", inShop, "--from", "api", "--to", "db",
                "--port", "5432", "-o", "json",
            ])
        #expect(bareStatus == 0 && bare.contains("\"pod\" : \"shop/api\""), "\(bareErr)")
        // KUBECONFIG is honoured as kubectl honours it.
        let (status, viaEnv, _) = try run(
            krctl, ["explain-policy", "--from", "shop/api", "--to", "shop/db", "--port", "5432", "-o", "json"],
            environment: ["KUBECONFIG": kubeconfig])
        #expect(status == 0 && viaEnv.contains("\"verdict\" : \"allow\""))
    }

    @Test func krctlInClusterUsesTheServiceAccount() throws {
        let server = try TestAPIServer()
        _ = try KubeClient(config: server.config()).create(
            .pods, namespace: "default", object: podJSON("default", "p", ip: "10.0.0.1"))
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kr-sa-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try "s3cret".write(toFile: "\(dir)/token", atomically: true, encoding: .utf8)
        try FileManager.default.copyItem(atPath: TestPKI.file("ca.crt"), toPath: "\(dir)/ca.crt")
        let env = ["KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": String(server.port)]
        let config = try KubeConfig.inCluster(environment: env, serviceAccountDirectory: dir)
        let snapshot = try APISource(config: config).snapshot()
        #expect(snapshot.pods["default/p"] != nil)
    }

    @Test func krctlReportsAnUnreachableServer() throws {
        let server = try TestAPIServer()
        let kubeconfig = try server.writeKubeconfig()
        server.stop()
        let (status, _, stderr) = try run(
            builtExecutable("krctl").path,
            ["explain-policy", "--kubeconfig", kubeconfig, "--matrix", "--port", "80"])
        #expect(status == 1)
        #expect(stderr.contains("cannot connect to the API server"), "\(stderr)")
    }
}

/// What the lab relies on from kube-test-server as a cluster would give it: kubectl's columns from the
/// server's tables, pods on a node deleted gracefully (the node removes them), Services given cluster IPs.
@Suite(.serialized) struct KubectlClusterBehaviourTests {
    @Test func tablesGracefulPodDeletionAndClusterIPs() throws {
        let server = try TestAPIServer(arguments: [
            "--graceful-pod-deletion", "--service-cluster-ip-range", "10.96.0.0/12",
        ])
        let kubeconfig = try server.writeKubeconfig()
        let tests = KubectlTests()
        let manifest = """
            apiVersion: v1
            kind: Pod
            metadata: {name: web, namespace: default, labels: {app: web}}
            spec:
              nodeName: node-1
              terminationGracePeriodSeconds: 30
              containers: [{name: web, image: nginx}, {name: sidecar, image: busybox}]
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: web, namespace: default}
            spec: {selector: {app: web}, ports: [{port: 80, targetPort: 8080}]}
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: headless, namespace: default}
            spec: {clusterIP: None, selector: {app: web}, ports: [{port: 80}]}
            """
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("kr-table-\(getpid()).yaml").path
        try manifest.write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let (applied, _, err) = try tests.kubectl(kubeconfig, ["apply", "-f", file])
        try #require(applied == 0, "\(err)")

        // The pod's status as a kubelet reports it, then the columns kubectl prints from the server's table.
        let client = KubeClient(config: try server.config())
        _ = try client.patch(
            .pods, namespace: "default", name: "web",
            mergePatch: .object([
                "status": .object([
                    "phase": "Running", "podIP": "10.244.1.5",
                    "containerStatuses": .array([
                        .object([
                            "name": "web", "ready": .bool(true), "restartCount": .int(2),
                            "state": .object(["running": .object([:])]),
                        ]),
                        .object([
                            "name": "sidecar", "ready": .bool(false), "restartCount": .int(1),
                            "state": .object(["waiting": .object(["reason": "CrashLoopBackOff"])]),
                        ]),
                    ]),
                ])
            ]), subresource: "status")
        let (_, wide, _) = try tests.kubectl(kubeconfig, ["get", "pods", "-o", "wide"])
        let lines = wide.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true) }
        #expect(lines.first?.prefix(7) == ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE"], "\(wide)")
        #expect(lines.dropFirst().first?.first == "web")
        #expect(
            lines.dropFirst().first?.contains("1/2") == true
                && lines.dropFirst().first?.contains("CrashLoopBackOff") == true, "\(wide)")
        #expect(
            lines.dropFirst().first?.contains("10.244.1.5") == true
                && lines.dropFirst().first?.contains("node-1") == true)

        // Cluster IPs: the first after the kubernetes Service's; none for a headless Service.
        let web = try client.get(.services, namespace: "default", name: "web")
        #expect(web["spec"]?["clusterIP"] == "10.96.0.2")
        let headless = try client.get(.services, namespace: "default", name: "headless")
        #expect(headless["spec"]?["clusterIP"] == "None")
        let (_, services, _) = try tests.kubectl(kubeconfig, ["get", "services"])
        #expect(services.contains("10.96.0.2") && services.contains("80/TCP"), "\(services)")

        // A bound pod's DELETE marks it; kubectl shows it Terminating; the node's DELETE with grace 0 removes it.
        let marked = try client.delete(.pods, namespace: "default", name: "web")
        #expect(marked["metadata"]?["deletionTimestamp"] != nil)
        #expect(marked["metadata"]?["deletionGracePeriodSeconds"] == .int(30))
        let (_, terminating, _) = try tests.kubectl(kubeconfig, ["get", "pod", "web"])
        #expect(terminating.contains("Terminating"), "\(terminating)")
        _ = try client.send(
            "DELETE", APIResource.pods.objectPath(namespace: "default", name: "web"),
            query: ["gracePeriodSeconds": "0"],
            what: "delete pod web")
        #expect(throws: KubeAPIError.self) { try client.get(.pods, namespace: "default", name: "web") }
    }
}
