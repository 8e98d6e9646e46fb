import BenchSupport
import Foundation
import KubeAPI
import KubeModel

// kr-api-bench: list and watch of many pods through the informers, against kube-test-server over TLS,
// beside the real kubectl doing the same against the same server in the same run.
//
// Usage: swift build -c release && .build/release/kr-api-bench [pods] [-o json]

let podCount = CommandLine.arguments.dropFirst().compactMap { Int($0) }.first ?? 10_000
let report = BenchReport()
let here = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()
let work = FileManager.default.temporaryDirectory.appendingPathComponent("kr-api-bench-\(getpid())")
try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(at: work) }

report.say("kr-api-bench: \(podCount) pods")
// A state file with the pods, so that the server starts with them.
var pods: [String: JSONValue] = [:]
for i in 0..<podCount {
    let name = "pod-\(i)"
    pods["bench/\(name)"] = .object([
        "apiVersion": "v1", "kind": "Pod",
        "metadata": .object([
            "name": .string(name), "namespace": "bench", "uid": .string(UUID().uuidString),
            "resourceVersion": .string(String(i + 10)),
            "labels": .object(["app": .string("app-\(i % 20)"), "tier": .string("tier-\(i % 3)")]),
        ]),
        "spec": .object([
            "nodeName": .string("node-\(i % 100)"),
            "containers": .array([
                .object([
                    "name": "main", "image": "registry.example/app:1.0",
                    "ports": .array([.object(["name": "http", "containerPort": .int(8080)])]),
                ])
            ]),
        ]),
        "status": .object([
            "phase": "Running", "podIP": .string("10.\(i / 65536 + 1).\(i / 256 % 256).\(i % 256)"),
            "hostIP": .string("192.168.0.\(i % 100 + 1)"),
        ]),
    ])
}
let namespace: JSONValue = .object([
    "apiVersion": "v1", "kind": "Namespace",
    "metadata": .object([
        "name": "bench", "resourceVersion": "2",
        "labels": .object(["kubernetes.io/metadata.name": "bench"]),
    ]),
])
let state: JSONValue = .object([
    "resourceVersion": .int(Int64(podCount + 10)),
    "objects": .object(["pods": .object(pods), "namespaces": .object(["bench": namespace])]),
])
let statePath = work.appendingPathComponent("state.json").path
try state.jsonData().write(to: URL(fileURLWithPath: statePath))
pods = [:]

let server = try BenchAPIServer(
    root: root, bin: here, work: work, state: statePath, arguments: ["--bookmark-interval", "5"])
defer { server.stop() }
let config = server.config
let kubeconfig = server.kubeconfig

// 1. Ours: informer list until synced, and memory.
let clock = ContinuousClock()
let rssBefore = residentMiB()
let updates = LockedCounter()
let informers = Informers(client: KubeClient(config: config), resources: [.pods]) { event in
    if case .updated = event { updates.increment() }
}
let syncTime = clock.measure {
    informers.start()
    _ = informers.waitForSync(timeout: 300)
}
let stored = informers.store(.pods)?.count ?? 0
let rssSynced = residentMiB()

// 2. Ours: a burst of modifications through the open watch.
let client = KubeClient(config: config)
let burst = clock.measure {
    _ = try? client.send("POST", "/_test/touch/pods", query: ["count": String(podCount)], what: "touch")
    updates.wait(until: podCount, timeout: 300)
}
let received = updates.value
let rssAfterWatch = residentMiB()
informers.stop()

// 3. The reference: kubectl listing the same pods, and watching the same burst.
let kubectl = ["/usr/bin/kubectl", "/usr/local/bin/kubectl"].first { FileManager.default.isExecutableFile(atPath: $0) }
var kubectlList: Double?
var kubectlWatch: Double?
if let kubectl {
    let cache = work.appendingPathComponent("kcache").path
    kubectlList = seconds(
        clock.measure {
            _ = try? shell(
                kubectl, ["--kubeconfig", kubeconfig, "--cache-dir", cache, "get", "pods", "-A", "-o", "name"])
        })
    // kubectl get -w prints the list (one line per pod), then one line per event. Its watch continues
    // from the list's version, so the burst may start as soon as the list has been printed.
    let watcher = Process()
    watcher.executableURL = URL(fileURLWithPath: kubectl)
    watcher.arguments = ["--kubeconfig", kubeconfig, "--cache-dir", cache, "get", "pods", "-A", "-w", "-o", "name"]
    let pipe = Pipe()
    watcher.standardOutput = pipe
    watcher.standardError = FileHandle.nullDevice
    try watcher.run()
    var lines = 0
    func readLines(until target: Int) {
        while lines < target {
            let chunk = pipe.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            lines += chunk.filter { $0 == UInt8(ascii: "\n") }.count
        }
    }
    readLines(until: podCount)
    let start = clock.now
    _ = try? client.send("POST", "/_test/touch/pods", query: ["count": String(podCount)], what: "touch")
    readLines(until: 2 * podCount)
    kubectlWatch = seconds(clock.now - start)
    watcher.terminate()
    watcher.waitUntilExit()
}

let ours = seconds(syncTime)
report.say(
    String(format: "informer list+sync:     %.3f s for %d pods (%.0f pods/s)", ours, stored, Double(stored) / ours))
if let kubectlList {
    report.say(
        String(format: "kubectl get pods -A:    %.3f s   ratio ours/kubectl: %.2f", kubectlList, ours / kubectlList))
}
let burstSeconds = seconds(burst)
report.say(
    String(
        format: "watch burst:            %d events in %.3f s (%.0f events/s)", received, burstSeconds,
        Double(received) / burstSeconds))
if let kubectlWatch {
    report.say(
        String(
            format: "kubectl get -w burst:   %.3f s (%.0f events/s)   ratio ours/kubectl: %.2f",
            kubectlWatch, Double(podCount) / kubectlWatch, burstSeconds / kubectlWatch))
}
report.say(
    String(
        format: "resident memory:        %.1f MiB before, %.1f MiB synced, %.1f MiB after the burst (%.1f KiB per pod)",
        rssBefore, rssSynced, rssAfterWatch, (rssSynced - rssBefore) * 1024 / Double(max(stored, 1))))
report.record("pods", podCount)
report.record("syncSeconds", ours)
report.record("kubectlListSeconds", kubectlList)
report.record("listRatio", kubectlList.map { ours / $0 })
report.record("watchEvents", received)
report.record("watchBurstSeconds", burstSeconds)
report.record("kubectlWatchSeconds", kubectlWatch)
report.record("watchRatio", kubectlWatch.map { burstSeconds / $0 })
report.record("rssMiB", rssAfterWatch)
report.record("kibPerPod", (rssSynced - rssBefore) * 1024 / Double(max(stored, 1)))
report.finish()

final class LockedCounter: @unchecked Sendable {
    private let condition = NSCondition()
    private var count = 0
    var value: Int { condition.withLock { count } }
    func increment() {
        condition.withLock {
            count += 1
            condition.broadcast()
        }
    }
    func wait(until target: Int, timeout: Double) {
        let deadline = Date(timeIntervalSinceNow: timeout)
        condition.withLock { while count < target { if !condition.wait(until: deadline) { break } } }
    }
}
