import Foundation

/// Where a lab keeps its things and what it names them: one folder under /run, network namespaces and a
/// bridge with the lab's name as prefix, so that two labs (a user's and a test's) never meet and `down`
/// finds everything it made.
struct LabLayout: Sendable {
    /// The lab's name: the prefix of its namespaces and bridge (at most 10 characters: interface names
    /// take 15).
    let name: String
    let root: String

    init(name: String) {
        self.name = name
        self.root = "/run/\(name)"
    }

    static func validate(name: String) throws {
        guard !name.isEmpty, name.count <= 10,
            name.unicodeScalars.allSatisfy({ CharacterSet.lowercaseLetters.contains($0) || ("0"..."9").contains($0) })
        else {
            throw LabError("the lab name \"\(name)\" must be 1-10 lowercase letters or digits")
        }
    }

    var controlPlaneNetns: String { "\(name)-cp" }
    var bridge: String { "\(name)0" }
    func nodeName(_ index: Int) -> String { "node-\(index)" }
    func nodeNetns(_ node: String) -> String { "\(name)-\(node)" }
    /// A pod's namespace: its UID's first 12 characters keep it short and unique.
    func podNetns(uid: String) -> String { "\(name)-p-\(uid.replacingOccurrences(of: "-", with: "").prefix(12))" }

    /// The API server on the lab's bridge.
    let apiAddress = "10.99.0.1"
    let apiPort = 6443
    var apiURL: String { "https://\(apiAddress):\(apiPort)" }
    func nodeAddress(_ index: Int) -> String { "10.99.0.\(10 + index)" }
    func podCIDR(_ index: Int) -> String { "10.244.\(index).0/24" }

    var pki: String { "\(root)/pki" }
    var kubeconfig: String { "\(root)/kubeconfig" }
    var statusFile: String { "\(root)/status.json" }
    var serveLog: String { "\(root)/serve.log" }
    var apiLog: String { "\(root)/api.log" }
    var hostPathsFile: String { "\(root)/host-paths.json" }
    func nodeRoot(_ node: String) -> String { "\(root)/nodes/\(node)" }
    func podDir(node: String, uid: String) -> String { "\(nodeRoot(node))/pods/\(uid)" }
}

/// A failure that ends a lab command with its message (exit 1).
struct LabError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
