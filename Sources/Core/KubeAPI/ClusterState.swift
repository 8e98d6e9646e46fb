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
