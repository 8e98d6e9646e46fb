/// Brings the kernel's IPVS table to the planned services by difference: a changed endpoint costs one
/// netlink call, an unchanged service none. Only services we own are changed or deleted: those we
/// planned, and those a previous run recorded as ours (`owned`). Others' services are left alone.
public struct IPVSSync {
    public struct Report: Sendable, Equatable, Codable {
        public var servicesAdded = 0
        public var servicesUpdated = 0
        public var servicesDeleted = 0
        public var destinationsAdded = 0
        public var destinationsUpdated = 0
        public var destinationsDeleted = 0
        /// Netlink changes sent (reads not counted).
        public var calls: Int { servicesAdded + servicesUpdated + servicesDeleted + destinationsAdded + destinationsUpdated + destinationsDeleted }
        /// What failed, by service; the rest of the table was still synced.
        public var errors: [String] = []
        /// Keys of stale services of ours the kernel would not delete: still ours, to retry.
        public var undeleted: [String] = []
    }

    /// What the kernel holds for one service: its settings and real servers.
    public struct Entry: Sendable, Equatable {
        public var service: IPVSService
        public var destinations: [IPVSDestination]
        public init(service: IPVSService, destinations: [IPVSDestination]) { self.service = service; self.destinations = destinations }
    }

    public let client: IPVSClient

    public init(client: IPVSClient) { self.client = client }

    /// The kernel's table, every service with its real servers, by the service's key (`TCP 10.96.0.10:80`).
    public func read() throws -> [String: Entry] {
        var entries: [String: Entry] = [:]
        for entry in try readEntries() { entries[entry.service.key] = entry }
        return entries
    }

    func readEntries() throws -> [Entry] {
        try client.services().map { Entry(service: $0, destinations: try client.destinations(of: $0)) }
    }

    /// With `previous` (what this process last applied) the kernel is not read: the cheap path of
    /// event syncs. Without it every service is read and compared: the full sync that repairs drift.
    /// `owned`: keys of services a previous run recorded as ours (deleted when no longer planned).
    public func apply(_ planned: [PlannedVirtualService], previous: [PlannedVirtualService]?, owned: Set<String>) throws -> Report {
        var report = Report()
        typealias ID = IPVSService.Identity
        var actual: [ID: Entry] = [:]
        if let previous {
            for p in previous { actual[p.service.identity] = Entry(service: p.service, destinations: p.destinations) }
        } else {
            for entry in try readEntries() { actual[entry.service.identity] = entry }
        }
        var wanted: [ID: PlannedVirtualService] = [:]
        for p in planned where wanted[p.service.identity] == nil { wanted[p.service.identity] = p }

        for p in planned where wanted[p.service.identity]?.origin == p.origin {
            let current = actual[p.service.identity]
            // The common case of a sync: nothing changed for this service.
            if let current, current.service.sameSettings(p.service), current.destinations == p.destinations { continue }
            do {
                if let current {
                    if !current.service.sameSettings(p.service) {
                        try client.update(p.service)
                        report.servicesUpdated += 1
                    }
                } else {
                    try client.add(p.service)
                    report.servicesAdded += 1
                }
                let have = Dictionary((current?.destinations ?? []).map { ($0.server, $0) }, uniquingKeysWith: { a, _ in a })
                let want = Set(p.destinations.map(\.server))
                for destination in p.destinations {
                    if let existing = have[destination.server] {
                        if existing.weight != destination.weight || existing.forwarding != destination.forwarding {
                            try client.update(destination, in: p.service)
                            report.destinationsUpdated += 1
                        }
                    } else {
                        try client.add(destination, to: p.service)
                        report.destinationsAdded += 1
                    }
                }
                for destination in have.values where !want.contains(destination.server) {
                    try client.delete(destination, from: p.service)
                    report.destinationsDeleted += 1
                }
            } catch {
                report.errors.append("\(p.origin) (\(p.service.key)): \(error)")
            }
        }
        for (id, entry) in actual where wanted[id] == nil && (previous != nil || owned.contains(entry.service.key)) {
            do {
                try client.delete(entry.service)
                report.servicesDeleted += 1
            } catch {
                report.errors.append("stale \(entry.service.key): \(error)")
                report.undeleted.append(entry.service.key)
            }
        }
        return report
    }
}
