import Foundation
import KubeModel

/// One reflector per resource against one API server, and the cluster snapshot they add up to.
public final class Informers: ClusterState, @unchecked Sendable {
    public let reflectors: [APIResource: Reflector]
    public let client: KubeClient

    /// `handler` receives every event of every resource, on the reflectors' threads.
    public init(
        client: KubeClient, resources: [APIResource] = APIResource.all,
        options: Reflector.Options = Reflector.Options(),
        podFieldSelector: String? = nil, handler: @escaping @Sendable (InformerEvent) -> Void = { _ in }
    ) {
        self.client = client
        var reflectors: [APIResource: Reflector] = [:]
        for resource in resources {
            var o = options
            if resource == .pods { o.fieldSelector = podFieldSelector }
            reflectors[resource] = Reflector(client: client, resource: resource, options: o, handler: handler)
        }
        self.reflectors = reflectors
    }

    public func start() { reflectors.values.forEach { $0.start() } }
    public func stop() { reflectors.values.forEach { $0.stop() } }

    /// Blocks until every resource has been listed once (the "synced" signal), or the timeout passes.
    public func waitForSync(timeout: Double) -> Bool {
        let deadline = Date(timeIntervalSinceNow: timeout)
        return reflectors.values.allSatisfy { $0.waitForSync(timeout: max(0, deadline.timeIntervalSinceNow)) }
    }

    public var hasSynced: Bool { reflectors.values.allSatisfy(\.hasSynced) }

    /// `stop()` was called.
    public var isStopped: Bool { reflectors.values.contains(where: \.isStopped) }

    public func store(_ resource: APIResource) -> ObjectStore? { reflectors[resource]?.store }

    public var resourceVersions: [String: String] {
        reflectors.reduce(into: [:]) { $0[$1.key.plural] = $1.value.resourceVersion }
    }

    /// Every object the API serves that cannot be read now, by resource and key.
    public var rejectedObjects: [ObjectRejection] {
        reflectors.values.flatMap(\.rejectedObjects).sorted {
            ($0.resource.plural, $0.key) < ($1.resource.plural, $1.key)
        }
    }

    /// The objects held now, as the planners and explainers take them.
    public func snapshot() -> ClusterSnapshot {
        ClusterSnapshot(reflectors.values.flatMap { $0.store.list() })
    }
}
