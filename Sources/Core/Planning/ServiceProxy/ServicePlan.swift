import KubeModel

/// What one Service asks of a node: its virtual services, VIPs and problems.
public struct ServicePlan: Sendable, Equatable {
    public var services: [PlannedVirtualService] = []
    public var vips: [IPAddress] = []
    public var problems: [String] = []
    public init() {}
}
