import Foundation
import KubeModel

/// What a controller reads of the cluster: the informers in the agent, a fake in tests.
public protocol ClusterState: Sendable {
    /// Every resource has been listed once.
    var hasSynced: Bool { get }
    /// The objects held now.
    func snapshot() -> ClusterSnapshot
    /// Per resource (plural), the version every change up to which is in the next snapshot.
    var resourceVersions: [String: String] { get }
    /// Objects served that cannot be read (their last good versions are in the snapshot).
    var rejectedObjects: [ObjectRejection] { get }
}

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

/// A one-shot read of the live cluster for krctl: list each resource once (no watch).
public struct APISource: ClusterSource {
    public var config: KubeConfig
    public var resources: [APIResource]
    /// Called with (resource, objects so far) while listing, for progress on a terminal.
    public var progress: @Sendable (APIResource, Int) -> Void
    /// Called for each object that cannot be read; it is skipped and the rest is used.
    public var warn: @Sendable (String) -> Void

    public init(
        config: KubeConfig, resources: [APIResource] = APIResource.forPolicy,
        progress: @escaping @Sendable (APIResource, Int) -> Void = { _, _ in },
        warn: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.config = config
        self.resources = resources
        self.progress = progress
        self.warn = warn
    }

    public var summary: String { "API server \(config.server) (\(config.origin))" }

    public func snapshot() throws -> ClusterSnapshot {
        let client = KubeClient(config: config)
        var reader = ObjectReader()
        for resource in resources {
            let page = try client.list(resource) { progress(resource, $0) }
            for (i, item) in page.items.enumerated() {
                reader.read(item, source: "\(resource) item \(i)", inferredKind: resource.kind)
            }
        }
        for error in reader.errors { warn("skipped: \(error)") }
        return ClusterSnapshot(reader.objects)
    }
}
