import BenchSupport
import Foundation
import Kernel
import KubeModel
import Planning

// kr-ipvs-bench: the service proxy's IPVS sync at scale, in a network namespace of its own (run it in
// the VM: scripts/bench-ipvs). A synthetic table (default: 10,000 services × 10 endpoints) is planned by
// the agent's planner from Services and EndpointSlices, synced from empty with our netlink client,
// then the same table is loaded with `ipvsadm -R` in the same run (ratio printed). Both results are read
// back and compared with the plan. Then one endpoint change is timed, from plan to kernel.
//
// Usage (root, IPVS): kr-ipvs-bench [services] [endpoints per service] [-o json]

let arguments = CommandLine.arguments.dropFirst().compactMap { Int($0) }
let serviceCount = arguments.count > 0 ? arguments[0] : 10_000
let endpointCount = arguments.count > 1 ? arguments[1] : 10
let report = BenchReport()
guard getuid() == 0 else {
    FileHandle.standardError.write(Data("kr-ipvs-bench: needs root (network namespaces, IPVS)\n".utf8))
    exit(1)
}

func format(_ ms: Double) -> String { String(format: "%.1f ms", ms) }
let clock = ContinuousClock()
let netns = "kripvsbench\(getpid())"
_ = try shell("/usr/sbin/ip", ["netns", "add", netns])
defer { _ = try? shell("/usr/sbin/ip", ["netns", "del", netns]) }
_ = try shell("/usr/sbin/ip", ["-n", netns, "link", "set", "lo", "up"])
guard (try? NetworkNamespace.run(netns) { try IPVSClient() }) != nil else {
    FileHandle.standardError.write(
        Data("kr-ipvs-bench: IPVS is not available on this kernel; run it in the VM: scripts/bench-ipvs\n".utf8))
    exit(1)
}

report.say(
    "kr-ipvs-bench: \(serviceCount) ClusterIP services × \(endpointCount) endpoints = "
        + "\(serviceCount * endpointCount) real servers"
)

/// Services and slices as the API would serve them (decoded by the agent's model code), so the
/// planner is part of the measurement.
func cluster() throws -> ClusterSnapshot {
    var snapshot = ClusterSnapshot()
    for s in 0..<serviceCount {
        let vip = JSONValue.string("10.96.\(s / 250).\(s % 250 + 1)")
        let service: JSONValue = .object([
            "metadata": .object(["name": .string("svc-\(s)"), "namespace": "bench"]),
            "spec": .object([
                "clusterIP": vip, "clusterIPs": .array([vip]),
                "ports": .array([.object(["name": "http", "port": .int(80), "targetPort": .int(8080)])]),
            ]),
        ])
        var endpoints: [JSONValue] = []
        for e in 0..<endpointCount {
            let n = s * endpointCount + e
            endpoints.append(
                .object([
                    "addresses": .array([.string("10.\(244 + n / 65536 % 8).\(n / 256 % 256).\(n % 256)")]),
                    "conditions": .object(["ready": .bool(true), "serving": .bool(true), "terminating": .bool(false)]),
                    "nodeName": "node-0",
                ]))
        }
        let slice: JSONValue = .object([
            "metadata": .object([
                "name": .string("svc-\(s)-x"), "namespace": "bench",
                "labels": .object(["kubernetes.io/service-name": .string("svc-\(s)")]),
            ]),
            "addressType": "IPv4",
            "ports": .array([.object(["name": "http", "port": .int(8080), "protocol": "TCP"])]),
            "endpoints": .array(endpoints),
        ])
        if let object = try KubeObject.decode(kind: "Service", service) { snapshot.apply(object) }
        if let object = try KubeObject.decode(kind: "EndpointSlice", slice) { snapshot.apply(object) }
    }
    return snapshot
}

let parseStart = clock.now
var snapshot = try cluster()
report.say("objects decoded in \(format(milliseconds(clock.now - parseStart)))")
let options = ServiceProxyPlanner.Options(gracefulTermination: true)
var plan: ServiceProxyPlan!
let planTime = milliseconds(
    clock.measure { plan = ServiceProxyPlanner.plan(snapshot, node: "node-0", nodeAddresses: [], options: options) })
report.say(
    "plan: \(format(planTime)): \(plan.services.count) virtual services, "
        + "\(plan.services.reduce(0) { $0 + $1.destinations.count }) real servers"
)

func sync(
    _ services: [PlannedVirtualService], previous: [PlannedVirtualService]?
) throws -> (ms: Double, report: IPVSSync.Report) {
    try NetworkNamespace.run(netns) {
        let sync = IPVSSync(client: try IPVSClient())
        let start = clock.now
        let report = try sync.apply(services, previous: previous, owned: [])
        return (milliseconds(clock.now - start), report)
    }
}

/// Differences between the kernel's table and the plan (0 when equal).
func differences(_ services: [PlannedVirtualService]) throws -> Int {
    let actual = try NetworkNamespace.run(netns) { try IPVSSync(client: try IPVSClient()).read() }
    var count = abs(actual.count - services.count)
    for p in services {
        guard let entry = actual[p.service.key], entry.service.sameSettings(p.service) else {
            count += 1
            continue
        }
        if Set(entry.destinations) != Set(p.destinations)
            || entry.destinations.map(\.weight).sorted() != p.destinations.map(\.weight).sorted()
        {
            count += 1
        }
    }
    return count
}

func clear() throws { _ = try shell("/usr/sbin/ip", ["netns", "exec", netns, "ipvsadm", "-C"]) }

// Ours, from an empty table.
let cold = try sync(plan.services, previous: nil)
report.say(
    "ours, full sync from empty: \(format(cold.ms)) (\(cold.report.calls) netlink changes); "
        + "differences from the plan after: \(try differences(plan.services))"
)
let warm = try sync(plan.services, previous: nil)
report.say(
    "ours, periodic full sync (reads the kernel back), nothing changed: "
        + "\(format(warm.ms)) (\(warm.report.calls) changes)"
)

// ipvsadm -R of the same table, in the same run.
try clear()
var restore = ""
for p in plan.services {
    restore += "-A -t \(p.service.address):\(p.service.port) -s \(p.service.scheduler)\n"
    for d in p.destinations {
        restore += "-a -t \(p.service.address):\(p.service.port) -r \(d.address):\(d.port) -m -w \(d.weight)\n"
    }
}
let ipvsadmStart = clock.now
let (status, output) = try shell("/usr/sbin/ip", ["netns", "exec", netns, "ipvsadm", "-R"], input: Data(restore.utf8))
let ipvsadmMs = milliseconds(clock.now - ipvsadmStart)
guard status == 0 else {
    FileHandle.standardError.write(
        Data("kr-ipvs-bench: ipvsadm -R failed: \(String(decoding: output, as: UTF8.self))\n".utf8))
    exit(1)
}
report.say(
    "ipvsadm -R, same table from empty: \(format(ipvsadmMs)); "
        + "differences from the plan after: \(try differences(plan.services))"
)
report.say(String(format: "ratio ours / ipvsadm -R (full sync from empty): %.2f", cold.ms / ipvsadmMs))

// One endpoint change (an endpoint starts terminating), as the agent handles the event: the one service
// replanned, its part of the assembled plan replaced, and that service synced by difference. The check after
// compares the kernel with the plan so updated.
var parts: [String: ServicePlan] = [:]
for (key, service) in snapshot.services {
    parts[key] = ServiceProxyPlanner.plan(
        service: service, slices: ServiceProxyPlanner.slices(of: key, in: snapshot), node: "node-0",
        nodeAddresses: [], options: options)
}
var slice = snapshot.endpointSlices["bench/svc-0-x"]!
slice.endpoints[0].ready = false
slice.endpoints[0].terminating = true
snapshot.apply(.endpointSlice(slice))
var eventPlan = ServiceProxyPlanner.assemble(parts, nodeAddresses: [])
let eventStart = clock.now
let before = parts["bench/svc-0"]!
parts["bench/svc-0"] = ServiceProxyPlanner.plan(
    service: snapshot.services["bench/svc-0"]!, slices: ServiceProxyPlanner.slices(of: "bench/svc-0", in: snapshot),
    node: "node-0", nodeAddresses: [], options: options)
ServiceProxyPlanner.reassemble(&eventPlan, key: "bench/svc-0", old: before, parts: parts, nodeAddresses: [])
let planned = clock.now
let sameAsFullAssembly = eventPlan == ServiceProxyPlanner.assemble(parts, nodeAddresses: [])
let event = try sync(parts["bench/svc-0"]!.services, previous: before.services)
report.say(
    "one endpoint change: plan \(format(milliseconds(planned - eventStart))) "
        + "(one service replanned, its part of the plan replaced), "
        + "sync \(String(format: "%.3f ms", event.ms)) (\(event.report.calls) netlink change); "
        + "differences after: \(try differences(eventPlan.services)); "
        + "the updated plan equals a full assembly: \(sameAsFullAssembly ? "yes" : "NO")"
)
report.say(String(format: "memory: %.0f MiB resident", residentMiB()))
report.record("services", serviceCount)
report.record("endpointsPerService", endpointCount)
report.record("fullSyncMs", cold.ms)
report.record("periodicSyncMs", warm.ms)
report.record("ipvsadmMs", ipvsadmMs)
report.record("fullSyncRatio", cold.ms / ipvsadmMs)
report.record("endpointEventMs", milliseconds(planned - eventStart) + event.ms)
report.record("endpointEventPlanMs", milliseconds(planned - eventStart))
report.record("rssMiB", residentMiB())
report.finish()
try clear()
