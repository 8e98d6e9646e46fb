import Foundation
import Kernel
import KubeModel
import Planning

/// An in-memory main routing table with the kernel's semantics where the route sync depends on them: one
/// route per destination (as routes of one metric), a create fails with `RouteExists` (EEXIST) when the
/// destination has a route, a replace overwrites the destination's route whatever its protocol (as
/// `ip route replace` does), a delete matches destination and protocol and fails with
/// `RouteNotFound` (ENOENT) when there is no such route. It counts the changes it is asked for.
public final class FakeRoutes: RouteBackend, @unchecked Sendable {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
        public init(description: String) { self.description = description }
    }

    private let lock = NSLock()
    private var table: [CIDR: KernelRoute] = [:]
    private var changes = 0
    private var failing: Set<CIDR> = []

    public init(_ routes: [KernelRoute] = []) {
        for route in routes { table[route.destination] = route }
    }

    /// Replaces and deletes applied since the last `resetCount` (reads and the test's own changes not counted).
    public var changeCount: Int { lock.withLock { changes } }
    public func resetCount() { lock.withLock { changes = 0 } }

    /// Every route, sorted by destination.
    public var all: [KernelRoute] {
        lock.withLock { table.values.sorted { $0.destination.description < $1.destination.description } }
    }
    public func route(_ destination: CIDR) -> KernelRoute? { lock.withLock { table[destination] } }

    /// A change made behind the speaker's back (`ip route add` by someone else, a link going down).
    public func add(_ route: KernelRoute) { lock.withLock { table[route.destination] = route } }
    public func remove(_ destination: CIDR) { _ = lock.withLock { table.removeValue(forKey: destination) } }
    /// Every change to these destinations fails, as a refusing kernel would.
    public func fail(_ destinations: Set<CIDR>) { lock.withLock { failing = destinations } }

    /// Throws for a destination told to fail (under the lock).
    private func check(_ change: String, _ route: KernelRoute) throws {
        guard !failing.contains(route.destination) else {
            throw Failure(description: "\(change) \(route): Invalid argument (injected)")
        }
    }

    public func routes(family: IPAddress.Family, proto: UInt8?) throws -> [KernelRoute] {
        lock.withLock {
            table.values.filter { $0.destination.family == family && (proto == nil || $0.proto == proto) }
                .sorted { $0.destination.description < $1.destination.description }
        }
    }

    public func create(_ route: KernelRoute) throws {
        try lock.withLock {
            try check("create", route)
            if table[route.destination] != nil { throw RouteExists(route: route) }
            table[route.destination] = route
            changes += 1
        }
    }

    public func replace(_ route: KernelRoute) throws {
        try lock.withLock {
            try check("replace", route)
            table[route.destination] = route
            changes += 1
        }
    }

    public func delete(_ route: KernelRoute) throws {
        try lock.withLock {
            try check("delete", route)
            guard let existing = table[route.destination], existing.proto == route.proto,
                route.gateways.isEmpty || existing.gateways == route.gateways
            else {
                throw RouteNotFound(route: route)
            }
            table[route.destination] = nil
            changes += 1
        }
    }
}
