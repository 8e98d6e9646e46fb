import Foundation
import KubeModel

/// A status file the agent writes in its state directory for krctl (and for itself after a restart):
/// a versioned Codable document, written atomically (a temporary file renamed into place), so a reader
/// never sees half of one. Fields added in later versions are optional, so that files of older agents
/// still read.
public protocol StatusFile: Codable, Sendable {
    static var fileName: String { get }
    /// The version this build writes; older files say less (or nothing, for version 1).
    static var currentVersion: Int { get }
    var version: Int? { get set }
    /// The agent process that wrote it (version 2).
    var pid: Int32? { get set }
    /// Per resource (plural), the resourceVersion the last sync had applied every change up to (version 2):
    /// what tests and krctl wait on.
    var resourceVersions: [String: String]? { get set }
}

extension StatusFile {
    /// Whether the last sync had applied every change of `resources` up to `version` (the API test
    /// server's versions are numbers).
    public func hasSynced(atLeast version: Int, of resources: [String]) -> Bool {
        resources.allSatisfy { (resourceVersions?[$0].flatMap { Int($0) } ?? 0) >= version }
    }
}
