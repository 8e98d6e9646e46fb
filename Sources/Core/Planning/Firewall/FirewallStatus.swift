import Foundation
import KubeModel

/// What the agent records after each firewall sync (`<state-dir>/firewall.json`) and krctl reads:
/// which node it protects, when it last synced, and the chain of each protected pod.
public struct FirewallStatus: StatusFile, Equatable {
    public static let fileName = "firewall.json"
    public static let currentVersion = 2
    public var version: Int?
    public var pid: Int32?
    public var resourceVersions: [String: String]?
    /// Whether the last sync read the kernel back (full) or applied only what changed since the one before.
    public var lastSyncFull: Bool?

    public var node: String
    public var syncs: Int
    /// ISO 8601, UTC.
    public var lastSync: String
    /// `namespace/pod` → its KUBE-POD-FW chain.
    public var podChains: [String: String]
    /// The agent runs with `--netpol-default-deny`: krctl must plan as it does.
    public var defaultDeny: Bool
    /// Objects the API serves that the agent cannot read now (a malformed policy): their last good
    /// version, if any, stays in force.
    public var rejectedObjects = 0
    /// Those objects, `Kind namespace/name` (absent in files of older agents).
    public var rejected: [String]?

    public init(node: String, syncs: Int, lastSync: Date, podChains: [String: String], defaultDeny: Bool) {
        self.node = node
        self.defaultDeny = defaultDeny
        self.syncs = syncs
        self.lastSync = Timestamp.string(lastSync)
        self.podChains = podChains
    }
}
