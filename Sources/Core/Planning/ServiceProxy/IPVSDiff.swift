import KubeModel

/// One change to the kernel's IPVS table, as a value: what the diff decides and the executor applies.
public enum IPVSChange: Sendable, Equatable, CustomStringConvertible {
    case addService(IPVSService)
    case updateService(IPVSService)
    case deleteService(IPVSService)
    case addDestination(IPVSDestination, of: IPVSService)
    case updateDestination(IPVSDestination, of: IPVSService)
    case deleteDestination(IPVSDestination, of: IPVSService)

    /// The virtual service the change belongs to.
    public var service: IPVSService {
        switch self {
        case .addService(let s), .updateService(let s), .deleteService(let s): s
        case .addDestination(_, let s), .updateDestination(_, let s), .deleteDestination(_, let s): s
        }
    }

    public var description: String {
        switch self {
        case .addService(let s): "add service \(s)"
        case .updateService(let s): "update service \(s)"
        case .deleteService(let s): "delete service \(s.key)"
        case .addDestination(let d, let s): "add \(d) to \(s.key)"
        case .updateDestination(let d, let s): "update \(d) in \(s.key)"
        case .deleteDestination(let d, let s): "delete \(d.key) from \(s.key)"
        }
    }
}

/// What an IPVS sync did: netlink changes by kind, and what failed.
public struct IPVSSyncReport: Sendable, Equatable, Codable {
    public var servicesAdded = 0
    public var servicesUpdated = 0
    public var servicesDeleted = 0
    public var destinationsAdded = 0
    public var destinationsUpdated = 0
    public var destinationsDeleted = 0
    /// Netlink changes sent (reads not counted).
    public var calls: Int {
        servicesAdded + servicesUpdated + servicesDeleted + destinationsAdded + destinationsUpdated
            + destinationsDeleted
    }
    /// What failed, by service; the rest of the table was still synced.
    public var errors: [String] = []
    /// Keys of stale services of ours the kernel would not delete: still ours, to retry.
    public var undeleted: [String] = []

    public init() {}

    package mutating func count(_ change: IPVSChange) {
        switch change {
        case .addService: servicesAdded += 1
        case .updateService: servicesUpdated += 1
        case .deleteService: servicesDeleted += 1
        case .addDestination: destinationsAdded += 1
        case .updateDestination: destinationsUpdated += 1
        case .deleteDestination: destinationsDeleted += 1
        }
    }
}

/// What the kernel holds for one IPVS service: its settings and real servers.
public struct IPVSEntry: Sendable, Equatable {
    public var service: IPVSService
    public var destinations: [IPVSDestination]
    public init(service: IPVSService, destinations: [IPVSDestination]) {
        self.service = service
        self.destinations = destinations
    }
}

/// The difference between the planned IPVS services and what the kernel holds (or what this process
/// last applied), as changes grouped per virtual service: pure, so that every decision of a sync can be
/// tested without a kernel.
public enum IPVSDiff {
    /// The changes for one planned virtual service (`origin` names it), or for one stale service.
    public struct Group: Sendable, Equatable {
        /// `ns/name:port (kind)` of a planned service, or `stale KEY`.
        public var origin: String
        public var stale: Bool
        public var changes: [IPVSChange]
    }

    /// `deleteUnplanned`: whether an actual service that no plan has may be deleted (ours: planned by
    /// the previous sync, or recorded as ours). Others' services are never touched.
    public static func groups(
        planned: [PlannedVirtualService], actual: [IPVSEntry],
        deleteUnplanned: (IPVSEntry) -> Bool
    ) -> [Group] {
        typealias ID = IPVSService.Identity
        var current: [ID: IPVSEntry] = [:]
        for entry in actual { current[entry.service.identity] = entry }
        // The first plan of an identity wins (two Services cannot share a VIP and port).
        var wanted: [ID: PlannedVirtualService] = [:]
        for p in planned where wanted[p.service.identity] == nil { wanted[p.service.identity] = p }
        var groups: [Group] = []
        for p in planned where wanted[p.service.identity]?.origin == p.origin {
            let changes = changes(p, current: current[p.service.identity])
            if !changes.isEmpty {
                groups.append(Group(origin: "\(p.origin) (\(p.service.key))", stale: false, changes: changes))
            }
        }
        for entry in actual where wanted[entry.service.identity] == nil && deleteUnplanned(entry) {
            groups.append(
                Group(origin: "stale \(entry.service.key)", stale: true, changes: [.deleteService(entry.service)]))
        }
        return groups
    }

    static func changes(_ p: PlannedVirtualService, current: IPVSEntry?) -> [IPVSChange] {
        // The common case of a sync: nothing changed for this service.
        if let current, current.service.sameSettings(p.service), current.destinations == p.destinations { return [] }
        var changes: [IPVSChange] = []
        if let current {
            if !current.service.sameSettings(p.service) { changes.append(.updateService(p.service)) }
        } else {
            changes.append(.addService(p.service))
        }
        var have: [IPVSDestination.Server: IPVSDestination] = [:]
        for d in current?.destinations ?? [] where have[d.server] == nil { have[d.server] = d }
        let want = Set(p.destinations.map(\.server))
        for destination in p.destinations {
            if let existing = have[destination.server] {
                if existing.weight != destination.weight || existing.forwarding != destination.forwarding {
                    changes.append(.updateDestination(destination, of: p.service))
                }
            } else {
                changes.append(.addDestination(destination, of: p.service))
            }
        }
        for destination in current?.destinations ?? [] where !want.contains(destination.server) {
            changes.append(.deleteDestination(destination, of: p.service))
        }
        return changes
    }
}
