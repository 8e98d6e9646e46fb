import KubeModel

/// Which address of a Service a virtual service is for.
public enum VirtualServiceKind: String, Sendable, Codable, Hashable, CustomStringConvertible {
    case clusterIP, nodePort, externalIP, loadBalancer
    public var description: String { rawValue }
}
