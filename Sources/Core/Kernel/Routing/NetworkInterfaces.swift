import CNetlink
import Foundation
import KubeModel
import Planning

/// Links and their addresses through libnl-route: the service proxy's dummy interface that holds
/// the service VIPs, and route lookups for `krctl trace`. One socket, one thread at a time.
public final class NetworkInterfaces: @unchecked Sendable {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// kube-router's interface for the service VIPs: local addresses, so IPVS sees the packets.
    public static let dummyInterface = NodeNetwork.dummyInterface

    private let socket: OpaquePointer
    private let lock = NSLock()

    public init() throws {
        socket = try RouteTable.routeSocket()
    }

    deinit { nl_socket_free(socket) }

    private static func message(_ rc: Int32) -> String { String(cString: nl_geterror(rc)) }

    /// The interface index of `name`, nil when there is no such link.
    public func index(of name: String) -> Int32? {
        let index = if_nametoindex(name)
        return index == 0 ? nil : Int32(index)
    }

    /// Creates the dummy link if it is missing and brings it up. Returns its index.
    @discardableResult
    public func ensureDummy(_ name: String = dummyInterface) throws -> Int32 {
        try lock.withLock {
            if index(of: name) == nil {
                guard let link = rtnl_link_alloc() else { throw Failure(description: "netlink: out of memory") }
                defer { rtnl_link_put(link) }
                rtnl_link_set_name(link, name)
                _ = rtnl_link_set_type(link, "dummy")
                let rc = rtnl_link_add(socket, link, NLM_F_CREATE)
                guard rc == 0 || rc == -NLE_EXIST else {
                    throw Failure(
                        description: rc == -NLE_OPNOTSUPP || rc == -NLE_NOATTR || rc == -NLE_INVAL
                            ? "cannot create the dummy interface \(name): this kernel has no dummy link type "
                                + "(load the dummy module)"
                            : "cannot create the dummy interface \(name): \(Self.message(rc))")
                }
            }
            var current: OpaquePointer?
            var rc = rtnl_link_get_kernel(socket, 0, name, &current)
            guard rc == 0, let current else {
                throw Failure(description: "cannot read link \(name): \(Self.message(rc))")
            }
            defer { rtnl_link_put(current) }
            let index = rtnl_link_get_ifindex(current)
            if rtnl_link_get_flags(current) & UInt32(IFF_UP) == 0 {
                guard let change = rtnl_link_alloc() else { throw Failure(description: "netlink: out of memory") }
                defer { rtnl_link_put(change) }
                rtnl_link_set_flags(change, UInt32(IFF_UP))
                rc = rtnl_link_change(socket, current, change, 0)
                guard rc == 0 else { throw Failure(description: "cannot bring \(name) up: \(Self.message(rc))") }
            }
            return index
        }
    }

    /// Deletes a link (`--cleanup-config`); a missing one is fine. Returns whether it existed.
    @discardableResult
    public func deleteLink(_ name: String) throws -> Bool {
        try lock.withLock {
            guard index(of: name) != nil, let link = rtnl_link_alloc() else { return false }
            defer { rtnl_link_put(link) }
            rtnl_link_set_name(link, name)
            let rc = rtnl_link_delete(socket, link)
            guard rc == 0 || rc == -NLE_OBJ_NOTFOUND || rc == -NLE_NODEV else {
                throw Failure(description: "cannot delete link \(name): \(Self.message(rc))")
            }
            return true
        }
    }

    /// The addresses on the link with this index, both families.
    public func addresses(index: Int32) throws -> [IPAddress] {
        try lock.withLock {
            var cache: OpaquePointer?
            let rc = rtnl_addr_alloc_cache(socket, &cache)
            guard rc == 0, let cache else {
                throw Failure(description: "netlink: cannot read addresses: \(Self.message(rc))")
            }
            defer { nl_cache_free(cache) }
            var result: [IPAddress] = []
            var entry = kr_addr_first(cache)
            while let a = entry {
                defer { entry = kr_addr_next(a) }
                guard rtnl_addr_get_ifindex(a) == index, let local = rtnl_addr_get_local(a) else { continue }
                let family: IPAddress.Family = rtnl_addr_get_family(a) == AF_INET6 ? .ipv6 : .ipv4
                if let cidr = RouteTable.cidr(local, family: family) { result.append(cidr.network) }
            }
            return result.sorted()
        }
    }

    /// The addresses on the link called `name`; none when there is no such link.
    public func addresses(of name: String) throws -> [IPAddress] {
        try index(of: name).map { try addresses(index: $0) } ?? []
    }

    /// Adds `address` as a host address (/32, /128) on the link; one already there is fine.
    public func add(_ address: IPAddress, index: Int32) throws {
        try addressCommand(address, index: index, add: true)
    }

    /// Removes `address` from the link; one already gone is fine.
    public func remove(_ address: IPAddress, index: Int32) throws {
        try addressCommand(address, index: index, add: false)
    }

    private func addressCommand(_ address: IPAddress, index: Int32, add: Bool) throws {
        try lock.withLock {
            guard let a = rtnl_addr_alloc() else { throw Failure(description: "netlink: out of memory") }
            defer { rtnl_addr_put(a) }
            let family: Int32 = address.family == .ipv4 ? AF_INET : AF_INET6
            let local = address.bytes.withUnsafeBytes { nl_addr_build(family, $0.baseAddress, $0.count) }
            nl_addr_set_prefixlen(local, address.family == .ipv4 ? 32 : 128)
            rtnl_addr_set_ifindex(a, index)
            _ = rtnl_addr_set_local(a, local)
            nl_addr_put(local)
            // A VIP is not an address to defend: no duplicate address detection (it would stay tentative).
            if address.family == .ipv6 { rtnl_addr_set_flags(a, UInt32(IFA_F_NODAD)) }
            let rc = add ? rtnl_addr_add(socket, a, NLM_F_CREATE | NLM_F_REPLACE) : rtnl_addr_delete(socket, a, 0)
            let fine = rc == 0 || (add ? rc == -NLE_EXIST : (rc == -NLE_OBJ_NOTFOUND || rc == -NLE_NOADDR))
            guard fine else {
                throw Failure(
                    description:
                        "cannot \(add ? "add" : "remove") \(address) \(add ? "to" : "from") interface \(index): "
                        + Self.message(rc)
                )
            }
        }
    }

    /// Asks the kernel which route it would take to `address` (`ip route get`).
    public static func route(to address: IPAddress) throws -> RouteLookup {
        let s = try RouteTable.routeSocket()
        defer { nl_socket_free(s) }
        nl_socket_disable_auto_ack(s)
        var answer = kr_route_answer()
        let family: Int32 = address.family == .ipv4 ? AF_INET : AF_INET6
        let rc = address.bytes.withUnsafeBytes { kr_route_get(s, family, $0.baseAddress, Int32($0.count), &answer) }
        guard rc == 0 else { throw Failure(description: "netlink: route lookup for \(address) failed: \(message(rc))") }
        var lookup = RouteLookup(
            destination: address, interface: nil, gateway: nil, source: nil,
            type: RouteLookup.typeNames[answer.type] ?? "type \(answer.type)", proto: answer.protocol)
        if answer.error != 0 {
            lookup.error = String(cString: strerror(answer.error))
            return lookup
        }
        let width = address.family == .ipv4 ? 4 : 16
        if answer.has_gateway != 0 {
            lookup.gateway = withUnsafeBytes(of: &answer.gateway) { IPAddress(bytes: Array($0.prefix(width))[...]) }
        }
        if answer.has_source != 0 {
            lookup.source = withUnsafeBytes(of: &answer.source) { IPAddress(bytes: Array($0.prefix(width))[...]) }
        }
        if answer.oif != 0 {
            var name = [CChar](repeating: 0, count: Int(IF_NAMESIZE) + 1)
            if if_indextoname(answer.oif, &name) != nil { lookup.interface = String(cString: name) }
        }
        return lookup
    }
}
