import BenchSupport
import Foundation
import KubeModel
import Planning

// krbench: the NetworkPolicy engine at scale. A generated cluster (default 5,000 pods in 200
// namespaces with 1,000 policies) is written as YAML, loaded through the same manifest loader krctl
// uses, and queried. Targets (issue 2): one query under 20 ms, a 100x100 matrix under 1 s.
//
// Usage: swift run -c release krbench [pods] [namespaces] [policies] [-o json]

let arguments = CommandLine.arguments.dropFirst().compactMap { Int($0) }
let podCount = arguments.count > 0 ? arguments[0] : 5_000
let namespaceCount = arguments.count > 1 ? arguments[1] : 200
let policyCount = arguments.count > 2 ? arguments[2] : 1_000
let report = BenchReport()

func format(_ ms: Double) -> String { String(format: "%.3f ms", ms) }

let clock = ContinuousClock()
report.say("krbench: \(podCount) pods, \(namespaceCount) namespaces, \(policyCount) NetworkPolicies")

let manifests = syntheticManifests(pods: podCount, namespaces: namespaceCount, policies: policyCount)
let file = FileManager.default.temporaryDirectory.appendingPathComponent("krbench-\(getpid()).yaml")
try manifests.write(to: file, atomically: true, encoding: .utf8)
defer { try? FileManager.default.removeItem(at: file) }
report.say("manifest: \(manifests.utf8.count / 1024) KiB of YAML")

var snapshot = ClusterSnapshot()
let load = clock.measure { snapshot = try! ManifestSource(paths: [file.path]).snapshot() }
var engine: PolicyEngine!
let build = clock.measure { engine = PolicyEngine(snapshot) }
report.say("load (parse + validate):   \(format(milliseconds(load)))")
report.say("engine index build:        \(format(milliseconds(build)))")

// Single queries: full explanations, as `krctl explain-policy --from --to --port` computes them.
let pods = engine.endpointPods()
var rng = SplitMix(state: 7)
var samples: [Double] = []
var allowed = 0
for _ in 0..<2_000 {
    let a = pods[rng.next(pods.count)]
    let b = pods[rng.next(pods.count)]
    let src = TrafficEndpoint(kind: .pod(a), ip: a.ips[0])
    let dst = TrafficEndpoint(kind: .pod(b), ip: b.ips[0])
    let port = [8000 + rng.next(8), 9100, 53][rng.next(3)]
    var explanation: PolicyExplanation?
    let d = clock.measure { explanation = engine.explain(from: src, to: dst, port: port, proto: .tcp) }
    if explanation?.verdict == .allow { allowed += 1 }
    samples.append(milliseconds(d))
}
samples.sort()
let median = samples[samples.count / 2]
let p99 = samples[samples.count * 99 / 100]
let worst = samples.last!
report.say(
    "one query (explain), 2000 random pairs: median \(format(median)), p99 \(format(p99)), "
        + "max \(format(worst)); \(allowed) allowed"
)

// A cold single query as krctl runs it: index build plus one explanation.
let cold = milliseconds(build) + median
report.say(
    "one query incl. index build: \(format(cold))   target < 20 ms: \(cold < 20 ? "met" : "MISSED") "
        + "(\(String(format: "%.2f", cold / 20)) of target)"
)

// The 100x100 matrix over the first 100 pods of the sorted list (several namespaces).
let hundred = Array(pods.prefix(100))
var matrix: PolicyMatrix!
let matrixTime = clock.measure { matrix = engine.matrix(pods: hundred, ports: [PortQuery("http")!]) }
let matrixMS = milliseconds(matrixTime)
let allowedCells = matrix.cells.filter { $0.verdict == .allow }.count
report.say(
    "matrix 100x100, port http: \(format(matrixMS)) for \(matrix.cells.count) cells (\(allowedCells) allowed)   "
        + "target < 1000 ms: \(matrixMS < 1000 ? "met" : "MISSED") "
        + "(\(String(format: "%.3f", matrixMS / 1000)) of target)"
)
report.record("pods", podCount)
report.record("namespaces", namespaceCount)
report.record("policies", policyCount)
report.record("loadMs", milliseconds(load))
report.record("indexMs", milliseconds(build))
report.record("queryMedianMs", median)
report.record("queryP99Ms", p99)
report.record("coldQueryMs", cold)
report.record("matrixMs", matrixMS)
report.finish()
