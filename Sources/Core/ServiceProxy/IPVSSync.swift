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
    }

    /// What the kernel holds for one service: its settings and real servers.
    public struct Entry: Sendable, Equatable {
        public var service: IPVSService
        public var destinations: [IPVSDestination]
        public init(service: IPVSService, destinations: [IPVSDestination]) { self.service = service; self.destinations = destinations }
    }

    public let client: IPVSClient

    public init(client: IPVSClient) { self.client = client }

    /// The kernel's table, every service with its real servers.
    public func read() throws -> [String: Entry] {
        var entries: [String: Entry] = [:]
        for service in try client.services() {
            entries[service.key] = Entry(service: service, destinations: try client.destinations(of: service))
        }
        return entries
    }

    /// With `previous` (what this process last applied) the kernel is not read: the cheap path of
    /// event syncs. Without it every service of ours is read and compared: the full sync that repairs drift.
    public func apply(_ planned: [PlannedVirtualService], previous: [PlannedVirtualService]?, owned: Set<String>) throws -> Report {
        var report = Report()
        var actual: [String: Entry]
        if let previous {
            actual = [:]
            for p in previous { actual[p.service.key] = Entry(service: p.service, destinations: p.destinations) }
        } else {
            actual = try read()
        }
        var wanted: [String: PlannedVirtualService] = [:]
        for p in planned { wanted[p.service.key] = wanted[p.service.key] ?? p }

        for p in wanted.values.sorted(by: { $0.service.key < $1.service.key }) {
            do {
                let current = actual[p.service.key]
                if let current {
                    if !current.service.sameSettings(p.service) {
                        try client.update(p.service)
                        report.servicesUpdated += 1
                    }
                } else {
                    try client.add(p.service)
                    report.servicesAdded += 1
                }
                let have = Dictionary((current?.destinations ?? []).map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
                let want = Dictionary(p.destinations.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
                for (key, destination) in want.sorted(by: { $0.key < $1.key }) {
                    if let existing = have[key] {
                        if existing.weight != destination.weight || existing.forwarding != destination.forwarding {
                            try client.update(destination, in: p.service)
                            report.destinationsUpdated += 1
                        }
                    } else {
                        try client.add(destination, to: p.service)
                        report.destinationsAdded += 1
                    }
                }
                for (key, destination) in have.sorted(by: { $0.key < $1.key }) where want[key] == nil {
                    try client.delete(destination, from: p.service)
                    report.destinationsDeleted += 1
                }
            } catch {
                report.errors.append("\(p.origin) (\(p.service.key)): \(error)")
            }
        }
        for (key, entry) in actual.sorted(by: { $0.key < $1.key }) where wanted[key] == nil && (owned.contains(key) || previous != nil) {
            do {
                try client.delete(entry.service)
                report.servicesDeleted += 1
            } catch {
                report.errors.append("stale \(key): \(error)")
            }
        }
        return report
    }
}
