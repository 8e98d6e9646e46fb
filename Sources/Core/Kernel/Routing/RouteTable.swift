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
    private let lock = NSLock()

    public init() throws {
        socket = try Self.routeSocket()
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

    deinit { nl_socket_free(socket) }

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
