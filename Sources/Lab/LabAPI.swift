import Foundation
import KubeModel

/// kubectl, as the lab's admin, from the control plane's namespace (where the API server is reachable).
struct LabAPI {
    let layout: LabLayout

    static var kubectl: String? { Shell.find(["/usr/bin/kubectl", "/usr/local/bin/kubectl"]) }

    var argv: [String] {
        [
            "/usr/sbin/ip", "netns", "exec", layout.controlPlaneNetns, Self.kubectl ?? "kubectl", "--kubeconfig",
            layout.kubeconfig,
        ]
    }

    /// Runs kubectl to completion; throws with its error output when it fails.
    @discardableResult
    func run(_ arguments: [String], input: String? = nil, check: Bool = true) throws -> String {
        let result = try Shell.run(argv[0], Array(argv.dropFirst()) + arguments, input: input, check: check)
        return result.stdout
    }

    /// `kubectl get ... -o json`, its items.
    func items(_ arguments: [String]) throws -> [JSONValue] {
        let text = try run(["get"] + arguments + ["-o", "json"])
        return try JSONValue.parseJSON(Data(text.utf8))["items"]?.arrayValue ?? []
    }
}

/// The lab's record of itself, written by `up` and read by the other commands.
struct LabRecord: Codable {
    static let currentVersion = 1
    var version = currentVersion
    var nodes: Int
    var binDir: String
    var repository: String
    var overlay: String
    var serviceProxy: Bool
    /// Service account → token, as the API server was told.
    var tokens: [String: String]

    static func load(_ layout: LabLayout) throws -> LabRecord {
        guard let data = FileManager.default.contents(atPath: "\(layout.root)/lab.json") else {
            throw LabError(
                "lab \(layout.name) is not up (no \(layout.root)/lab.json): start it with sudo scripts/lab up")
        }
        let record = try JSONDecoder().decode(LabRecord.self, from: data)
        guard record.version == currentVersion else {
            throw LabError("\(layout.root)/lab.json is of version \(record.version), not \(currentVersion)")
        }
        return record
    }

    func save(_ layout: LabLayout) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(self).write(to: URL(fileURLWithPath: "\(layout.root)/lab.json"), options: .atomic)
    }
}
