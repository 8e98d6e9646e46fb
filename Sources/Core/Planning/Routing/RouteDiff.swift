import KubeModel

/// The routes we want in the kernel beside those it holds, as changes. Only routes of our protocol are
/// ever changed, and a destination the kernel holds with another protocol (a static route, a routing
/// daemon's) is left to it: `ip route replace` would overwrite that route, so ours is not installed
/// (`blocked` names it) and any route of ours to it is removed.
public enum RouteDiff {
    /// `desired`: the routes we want (of protocol `proto`); `actual`: the kernel's routes of the same
    /// families, of every protocol (or, for an event sync, what this process last applied and the
    /// other protocols' destinations it last read). Deletions first, then additions, then replacements,
    /// each sorted by destination (`CIDR.precedes`).
    public static func changes(
        desired: [KernelRoute], actual: [KernelRoute],
        proto: UInt8 = NodeNetwork.kubeRouterProtocol
    ) -> [RouteChange] {
        let others = otherProtocols(actual, proto: proto)
        var ours: [CIDR: KernelRoute] = [:]
        for route in actual where route.proto == proto { ours[route.destination] = route }
        var wanted: [CIDR: KernelRoute] = [:]
        for route in desired where others[route.destination] == nil { wanted[route.destination] = route }
        var deletes: [KernelRoute] = []
        var adds: [KernelRoute] = []
        var replaces: [KernelRoute] = []
        for (destination, route) in ours where wanted[destination] == nil { deletes.append(route) }
        for (destination, route) in wanted {
            let mine = KernelRoute(destination: destination, gateways: route.gateways, proto: proto)
            if ours[destination] == nil {
                adds.append(mine)
            } else if ours[destination] != mine {
                replaces.append(mine)
            }
        }
        let order: (KernelRoute, KernelRoute) -> Bool = { CIDR.precedes($0.destination, $1.destination) }
        return deletes.sorted(by: order).map { .delete($0) } + adds.sorted(by: order).map { .add($0) }
            + replaces.sorted(by: order).map { .replace($0) }
    }

    /// An event sync's changes, prefix by prefix: `wanted` the next hop wanted for each prefix looked at (nil:
    /// none), `installed` the next hop of our route to a prefix as last applied, `others` the protocol of another's
    /// route to it. As `changes(desired:actual:)` would give for these prefixes, with the destinations left to
    /// another protocol, but with no table built or sorted: an UPDATE's prefixes cost a lookup each. Deletions
    /// first, then additions, then replacements, each in the order of `wanted`.
    public static func changes(
        wanted: [(CIDR, IPAddress?)], installed: [CIDR: IPAddress], others: [CIDR: UInt8],
        proto: UInt8 = NodeNetwork.kubeRouterProtocol
    ) -> (changes: [RouteChange], blocked: [CIDR: UInt8]) {
        var deletes: [RouteChange] = []
        var adds: [RouteChange] = []
        var replaces: [RouteChange] = []
        var blocked: [CIDR: UInt8] = [:]
        for (prefix, nextHop) in wanted {
            let ours = installed[prefix]
            let route = { (hop: IPAddress) in KernelRoute(destination: prefix, gateways: [hop], proto: proto) }
            if let other = others[prefix] {
                if nextHop != nil { blocked[prefix] = other }
                if let ours { deletes.append(.delete(route(ours))) }
            } else if let nextHop {
                if ours == nil {
                    adds.append(.add(route(nextHop)))
                } else if ours != nextHop {
                    replaces.append(.replace(route(nextHop)))
                }
            } else if let ours {
                deletes.append(.delete(route(ours)))
            }
        }
        return (deletes + adds + replaces, blocked)
    }

    /// The desired destinations the kernel holds with another protocol, with that protocol: not installed.
    public static func blocked(
        desired: [KernelRoute], actual: [KernelRoute],
        proto: UInt8 = NodeNetwork.kubeRouterProtocol
    ) -> [CIDR: UInt8] {
        let others = otherProtocols(actual, proto: proto)
        var result: [CIDR: UInt8] = [:]
        for route in desired { if let other = others[route.destination] { result[route.destination] = other } }
        return result
    }

    /// Destination → protocol of the routes that are not ours.
    static func otherProtocols(_ actual: [KernelRoute], proto: UInt8) -> [CIDR: UInt8] {
        var result: [CIDR: UInt8] = [:]
        for route in actual where route.proto != proto { result[route.destination] = route.proto }
        return result
    }

    /// The usual names of route protocol numbers (`/etc/iproute2/rt_protos`).
    public static func protocolName(_ proto: UInt8) -> String {
        switch proto {
        case 1: "redirect"
        case 2: "kernel"
        case 3: "boot"
        case 4: "static"
        case 8: "gated"
        case 9: "ra"
        case 10: "mrt"
        case 11: "zebra"
        case 12: "bird"
        case 16: "dhcp"
        case 186: "bgp"
        case 187: "isis"
        case 188: "ospf"
        case 189: "rip"
        case 192: "eigrp"
        case NodeNetwork.kubeRouterProtocol: "kube-router"
        default: String(proto)
        }
    }
}
