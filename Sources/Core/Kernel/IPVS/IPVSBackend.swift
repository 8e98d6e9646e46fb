import KubeModel
import Planning

/// What the service proxy needs of the kernel's IPVS: the real one is `IPVSClient` (generic netlink);
/// tests use an in-memory fake that behaves like the kernel where it matters (EEXIST, ENOENT).
public protocol IPVSBackend: Sendable {
    func services() throws -> [IPVSService]
    func destinations(of service: IPVSService) throws -> [IPVSDestination]
    func add(_ service: IPVSService) throws
    func update(_ service: IPVSService) throws
    func delete(_ service: IPVSService) throws
    func add(_ destination: IPVSDestination, to service: IPVSService) throws
    func update(_ destination: IPVSDestination, in service: IPVSService) throws
    func delete(_ destination: IPVSDestination, from service: IPVSService) throws
}

extension IPVSClient: IPVSBackend {}

extension IPVSBackend {
    /// Applies one change.
    public func apply(_ change: IPVSChange) throws {
        switch change {
        case .addService(let s): try add(s)
        case .updateService(let s): try update(s)
        case .deleteService(let s): try delete(s)
        case .addDestination(let d, let s): try add(d, to: s)
        case .updateDestination(let d, let s): try update(d, in: s)
        case .deleteDestination(let d, let s): try delete(d, from: s)
        }
    }
}
