import ArgumentParser

/// A pod named on the command line: `NAMESPACE/POD` or `POD` (in the namespace the command resolves).
/// An IP address is refused: the command needs a pod, not any endpoint.
struct PodArgument: CommandArgument, Hashable {
    var namespace: String?
    var name: String

    static let expected = "NAMESPACE/POD or POD"

    init?(argument: String) {
        guard case .pod(let namespace, let name)? = EndpointArgument(argument: argument) else { return nil }
        self.namespace = namespace
        self.name = name
    }

    /// The pod's key in the cluster snapshot, `namespace/name`.
    func key(defaultNamespace: String) -> String { "\(namespace ?? defaultNamespace)/\(name)" }
}
