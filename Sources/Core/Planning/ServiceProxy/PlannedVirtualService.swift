import KubeModel

/// One IPVS virtual service the node must hold, with its real servers and what it stands for.
public struct PlannedVirtualService: Sendable, Equatable {
    public var service: IPVSService
    public var destinations: [IPVSDestination]
    /// `namespace/name:port` (the port's name, or its number).
    public var origin: String
    public var kind: VirtualServiceKind
    /// The Service port's name, or its number when it has none (the part of `origin` after the colon).
    public var portName = ""
    /// A pod may reach itself through the service (`kube-router.io/service.hairpin`, `--hairpin-mode`).
    public var hairpin = false
    /// The Service's namespace and name (what `origin` names, as values: metrics label by them).
    public var namespace = ""
    public var serviceName = ""
}
