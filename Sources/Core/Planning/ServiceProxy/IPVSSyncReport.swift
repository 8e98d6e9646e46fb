import KubeModel

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
