/// Where a snapshot of the cluster comes from. krctl picks one per invocation: manifests offline,
/// the live API server, and later the node's kernel for comparison.
public protocol ClusterSource: Sendable {
    /// Words for messages: "manifests in ./deploy", "API server https://...".
    var summary: String { get }
    func snapshot() throws -> ClusterSnapshot
}

/// Objects read from YAML/JSON manifest files and folders.
public struct ManifestSource: ClusterSource {
    public var paths: [String]

    public init(paths: [String]) { self.paths = paths }

    public var summary: String { "manifests in \(paths.joined(separator: ", "))" }

    /// Throws `ManifestLoadError` listing every invalid object: a review tool must not silently drop one.
    public func snapshot() throws -> ClusterSnapshot {
        let reader = try ManifestLoader().read(paths: paths)
        guard reader.errors.isEmpty else { throw ManifestLoadError(errors: reader.errors) }
        return ClusterSnapshot(reader.objects)
    }
}
