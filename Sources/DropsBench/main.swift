import BenchSupport
import Foundation
import Kernel
import KubeModel
import Planning

// kr-drops-bench: what `krctl drops` costs, in a network namespace of its own.
// 1. One counter read (one libiptc snapshot, the pod chains' REJECT rules found by identity) with a node's
//    firewall of about 20,000 rules (default: 1,500 local pods, 1,500 policies), applied as the agent does.
// 2. NFLOG: packets per second our reader receives from a rule without a rate limit (UDP sent as fast as
//    python can), with the losses it counted.
// 3. Attribution: logged packets per second turned into Drops (plan lookup, the engine's reason, the kernel walk).
//
// Usage (root): swift build -c release && .build/release/kr-drops-bench [local pods] [policies] [packets] [-o json]

let arguments = CommandLine.arguments.dropFirst().compactMap { Int($0) }
let localPods = arguments.count > 0 ? arguments[0] : 1_500
let policyCount = arguments.count > 1 ? arguments[1] : 1_500
let packetCount = arguments.count > 2 ? arguments[2] : 200_000
let nodeCount = 3
let report = BenchReport()
guard getuid() == 0 else {
    FileHandle.standardError.write(Data("kr-drops-bench: needs root (network namespaces, iptables, ipset)\n".utf8))
    exit(1)
}

func format(_ ms: Double) -> String { String(format: "%.2f ms", ms) }
let clock = ContinuousClock()
let netns = "krdropbench\(getpid())"
_ = try shell("/usr/sbin/ip", ["netns", "add", netns])
defer { _ = try? shell("/usr/sbin/ip", ["netns", "del", netns]) }
_ = try shell("/usr/sbin/ip", ["-n", netns, "link", "set", "lo", "up"])

let file = FileManager.default.temporaryDirectory.appendingPathComponent("kr-drops-bench-\(getpid()).yaml")
try syntheticManifests(pods: localPods * nodeCount, namespaces: 50, policies: policyCount, nodes: nodeCount)
    .write(to: file, atomically: true, encoding: .utf8)
let snapshot = try ManifestSource(paths: [file.path]).snapshot()
try? FileManager.default.removeItem(at: file)
let engine = PolicyEngine(snapshot)
let plan = FirewallPlanner(engine: engine).plan(node: "node-0", family: .ipv4)
let ruleCount = plan.chains.reduce(0) { $0 + $1.rules.count }
report.say(
    "kr-drops-bench: \(localPods) pods on this node, \(policyCount) policies: \(plan.chains.count) chains, "
        + "\(ruleCount) rules, \(plan.denials.count) denials")

try NetworkNamespace.run(netns) {
    let session = try IPSetSession()
    _ = try IPSetSync(session: session).apply(plan.sets, previous: nil)
    try IPTablesSync.apply(plan, previous: nil)
}

// 1. Counter reads.
var counts: [DenialCount] = []
var times: [Double] = []
for _ in 0..<20 {
    times.append(
        milliseconds(
            clock.measure { counts = try! NetworkNamespace.run(netns) { try DenialCounters.read(plan: plan) } }))
}
times.sort()
let found = counts.filter { $0.packets != nil }.count
report.say(
    "counter read (\(ruleCount) rules, \(plan.denials.count) REJECT rules, \(found) found): "
        + "median \(format(times[times.count / 2])), min \(format(times[0])), max \(format(times.last!))")
var all: [String: [DenialCount.Counted]] = [:]
let whole = milliseconds(
    clock.measure { all = try! NetworkNamespace.run(netns) { try DenialCounters.rules(family: .ipv4) } })
report.say(
    "every rule of ours with its counters (policy check's read): \(format(whole)), "
        + "\(all.values.map(\.count).reduce(0, +)) rules"
)

// 2. NFLOG throughput: a rule without a limit logs every UDP packet to port 9999.
_ = try shell(
    "/usr/sbin/ip",
    [
        "netns", "exec", netns, "iptables-legacy", "-I", "OUTPUT", "-p", "udp", "--dport", "9999", "-j", "NFLOG",
        "--nflog-group", "100", "--nflog-prefix", plan.denials.first?.logPrefix ?? "bench",
    ])
let reader = try NetworkNamespace.run(netns) { try NFLogReader(group: 100) }
let sender = Process()
sender.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
sender.arguments = [
    "netns", "exec", netns, "/usr/bin/python3", "-c",
    "import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
        + "for _ in range(\(packetCount)): s.sendto(b'x' * 64, ('127.0.0.1', 9999))",
]
var received: [LoggedPacket] = []
received.reserveCapacity(packetCount)
let start = clock.now
try sender.run()
var idle = 0
while received.count + reader.lost < packetCount && idle < 3 {
    let batch = try reader.next(timeout: 1)
    idle = batch.isEmpty && !sender.isRunning ? idle + 1 : 0
    received += batch
}
let elapsed = seconds(clock.now - start)
sender.waitUntilExit()
report.say(
    "NFLOG: \(received.count) of \(packetCount) packets received in \(String(format: "%.2f", elapsed)) s "
        + "(\(Int(Double(received.count) / elapsed))/s), \(reader.lost) counted lost, \(reader.overruns) overruns")
reader.close()

// 3. Attribution: logged packets from every denial's pod, from a pod of another namespace.
let observed = try NetworkNamespace.run(netns) { try ObservedFirewall.read(family: .ipv4) }
let attribution = DropAttribution(engine: engine, node: "node-0", plans: [.ipv4: plan], observed: [.ipv4: observed])
let pods = snapshot.pods.values.sorted { $0.key < $1.key }
let packets: [LoggedPacket] = plan.denials.filter { $0.direction == .ingress }.prefix(2_000).enumerated().compactMap {
    index, denial in
    guard let target = snapshot.pods[denial.pod]?.ips.first,
        let source = pods[(index * 7919) % pods.count].ips.first,
        case let (t, s) = (target.description.split(separator: "."), source.description.split(separator: ".")),
        t.count == 4, s.count == 4
    else { return nil }
    var bytes: [UInt8] = [0x45, 0, 0, 40, 0, 1, 0x40, 0, 64, 6, 0, 0]
    bytes += s.map { UInt8($0)! } + t.map { UInt8($0)! } + [0xC3, 0x50, 0x23, 0x28] + [UInt8](repeating: 0, count: 16)
    return LoggedPacket(time: Date(), group: 100, prefix: denial.logPrefix, payload: bytes)
}
var attributed = 0
let attributionTime = seconds(
    clock.measure { for packet in packets where attribution.attribute(packet).pod != nil { attributed += 1 } })
report.say(
    "attribution: \(attributed) of \(packets.count) packets in \(String(format: "%.3f", attributionTime)) s "
        + "(\(Int(Double(packets.count) / attributionTime)) drops/s, with the kernel walk of each)")
report.record("rules", ruleCount)
report.record("rejectRules", plan.denials.count)
report.record("counterReadMedianMs", times[times.count / 2])
report.record("allRulesReadMs", whole)
report.record("nflogPackets", packetCount)
report.record("nflogReceived", received.count)
report.record("nflogPerSecond", Double(received.count) / elapsed)
report.record("nflogLost", reader.lost)
report.record("attributionPerSecond", Double(packets.count) / attributionTime)
report.finish()
