import Foundation
import Kernel
import KubeModel
import TestSupport
import Testing

/// The lab as a user runs it (`kr-lab`, what scripts/lab calls): three nodes come up Ready with the
/// DaemonSet from deploy/, pods on different nodes reach each other over the agents' BGP routes, a policy
/// applied with kubectl is enforced, a rolling restart under continuous cross-node traffic keeps an
/// established connection and loses at most a few probe packets with graceful restart (the loss without it
/// is measured and printed), and `down` leaves nothing behind.
@Suite(
    .serialized,
    .enabled(
        if: Kernel.available && FileManager.default.isExecutableFile(atPath: "/usr/lib/cni/bridge")
            && ["/usr/bin/kubectl", "/usr/local/bin/kubectl"].contains {
                FileManager.default.isExecutableFile(atPath: $0)
            },
        "needs root, the CNI plugins and kubectl (scripts/setup)"))
struct LabKernelTests {
    static let name = "krlabt"
    let name = LabKernelTests.name
    static let echo = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Resources/tcpecho.py").path

    let driver = LabDriver(name: name)
    func lab(_ arguments: [String], input: String? = nil) throws -> (status: Int32, out: String) {
        try driver.lab(arguments, input: input)
    }
    func kubectl(_ arguments: [String], input: String? = nil) throws -> String {
        try driver.kubectl(arguments, input: input)
    }
    func pods(_ namespace: String) throws -> [String: JSONValue] { try driver.pods(namespace) }
    func eventually(_ seconds: Double, _ what: String, _ condition: () throws -> Bool) throws {
        try driver.eventually(seconds, what, condition)
    }
    func get(from pod: String, _ url: String) throws -> String? { try driver.get(from: pod, url) }

    struct RestartFigures: CustomStringConvertible {
        var pingsSent = 0
        var pingsLost = 0
        var echo: JSONValue = .null
        var seconds = 0.0
        var description: String {
            let kept = echo["closed"] == .bool(false) ? "kept" : "BROKEN (\(echo["error"]?.stringValue ?? ""))"
            return "\(pingsLost) of \(pingsSent) pings lost; the TCP connection \(kept), "
                + "\(echo["echoed"]?.intValue ?? 0)/\(echo["sent"]?.intValue ?? 0) lines echoed, longest wait "
                + "\(echo["maxGapMs"]?.intValue ?? 0) ms; \(String(format: "%.0f", seconds)) s"
        }
    }

    /// A rolling restart while demo/client (node-1) pings demo/stranger (node-2) every 50 ms and keeps one
    /// TCP connection to it busy with a line every 50 ms.
    func restartUnderTraffic(strangerIP: String) throws -> RestartFigures {
        let server = Process()
        server.executableURL = builtExecutable("kr-lab")
        server.arguments = ["exec", "--name", Self.name, "demo/stranger", "--", "python3", Self.echo, "serve", "9000"]
        let serverOut = Pipe()
        server.standardOutput = serverOut
        try server.run()
        defer {
            server.terminate()
            server.waitUntilExit()
        }
        #expect(serverOut.fileHandleForReading.availableLine()?.contains("listening") == true)

        let client = Process()
        client.executableURL = builtExecutable("kr-lab")
        client.arguments = [
            "exec", "--name", Self.name, "demo/client", "--", "python3", Self.echo, "client", strangerIP, "9000",
        ]
        let clientOut = Pipe()
        client.standardOutput = clientOut
        try client.run()
        #expect(clientOut.fileHandleForReading.availableLine()?.contains("connected") == true)

        let ping = Process()
        ping.executableURL = builtExecutable("kr-lab")
        ping.arguments = ["exec", "--name", Self.name, "demo/client", "--", "ping", "-n", "-i", "0.05", strangerIP]
        let pingOut = Pipe()
        ping.standardOutput = pingOut
        try ping.run()

        let started = Date()
        let (status, out) = try lab(["restart", "--timeout", "240"])
        let seconds = Date().timeIntervalSince(started)
        #expect(status == 0, "\(out)")
        #expect(out.contains("successfully rolled out"), "\(out)")

        kill(ping.processIdentifier, SIGINT)
        ping.waitUntilExit()
        client.terminate()
        client.waitUntilExit()
        var figures = RestartFigures(seconds: seconds)
        let summary = String(decoding: pingOut.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        // "123 packets transmitted, 120 received, 2.4% packet loss, time 6100ms"
        if let line = summary.split(separator: "\n").first(where: { $0.contains("packets transmitted") }) {
            let numbers = line.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
            if numbers.count >= 2 {
                figures.pingsSent = numbers[0]
                figures.pingsLost = numbers[0] - numbers[1]
            }
        }
        let echoed = String(decoding: clientOut.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        figures.echo = (try? JSONValue.parseJSON(Data((echoed.split(separator: "\n").last ?? "").utf8))) ?? .null
        return figures
    }

    @Test func threeNodesComeUpTalkEnforceRestartAndLeaveNothing() throws {
        let mountPoints = ["/etc/cni", "/opt/cni", "/var/lib/cni", "/etc/kube-router", "/var/run/secrets", "/host"]
        let existedBefore = Set(mountPoints.filter { FileManager.default.fileExists(atPath: $0) })
        _ = try? lab(["down"])
        var isDown = false
        defer { if !isDown { _ = try? lab(["down"]) } }

        // Up: three nodes, every agent Ready, the example pods talking across nodes.
        let started = Date()
        let bin = builtExecutable("kube-router").deletingLastPathComponent().path
        let (status, out) = try lab([
            "up", "--nodes", "3", "--repository", repositoryRoot.path, "--bin-dir", bin, "--timeout", "120",
        ])
        let upSeconds = Date().timeIntervalSince(started)
        try #require(status == 0, "\(out)")
        print("lab up in \(String(format: "%.1f", upSeconds)) s")
        #expect(out.contains("hello from web-2 on node-2") && out.contains("hello from web-3 on node-3"), "\(out)")
        let agents = try pods("kube-system").values.filter { $0["metadata"]?["labels"]?["k8s-app"] == "kube-router" }
        #expect(agents.count == 3)
        #expect(Set(agents.compactMap { $0["spec"]?["nodeName"]?.stringValue }) == ["node-1", "node-2", "node-3"])
        let table = try kubectl(["get", "pods", "-n", "kube-system", "-o", "wide"])
        #expect(
            table.split(separator: "\n").filter { $0.contains(" 1/1 ") && $0.contains("Running") }.count == 3,
            "\(table)")
        // The agents learned each other's pod CIDRs over BGP and put them in their kernels.
        let (_, routes) = try lab(["exec", "node-1", "--", "ip", "route", "show", "10.244.2.0/24"])
        #expect(routes.contains("via 10.99.0.12"), "\(routes)")
        let (_, peers) = try lab(["exec", "node-1", "--", "krctl", "bgp", "peers"])
        #expect(peers.split(separator: "\n").filter { $0.contains("Established") }.count == 2, "\(peers)")

        // Policy: the example's policy (applied with kubectl) lets the client in and keeps the stranger out.
        var demo = try pods("demo")
        let web3 = try #require(demo["web-3"]?["status"]?["podIP"]?.stringValue)
        let strangerIP = try #require(demo["stranger"]?["status"]?["podIP"]?.stringValue)
        #expect(try get(from: "client", "http://\(web3):8080/")?.contains("hello from web-3") == true)
        #expect(try get(from: "stranger", "http://\(web3):8080/") == nil)
        let allow = """
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: web-from-strangers, namespace: demo}
            spec:
              podSelector: {matchLabels: {app: web}}
              ingress: [{from: [{podSelector: {matchLabels: {role: stranger}}}]}]
            """
        _ = try kubectl(["apply", "-f", "-"], input: allow)
        try eventually(20, "the stranger is let in") { try get(from: "stranger", "http://\(web3):8080/") != nil }
        _ = try kubectl(["delete", "networkpolicy", "-n", "demo", "web-from-strangers"])
        try eventually(20, "the stranger is kept out again") {
            try get(from: "stranger", "http://\(web3):8080/") == nil
        }

        // A rolling restart with graceful restart (the manifests' default), once the DaemonSet is available
        // (minReadySeconds: a restart before that replaces every not yet available pod at once, as Kubernetes does).
        _ = try kubectl(["rollout", "status", "daemonset", "-n", "kube-system", "kube-router", "--timeout", "120s"])
        let withGR = try restartUnderTraffic(strangerIP: strangerIP)
        print("rolling restart, graceful restart on: \(withGR)")
        #expect(withGR.pingsSent > 100)
        #expect(withGR.echo["closed"] == .bool(false), "the established connection broke: \(withGR)")
        #expect(withGR.pingsLost <= 5, "\(withGR)")

        // The same without graceful restart: the DaemonSet's argument changed (itself a rolling update).
        let daemonSet = try JSONValue.parseJSON(
            Data(try kubectl(["get", "daemonset", "-n", "kube-system", "kube-router", "-o", "json"]).utf8))
        let arguments =
            daemonSet["spec"]?["template"]?["spec"]?["containers"]?.arrayValue?.first?["args"]?.arrayValue ?? []
        let index = try #require(arguments.firstIndex(of: "--bgp-graceful-restart=true"))
        _ = try kubectl([
            "patch", "daemonset", "-n", "kube-system", "kube-router", "--type", "json", "-p",
            "[{\"op\":\"replace\",\"path\":\"/spec/template/spec/containers/0/args/\(index)\","
                + "\"value\":\"--bgp-graceful-restart=false\"}]",
        ])
        _ = try kubectl(["rollout", "status", "daemonset", "-n", "kube-system", "kube-router", "--timeout", "240s"])
        demo = try pods("demo")
        let withoutGR = try restartUnderTraffic(strangerIP: strangerIP)
        print("rolling restart, graceful restart off: \(withoutGR)")
        #expect(withoutGR.pingsSent > 100)

        // Down: no namespace, process, folder or mount point of the lab is left.
        let (downStatus, downOut) = try lab(["down"])
        isDown = true
        #expect(downStatus == 0, "\(downOut)")
        let namespaces = (try? FileManager.default.contentsOfDirectory(atPath: "/var/run/netns")) ?? []
        #expect(!namespaces.contains { $0.hasPrefix("\(Self.name)-") }, "\(namespaces)")
        #expect(!FileManager.default.fileExists(atPath: "/run/\(Self.name)"))
        let left = mountPoints.filter { FileManager.default.fileExists(atPath: $0) && !existedBefore.contains($0) }
        #expect(left.isEmpty, "mount points left on the host: \(left)")
        let (_, processes, _) = try run("/usr/bin/pgrep", ["-f", "kr-lab serve --name \(Self.name)"])
        #expect(processes.isEmpty, "\(processes)")
    }
}

struct LabTestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension FileHandle {
    /// The first line written (waits for it; nil at end of file).
    func availableLine() -> String? {
        var line = Data()
        while true {
            let byte = readData(ofLength: 1)
            if byte.isEmpty { return line.isEmpty ? nil : String(decoding: line, as: UTF8.self) }
            if byte.first == UInt8(ascii: "\n") { return String(decoding: line, as: UTF8.self) }
            line.append(byte)
        }
    }
}

/// Drives a lab through `kr-lab`, as a user would through scripts/lab.
struct LabDriver {
    let name: String

    func lab(_ arguments: [String], input: String? = nil) throws -> (status: Int32, out: String) {
        var arguments = arguments
        // The lab's name goes after the subcommand, before anything passed through.
        arguments.insert(contentsOf: ["--name", name], at: 1)
        let (status, out, err) = try run(builtExecutable("kr-lab").path, arguments, input: input)
        return (status, out + err)
    }

    func kubectl(_ arguments: [String], input: String? = nil) throws -> String {
        let (status, out) = try lab(["kubectl"] + arguments, input: input)
        guard status == 0 else { throw LabTestError("kubectl \(arguments.joined(separator: " ")): \(out)") }
        return out
    }

    func pods(_ namespace: String) throws -> [String: JSONValue] {
        let list = try JSONValue.parseJSON(Data(try kubectl(["get", "pods", "-n", namespace, "-o", "json"]).utf8))
        var byName: [String: JSONValue] = [:]
        for pod in list["items"]?.arrayValue ?? [] {
            if let name = pod["metadata"]?["name"]?.stringValue { byName[name] = pod }
        }
        return byName
    }

    func eventually(_ seconds: Double, _ what: String, _ condition: () throws -> Bool) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return }
            Thread.sleep(forTimeInterval: 0.25)
        }
        throw LabTestError("timed out after \(Int(seconds)) s: \(what)")
    }

    /// One HTTP GET from a pod's network namespace: the answer, or nil when refused or timed out.
    func get(from pod: String, _ url: String) throws -> String? {
        let (status, out) = try lab(["exec", "demo/\(pod)", "--", "curl", "-s", "--max-time", "2", url])
        return status == 0 ? out : nil
    }

}

/// The lab's service part, where the kernel has IPVS (scripts/test runs it in the VM): with the
/// replace-kube-proxy manifests the agents proxy Services, so the example's ClusterIP answers from web pods
/// on both nodes, a Service's policy still keeps the stranger out, and `down` leaves nothing.
@Suite(.serialized, .enabled(if: IPVSKernel.available, Comment(rawValue: IPVSKernel.reason)))
struct LabVMTests {
    let driver = LabDriver(name: "krlabv")

    @Test func theServiceProxyAnswersAClusterIPAcrossNodes() throws {
        _ = try? driver.lab(["down"])
        defer { _ = try? driver.lab(["down"]) }
        let bin = builtExecutable("kube-router").deletingLastPathComponent().path
        let (status, out) = try driver.lab([
            "up", "--nodes", "2", "--overlay", "replace-kube-proxy", "--repository", repositoryRoot.path,
            "--bin-dir", bin, "--timeout", "400",
        ])
        try #require(status == 0, "\(out)")
        #expect(out.contains("with the service proxy"), "\(out)")
        let service = try JSONValue.parseJSON(
            Data(try driver.kubectl(["get", "service", "-n", "demo", "web", "-o", "json"]).utf8))
        let clusterIP = try #require(service["spec"]?["clusterIP"]?.stringValue)
        // Each try is a curl in the client's namespace through `kr-lab exec`, as a user would run it.
        var answers: [String] = []
        let deadline = Date().addingTimeInterval(300)
        while Date() < deadline
            && !(answers.contains("hello from web-1 on node-1") && answers.contains("hello from web-2 on node-2"))
        {
            let (_, answer) = try driver.lab([
                "exec", "demo/client", "--", "curl", "-sS", "--max-time", "5", "http://\(clusterIP):80/",
            ])
            answers.append(answer.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        #expect(
            answers.contains("hello from web-1 on node-1") && answers.contains("hello from web-2 on node-2"),
            "answers from \(clusterIP): \(answers.suffix(6))")
        let (strangerStatus, strangerOut) = try driver.lab([
            "exec", "demo/stranger", "--", "curl", "-sS", "--max-time", "5", "http://\(clusterIP):80/",
        ])
        #expect(strangerStatus != 0, "the stranger reached the web pods through the ClusterIP: \(strangerOut)")
        let (downStatus, downOut) = try driver.lab(["down"])
        #expect(downStatus == 0, "\(downOut)")
        let namespaces = (try? FileManager.default.contentsOfDirectory(atPath: "/var/run/netns")) ?? []
        #expect(!namespaces.contains { $0.hasPrefix("krlabv-") }, "\(namespaces)")
    }
}
