/// The objects of a cluster at one moment, keyed by `namespace/name` (or `name`), as planners and
/// explainers consume them. Sources (manifests, the live API) all produce this one type.
public struct ClusterSnapshot: Sendable {
    public private(set) var namespaces: [String: Namespace] = [:]
    public private(set) var pods: [String: Pod] = [:]
    public private(set) var services: [String: Service] = [:]
    public private(set) var endpointSlices: [String: EndpointSlice] = [:]
    /// The keys of each service's EndpointSlices (by the slice's `kubernetes.io/service-name`), by the service's
    /// `namespace/name`: an event on one service finds its slices without going through every slice.
    public private(set) var endpointSlicesByService: [String: Set<String>] = [:]
    public private(set) var nodes: [String: Node] = [:]
    public private(set) var networkPolicies: [String: NetworkPolicy] = [:]

    public init() {}

    public init(_ objects: some Sequence<KubeObject>) {
        for object in objects { apply(object) }
    }

    /// Adds or replaces an object; a later object with the same key wins, as with `kubectl apply`.
    public mutating func apply(_ object: KubeObject) {
        switch object {
        case .namespace(let ns): namespaces[ns.name] = ns
        case .pod(let pod):
            pods[pod.key] = pod
            implyNamespace(pod.namespace)
        case .service(let svc):
            services[svc.meta.key] = svc
            implyNamespace(svc.namespace)
        case .endpointSlice(let slice):
            let key = slice.meta.key
            if let old = endpointSlices.updateValue(slice, forKey: key), !old.serviceName.isEmpty {
                endpointSlicesByService["\(old.meta.namespace)/\(old.serviceName)"]?.remove(key)
            }
            if !slice.serviceName.isEmpty {
                endpointSlicesByService["\(slice.meta.namespace)/\(slice.serviceName)", default: []].insert(key)
            }
        case .node(let node): nodes[node.name] = node
        case .networkPolicy(let np):
            networkPolicies[np.key] = np
            implyNamespace(np.namespace)
        }
    }

    /// A namespace that objects live in but that was not listed (a partial set of manifests) exists
    /// with only its automatic `kubernetes.io/metadata.name` label.
    private mutating func implyNamespace(_ name: String) {
        if namespaces[name] == nil { namespaces[name] = Namespace(name: name) }
    }
}
