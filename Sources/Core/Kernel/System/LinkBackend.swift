import KubeModel
import Planning

/// What the service proxy needs of the node's links: the dummy link that holds the VIPs and its
/// addresses. The real one is `NetworkInterfaces` (libnl-route); tests use an in-memory fake.
public protocol LinkBackend: Sendable {
    /// The dummy link's index, creating it (up) when it is missing.
    func ensureDummy(_ name: String) throws -> Int32
    func addresses(index: Int32) throws -> [IPAddress]
    func add(_ address: IPAddress, index: Int32) throws
    func remove(_ address: IPAddress, index: Int32) throws
}

extension NetworkInterfaces: LinkBackend {}
