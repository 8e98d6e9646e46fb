import ArgumentParser
import Foundation
import KubeModel

/// `up`: the network, the API server and emulator, the DaemonSet applied with kubectl, then waits until
/// every node's agent is Ready (or says why not), and starts the example workload.
struct LabUp: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "up", abstract: "Start the lab and wait until every node's agent is Ready.")

    @OptionGroup var lab: LabOptions

    @Option(help: "Number of nodes (1-50).")
    var nodes = 3

    @Option(
        help: ArgumentHelp(
            "The manifests: base (deploy/kube-router.yaml), restricted, or replace-kube-proxy (the service proxy; "
                + "needs IPVS in the kernel)."))
    var overlay = "base"

    @Option(help: "The repository (deploy/ and examples/ are read from it).")
    var repository = FileManager.default.currentDirectoryPath

    @Option(help: "Where kube-router, krctl and kube-test-server are (default: beside kr-lab).")
    var binDir: String?

    @Option(help: "Seconds to wait for the agents to turn Ready, and again for the example pods.")
    var timeout = 180.0

    @Flag(help: "Do not start the example workload (examples/lab).")
    var noExamples = false

    func validate() throws {
        guard (1...50).contains(nodes) else { throw ValidationError("--nodes must be 1-50") }
        guard ["base", "restricted", "replace-kube-proxy"].contains(overlay) else {
            throw ValidationError("--overlay must be base, restricted or replace-kube-proxy")
        }
    }

    func run() throws {
        try requireRoot("up")
        let layout = try lab.layout()
        let started = Date()
        let bin = binDir ?? executableDirectory()
        for tool in ["kube-router", "krctl", "kube-test-server"]
        where !FileManager.default.isExecutableFile(
            atPath: "\(bin)/\(tool)")
        {
            throw LabError("\(bin)/\(tool) is missing: build it first (scripts/lab builds what is missing)")
        }
        guard LabAPI.kubectl != nil else { throw LabError("kubectl is not installed: run sudo scripts/setup") }
        guard FileManager.default.isExecutableFile(atPath: "/usr/lib/cni/bridge") else {
            throw LabError("the CNI plugins (/usr/lib/cni) are not installed: run sudo scripts/setup")
        }
        let network = LabNetwork(layout: layout)
        if FileManager.default.fileExists(atPath: layout.root) || !network.namespaces().isEmpty {
            throw LabError(
                "lab \(layout.name) is already up (sudo scripts/lab status); take it down first: sudo scripts/lab down")
        }
        var serviceProxy = overlay == "replace-kube-proxy"
        if serviceProxy && !Self.kernelHasIPVS() {
            print("lab: this kernel has no IPVS: the service proxy cannot run here; using the base manifests")
            serviceProxy = false
        }
        let manifests = serviceProxy ? "replace-kube-proxy" : (overlay == "replace-kube-proxy" ? "base" : overlay)

        do {
            try FileManager.default.createDirectory(atPath: layout.pki, withIntermediateDirectories: true)
            step("certificates")
            try makePKI(layout)
            let record = LabRecord(
                nodes: nodes, binDir: bin, repository: repository, overlay: manifests, serviceProxy: serviceProxy,
                tokens: ["system:serviceaccount:kube-system:kube-router": Self.randomToken()])
            try record.save(layout)
            step("network: \(layout.controlPlaneNetns) with bridge \(layout.bridge), \(nodes) node namespaces")
            try network.createControlPlane()
            for index in 1...nodes { try network.createNode(index: index) }

            step("API server and node emulator")
            _ = FileManager.default.createFile(atPath: layout.serveLog, contents: nil)
            let log = try FileHandle(forWritingTo: URL(fileURLWithPath: layout.serveLog))
            let serve = Process()
            serve.executableURL = URL(fileURLWithPath: "/usr/bin/nsenter")
            // In the control plane's network namespace but the host's mount namespace (nsenter, not ip netns
            // exec): the pods' network namespaces it makes must be visible to everyone.
            serve.arguments = [
                "--net=/var/run/netns/\(layout.controlPlaneNetns)",
                "\(executableDirectory())/kr-lab", "serve", "--name", layout.name,
            ]
            serve.standardOutput = log
            serve.standardError = log
            serve.standardInput = FileHandle.nullDevice
            try serve.run()

            let api = LabAPI(layout: layout)
            try wait("the nodes to register", seconds: 30) {
                guard serve.isRunning else { throw LabError("the emulator exited: \(tail(layout.serveLog))") }
                return (try? api.items(["nodes"]).count) == nodes
            }
            if serviceProxy {
                // As the overlay asks: the API server's own address, for the agent that is about to proxy it.
                // (kubectl create sends protobuf, which kube-test-server does not read; apply sends JSON.)
                _ = try api.run(
                    ["apply", "-f", "-"],
                    input: """
                        apiVersion: v1
                        kind: ConfigMap
                        metadata: {name: kube-router-api-server, namespace: kube-system}
                        data: {host: "\(layout.apiAddress)", port: "\(layout.apiPort)"}
                        """)
            }
            step("kubectl apply (\(manifests))")
            let applied =
                manifests == "base"
                ? try api.run(["apply", "-f", "\(repository)/deploy/kube-router.yaml"])
                : try api.run(["apply", "-k", "\(repository)/deploy/overlays/\(manifests)"])
            print(applied.split(separator: "\n").map { "  \($0)" }.joined(separator: "\n"))
            try waitForAgents(api: api, layout: layout, serve: serve)
            if !noExamples { try startExamples(api: api, layout: layout, serve: serve) }
            print(
                String(
                    format: "lab: %@ is up in %.0f s (%d nodes, %@)", layout.name, Date().timeIntervalSince(started),
                    nodes, serviceProxy ? "with the service proxy" : "without the service proxy"))
            print(try api.run(["get", "nodes", "-o", "wide"]), terminator: "")
            print(
                """

                Next:
                  sudo scripts/lab kubectl get pods -A -o wide
                  sudo scripts/lab exec node-1 -- krctl bgp peers
                  sudo scripts/lab exec node-1 -- krctl drops --since 30s
                  sudo scripts/lab exec demo/client -- curl -s http://<web pod IP>:8080
                  sudo scripts/lab restart      (a rolling restart of the DaemonSet)
                  sudo scripts/lab down         (removes everything the lab made)
                """)
        } catch {
            print("lab: up failed: \(error)")
            print(
                "lab: logs are in \(layout.root) (serve.log, api.log, nodes/*/pods/*/*.log); "
                    + "sudo scripts/lab down removes it all"
            )
            throw ExitCode.failure
        }
    }

    private func step(_ text: String) { print("lab: \(text)") }

    private func tail(_ file: String, lines: Int = 8) -> String {
        guard let data = FileManager.default.contents(atPath: file) else { return "(no \(file))" }
        return String(decoding: data, as: UTF8.self).split(separator: "\n").suffix(lines).joined(separator: "\n")
    }

    private func wait(_ what: String, seconds: Double, _ done: () throws -> Bool) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try done() { return }
            Thread.sleep(forTimeInterval: 0.25)
        }
        throw LabError("timed out after \(Int(seconds)) s waiting for \(what)")
    }

    /// Waits until every node's kube-router pod is Ready, printing each change of a node's state.
    private func waitForAgents(api: LabAPI, layout: LabLayout, serve: Process) throws {
        var shown: [String: String] = [:]
        var lastPods: [JSONValue] = []
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            guard serve.isRunning else { throw LabError("the emulator exited: \(tail(layout.serveLog))") }
            let pods = (try? api.items(["pods", "-n", "kube-system", "-l", "k8s-app=kube-router"])) ?? lastPods
            lastPods = pods
            var ready = 0
            for pod in pods {
                let node = pod["spec"]?["nodeName"]?.stringValue ?? "?"
                let state = Self.describe(pod)
                if state == "Ready" { ready += 1 }
                if shown[node] != state {
                    shown[node] = state
                    print("lab: \(node): \(pod["metadata"]?["name"]?.stringValue ?? "?") \(state)")
                }
            }
            if ready == nodes { return }
            Thread.sleep(forTimeInterval: 0.5)
        }
        var reasons: [String] = []
        for pod in lastPods where Self.describe(pod) != "Ready" {
            let node = pod["spec"]?["nodeName"]?.stringValue ?? "?"
            let uid = pod["metadata"]?["uid"]?.stringValue ?? ""
            let logFile = "\(layout.podDir(node: node, uid: uid))/kube-router.log"
            reasons.append("\(node): \(Self.describe(pod)); the agent's last lines:\n\(tail(logFile))")
        }
        if lastPods.count < nodes { reasons.append("only \(lastPods.count) of \(nodes) agent pods exist") }
        throw LabError(
            "the agents are not Ready after \(Int(timeout)) s:\n" + reasons.joined(separator: "\n"))
    }

    /// A pod's state in a few words: Ready, or what it waits for.
    static func describe(_ pod: JSONValue) -> String {
        if pod["status"]?["conditions"]?.arrayValue?.contains(where: { $0["type"] == "Ready" && $0["status"] == "True" }
        )
            == true
        {
            return "Ready"
        }
        let statuses =
            (pod["status"]?["initContainerStatuses"]?.arrayValue ?? [])
            + (pod["status"]?["containerStatuses"]?.arrayValue ?? [])
        for status in statuses {
            if let waiting = status["state"]?["waiting"], let reason = waiting["reason"]?.stringValue,
                reason != "PodInitializing"
            {
                return "waiting (\(reason)\(waiting["message"]?.stringValue.map { ": \($0)" } ?? ""))"
            }
            if let terminated = status["state"]?["terminated"], terminated["exitCode"] != .int(0) {
                return "container \(status["name"]?.stringValue ?? "?") failed"
            }
        }
        if statuses.contains(where: { $0["state"]?["running"] != nil && $0["ready"] == .bool(false) }) {
            return "running, not ready yet"
        }
        return pod["status"]?["phase"]?.stringValue ?? "Pending"
    }

    /// The example workload (examples/lab): a web server on every node, a client, a policy; then one request
    /// across nodes to show the pods talking.
    private func startExamples(api: LabAPI, layout: LabLayout, serve: Process) throws {
        let folder = "\(repository)/examples/lab"
        guard FileManager.default.fileExists(atPath: folder) else { return }
        step("example workload (\(folder))")
        _ = try api.run(["apply", "-f", folder])
        var pods: [JSONValue] = []
        do {
            try wait("the example pods to be Ready", seconds: timeout) {
                guard serve.isRunning else { throw LabError("the emulator exited: \(tail(layout.serveLog))") }
                // Pods pinned to a node this lab does not have stay Pending, as on a cluster: not waited for.
                pods = ((try? api.items(["pods", "-n", "demo"])) ?? pods).filter { pod in
                    let wanted = pod["spec"]?["nodeSelector"]?["kubernetes.io/hostname"]?.stringValue
                    return wanted.map { name in (1...nodes).contains { layout.nodeName($0) == name } } ?? true
                }
                return !pods.isEmpty && pods.allSatisfy { Self.describe($0) == "Ready" }
            }
        } catch let error as LabError {
            let waiting = pods.filter { Self.describe($0) != "Ready" }.map { pod in
                let name = pod["metadata"]?["name"]?.stringValue ?? "?"
                return "  demo/\(name) on \(pod["spec"]?["nodeName"]?.stringValue ?? "?"): \(Self.describe(pod))"
            }
            throw LabError(
                "\(error.description)" + (waiting.isEmpty ? "" : ":\n" + waiting.joined(separator: "\n"))
                    + "\n(a slow machine may need a larger --timeout)")
        }
        guard let client = pods.first(where: { $0["metadata"]?["name"] == "client" }) else { return }
        let clientNode = client["spec"]?["nodeName"]?.stringValue ?? ""
        let netns = layout.podNetns(uid: client["metadata"]?["uid"]?.stringValue ?? "")
        for web in pods where web["metadata"]?["labels"]?["app"] == "web" {
            guard let ip = web["status"]?["podIP"]?.stringValue, let node = web["spec"]?["nodeName"]?.stringValue,
                node != clientNode
            else { continue }
            let name = web["metadata"]?["name"]?.stringValue ?? "?"
            var answer = ""
            try? wait("demo/client to reach demo/\(name)", seconds: 20) {
                let result = try Shell.run(
                    "/usr/sbin/ip", ["netns", "exec", netns, "curl", "-s", "--max-time", "2", "http://\(ip):8080/"],
                    check: false)
                answer = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
                return result.status == 0
            }
            print(
                "lab: demo/client (\(clientNode)) → demo/\(name) (\(node), \(ip)): "
                    + (answer.isEmpty ? "no answer" : answer)
            )
        }
    }

    static func kernelHasIPVS() -> Bool {
        if FileManager.default.fileExists(atPath: "/proc/net/ip_vs") { return true }
        return (try? Shell.run("/sbin/modprobe", ["-q", "ip_vs"], check: false))?.status == 0
            && FileManager.default.fileExists(atPath: "/proc/net/ip_vs")
    }

    static func randomToken() -> String {
        (0..<32).map { _ in String(UInt8.random(in: 0...255), radix: 16) }.joined()
    }

    /// A CA, the API server's certificate for the lab's address, and the admin's client certificate.
    private func makePKI(_ layout: LabLayout) throws {
        let dir = layout.pki
        func openssl(_ arguments: [String]) throws { try Shell.run("/usr/bin/openssl", arguments) }
        try openssl([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30", "-subj", "/CN=kube-router-lab-ca",
            "-keyout", "\(dir)/ca.key", "-out", "\(dir)/ca.crt",
        ])
        try "subjectAltName=IP:\(layout.apiAddress),IP:127.0.0.1,DNS:kubernetes\nextendedKeyUsage=serverAuth\n"
            .write(toFile: "\(dir)/server.ext", atomically: true, encoding: .utf8)
        try "extendedKeyUsage=clientAuth\n".write(toFile: "\(dir)/client.ext", atomically: true, encoding: .utf8)
        for (name, subject, ext) in [
            ("server", "/CN=kube-test-server", "server.ext"), ("admin", "/CN=admin/O=system:masters", "client.ext"),
        ] {
            try openssl([
                "req", "-newkey", "rsa:2048", "-nodes", "-subj", subject, "-keyout", "\(dir)/\(name).key", "-out",
                "\(dir)/\(name).csr",
            ])
            try openssl([
                "x509", "-req", "-in", "\(dir)/\(name).csr", "-CA", "\(dir)/ca.crt", "-CAkey", "\(dir)/ca.key",
                "-CAcreateserial", "-days", "30", "-extfile", "\(dir)/\(ext)", "-out", "\(dir)/\(name).crt",
            ])
        }
        try """
        apiVersion: v1
        kind: Config
        clusters:
        - name: \(layout.name)
          cluster:
            server: \(layout.apiURL)
            certificate-authority: \(dir)/ca.crt
        users:
        - name: admin
          user:
            client-certificate: \(dir)/admin.crt
            client-key: \(dir)/admin.key
        contexts:
        - name: \(layout.name)
          context:
            cluster: \(layout.name)
            user: admin
        current-context: \(layout.name)

        """.write(toFile: layout.kubeconfig, atomically: true, encoding: .utf8)
    }
}
