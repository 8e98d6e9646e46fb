import Foundation
import KubeAPI
import KubeModel
import Synchronization

/// The kubelet's work for one pod on one node, on a thread of its own: the sandbox (the node's network
/// namespace for hostNetwork pods, else a namespace of its own wired by the node's CNI configuration), the
/// volumes as bind mounts, init containers to completion, containers as processes restarted by the pod's
/// policy, startup/readiness/liveness probes, status reported to the API; and on deletion SIGTERM, the
/// grace period, SIGKILL, CNI DEL, and the final delete.
final class PodWorker: Sendable {
    let context: LabContext
    let node: String
    let nodeAddress: String
    let uid: String
    let namespace: String
    let name: String
    private let shared: Mutex<Shared>

    private struct Shared {
        var pod: JSONValue
        var terminateBy: Date?
        var finished = false
    }

    init(context: LabContext, node: String, nodeAddress: String, pod: JSONValue) {
        self.context = context
        self.node = node
        self.nodeAddress = nodeAddress
        self.uid = pod["metadata"]?["uid"]?.stringValue ?? UUID().uuidString
        self.namespace = pod["metadata"]?["namespace"]?.stringValue ?? "default"
        self.name = pod["metadata"]?["name"]?.stringValue ?? "?"
        self.shared = Mutex(Shared(pod: pod))
    }

    var finished: Bool { shared.withLock { $0.finished } }
    var terminating: Bool { shared.withLock { $0.terminateBy != nil } }
    var hostNetwork: Bool { shared.withLock { $0.pod["spec"]?["hostNetwork"] == .bool(true) } }

    /// The pod as the API has it now.
    func update(_ pod: JSONValue) { shared.withLock { $0.pod = pod } }

    /// Stops the pod's containers within `grace` seconds (SIGTERM, then SIGKILL).
    func terminate(grace: Double) {
        shared.withLock { state in
            let deadline = Date().addingTimeInterval(grace)
            if state.terminateBy.map({ deadline < $0 }) ?? true { state.terminateBy = deadline }
        }
    }

    func start() {
        let thread = Thread { [self] in
            unblockSignals()
            run()
            shared.withLock { $0.finished = true }
        }
        thread.name = "pod \(namespace)/\(name)"
        thread.start()
    }

    private var pod: JSONValue { shared.withLock { $0.pod } }
    private var terminateBy: Date? { shared.withLock { $0.terminateBy } }
    private var dir: String { context.layout.podDir(node: node, uid: uid) }

    // MARK: The pod's life

    private func run() {
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var status = PodStatusBuilder(pod: pod, hostIP: nodeAddress)
        var sandbox: Sandbox?
        var containers: [ContainerRun] = []
        defer { tearDown(sandbox: sandbox, containers: containers) }

        // The sandbox and volumes; retried until they work (e.g. until the agent wrote the CNI file).
        var mounts: [String: [Mount]] = [:]
        while terminateBy == nil {
            do {
                if sandbox == nil { sandbox = try makeSandbox() }
                mounts = try makeVolumes()
                break
            } catch {
                status.waiting(reason: "ContainerCreating", message: "\(error)")
                report(&status)
                pause(1)
            }
        }
        guard let sandbox, terminateBy == nil else { return }
        status.sandboxReady(podIPs: sandbox.podIPs)
        report(&status)

        // Init containers, one after another, each to success.
        let spec = pod["spec"]
        for (index, initSpec) in (spec?["initContainers"]?.arrayValue ?? []).enumerated() {
            var backoff = 1.0
            while terminateBy == nil {
                status.initRunning(index)
                report(&status)
                let run = ContainerRun(spec: initSpec, worker: self, sandbox: sandbox, mounts: mounts)
                do { try run.launch() } catch {
                    status.initFailed(index, exitCode: 128, message: "\(error)")
                    report(&status)
                    pause(backoff)
                    continue
                }
                while run.exitStatus == nil && terminateBy == nil { pause(0.1) }
                if terminateBy != nil { run.kill(grace: 0) }
                let code = run.exitStatus ?? 137
                if code == 0 {
                    status.initDone(index)
                    break
                }
                status.initFailed(index, exitCode: Int(code), message: run.logTail())
                report(&status)
                pause(backoff)
                backoff = min(backoff * 2, 10)
            }
        }
        guard terminateBy == nil else { return }

        containers = (spec?["containers"]?.arrayValue ?? []).map {
            ContainerRun(spec: $0, worker: self, sandbox: sandbox, mounts: mounts)
        }
        let policy = spec?["restartPolicy"]?.stringValue ?? "Always"
        for (index, container) in containers.enumerated() { start(container, index, &status) }
        report(&status)

        while terminateBy == nil {
            let now = Date()
            for (index, container) in containers.enumerated() {
                if let code = container.exitStatus {
                    if container.exitRecorded == false {
                        container.exitRecorded = true
                        container.scheduleRestart()
                        status.containerExited(index, exitCode: Int(code), at: now)
                    }
                    let restart = policy == "Always" || (policy == "OnFailure" && code != 0)
                    if restart && now >= container.nextStart { start(container, index, &status) }
                    continue
                }
                container.probe(now: now)
                status.containerProbed(index, started: container.started, ready: container.ready)
                if container.livenessFailed {
                    container.kill(grace: Self.grace(pod))
                }
            }
            if policy != "Always", containers.allSatisfy({ $0.exitStatus != nil && $0.exitRecorded }) {
                let failed = containers.contains { $0.exitStatus != 0 }
                if policy == "Never" || !failed {
                    status.finished(failed: failed)
                    report(&status)
                    while terminateBy == nil { pause(0.2) }
                    break
                }
            }
            report(&status)
            pause(0.2)
        }
    }

    private func start(_ container: ContainerRun, _ index: Int, _ status: inout PodStatusBuilder) {
        do {
            try container.launch()
            status.containerRunning(index, since: Date(), restarts: container.restarts)
        } catch {
            container.failedToStart()
            status.containerWaiting(index, reason: "CreateContainerError", message: "\(error)")
        }
    }

    /// The end: containers stopped within the grace period, the network taken down, the pod removed.
    private func tearDown(sandbox: Sandbox?, containers: [ContainerRun]) {
        let deadline = terminateBy ?? Date()
        for container in containers { container.signal(SIGTERM) }
        while containers.contains(where: { $0.exitStatus == nil }) && Date() < deadline { pause(0.05) }
        for container in containers where container.exitStatus == nil { container.kill(grace: 0) }
        if let sandbox, !sandbox.hostNetwork {
            let cni = CNIRunner(layout: context.layout, node: node, mountPoints: context.mountPoints)
            let errors = cni.delete(containerID: uid, netns: sandbox.netns, resultFile: "\(dir)/cni-result.json")
            for error in errors { log("CNI DEL: \(error)") }
            try? Shell.ip("netns", "delete", sandbox.netns, check: false)
        }
        // Gone from the API only now, as the kubelet confirms a graceful deletion.
        _ = try? context.client.send(
            "DELETE", APIResource.pods.objectPath(namespace: namespace, name: name),
            query: ["gracePeriodSeconds": "0"], what: "delete pod \(namespace)/\(name)")
    }

    static func grace(_ pod: JSONValue) -> Double {
        Double(pod["spec"]?["terminationGracePeriodSeconds"]?.intValue ?? 30)
    }

    private func pause(_ seconds: Double) {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end && terminateBy == nil { Thread.sleep(forTimeInterval: min(0.05, seconds)) }
    }

    func log(_ message: String) {
        FileHandle.standardError.write(
            Data("\(LabContext.timestamp()) \(node) \(namespace)/\(name): \(message)\n".utf8))
    }

    /// Writes the status when it changed (to the status subresource, as the kubelet does).
    private func report(_ status: inout PodStatusBuilder) {
        guard status.changed, terminateBy == nil else { return }
        do {
            _ = try context.client.patch(
                .pods, namespace: namespace, name: name, mergePatch: .object(["status": status.value]),
                subresource: "status")
            status.changed = false
        } catch {
            log("status not written: \(error)")
        }
    }

    // MARK: Sandbox and volumes

    struct Sandbox: Sendable {
        var netns: String
        var hostNetwork: Bool
        var podIPs: [String]
    }

    private func makeSandbox() throws -> Sandbox {
        if hostNetwork {
            return Sandbox(netns: context.layout.nodeNetns(node), hostNetwork: true, podIPs: [nodeAddress])
        }
        let netns = context.layout.podNetns(uid: uid)
        if !Shell.netnsExists(netns) {
            try Shell.ip("netns", "add", netns)
            try Shell.ip(in: netns, "link", "set", "lo", "up")
        }
        let cni = CNIRunner(layout: context.layout, node: node, mountPoints: context.mountPoints)
        let addresses = try cni.add(containerID: uid, netns: netns, resultFile: "\(dir)/cni-result.json")
        let ips = addresses.map { String($0.split(separator: "/").first ?? "") }.filter { !$0.isEmpty }
        guard !ips.isEmpty else { throw LabError("the CNI result has no address") }
        return Sandbox(netns: netns, hostNetwork: false, podIPs: ips)
    }

    /// Host paths that are the host kernel's own, the same on every node (a node here shares its kernel).
    static let sharedHostPaths = ["/lib/modules", "/usr/lib/modules", "/sys", "/proc", "/dev"]

    /// Volume name → what it mounts (folder or file), made ready; then per container its mounts.
    private func makeVolumes() throws -> [String: [Mount]] {
        let pod = self.pod
        var sources: [String: String] = [:]
        let nodeRoot = context.layout.nodeRoot(node)
        for volume in pod["spec"]?["volumes"]?.arrayValue ?? [] {
            guard let volumeName = volume["name"]?.stringValue else { continue }
            if let hostPath = volume["hostPath"], let path = hostPath["path"]?.stringValue {
                let type = hostPath["type"]?.stringValue ?? ""
                if Self.sharedHostPaths.contains(where: { path == $0 || path.hasPrefix($0 + "/") }) {
                    sources[volumeName] = path
                    continue
                }
                let source = nodeRoot + path
                let fm = FileManager.default
                switch type {
                case "FileOrCreate":
                    try fm.createDirectory(
                        atPath: (source as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                    if !fm.fileExists(atPath: source) { _ = fm.createFile(atPath: source, contents: nil) }
                case "File", "Directory", "Socket", "CharDevice", "BlockDevice":
                    guard fm.fileExists(atPath: source) else {
                        throw LabError("hostPath \(path) (type \(type)) does not exist on \(node)")
                    }
                default:
                    try fm.createDirectory(atPath: source, withIntermediateDirectories: true)
                }
                sources[volumeName] = source
            } else if let configMap = volume["configMap"], let mapName = configMap["name"]?.stringValue {
                let object = try context.client.get(.configMaps, namespace: namespace, name: mapName)
                let folder = "\(dir)/volumes/\(volumeName)"
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
                for (key, value) in object["data"]?.objectValue ?? [:] {
                    guard !key.contains("/"), let text = value.stringValue else { continue }
                    try text.write(toFile: "\(folder)/\(key)", atomically: true, encoding: .utf8)
                }
                sources[volumeName] = folder
            } else if volume["emptyDir"] != nil {
                let folder = "\(dir)/volumes/\(volumeName)"
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
                sources[volumeName] = folder
            } else {
                throw LabError("volume \(volumeName): the lab mounts hostPath, configMap and emptyDir volumes only")
            }
        }
        // The service account, at the in-cluster paths, when the API server knows its token.
        var serviceAccount: Mount?
        let account = pod["spec"]?["serviceAccountName"]?.stringValue ?? "default"
        if pod["spec"]?["automountServiceAccountToken"] != .bool(false),
            let token = context.tokens["system:serviceaccount:\(namespace):\(account)"]
        {
            let folder = "\(dir)/serviceaccount"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try token.write(toFile: "\(folder)/token", atomically: true, encoding: .utf8)
            try namespace.write(toFile: "\(folder)/namespace", atomically: true, encoding: .utf8)
            try FileManager.default.contents(atPath: context.caFile)?.write(
                to: URL(fileURLWithPath: "\(folder)/ca.crt"))
            serviceAccount = Mount(
                source: folder, target: "/var/run/secrets/kubernetes.io/serviceaccount", readOnly: true)
        }
        var mounts: [String: [Mount]] = [:]
        let all = (pod["spec"]?["initContainers"]?.arrayValue ?? []) + (pod["spec"]?["containers"]?.arrayValue ?? [])
        for container in all {
            guard let containerName = container["name"]?.stringValue else { continue }
            var list: [Mount] = []
            for mount in container["volumeMounts"]?.arrayValue ?? [] {
                guard let volume = mount["name"]?.stringValue, let target = mount["mountPath"]?.stringValue else {
                    continue
                }
                guard let source = sources[volume] else {
                    throw LabError("container \(containerName) mounts volume \(volume), which the pod does not have")
                }
                if source == target { continue }  // a shared host path, already where it is wanted
                var isDirectory: ObjCBool = false
                _ = FileManager.default.fileExists(atPath: source, isDirectory: &isDirectory)
                try context.mountPoints.ensure(target, isFile: !isDirectory.boolValue)
                list.append(Mount(source: source, target: target, readOnly: mount["readOnly"] == .bool(true)))
            }
            if let serviceAccount, !list.contains(where: { $0.target == serviceAccount.target }) {
                try context.mountPoints.ensure(serviceAccount.target, isFile: false)
                list.append(serviceAccount)
            }
            mounts[containerName] = list
        }
        return mounts
    }

    /// The container's environment: its `env` (values and the downward API's fields), the API server's
    /// address as the kubelet gives it, and PATH.
    func environment(for container: JSONValue, podIPs: [String]) throws -> [String: String] {
        let pod = self.pod
        var env: [String: String] = [
            "PATH": context.containerPath, "HOSTNAME": hostNetwork ? node : name,
            "KUBERNETES_SERVICE_HOST": context.layout.apiAddress,
            "KUBERNETES_SERVICE_PORT": String(context.layout.apiPort),
        ]
        for entry in container["env"]?.arrayValue ?? [] {
            guard let key = entry["name"]?.stringValue else { continue }
            if let value = entry["value"]?.stringValue {
                env[key] = value
            } else if let ref = entry["valueFrom"]?["configMapKeyRef"], let map = ref["name"]?.stringValue,
                let mapKey = ref["key"]?.stringValue
            {
                let object = try? context.client.get(.configMaps, namespace: namespace, name: map)
                guard let value = object?["data"]?[mapKey]?.stringValue else {
                    if ref["optional"] == .bool(true) { continue }
                    throw LabError("env \(key): key \(mapKey) of ConfigMap \(namespace)/\(map) not found")
                }
                env[key] = value
            } else if let field = entry["valueFrom"]?["fieldRef"]?["fieldPath"]?.stringValue {
                switch field {
                case "spec.nodeName": env[key] = node
                case "metadata.name": env[key] = name
                case "metadata.namespace": env[key] = namespace
                case "metadata.uid": env[key] = uid
                case "status.podIP": env[key] = podIPs.first ?? ""
                case "status.hostIP": env[key] = nodeAddress
                case "spec.serviceAccountName":
                    env[key] = pod["spec"]?["serviceAccountName"]?.stringValue ?? "default"
                default: break
                }
            }
        }
        return env
    }
}
