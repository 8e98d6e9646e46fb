import Foundation

/// What the API server told the node checks (`NodeDiagnosis` in Planning): whether it could be asked, what
/// these credentials may do (SelfSubjectAccessReviews of `DoctorCatalog.accessRequests`), and the nodes'
/// pod CIDRs and addresses. `KubeClient.doctorAPIFacts` asks for it.
public struct DoctorAPIFacts: Codable, Sendable, Equatable {
    /// The server asked (from the kubeconfig), for messages.
    public var server: String
    /// The node these checks run on.
    public var node: String
    /// Why the server could not be asked (unreachable, credentials refused); nil when it answered.
    public var error: String?
    public var reviews: [AccessReview]
    /// Every node, when they could be listed.
    public var nodes: [NodeInfo]?
    /// Why the nodes could not be listed.
    public var nodesError: String?

    public init(
        server: String, node: String, error: String? = nil, reviews: [AccessReview] = [], nodes: [NodeInfo]? = nil,
        nodesError: String? = nil
    ) {
        self.server = server
        self.node = node
        self.error = error
        self.reviews = reviews
        self.nodes = nodes
        self.nodesError = nodesError
    }

    /// A node as the checks need it.
    public struct NodeInfo: Codable, Sendable, Equatable {
        public var name: String
        public var podCIDRs: [String]
        public var internalIPs: [String]
        public init(name: String, podCIDRs: [String], internalIPs: [String]) {
            self.name = name
            self.podCIDRs = podCIDRs
            self.internalIPs = internalIPs
        }

        public init(_ node: Node) {
            self.init(
                name: node.name, podCIDRs: node.podCIDRs.map(\.description),
                internalIPs: node.internalIPs.map(\.description))
        }
    }
}
