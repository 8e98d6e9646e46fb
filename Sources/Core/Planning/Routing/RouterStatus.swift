import Foundation
import KubeModel

/// What the agent records after each router sync and when a BGP session comes up or goes down
/// (`<state-dir>/router.json`): what the plan gave the speaker, and how many peers are established.
/// The peers themselves and the routes are asked of the agent (`krctl bgp peers/routes`).
public struct RouterStatus: StatusFile, Equatable {
    public static let fileName = "router.json"
    public static let currentVersion = 2
    public var version: Int?
    public var pid: Int32?
    public var resourceVersions: [String: String]?

    public var node: String
    public var syncs: Int
    /// ISO 8601, UTC.
    public var lastSync: String
    /// The speaker's AS and router ID (nil when the node has no router ID yet).
    public var asn: UInt32?
    public var routerID: String?
    /// This node's prefixes, advertised to every peer.
    public var advertised: [String]
    public var peersConfigured: Int
    public var peersEstablished: Int
    /// Problems with the cluster's data (annotations, flags) the last plan found.
    public var problems: [String]

    public init(
        node: String, syncs: Int, lastSync: Date, asn: UInt32?, routerID: String?, advertised: [String],
        peersConfigured: Int, peersEstablished: Int, problems: [String]
    ) {
        self.node = node
        self.syncs = syncs
        self.lastSync = Timestamp.string(lastSync)
        self.asn = asn
        self.routerID = routerID
        self.advertised = advertised
        self.peersConfigured = peersConfigured
        self.peersEstablished = peersEstablished
        self.problems = problems
    }
}
