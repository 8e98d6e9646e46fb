import KubeModel

/// How an operator names one end of a packet: `namespace/pod`, a bare pod name (in the namespace
/// the caller passes, `default` unless told otherwise), or an IP address.
public enum EndpointReference: Sendable, Hashable, CustomStringConvertible {
    case pod(namespace: String, name: String)
    case ip(IPAddress)

    public init?(_ text: String, defaultNamespace: String = "default") {
        if let ip = IPAddress(text) {
            self = .ip(ip)
            return
        }
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        switch parts.count {
        case 1 where !text.isEmpty: self = .pod(namespace: defaultNamespace, name: text)
        case 2 where !parts[0].isEmpty && !parts[1].isEmpty:
            self = .pod(namespace: String(parts[0]), name: String(parts[1]))
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
