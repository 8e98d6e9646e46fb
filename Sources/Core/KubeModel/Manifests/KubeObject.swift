/// One API object of a kind the project understands.
public enum KubeObject: Sendable, Hashable {
    case namespace(Namespace)
    case pod(Pod)
    case service(Service)
    case endpointSlice(EndpointSlice)
    case node(Node)
    case networkPolicy(NetworkPolicy)

    /// The kinds read; anything else (Deployments, ConfigMaps, ...) is skipped without error.
    public static let kinds = ["Namespace", "Pod", "Service", "EndpointSlice", "Node", "NetworkPolicy"]

    public var meta: ObjectMeta {
        switch self {
        case .namespace(let o): o.meta
        case .pod(let o): o.meta
        case .service(let o): o.meta
        case .endpointSlice(let o): o.meta
        case .node(let o): o.meta
        case .networkPolicy(let o): o.meta
        }
    }

    /// `namespace/name`, or `name` for cluster-scoped kinds.
    public var key: String { meta.key }

    public var kind: String {
        switch self {
        case .namespace: "Namespace"
        case .pod: "Pod"
        case .service: "Service"
        case .endpointSlice: "EndpointSlice"
        case .node: "Node"
        case .networkPolicy: "NetworkPolicy"
        }
    }

    /// Reads one object of a known kind; returns nil for kinds we do not model.
    public static func decode(kind: String, _ value: JSONValue) throws -> KubeObject? {
        try decode(kind: kind, Fields(value, path: ""))
    }

    static func decode(kind: String, _ fields: Fields) throws -> KubeObject? {
        switch kind {
        case "Namespace": .namespace(try Namespace(fields))
        case "Pod": .pod(try Pod(fields))
        case "Service": .service(try Service(fields))
        case "EndpointSlice": .endpointSlice(try EndpointSlice(fields))
        case "Node": .node(try Node(fields))
        case "NetworkPolicy": .networkPolicy(try NetworkPolicy(fields))
        default: nil
        }
    }
}
