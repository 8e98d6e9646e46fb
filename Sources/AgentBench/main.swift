import BenchSupport
import Foundation
import Kernel
import KubeAPI
import KubeModel
import Planning

// kr-agent-bench: the whole agent (firewall, router, and the service proxy where the kernel has IPVS) as a
// process in a network namespace, against kube-test-server holding a large cluster (default: 5,000 pods in 200
// namespaces on 100 nodes, 1,000 policies, 1,000 services with 5 endpoints each). It measures the time until every
// controller has synced once, the agent's resident memory then, and after 10,000 watch events (every pod's labels
// touched twice), with the agent's CPU per event.
//
// Usage (root): swift build -c release && .build/release/kr-agent-bench [pods] [policies] [services] [-o json]

let numbers = CommandLine.arguments.dropFirst().compactMap { Int($0) }
let podCount = numbers.count > 0 ? numbers[0] : 5_000
let policyCount = numbers.count > 1 ? numbers[1] : 1_000
let serviceCount = numbers.count > 2 ? numbers[2] : 1_000
let namespaceCount = 200
let nodeCount = 100
let endpointsPerService = 5
let eventRounds = 2
let report = BenchReport()
guard getuid() == 0 else {
    FileHandle.standardError.write(Data("kr-agent-bench: needs root (a network namespace, iptables, ipset)\n".utf8))
    exit(1)
}
let here = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()
let work = FileManager.default.temporaryDirectory.appendingPathComponent("kr-agent-bench-\(getpid())")
try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(at: work) }
let clock = ContinuousClock()

// The cluster, as the server's state file: the firewall benchmark's pods and policies, nodes with pod CIDRs,
// and services whose slices point at pods.
var objects: [String: [String: JSONValue]] = [:]
var version = 10
@MainActor func add(_ plural: String, _ object: JSONValue) {
    var object = object
    version += 1
    let meta = object["metadata"]?.objectValue ?? [:]
    let name = meta["name"]?.stringValue ?? ""
    let namespace = meta["namespace"]?.stringValue
    var newMeta = meta
    newMeta["resourceVersion"] = .string(String(version))
    newMeta["uid"] = .string(UUID().uuidString.lowercased())
    object["metadata"] = .object(newMeta)
    objects[plural, default: [:]][namespace.map { "\($0)/\(name)" } ?? name] = object
}
let yaml = syntheticManifests(pods: podCount, namespaces: namespaceCount, policies: policyCount, nodes: nodeCount)
var podIPs: [String] = []
for document in try JSONValue.parseYAMLDocuments(yaml) {
    switch document["kind"]?.stringValue {
    case "Namespace":
        var document = document
        var meta = document["metadata"]?.objectValue ?? [:]
        var labels = meta["labels"]?.objectValue ?? [:]
        labels["kubernetes.io/metadata.name"] = meta["name"] ?? .null
        meta["labels"] = .object(labels)
        document["metadata"] = .object(meta)
        add("namespaces", document)
    case "Pod":
        podIPs.append(document["status"]?["podIP"]?.stringValue ?? "")
        add("pods", document)
    case "NetworkPolicy": add("networkpolicies", document)
    default: break
    }
}
func nodeIP(_ n: Int) -> String { "10.200.\(n / 250).\(n % 250 + 1)" }
for n in 0..<nodeCount {
    add(
        "nodes",
        .object([
            "apiVersion": "v1", "kind": "Node", "metadata": .object(["name": .string("node-\(n)")]),
            "spec": .object(["podCIDR": .string("10.240.\(n).0/24"), "podCIDRs": .array([.string("10.240.\(n).0/24")])]
            ),
            "status": .object([
                "addresses": .array([.object(["type": "InternalIP", "address": .string(nodeIP(n))])]),
                "conditions": .array([.object(["type": "Ready", "status": "True"])]),
            ]),
        ]))
}
for s in 0..<serviceCount {
    let namespace = JSONValue.string("ns-\(s % namespaceCount)")
    let vip = JSONValue.string("10.96.\(s / 250).\(s % 250 + 1)")
    add(
        "services",
        .object([
            "apiVersion": "v1", "kind": "Service",
            "metadata": .object(["name": .string("svc-\(s)"), "namespace": namespace]),
            "spec": .object([
                "type": "ClusterIP", "clusterIP": vip, "clusterIPs": .array([vip]),
                "selector": .object(["app": .string("app-\(s % 8)")]),
                "ports": .array([
                    .object(["name": "http", "port": .int(80), "targetPort": .int(8080), "protocol": "TCP"])
                ]),
            ]),
        ]))
    let endpoints: [JSONValue] = (0..<endpointsPerService).map { e in
        let p = (s * endpointsPerService + e) % max(podIPs.count, 1)
        return .object([
            "addresses": .array([.string(podIPs.isEmpty ? "10.1.0.1" : podIPs[p])]),
            "conditions": .object(["ready": .bool(true), "serving": .bool(true), "terminating": .bool(false)]),
            "nodeName": .string("node-\(p % nodeCount)"),
        ])
    }
    add(
        "endpointslices",
        .object([
            "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": .object([
                "name": .string("svc-\(s)-x"), "namespace": namespace,
                "labels": .object(["kubernetes.io/service-name": .string("svc-\(s)")]),
            ]),
            "addressType": "IPv4",
            "ports": .array([.object(["name": "http", "port": .int(8080), "protocol": "TCP"])]),
            "endpoints": .array(endpoints),
        ]))
}
let statePath = work.appendingPathComponent("state.json").path
try JSONValue.object([
    "resourceVersion": .int(Int64(version)), "objects": .object(objects.mapValues { .object($0) }),
]).jsonData().write(to: URL(fileURLWithPath: statePath))
let objectCount = objects.values.reduce(0) { $0 + $1.count }
objects = [:]

// The node: a network namespace with its address on a veth (both ends inside), the server beside the agent.
let netns = "kragentbench\(getpid())"
try shell("/usr/sbin/ip", ["netns", "add", netns])
defer { try? shell("/usr/sbin/ip", ["netns", "del", netns]) }
for args in [
    ["link", "set", "lo", "up"], ["link", "add", "eth0", "type", "veth", "peer", "name", "eth1"],
    ["addr", "add", "\(nodeIP(0))/16", "dev", "eth0"], ["link", "set", "eth0", "up"], ["link", "set", "eth1", "up"],
] {
    try shell("/usr/sbin/ip", ["-n", netns] + args)
}
let ipvs =
    FileManager.default.fileExists(atPath: "/proc/net/ip_vs")
    || ((try? shell("/usr/sbin/modprobe", ["ip_vs"]))?.0 == 0
        && FileManager.default.fileExists(atPath: "/proc/net/ip_vs"))
report.say(
    "kr-agent-bench: \(podCount) pods in \(namespaceCount) namespaces on \(nodeCount) nodes, \(policyCount) policies, "
        + "\(serviceCount) services × \(endpointsPerService) endpoints (\(objectCount) objects); "
        + (ipvs
            ? "firewall, router and service proxy"
            : "firewall and router (no IPVS in this kernel: the service proxy is skipped)"))

let server = try BenchAPIServer(root: root, bin: here, work: work, state: statePath, netns: netns)
defer { server.stop() }
let kubeconfig = server.kubeconfig
let config = server.config

// The agent.
let stateDir = work.appendingPathComponent("state").path
try FileManager.default.createDirectory(atPath: stateDir, withIntermediateDirectories: true)
let agent = Process()
agent.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
// KR_AGENT_BENCH_WRAPPER (e.g. `heaptrack -o /tmp/agent`): a profiler the agent runs under; its figures are then
// the profiler's too.
let wrapper = ProcessInfo.processInfo.environment["KR_AGENT_BENCH_WRAPPER"].map {
    $0.split(separator: " ").map(String.init)
}
agent.arguments =
    ["netns", "exec", netns] + (wrapper ?? []) + [
        here.appendingPathComponent("kube-router").path, "--kubeconfig", kubeconfig,
        "--hostname-override", "node-0", "--state-dir", stateDir, "--run-service-proxy=\(ipvs)",
        "--health-port", "0", "--cluster-asn", "64512",
    ]
let agentLog = work.appendingPathComponent("agent.log").path
FileManager.default.createFile(atPath: agentLog, contents: nil)
agent.standardError = FileHandle(forWritingAtPath: agentLog)
agent.standardOutput = FileHandle.nullDevice
let started = clock.now
try agent.run()
defer {
    agent.terminate()
    agent.waitUntilExit()
}
let pid = agent.processIdentifier

func agentRSS() -> Double {
    let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
    let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
    return (Double(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) / 1024
}
/// The agent's CPU time so far (all threads), in milliseconds.
func agentCPU() -> Double {
    let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
    // Fields after the command name (which is in parentheses): utime and stime are the 12th and 13th.
    let fields = stat.split(separator: ")").last?.split(separator: " ") ?? []
    guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
    return (user + system) * 1000 / Double(sysconf(Int32(_SC_CLK_TCK)))
}
func fail(_ message: String) -> Never {
    let log = (try? String(contentsOfFile: agentLog, encoding: .utf8)) ?? ""
    FileHandle.standardError.write(Data("kr-agent-bench: \(message)\nagent log (end):\n\(log.suffix(3000))\n".utf8))
    exit(1)
}
/// Whether every controller's status shows a sync, the firewall's with every pod change up to `version` (0: any).
func synced(atLeast version: Int) -> Bool {
    guard let firewall = FirewallStatus.read(stateDir: stateDir), firewall.syncs > 0,
        firewall.hasSynced(atLeast: version, of: ["pods"]), let router = RouterStatus.read(stateDir: stateDir),
        router.syncs > 0
    else { return false }
    return !ipvs || (ServiceProxyStatus.read(stateDir: stateDir)?.syncs ?? 0) > 0
}
while !synced(atLeast: 0) {
    if !agent.isRunning { fail("the agent exited") }
    if clock.now - started > .seconds(600) { fail("no first sync within 600 s") }
    usleep(20_000)
}
let readySeconds = seconds(clock.now - started)
// Memory settles once the first syncs' transient buffers are given back.
usleep(1_000_000)
let rssSynced = agentRSS()
report.say(String(format: "ready (every controller synced once): %.2f s after start", readySeconds))
report.say(String(format: "resident memory after the first syncs: %.1f MiB (target: under 60 MiB)", rssSynced))
report.say("  by kind of mapping: " + memoryBreakdown())

/// The agent's resident memory by kind of mapping (/proc/PID/smaps): the heap and anonymous maps (malloc's
/// arenas, Swift's objects), thread stacks, and the code and data of the binary and its libraries.
func memoryBreakdown() -> String {
    // procfs files have no size: read to the end.
    let data = FileHandle(forReadingAtPath: "/proc/\(pid)/smaps")?.readDataToEndOfFile() ?? Data()
    /// What a mapping's path stands for: the heap, a stack, the binary, a library by name, or anonymous memory.
    func kind(_ path: String) -> String {
        if path.isEmpty { return "anonymous" }
        if path == "[heap]" { return "heap" }
        if path.hasPrefix("[stack") { return "stack" }
        guard path.hasPrefix("/") else { return path }
        return path.contains("kube-router") ? "binary" : String(path.split(separator: "/").last ?? "")
    }
    var kinds: [String: Double] = [:]
    var current = "anonymous"
    for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
        let fields = line.split(separator: " ", omittingEmptySubsequences: true)
        guard let head = fields.first else { continue }
        if head.contains("-"), fields.count >= 5 {
            current = kind(fields.count >= 6 ? String(fields[5]) : "")
        } else if head == "Rss:", fields.count >= 2, let kb = Double(fields[1]) {
            kinds[current, default: 0] += kb / 1024
        }
    }
    return kinds.filter { $0.value >= 0.5 }.sorted { $0.value > $1.value }.map {
        String(format: "%@ %.1f MiB", $0.key, $0.value)
    }
    .joined(separator: ", ")
}

// Watch events: every pod's labels touched, twice over, as a burst.
let client = KubeClient(config: config)
let cpuBefore = agentCPU()
let eventsStart = clock.now
let (touched, target) = try NetworkNamespace.run(netns) { [podCount, eventRounds] in
    var touched = 0
    for _ in 0..<eventRounds {
        let answer = try client.send("POST", "/_test/touch/pods", query: ["count": String(podCount)], what: "touch")
        touched += Int(answer["touched"]?.intValue ?? 0)
    }
    let list = try client.send("GET", "/api/v1/pods", query: ["limit": "1"], what: "list")
    return (touched, Int(list["metadata"]?["resourceVersion"]?.stringValue ?? "0") ?? 0)
}
while !synced(atLeast: target) {
    if !agent.isRunning { fail("the agent exited") }
    if clock.now - eventsStart > .seconds(900) { fail("the events were not all synced within 900 s") }
    usleep(20_000)
}
let eventsSeconds = seconds(clock.now - eventsStart)
let cpuPerEvent = (agentCPU() - cpuBefore) / Double(max(touched, 1))
usleep(1_000_000)
let rssEvents = agentRSS()
report.say(
    String(
        format: "%d watch events (pods relabelled) synced in %.2f s; agent CPU %.3f ms per event", touched,
        eventsSeconds, cpuPerEvent))
report.say(String(format: "resident memory after the events: %.1f MiB (target: under 60 MiB)", rssEvents))
report.record("pods", podCount)
report.record("policies", policyCount)
report.record("services", serviceCount)
report.record("serviceProxy", ipvs)
report.record("readySeconds", readySeconds)
report.record("rssAfterSyncMiB", rssSynced)
report.record("events", touched)
report.record("eventsSeconds", eventsSeconds)
report.record("cpuMsPerEvent", cpuPerEvent)
report.record("rssMiB", rssEvents)
report.finish()
