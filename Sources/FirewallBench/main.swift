import BenchSupport
import Foundation
import Kernel
import KubeModel
import Planning

// kr-firewall-bench: the firewall sync at scale, in a network namespace of its own. A synthetic
// cluster (default: 3,000 pods on 3 nodes, so 1,000 on this node, in 50 namespaces, with 1,000
// policies) is planned for node-0 and applied with libipset + libiptc, then the same ruleset is applied
// with `ipset restore` + `iptables-legacy-restore` in the same run (ratio printed). Both results are
// read back and compared with the plan. Then one pod event (a relabel) is timed to enforcement, and 100 mixed
// events (p50, p99, and the set-only ones' p50).
//
// Usage (root): swift build -c release && .build/release/kr-firewall-bench [local pods] [policies] [-o json]

let arguments = CommandLine.arguments.dropFirst().compactMap { Int($0) }
let localPods = arguments.count > 0 ? arguments[0] : 1_000
let policyCount = arguments.count > 1 ? arguments[1] : 1_000
let nodeCount = 3
let report = BenchReport()
guard getuid() == 0 else {
    FileHandle.standardError.write(Data("kr-firewall-bench: needs root (network namespaces, iptables, ipset)\n".utf8))
    exit(1)
}

func format(_ ms: Double) -> String { String(format: "%.1f ms", ms) }
let clock = ContinuousClock()
let netns = "krfwbench\(getpid())"
try shell("/usr/sbin/ip", ["netns", "add", netns])
defer { try? shell("/usr/sbin/ip", ["netns", "del", netns]) }

report.say(
    "kr-firewall-bench: \(localPods) pods on this node (\(localPods * nodeCount) in the cluster, "
        + "\(nodeCount) nodes), \(policyCount) NetworkPolicies"
)
let file = FileManager.default.temporaryDirectory.appendingPathComponent("kr-firewall-bench-\(getpid()).yaml")
try syntheticManifests(pods: localPods * nodeCount, namespaces: 50, policies: policyCount, nodes: nodeCount)
    .write(to: file, atomically: true, encoding: .utf8)
var snapshot = try ManifestSource(paths: [file.path]).snapshot()
try? FileManager.default.removeItem(at: file)

var plan: FirewallPlan!
let planTime = milliseconds(
    clock.measure { plan = FirewallPlanner(engine: PolicyEngine(snapshot)).plan(node: "node-0", family: .ipv4) })
let ruleCount = plan.chains.reduce(0) { $0 + $1.rules.count }
let memberCount = plan.sets.reduce(0) { $0 + $1.members.count }
report.say(
    "plan: \(format(planTime)): \(plan.chains.count) chains, \(ruleCount) rules, "
        + "\(plan.sets.count) sets with \(memberCount) members"
)

/// Our sync, as the agent runs it: sets, then one table commit, then stale sets.
/// With `previous`, an event sync (only what changed since); without, a full sync that reads the kernel.
func syncOurs(_ plan: FirewallPlan, previous: FirewallPlan? = nil) throws -> (sets: Double, rules: Double) {
    try NetworkNamespace.run(netns) {
        let start = clock.now
        let session = try IPSetSession()
        let sets = try IPSetSync(session: session).apply(plan.sets, previous: previous?.sets)
        let setsDone = clock.now
        try IPTablesSync.apply(plan, previous: previous)
        _ = try IPSetSync(session: session).removeStale(keeping: Set(plan.sets.map(\.name)), among: sets.before)
        return (milliseconds(setsDone - start), milliseconds(clock.now - setsDone))
    }
}

func drift(_ plan: FirewallPlan) throws -> [DriftFinding] {
    try NetworkNamespace.run(netns) { FirewallDrift.compare(plan, try ObservedFirewall.read()) }
}

func cleanup() throws {
    try NetworkNamespace.run(netns) {
        try IPTablesSync.cleanup()
        _ = try IPSetSync(session: IPSetSession()).removeStale(keeping: [])
    }
}

// Ours, from an empty node.
let cold = try syncOurs(plan)
let oursCold = cold.sets + cold.rules
let oursDrift = try drift(plan)
report.say(
    "ours, full sync from empty:  \(format(oursCold)) "
        + "(ipsets \(format(cold.sets)), iptables \(format(cold.rules))); drift after: \(oursDrift.count)"
)
let warm = try syncOurs(plan)
report.say("ours, periodic full sync (reads the kernel back), nothing changed: \(format(warm.sets + warm.rules))")

// One pod event: a local pod changes its app label, which changes the policies that select it and the
// peer sets it is in. Timed from the event to the kernel enforcing it (plan + sync).
let podKey = snapshot.pods.values.filter { $0.nodeName == "node-0" }.map(\.key).sorted()[0]
var pod = snapshot.pods[podKey]!
pod.meta.labels["app"] = pod.meta.labels["app"] == "app-0" ? "app-1" : "app-0"
snapshot.apply(.pod(pod))
var eventPlan: FirewallPlan!
let eventPlanTime = milliseconds(
    clock.measure { eventPlan = FirewallPlanner(engine: PolicyEngine(snapshot)).plan(node: "node-0", family: .ipv4) })
let event = try syncOurs(eventPlan, previous: plan)
let eventTotal = eventPlanTime + event.sets + event.rules
let eventDrift = try drift(eventPlan)
report.say(
    "ours, one pod event (relabel \(podKey)) to enforcement: \(format(eventTotal)) "
        + "(plan \(format(eventPlanTime)), ipsets \(format(event.sets)), iptables \(format(event.rules))); "
        + "drift after: \(eventDrift.count)"
)

// 100 mixed events, each timed from the event to the kernel enforcing it, as the agent handles them: a remote pod
// relabelled, a local pod added, a policy edited (its first ingress rule's ports dropped, then restored), a
// namespace relabelled. Events that can only move set members (pods of other nodes, namespaces) update the sets
// of the plan before (`FirewallIncremental`); the others are planned in full; then an event sync against the plan
// before. Set-only: the events whose new plan has the same chains (only ipset members changed).
var current: FirewallPlan = eventPlan
var eventTimes: [Double] = []
var setOnlyTimes: [Double] = []
let remotePods = snapshot.pods.values.filter { $0.nodeName != "node-0" && !$0.ips.isEmpty }.map(\.key).sorted()
let localPodKeys = snapshot.pods.values.filter { $0.nodeName == "node-0" && !$0.ips.isEmpty }.map(\.key).sorted()
let editable = snapshot.networkPolicies.values.filter { !($0.ingress.first?.ports.isEmpty ?? true) }.map(\.key).sorted()
let originals = Dictionary(uniqueKeysWithValues: editable.map { ($0, snapshot.networkPolicies[$0]!) })
let namespaceNames = snapshot.namespaces.keys.sorted()
var incrementalCount = 0
var setOnlyParts: [(plan: Double, sets: Double, rules: Double)] = []
for i in 0..<100 {
    // The informer's event: the old object and the new one.
    var changes = FirewallIncremental.Changes()
    func event(_ old: KubeObject?, _ new: KubeObject) {
        if let old { changes.note(old, node: "node-0") }
        changes.note(new, node: "node-0")
        snapshot.apply(new)
    }
    switch i % 4 {
    case 0:
        var pod = snapshot.pods[remotePods[(i * 7) % remotePods.count]]!
        let old = pod
        pod.meta.labels["app"] = pod.meta.labels["app"] == "app-0" ? "app-1" : "app-0"
        event(.pod(old), .pod(pod))
    case 1:
        var pod = snapshot.pods[localPodKeys[(i * 11) % localPodKeys.count]]!
        pod.meta.name = "bench-new-\(i)"
        pod.ips = [IPAddress(v4: 0x0AFE_0000 + UInt32(i))]
        event(nil, .pod(pod))
    case 2 where !editable.isEmpty:
        let key = editable[(i * 13) % editable.count]
        var policy = snapshot.networkPolicies[key]!
        let old = policy
        if policy == originals[key] { policy.ingress[0].ports = [] } else { policy = originals[key]! }
        event(.networkPolicy(old), .networkPolicy(policy))
    default:
        var namespace = snapshot.namespaces[namespaceNames[(i * 17) % namespaceNames.count]]!
        let old = namespace
        namespace.meta.labels["team"] = "team-\((i / 4) % 10)"
        event(.namespace(old), .namespace(namespace))
    }
    var next: FirewallPlan!
    let planMs = milliseconds(
        clock.measure {
            let engine = PolicyEngine(snapshot)
            if let updated = FirewallIncremental.update([current], engine: engine, changes: changes) {
                next = updated[0]
                incrementalCount += 1
            } else {
                next = FirewallPlanner(engine: engine).plan(node: "node-0", family: .ipv4)
            }
        })
    let sync = try syncOurs(next, previous: current)
    let total = planMs + sync.sets + sync.rules
    eventTimes.append(total)
    if next.chains == current.chains && next.hooks == current.hooks {
        setOnlyTimes.append(total)
        setOnlyParts.append((planMs, sync.sets, sync.rules))
    }
    current = next
}
func percentile(_ values: [Double], _ p: Double) -> Double? {
    guard !values.isEmpty else { return nil }
    let sorted = values.sorted()
    return sorted[min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.down)))]
}
let eventP50 = percentile(eventTimes, 0.5)
let eventP99 = percentile(eventTimes, 0.99)
let setOnlyP50 = percentile(setOnlyTimes, 0.5)
let mixedDrift = try drift(current)
let fullAgain = FirewallPlanner(engine: PolicyEngine(snapshot)).plan(node: "node-0", family: .ipv4)
report.say(
    "after the events, the plan applied equals a full plan of the same state: \(current == fullAgain ? "yes" : "NO")")
report.say(
    "100 mixed events (remote relabel, local pod added, policy edited, namespace relabel) to enforcement: "
        + "p50 \(eventP50.map(format) ?? "-"), p99 \(eventP99.map(format) ?? "-"); "
        + "\(setOnlyTimes.count) set-only, p50 \(setOnlyP50.map(format) ?? "-") (target < 50 ms; "
        + "\(incrementalCount) applied to the sets alone, the others planned in full); "
        + "drift after: \(mixedDrift.count)")
if !setOnlyParts.isEmpty {
    let plan = percentile(setOnlyParts.map(\.plan), 0.5)!
    let sets = percentile(setOnlyParts.map(\.sets), 0.5)!
    let rules = percentile(setOnlyParts.map(\.rules), 0.5)!
    report.say(
        "set-only events, p50 of each part: plan \(format(plan)) (the state's policy engine and the sets' update), "
            + "ipsets \(format(sets)), iptables \(format(rules)) (the chains compared with the plan before)")
}
// What the agent adds to each sync: the informers' objects as one snapshot (`Informers.snapshot()` rebuilds it).
let objects: [KubeObject] =
    snapshot.namespaces.values.map { .namespace($0) } + snapshot.pods.values.map { .pod($0) }
    + snapshot.networkPolicies.values.map { .networkPolicy($0) }
let snapshotMs = milliseconds(clock.measure { _ = ClusterSnapshot(objects) })
report.say(
    "besides (not in the figures above): the agent's snapshot of the informers' \(objects.count) objects, "
        + "rebuilt for each sync: \(format(snapshotMs))")
report.record("snapshotMs", snapshotMs)
report.record("eventP50Ms", eventP50)
report.record("eventP99Ms", eventP99)
report.record("setOnlyEvents", setOnlyTimes.count)
report.record("setOnlyEventP50Ms", setOnlyP50)

// The reference: the same ruleset through the standard tools, as restore files.
try cleanup()
let setsText = Data(plan.ipsetRestore().utf8)
let rulesText = Data(plan.iptablesRestore().utf8)
var status: (Int32, Data) = (0, Data())
let refSets = milliseconds(
    clock.measure {
        status =
            (try? shell("/usr/sbin/ip", ["netns", "exec", netns, "ipset", "restore", "-exist"], input: setsText)) ?? (
                -1, Data()
            )
    })
guard status.0 == 0 else {
    report.say("ipset restore failed (\(status.0))")
    exit(1)
}
let refRules = milliseconds(
    clock.measure {
        status =
            (try? shell(
                "/usr/sbin/ip", ["netns", "exec", netns, "iptables-legacy-restore", "--noflush"], input: rulesText))
            ?? (-1, Data())
    })
guard status.0 == 0 else {
    report.say("iptables-legacy-restore failed (\(status.0))")
    exit(1)
}
let reference = refSets + refRules
let referenceDrift = try drift(plan)
report.say(
    "reference, ipset restore + iptables-legacy-restore from empty: \(format(reference)) "
        + "(ipset \(format(refSets)), iptables \(format(refRules))); drift after: \(referenceDrift.count)"
)
try cleanup()

report.say("ratio, full sync (ours / reference): \(String(format: "%.2f", oursCold / reference))")
report.say(
    "ratio, one pod event (ours / a full restore, as kube-router resyncs): "
        + "\(String(format: "%.2f", eventTotal / reference))"
)
report.say("resident memory: \(String(format: "%.0f", residentMiB())) MiB")
report.record("localPods", localPods)
report.record("policies", policyCount)
report.record("fullSyncMs", oursCold)
report.record("periodicSyncMs", warm.sets + warm.rules)
report.record("referenceMs", reference)
report.record("fullSyncRatio", oursCold / reference)
report.record("podEventMs", eventTotal)
report.record("podEventPlanMs", eventPlanTime)
report.record("rssMiB", residentMiB())
report.record("drift", oursDrift.count + eventDrift.count + mixedDrift.count + referenceDrift.count)
report.finish()
if !oursDrift.isEmpty || !eventDrift.isEmpty || !mixedDrift.isEmpty || !referenceDrift.isEmpty {
    report.say(
        "DRIFT: the kernel does not hold the plan:\n"
            + (oursDrift + eventDrift + mixedDrift + referenceDrift).prefix(10).map { "  \($0)" }.joined(
                separator: "\n"))
    exit(1)
}
