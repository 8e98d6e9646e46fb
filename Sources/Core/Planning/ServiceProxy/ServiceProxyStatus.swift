import Foundation
import KubeModel

/// What the agent records after each service proxy sync (`<state-dir>/service-proxy.json`): the IPVS
/// services it owns (so a restarted agent removes its stale ones, and nobody else's), what each stands
/// for (krctl names them), and how the last sync went.
public struct ServiceProxyStatus: StatusFile, Equatable {
    public static let fileName = "service-proxy.json"
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
    /// IPVS service key (`TCP 10.96.0.10:80`) → `namespace/name:port (kind)`, or `stale`: the services
    /// this agent owns (version 1's only record, kept so that either version can take over).
    public var services: [String: String]
    /// IPVS service key → what it stands for, typed (version 2).
    public var owned: [String: OwnedVirtualService]?

    /// One IPVS service the agent owns.
    public struct OwnedVirtualService: Sendable, Codable, Equatable {
        /// `namespace/name:port`; nil for a stale service the kernel would not delete (retried).
        public var service: String?
        public var kind: VirtualServiceKind?
        public init(service: String?, kind: VirtualServiceKind?) {
            self.service = service
            self.kind = kind
        }
    }

    /// The VIPs on kube-dummy-if.
    public var vips: [String]
    /// The agent's options that change the plan: krctl plans as the agent does.
    public var gracefulTermination: Bool
    public var masqueradeAll: Bool
    public var hairpinAll: Bool
    /// Problems with the cluster's data and failed changes of the last sync.
    public var problems: [String]
    /// The last sync's netlink changes.
    public var lastReport: IPVSSyncReport

    public init(
        node: String, syncs: Int, lastSync: Date, services: [String: String], vips: [String], gracefulTermination: Bool,
        masqueradeAll: Bool, hairpinAll: Bool, problems: [String], lastReport: IPVSSyncReport
    ) {
        self.node = node
        self.syncs = syncs
        self.lastSync = Timestamp.string(lastSync)
        self.services = services
        self.vips = vips
        self.gracefulTermination = gracefulTermination
        self.masqueradeAll = masqueradeAll
        self.hairpinAll = hairpinAll
        self.problems = problems
        self.lastReport = lastReport
    }
}
