import KubeModel

/// A resource of the Kubernetes API that we list and watch, and where it lives.
public struct APIResource: Sendable, Hashable, CustomStringConvertible {
    public var kind: String
    public var group: String
    public var version: String
    public var plural: String
    public var namespaced: Bool

    public init(kind: String, group: String, version: String, plural: String, namespaced: Bool) {
        self.kind = kind
        self.group = group
        self.version = version
        self.plural = plural
        self.namespaced = namespaced
    }

    public var apiVersion: String { group.isEmpty ? version : "\(group)/\(version)" }
    public var description: String { group.isEmpty ? plural : "\(plural).\(group)" }

    public var base: String { group.isEmpty ? "/api/\(version)" : "/apis/\(group)/\(version)" }

    /// `/api/v1/pods` (all namespaces), or `/api/v1/namespaces/NS/pods`.
    public func collectionPath(namespace: String? = nil) -> String {
        if let namespace, namespaced { return "\(base)/namespaces/\(namespace)/\(plural)" }
        return "\(base)/\(plural)"
    }

    public func objectPath(namespace: String?, name: String) -> String {
        collectionPath(namespace: namespace) + "/" + name
    }

    public static let namespaces = APIResource(
        kind: "Namespace", group: "", version: "v1", plural: "namespaces", namespaced: false)
    public static let pods = APIResource(kind: "Pod", group: "", version: "v1", plural: "pods", namespaced: true)
    public static let services = APIResource(
        kind: "Service", group: "", version: "v1", plural: "services", namespaced: true)
    public static let nodes = APIResource(kind: "Node", group: "", version: "v1", plural: "nodes", namespaced: false)
    public static let endpointSlices = APIResource(
        kind: "EndpointSlice", group: "discovery.k8s.io", version: "v1",
        plural: "endpointslices", namespaced: true)
    public static let networkPolicies = APIResource(
        kind: "NetworkPolicy", group: "networking.k8s.io", version: "v1",
        plural: "networkpolicies", namespaced: true)

    /// Every resource the agent and krctl read.
    public static let all: [APIResource] = [.namespaces, .pods, .services, .endpointSlices, .nodes, .networkPolicies]

    /// What NetworkPolicy answers need.
    public static let forPolicy: [APIResource] = [.namespaces, .pods, .nodes, .networkPolicies]

    public static func forKind(_ kind: String) -> APIResource? { all.first { $0.kind == kind } }
}
