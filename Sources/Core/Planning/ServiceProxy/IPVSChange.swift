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
