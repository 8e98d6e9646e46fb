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

/// One end of a packet, resolved against the cluster: a pod, a node, or an address outside the cluster.
public struct TrafficEndpoint: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        case pod(Pod)
        case node(String)
        case external
    }

    public var kind: Kind
    public var ip: IPAddress

    public init(kind: Kind, ip: IPAddress) {
        self.kind = kind
        self.ip = ip
    }

    public var pod: Pod? { if case .pod(let p) = kind { p } else { nil } }

    public var description: String {
        switch kind {
        case .pod(let p): "\(p.key) (\(ip))"
        case .node(let n): "node \(n) (\(ip))"
        case .external: ip.description
        }
    }
}

/// The destination port of a query: a number, or a container-port name resolved on the destination pod.
public struct PortQuery: Sendable, Hashable, CustomStringConvertible {
    public enum Value: Sendable, Hashable { case number(Int), named(String) }
    public var value: Value
    public var proto: PortProtocol

    public init(_ value: Value, proto: PortProtocol = .tcp) {
        self.value = value
        self.proto = proto
    }

    /// `80`, `80/TCP`, `53/udp`, `http`, `metrics/TCP`.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let first = parts.first, !first.isEmpty else { return nil }
        if parts.count == 2 {
            guard let p = PortProtocol(caseInsensitive: parts[1]) else { return nil }
            proto = p
        } else {
            proto = .tcp
        }
        if let n = Int(first) {
            guard (1...65535).contains(n) else { return nil }
            value = .number(n)
        } else {
            value = .named(String(first))
        }
    }

    public var description: String {
        switch value {
        case .number(let n): "\(n)/\(proto.rawValue)"
        case .named(let s): "\(s)/\(proto.rawValue)"
        }
    }
}

/// A problem with a query (unknown pod, pod without an address, ...), worded for the operator.
public struct QueryError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
