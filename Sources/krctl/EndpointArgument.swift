import ArgumentParser
import KubeModel
import Planning

/// One end of a packet as the command line names it: `NAMESPACE/POD`, a bare `POD`, or an IP address.
/// A bare pod's namespace is known only once the cluster is read (-n, else the kubeconfig context's,
/// else default), hence `reference(defaultNamespace:)`.
enum EndpointArgument: CommandArgument, Hashable, CustomStringConvertible {
    case pod(namespace: String?, name: String)
    case ip(IPAddress)

    static let expected = "NAMESPACE/POD, POD or an IP address"

    init?(argument: String) {
        if let ip = IPAddress(argument) {
            self = .ip(ip)
        } else if let (namespace, name) = Self.namespacedName(argument) {
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

    var description: String {
        switch self {
        case .pod(let namespace?, let name): "\(namespace)/\(name)"
        case .pod(nil, let name): name
        case .ip(let ip): ip.description
        }
    }

    /// `NAMESPACE/NAME` or `NAME`, neither part empty: how objects are named on the command line.
    static func namespacedName(_ text: String) -> (namespace: String?, name: String)? {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        switch parts.count {
        case 1 where !text.isEmpty: return (nil, text)
        case 2 where !parts[0].isEmpty && !parts[1].isEmpty: return (parts[0], parts[1])
        default: return nil
        }
    }
}
