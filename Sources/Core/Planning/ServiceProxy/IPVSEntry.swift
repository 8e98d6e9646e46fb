import KubeModel

/// What the kernel holds for one IPVS service: its settings and real servers.
public struct IPVSEntry: Sendable, Equatable {
    public var service: IPVSService
    public var destinations: [IPVSDestination]
    public init(service: IPVSService, destinations: [IPVSDestination]) {
        self.service = service
        self.destinations = destinations
    }
}
