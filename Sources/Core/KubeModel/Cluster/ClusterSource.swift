/// Where a snapshot of the cluster comes from. krctl picks one per invocation: manifests offline,
/// the live API server, and later the node's kernel for comparison.
public protocol ClusterSource: Sendable {
    func snapshot() throws -> ClusterSnapshot
}
