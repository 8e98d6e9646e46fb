import KubeModel

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
