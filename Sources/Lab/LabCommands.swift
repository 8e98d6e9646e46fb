import ArgumentParser
import Foundation
import KubeModel

/// `status`: the nodes and every pod, as kubectl shows them, and whether the emulator runs.
struct LabStatus: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show the lab's nodes and pods.")

    @OptionGroup var lab: LabOptions

    func run() throws {
        try requireRoot("status")
        let layout = try lab.layout()
        let record = try LabRecord.load(layout)
        let pid = LabServe.running(layout)
        let running = pid != nil
        print(
            "lab \(layout.name): \(record.nodes) nodes, manifests \(record.overlay), "
                + (record.serviceProxy ? "service proxy on" : "no service proxy")
                + "; emulator \(running ? "running (pid \(pid ?? 0))" : "NOT running (see \(layout.serveLog))")")
        let api = LabAPI(layout: layout)
        print(try api.run(["get", "nodes", "-o", "wide"]), terminator: "")
        print(try api.run(["get", "pods", "-A", "-o", "wide"]), terminator: "")
        if !running { throw ExitCode(2) }
    }
}

/// `kubectl ARGS`: kubectl as the lab's admin.
struct LabKubectl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kubectl", abstract: "Run kubectl against the lab's API server.")

    @OptionGroup var lab: LabOptions

    @Argument(parsing: .captureForPassthrough, help: "kubectl's arguments.")
    var arguments: [String] = []

    func run() throws {
        try requireRoot("kubectl")
        let layout = try lab.layout()
        _ = try LabRecord.load(layout)
        guard LabAPI.kubectl != nil else { throw LabError("kubectl is not installed: run sudo scripts/setup") }
        try replaceProcess(LabAPI(layout: layout).argv + arguments)
    }
}

/// `exec NODE -- CMD`: a command on a node (its network namespace, the host paths its agent mounts, our
/// binaries on PATH, the lab's kubeconfig), or in a pod's network namespace (`NAMESPACE/POD`).
struct LabExec: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exec", abstract: "Run a command on a node (node-1) or in a pod's network (demo/client).")

    @OptionGroup var lab: LabOptions

    @Argument(help: "A node (node-1) or a pod (NAMESPACE/NAME).")
    var target: String

    @Argument(parsing: .postTerminator, help: "The command, after --.")
    var command: [String] = []

    func run() throws {
        try requireRoot("exec")
        let layout = try lab.layout()
        let record = try LabRecord.load(layout)
        let command = self.command.isEmpty ? ["/bin/bash"] : self.command
        let api = LabAPI(layout: layout)
        var netns: String
        var mounts: [Mount] = []
        if target.contains("/") {
            let parts = target.split(separator: "/", maxSplits: 1).map(String.init)
            let pod = try JSONValue.parseJSON(
                Data(try api.run(["get", "pod", "-n", parts[0], parts[1], "-o", "json"]).utf8))
            guard let node = pod["spec"]?["nodeName"]?.stringValue else {
                throw LabError("pod \(target) is not on a node yet")
            }
            netns =
                pod["spec"]?["hostNetwork"] == .bool(true)
                ? layout.nodeNetns(node) : layout.podNetns(uid: pod["metadata"]?["uid"]?.stringValue ?? "")
        } else {
            netns = layout.nodeNetns(target)
            // The node's own files where its agent sees them: the hostPath volumes of its hostNetwork pods.
            let pods = try api.items(["pods", "-A", "--field-selector", "spec.nodeName=\(target)"])
            var seen = Set<String>()
            for pod in pods where pod["spec"]?["hostNetwork"] == .bool(true) {
                for volume in pod["spec"]?["volumes"]?.arrayValue ?? [] {
                    guard let path = volume["hostPath"]?["path"]?.stringValue, !seen.contains(path),
                        !PodWorker.sharedHostPaths.contains(where: { path == $0 || path.hasPrefix($0 + "/") })
                    else { continue }
                    seen.insert(path)
                    let source = layout.nodeRoot(target) + path
                    if FileManager.default.fileExists(atPath: source), FileManager.default.fileExists(atPath: path) {
                        mounts.append(Mount(source: source, target: path, readOnly: false))
                    }
                }
            }
        }
        guard Shell.netnsExists(netns) else {
            throw LabError("\(target) has no network namespace \(netns): is it a node or pod of lab \(layout.name)?")
        }
        try replaceProcess(
            ["/usr/sbin/ip", "netns", "exec", netns, "/bin/sh", "-c", mounts.shellPrefix + "exec \"$@\"", "sh"]
                + command,
            environment: [
                "PATH": "\(record.binDir):/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "KUBECONFIG": layout.kubeconfig,
            ])
    }
}

/// `restart`: a rolling restart of the DaemonSet, as `kubectl rollout restart`, waiting for it to finish.
struct LabRestart: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restart", abstract: "Restart the kube-router DaemonSet (rolling) and wait for it.")

    @OptionGroup var lab: LabOptions

    @Option(help: "Seconds to wait for the rollout.")
    var timeout = 300

    func run() throws {
        try requireRoot("restart")
        let layout = try lab.layout()
        _ = try LabRecord.load(layout)
        let api = LabAPI(layout: layout)
        print(try api.run(["-n", "kube-system", "rollout", "restart", "daemonset/kube-router"]), terminator: "")
        fflush(nil)
        let status = Process()
        status.executableURL = URL(fileURLWithPath: api.argv[0])
        status.arguments =
            Array(api.argv.dropFirst())
            + ["-n", "kube-system", "rollout", "status", "daemonset/kube-router", "--timeout", "\(timeout)s"]
        try status.run()
        status.waitUntilExit()
        if status.terminationStatus != 0 { throw ExitCode(status.terminationStatus) }
    }
}

/// `down`: stops every process of the lab and removes its namespaces (with their links, routes and rules),
/// the host mount points it made, and its folder.
struct LabDown: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "down", abstract: "Stop the lab and remove everything it made.")

    @OptionGroup var lab: LabOptions

    func run() throws {
        try requireRoot("down")
        let layout = try lab.layout()
        let network = LabNetwork(layout: layout)
        // The emulator first, so that it restarts nothing; then whatever runs in the lab's namespaces.
        if let text = try? String(contentsOfFile: "\(layout.root)/serve.pid", encoding: .utf8),
            let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
        {
            kill(pid, SIGKILL)
        }
        var processes = Set<Int32>()
        func inLab() -> Set<Int32> {
            var pids = Set<Int32>()
            for netns in network.namespaces() {
                let out = (try? Shell.run("/usr/sbin/ip", ["netns", "pids", netns], check: false))?.stdout ?? ""
                pids.formUnion(out.split(separator: "\n").compactMap { Int32($0) })
            }
            return pids
        }
        let first = inLab()
        processes.formUnion(first)
        for pid in first { kill(pid, SIGTERM) }
        let deadline = Date().addingTimeInterval(5)
        while !inLab().isEmpty && Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        for pid in inLab() {
            processes.insert(pid)
            kill(pid, SIGKILL)
        }
        let namespaces = network.namespaces()
        network.deleteAll()
        HostMountPoints.removeRecorded(file: layout.hostPathsFile)
        try? FileManager.default.removeItem(atPath: layout.root)
        let left = network.namespaces()
        guard left.isEmpty else { throw LabError("namespaces left behind: \(left.joined(separator: ", "))") }
        print(
            "lab \(layout.name) is down: stopped \(processes.count) processes, removed \(namespaces.count) network "
                + "namespaces and \(layout.root)")
    }
}
