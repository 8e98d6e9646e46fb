import KubeModel

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
