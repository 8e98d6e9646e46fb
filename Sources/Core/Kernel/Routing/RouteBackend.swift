import KubeModel
import Planning

/// The kernel's main routing table as the BGP speaker's route sync uses it: `RouteTable` (netlink) in
/// the agent, an in-memory table in tests. A replace overwrites whatever route the destination has,
/// of any protocol (as `ip route replace` does): the caller decides with `RouteDiff` what may be replaced.
public protocol RouteBackend: AnyObject, Sendable {
    /// The main table's routes of `family`, of one protocol or (nil) of all.
    func routes(family: IPAddress.Family, proto: UInt8?) throws -> [KernelRoute]
    /// Adds the route only if its destination has none, of any protocol (`NLM_F_EXCL`); throws
    /// `RouteExists` otherwise.
    func create(_ route: KernelRoute) throws
    /// Adds the route, or replaces the route to its destination.
    func replace(_ route: KernelRoute) throws
    /// Deletes the route of its destination and protocol; throws `RouteNotFound` when there is none.
    func delete(_ route: KernelRoute) throws
    /// The changes in order (`.add` as `create`, `.replace`, `.delete`), pipelined where the backend can (many
    /// requests per round trip): one result per change, nil when done, else what the single call would throw.
    func apply(_ changes: [RouteChange]) -> [(any Error)?]
}

/// Creating a route to a destination that has one (EEXIST).
public struct RouteExists: Error, CustomStringConvertible {
    public var route: KernelRoute
    public init(route: KernelRoute) { self.route = route }
    public var description: String { "a route to \(route.destination) exists" }
}

/// Deleting a route the table does not hold (ENOENT/ESRCH).
public struct RouteNotFound: Error, CustomStringConvertible {
    public var route: KernelRoute
    public init(route: KernelRoute) { self.route = route }
    public var description: String { "no such route: \(route)" }
}

extension RouteBackend {
    /// One call per change (fakes, and backends without pipelining).
    public func apply(_ changes: [RouteChange]) -> [(any Error)?] {
        changes.map { change in
            do {
                switch change {
                case .add(let route): try create(route)
                case .replace(let route): try replace(route)
                case .delete(let route): try delete(route)
                }
                return nil
            } catch {
                return error
            }
        }
    }

    /// Deletes the route if it is still there (a link that went down may have taken it); whether it was.
    @discardableResult
    public func deleteIfPresent(_ route: KernelRoute) throws -> Bool {
        do {
            try delete(route)
            return true
        } catch is RouteNotFound {
            return false
        }
    }
}

extension RouteTable: RouteBackend {}
