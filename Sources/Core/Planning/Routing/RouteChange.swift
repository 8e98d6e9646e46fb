import KubeModel

/// One change to the kernel's routes of our protocol.
public enum RouteChange: Sendable, Hashable, CustomStringConvertible {
    /// Add the route where we have none: only if the destination has no route at all (`ip route add`,
    /// exclusive), so that a route another protocol put there since we last looked is not overwritten.
    case add(KernelRoute)
    /// Change the next hops of our route to its destination (`ip route replace`).
    case replace(KernelRoute)
    /// Remove our route to its destination.
    case delete(KernelRoute)

    public var description: String {
        switch self {
        case .add(let route): "add \(route)"
        case .replace(let route): "replace \(route)"
        case .delete(let route): "delete \(route)"
        }
    }
}
