import ArgumentParser
import KubeModel
import Planning

/// One end of a packet as the command line names it: `NAMESPACE/POD`, a bare `POD`, or an IP address.
/// A bare pod's namespace is known only once the cluster is read (-n, else the kubeconfig context's,
/// else default), hence `reference(defaultNamespace:)`.
enum EndpointArgument: CommandArgument, Hashable {
    case pod(namespace: String?, name: String)
    case ip(IPAddress)

    static let expected = "NAMESPACE/POD, POD or an IP address"

    init?(argument: String) {
        if let ip = IPAddress(argument) {
            self = .ip(ip)
        } else if let (namespace, name) = EndpointReference.namespacedName(argument) {
            self = .pod(namespace: namespace, name: name)
        } else {
            return nil
        }
    }

    func reference(defaultNamespace: String) -> EndpointReference {
        switch self {
        case .pod(let namespace, let name): .pod(namespace: namespace ?? defaultNamespace, name: name)
        case .ip(let ip): .ip(ip)
        }
    }
}
