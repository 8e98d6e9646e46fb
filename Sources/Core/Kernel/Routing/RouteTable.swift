import CNetlink
import Foundation
import KubeModel
import Planning

/// The main routing table through libnl-route (one netlink socket, one thread at a time). Reads
/// routes by protocol; adds, replaces and deletes routes of one protocol, never anyone else's.
public final class RouteTable: @unchecked Sendable {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// kube-router's own route protocol number (`ip route ... proto 201`): unused by the kernel and
    /// the routing daemons, so our routes are told apart from everyone else's.
    public static let kubeRouterProtocol = NodeNetwork.kubeRouterProtocol

    private let socket: OpaquePointer
    /// `apply`'s own socket, opened at its first call: it reads its ACKs itself, so libnl's sequence tracking
    /// on `socket` (which the other calls use) never sees them.
    private var batchSocket: OpaquePointer?
    private let lock = NSLock()

    public init() throws {
        socket = try Self.routeSocket()
    }

    /// Requests sent before their ACKs are read (`apply`): small enough for the receive buffer to hold them.
    static let window = 128

    /// The changes pipelined, `window` requests per round trip (100,000 routes in 782 round trips instead
    /// of 100,000): one result per change, in order, as `create`, `replace` and `delete` would throw.
    public func apply(_ changes: [RouteChange]) -> [(any Error)?] {
        lock.withLock {
            var results: [(any Error)?] = Array(repeating: nil, count: changes.count)
            guard !changes.isEmpty else { return results }
            let batchSocket: OpaquePointer
            if let open = self.batchSocket {
                batchSocket = open
            } else {
                do { batchSocket = try Self.routeSocket() } catch { return results.map { _ in error } }
                // Room for a window's ACKs; the kernel caps it at net.core.rmem_max.
                _ = nl_socket_set_buffer_size(batchSocket, 1 << 20, 1 << 20)
                self.batchSocket = batchSocket
            }
            var start = 0
            while start < changes.count {
                let end = min(start + Self.window, changes.count)
                var built: [OpaquePointer?] = []
                var ops: [Int32] = []
                defer { for r in built { if let r { rtnl_route_put(r) } } }
                for change in changes[start..<end] {
                    let route: KernelRoute
                    switch change {
                    case .add(let r):
                        route = r
                        ops.append(0)
                    case .replace(let r):
                        route = r
                        ops.append(1)
                    case .delete(let r):
                        route = r
                        ops.append(2)
                    }
                    do { built.append(try build(route)) } catch {
                        for i in start..<changes.count { results[i] = error }
                        return results
                    }
                }
                var codes = [Int32](repeating: -1, count: end - start)
                let rc = built.withUnsafeMutableBufferPointer { routes in
                    kr_route_window(batchSocket, routes.baseAddress, ops, Int32(end - start), &codes)
                }
                for (offset, code) in codes.enumerated() {
                    let change = changes[start + offset]
                    results[start + offset] = Self.failure(change, code: code, socketError: rc)
                }
                if rc < 0 {
                    for i in end..<changes.count { results[i] = results[end - 1] }
                    return results
                }
                start = end
            }
            return results
        }
    }

    /// What a change's answer means: nil (done), `RouteExists`, `RouteNotFound` or a failure naming it.
    static func failure(_ change: RouteChange, code: Int32, socketError: Int32) -> (any Error)? {
        if code == 0 { return nil }
        switch change {
        case .add(let route) where code == EEXIST: return RouteExists(route: route)
        case .delete(let route) where code == ENOENT || code == ESRCH: return RouteNotFound(route: route)
        default: break
        }
        let reason =
            code > 0
            ? String(cString: strerror(code))
            : "no answer (\(String(cString: nl_geterror(socketError < 0 ? socketError : -NLE_FAILURE))))"
        return Failure(description: "netlink: cannot \(change): \(reason)")
    }

    /// A libnl socket connected to NETLINK_ROUTE (the caller frees it).
    static func routeSocket() throws -> OpaquePointer {
        guard let s = nl_socket_alloc() else { throw Failure(description: "netlink: out of memory") }
        let rc = nl_connect(s, NETLINK_ROUTE)
        guard rc == 0 else {
            nl_socket_free(s)
            throw Failure(description: "netlink: cannot connect: \(String(cString: nl_geterror(rc)))")
        }
        return s
    }

    deinit {
        nl_socket_free(socket)
        if let batchSocket { nl_socket_free(batchSocket) }
    }

    /// Routes of the main table for `family`, optionally only those of one protocol.
    public func routes(family: IPAddress.Family, proto: UInt8? = nil) throws -> [KernelRoute] {
        try lock.withLock {
            var cache: OpaquePointer?
            let rc = rtnl_route_alloc_cache(socket, family == .ipv4 ? AF_INET : AF_INET6, 0, &cache)
            guard rc == 0, let cache else {
                throw Failure(description: "netlink: cannot read routes: \(String(cString: nl_geterror(rc)))")
            }
            defer { nl_cache_free(cache) }
            var result: [KernelRoute] = []
            var route = kr_route_first(cache)
            while let r = route {
                defer { route = kr_route_next(r) }
                guard rtnl_route_get_table(r) == UInt32(RT_TABLE_MAIN.rawValue) else { continue }
                let p = rtnl_route_get_protocol(r)
                if let proto, p != proto { continue }
                guard let dst = rtnl_route_get_dst(r), let destination = Self.cidr(dst, family: family) else {
                    continue
                }
                var gateways: [IPAddress] = []
                for i in 0..<rtnl_route_get_nnexthops(r) {
                    if let nh = rtnl_route_nexthop_n(r, i), let gw = rtnl_route_nh_get_gateway(nh),
                        let address = Self.cidr(gw, family: family)?.network
                    {
                        gateways.append(address)
                    }
                }
                result.append(KernelRoute(destination: destination, gateways: gateways, proto: p))
            }
            return result
        }
    }

    /// Adds the route only if its destination has none (`ip route add`); throws `RouteExists` if it has.
    public func create(_ route: KernelRoute) throws {
        try lock.withLock {
            let r = try build(route)
            defer { rtnl_route_put(r) }
            let rc = rtnl_route_add(socket, r, NLM_F_CREATE | NLM_F_EXCL)
            if rc == -NLE_EXIST { throw RouteExists(route: route) }
            guard rc == 0 else {
                throw Failure(description: "netlink: cannot install \(route): \(String(cString: nl_geterror(rc)))")
            }
        }
    }

    /// Adds or replaces the route to its destination (`ip route replace`).
    public func replace(_ route: KernelRoute) throws {
        try lock.withLock {
            let r = try build(route)
            defer { rtnl_route_put(r) }
            let rc = rtnl_route_add(socket, r, NLM_F_CREATE | NLM_F_REPLACE)
            guard rc == 0 else {
                throw Failure(description: "netlink: cannot install \(route): \(String(cString: nl_geterror(rc)))")
            }
        }
    }

    /// Deletes the route to its destination of its protocol (never another protocol's route to it);
    /// throws `RouteNotFound` when there is none (`deleteIfPresent` takes that as done).
    public func delete(_ route: KernelRoute) throws {
        try lock.withLock {
            let r = try build(route)
            defer { rtnl_route_put(r) }
            let rc = rtnl_route_delete(socket, r, 0)
            if rc == -NLE_OBJ_NOTFOUND { throw RouteNotFound(route: route) }
            guard rc == 0 else {
                throw Failure(description: "netlink: cannot remove \(route): \(String(cString: nl_geterror(rc)))")
            }
        }
    }

    private func build(_ route: KernelRoute) throws -> OpaquePointer {
        guard let r = rtnl_route_alloc() else { throw Failure(description: "netlink: out of memory") }
        let family: Int32 = route.destination.family == .ipv4 ? AF_INET : AF_INET6
        _ = rtnl_route_set_family(r, UInt8(family))
        rtnl_route_set_table(r, UInt32(RT_TABLE_MAIN.rawValue))
        rtnl_route_set_protocol(r, route.proto)
        rtnl_route_set_scope(r, UInt8(RT_SCOPE_UNIVERSE.rawValue))
        let bytes = route.destination.network.bytes
        let dst = bytes.withUnsafeBytes { nl_addr_build(family, $0.baseAddress, $0.count) }
        nl_addr_set_prefixlen(dst, Int32(route.destination.prefixLength))
        _ = rtnl_route_set_dst(r, dst)
        nl_addr_put(dst)
        for gateway in route.gateways {
            guard let nh = rtnl_route_nh_alloc() else { continue }
            let gw = gateway.bytes.withUnsafeBytes { nl_addr_build(family, $0.baseAddress, $0.count) }
            rtnl_route_nh_set_gateway(nh, gw)
            nl_addr_put(gw)
            rtnl_route_add_nexthop(r, nh)  // takes ownership of nh
        }
        return r
    }

    static func cidr(_ addr: OpaquePointer, family: IPAddress.Family) -> CIDR? {
        guard let raw = nl_addr_get_binary_addr(addr) else { return nil }
        let length = Int(nl_addr_get_len(addr))
        guard length == (family == .ipv4 ? 4 : 16) else {
            // The default route has no address bytes.
            return length == 0
                ? CIDR(network: family == .ipv4 ? IPAddress(v4: 0) : IPAddress(v6: 0, 0), prefixLength: 0) : nil
        }
        let bytes = UnsafeRawBufferPointer(start: raw, count: length)
        guard let address = IPAddress(bytes: Array(bytes)[...]) else { return nil }
        return CIDR(network: address, prefixLength: Int(nl_addr_get_prefixlen(addr)))
    }
}
