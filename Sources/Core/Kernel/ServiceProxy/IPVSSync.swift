import KubeModel
import Planning

/// Brings the kernel's IPVS table to the planned services by difference: a changed endpoint costs one
/// netlink call, an unchanged service none. Only services we own are changed or deleted: those we
/// planned, and those a previous run recorded as ours (`owned`). Others' services are left alone.
/// The decisions are `IPVSDiff`'s (pure); this only reads the backend and applies the changes.
public struct IPVSSync {
    public typealias Report = IPVSSyncReport

    public typealias Entry = IPVSEntry

    public let backend: any IPVSBackend

    public init(backend: any IPVSBackend) { self.backend = backend }
    public init(client: IPVSClient) { self.backend = client }

    /// The kernel's table, every service with its real servers, by the service's key (`TCP 10.96.0.10:80`).
    public func read() throws -> [String: Entry] {
        var entries: [String: Entry] = [:]
        for entry in try readEntries() { entries[entry.service.key] = entry }
        return entries
    }

    func readEntries() throws -> [Entry] {
        try backend.services().map { Entry(service: $0, destinations: try backend.destinations(of: $0)) }
    }

    /// With `previous` (what this process last applied) the kernel is not read: the cheap path of
    /// event syncs. Without it every service is read and compared: the full sync that repairs drift.
    /// `owned`: keys of services a previous run recorded as ours (deleted when no longer planned).
    public func apply(
        _ planned: [PlannedVirtualService], previous: [PlannedVirtualService]?, owned: Set<String>
    ) throws -> Report {
        let actual =
            try previous.map { $0.map { Entry(service: $0.service, destinations: $0.destinations) } } ?? readEntries()
        let groups = IPVSDiff.groups(planned: planned, actual: actual) {
            previous != nil || owned.contains($0.service.key)
        }
        return apply(groups)
    }

    /// Applies the changes group by group: a failing change ends its group (that service is retried by
    /// the next full sync) and is reported by name; the other groups still apply.
    public func apply(_ groups: [IPVSDiff.Group]) -> Report {
        var report = Report()
        for group in groups {
            for change in group.changes {
                do {
                    try backend.apply(change)
                    report.count(change)
                } catch {
                    report.errors.append("\(group.origin): \(error)")
                    if group.stale { report.undeleted.append(change.service.key) }
                    break
                }
            }
        }
        return report
    }
}
