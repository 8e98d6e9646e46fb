import Core
import Foundation

// krbench: the NetworkPolicy engine at scale. A generated cluster (default 5,000 pods in 200
// namespaces with 1,000 policies) is written as YAML, loaded through the same manifest loader krctl
// uses, and queried. Targets (issue 2): one query under 20 ms, a 100x100 matrix under 1 s.
//
// Usage: swift run -c release krbench [pods] [namespaces] [policies]

let arguments = CommandLine.arguments.dropFirst().compactMap { Int($0) }
let podCount = arguments.count > 0 ? arguments[0] : 5_000
let namespaceCount = arguments.count > 1 ? arguments[1] : 200
let policyCount = arguments.count > 2 ? arguments[2] : 1_000

/// A deterministic generator so that every run measures the same cluster.
struct SplitMix {
    var state: UInt64
    mutating func next(_ bound: Int) -> Int {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return Int((z ^ (z >> 31)) % UInt64(bound))
    }
}

func generateManifests() -> String {
    var rng = SplitMix(state: 42)
    var out = ""
    out.reserveCapacity(podCount * 400 + policyCount * 600)
    for n in 0..<namespaceCount {
        out += "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: ns-\(n), labels: {team: team-\(n % 10), env: \(n % 3 == 0 ? "prod" : "dev")}}\n"
    }
    for p in 0..<podCount {
        let ns = p % namespaceCount
        let app = rng.next(8)
        let ip = "10.\(p / 65536 + 1).\(p / 256 % 256).\(p % 256)"
        out += """
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: pod-\(p), namespace: ns-\(ns), labels: {app: app-\(app), tier: tier-\(app % 3), version: v\(rng.next(3))}}
        spec: {nodeName: node-\(p % 50), containers: [{name: main, ports: [{name: http, containerPort: \(8000 + app)}, {name: metrics, containerPort: 9100}]}]}
        status: {phase: Running, podIP: \(ip)}

        """
    }
    for i in 0..<policyCount {
        let ns = i % namespaceCount
        let app = rng.next(8)
        let spec: String
        switch i / namespaceCount % 5 {
        case 0:
            spec = "podSelector: {}\n  policyTypes: [Ingress]"
        case 1:
            spec = """
            podSelector: {matchLabels: {app: app-\(app)}}
              ingress:
              - from:
                - podSelector: {matchLabels: {tier: tier-\(rng.next(3))}}
                - namespaceSelector: {matchLabels: {team: team-\(rng.next(10))}}
                  podSelector: {matchExpressions: [{key: app, operator: In, values: [app-\(rng.next(8)), app-\(rng.next(8))]}]}
                ports: [{port: http}, {port: 9100}]
            """
        case 2:
            spec = """
            podSelector: {matchExpressions: [{key: tier, operator: NotIn, values: [tier-0]}]}
              ingress:
              - from: [{ipBlock: {cidr: 10.0.0.0/8, except: [10.1.\(rng.next(256)).0/24]}}]
                ports: [{port: 8000, endPort: 8010}]
            """
        case 3:
            spec = """
            podSelector: {matchLabels: {app: app-\(app)}}
              policyTypes: [Ingress, Egress]
              egress:
              - to: [{namespaceSelector: {matchLabels: {env: prod}}}]
                ports: [{port: http}, {port: 53, protocol: UDP}]
            """
        default:
            spec = """
            podSelector: {matchLabels: {version: v\(rng.next(3))}}
              ingress:
              - from: [{namespaceSelector: {}}]
                ports: [{port: metrics}]
            """
        }
        out += "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: policy-\(i), namespace: ns-\(ns)}\nspec:\n  \(spec)\n"
    }
    return out
}

func milliseconds(_ d: Duration) -> Double {
    Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
}

func format(_ ms: Double) -> String { String(format: "%.3f ms", ms) }

let clock = ContinuousClock()
print("krbench: \(podCount) pods, \(namespaceCount) namespaces, \(policyCount) NetworkPolicies")

let manifests = generateManifests()
let file = FileManager.default.temporaryDirectory.appendingPathComponent("krbench-\(getpid()).yaml")
try manifests.write(to: file, atomically: true, encoding: .utf8)
defer { try? FileManager.default.removeItem(at: file) }
print("manifest: \(manifests.utf8.count / 1024) KiB of YAML")

var snapshot = ClusterSnapshot()
let load = clock.measure { snapshot = try! ManifestSource(paths: [file.path]).snapshot() }
var engine: PolicyEngine!
let build = clock.measure { engine = PolicyEngine(snapshot) }
print("load (parse + validate):   \(format(milliseconds(load)))")
print("engine index build:        \(format(milliseconds(build)))")

// Single queries: full explanations, as `krctl explain-policy --from --to --port` computes them.
let pods = engine.endpointPods()
var rng = SplitMix(state: 7)
var samples: [Double] = []
var allowed = 0
for _ in 0..<2_000 {
    let a = pods[rng.next(pods.count)], b = pods[rng.next(pods.count)]
    let src = TrafficEndpoint(kind: .pod(a), ip: a.ips[0]), dst = TrafficEndpoint(kind: .pod(b), ip: b.ips[0])
    let port = [8000 + rng.next(8), 9100, 53][rng.next(3)]
    var explanation: PolicyExplanation?
    let d = clock.measure { explanation = engine.explain(from: src, to: dst, port: port, proto: .tcp) }
    if explanation?.verdict == .allow { allowed += 1 }
    samples.append(milliseconds(d))
}
samples.sort()
let median = samples[samples.count / 2], p99 = samples[samples.count * 99 / 100], worst = samples.last!
print("one query (explain), 2000 random pairs: median \(format(median)), p99 \(format(p99)), max \(format(worst)); \(allowed) allowed")

// A cold single query as krctl runs it: index build plus one explanation.
let cold = milliseconds(build) + median
print("one query incl. index build: \(format(cold))   target < 20 ms: \(cold < 20 ? "met" : "MISSED") (\(String(format: "%.2f", cold / 20)) of target)")

// The 100x100 matrix over the first 100 pods of the sorted list (several namespaces).
let hundred = Array(pods.prefix(100))
var matrix: PolicyMatrix!
let matrixTime = clock.measure { matrix = engine.matrix(pods: hundred, ports: [PortQuery("http")!]) }
let matrixMS = milliseconds(matrixTime)
let allowedCells = matrix.cells.filter { $0.verdict == .allow }.count
print("matrix 100x100, port http: \(format(matrixMS)) for \(matrix.cells.count) cells (\(allowedCells) allowed)   target < 1000 ms: \(matrixMS < 1000 ? "met" : "MISSED") (\(String(format: "%.3f", matrixMS / 1000)) of target)")
