import Foundation
import KubeModel

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
