import Foundation

/// What the agent records after each service proxy sync (`<state-dir>/service-proxy.json`): the IPVS
/// services it owns (so a restarted agent removes its stale ones, and nobody else's), what each stands
/// for (krctl names them), and how the last sync went.
public struct ServiceProxyStatus: Sendable, Codable, Equatable {
    public static let fileName = "service-proxy.json"

    public var node: String
    public var syncs: Int
    /// ISO 8601, UTC.
    public var lastSync: String
    /// IPVS service key (`TCP 10.96.0.10:80`) → `namespace/name:port (kind)`.
    public var services: [String: String]
    /// The VIPs on kube-dummy-if.
    public var vips: [String]
    /// The agent's options that change the plan: krctl plans as the agent does.
    public var gracefulTermination: Bool
    public var masqueradeAll: Bool
    public var hairpinAll: Bool
    /// Problems with the cluster's data and failed changes of the last sync.
    public var problems: [String]
    /// The last sync's netlink changes.
    public var lastReport: IPVSSync.Report

    public init(node: String, syncs: Int, lastSync: Date, services: [String: String], vips: [String], gracefulTermination: Bool,
                masqueradeAll: Bool, hairpinAll: Bool, problems: [String], lastReport: IPVSSync.Report) {
        self.node = node; self.syncs = syncs; self.lastSync = ISO8601DateFormatter().string(from: lastSync)
        self.services = services; self.vips = vips; self.gracefulTermination = gracefulTermination
        self.masqueradeAll = masqueradeAll; self.hairpinAll = hairpinAll; self.problems = problems; self.lastReport = lastReport
    }

    public static func read(stateDir: String) -> ServiceProxyStatus? {
        guard let data = FileManager.default.contents(atPath: stateDir + "/" + fileName) else { return nil }
        return try? JSONDecoder().decode(ServiceProxyStatus.self, from: data)
    }

    public func write(stateDir: String) throws {
        try FileManager.default.createDirectory(atPath: stateDir, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        try encoder.encode(self).write(to: URL(fileURLWithPath: stateDir + "/" + Self.fileName), options: .atomic)
    }
}
