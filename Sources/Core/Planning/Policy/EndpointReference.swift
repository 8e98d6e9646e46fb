import KubeModel

/// How an operator names one end of a packet: `namespace/pod`, a bare pod name (in the namespace
/// the caller passes, `default` unless told otherwise), or an IP address.
public enum EndpointReference: Sendable, Hashable, CustomStringConvertible {
    case pod(namespace: String, name: String)
    case ip(IPAddress)

    public init?(_ text: String, defaultNamespace: String = "default") {
        if let ip = IPAddress(text) {
            self = .ip(ip)
        } else if let (namespace, name) = Self.namespacedName(text) {
            self = .pod(namespace: namespace ?? defaultNamespace, name: name)
        } else {
            return nil
        }
    }

    /// `NAMESPACE/NAME` or a bare `NAME` (nil namespace), neither part empty: how operators name objects.
    public static func namespacedName(_ text: String) -> (namespace: String?, name: String)? {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        switch parts.count {
        case 1 where !text.isEmpty: return (nil, text)
        case 2 where !parts[0].isEmpty && !parts[1].isEmpty: return (parts[0], parts[1])
        default: return nil
        }
    }

    public var description: String {
        switch self {
        case .pod(let ns, let name): "\(ns)/\(name)"
        case .ip(let ip): ip.description
        }
    }
}
