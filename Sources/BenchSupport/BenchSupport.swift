import Foundation

/// A deterministic generator so that every run measures the same cluster.
public struct SplitMix {
    public init(state: UInt64) { self.state = state }
    var state: UInt64
    public mutating func next(_ bound: Int) -> Int {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return Int((z ^ (z >> 31)) % UInt64(bound))
    }
}

/// A synthetic cluster as YAML: namespaces in 10 teams and 2 environments, pods with 8 apps over
/// `nodes` nodes (`node-0`...), and policies of five shapes (default deny, pod and namespace
/// selectors with named ports, ipBlock with except and a port range, egress, all namespaces).
public func syntheticManifests(
    pods podCount: Int, namespaces namespaceCount: Int, policies policyCount: Int,
    nodes: Int = 50
) -> String {
    var rng = SplitMix(state: 42)
    var out = ""
    out.reserveCapacity(podCount * 400 + policyCount * 600)
    for n in 0..<namespaceCount {
        out +=
            "---\napiVersion: v1\nkind: Namespace\n"
            + "metadata: {name: ns-\(n), labels: {team: team-\(n % 10), env: \(n % 3 == 0 ? "prod" : "dev")}}\n"
    }
    for p in 0..<podCount {
        let ns = p % namespaceCount
        let app = rng.next(8)
        let ip = "10.\(p / 65536 + 1).\(p / 256 % 256).\(p % 256)"
        out += """
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: pod-\(p), namespace: ns-\(ns), \
            labels: {app: app-\(app), tier: tier-\(app % 3), version: v\(rng.next(3))}}
            spec: {nodeName: node-\(p % nodes), containers: [{name: main, \
            ports: [{name: http, containerPort: \(8000 + app)}, {name: metrics, containerPort: 9100}]}]}
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
                      podSelector: {matchExpressions: [{key: app, operator: In, \
                values: [app-\(rng.next(8)), app-\(rng.next(8))]}]}
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
        out +=
            "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
            + "metadata: {name: policy-\(i), namespace: ns-\(ns)}\nspec:\n  \(spec)\n"
    }
    return out
}

public func milliseconds(_ d: Duration) -> Double {
    Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
}

public func seconds(_ d: Duration) -> Double { milliseconds(d) / 1000 }

/// This process's resident memory.
public func residentMiB() -> Double {
    let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
    let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
    return (Double(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) / 1024
}

/// Runs a program, feeding `input` on stdin; returns its status and stdout.
@discardableResult
public func shell(_ path: String, _ args: [String], input: Data? = nil) throws -> (Int32, Data) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: path)
    p.arguments = args
    let out = Pipe()
    p.standardOutput = out
    p.standardError = FileHandle.nullDevice
    let inPipe = Pipe()
    if input != nil { p.standardInput = inPipe }
    try p.run()
    if let input {
        // Written from another thread: a large input must not deadlock against a full output pipe.
        Thread {
            inPipe.fileHandleForWriting.write(input)
            try? inPipe.fileHandleForWriting.close()
        }.start()
    }
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, data)
}

/// What a benchmark prints: its lines for a person, or with `-o json` (also `-ojson`, `--output json|=json`)
/// nothing but one JSON object of its figures at the end, for CI and dashboards (keys sorted).
public final class BenchReport: @unchecked Sendable {
    public let json: Bool
    private var figures: [String: Any] = [:]

    public init(arguments: [String] = Array(CommandLine.arguments.dropFirst())) {
        var json = false
        for (i, argument) in arguments.enumerated() {
            let next = i + 1 < arguments.count ? arguments[i + 1] : ""
            if ["-ojson", "--output=json"].contains(argument)
                || (["-o", "--output"].contains(argument) && next == "json")
            {
                json = true
            }
        }
        self.json = json
    }

    /// A line for a person (not printed with `-o json`).
    public func say(_ text: String) { if !json { print(text) } }

    /// One figure of the JSON object (numbers, strings, booleans, arrays or objects of them).
    public func record(_ key: String, _ value: Any?) {
        if let value { figures[key] = value }
    }

    /// Prints the JSON object (with `-o json`).
    public func finish() {
        guard json else { return }
        let data = (try? JSONSerialization.data(withJSONObject: figures, options: [.sortedKeys])) ?? Data("{}".utf8)
        print(String(decoding: data, as: UTF8.self))
    }
}
