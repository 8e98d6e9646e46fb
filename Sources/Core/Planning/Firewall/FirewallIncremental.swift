import KubeModel

/// Event syncs that only move set members, pure. A pod on another node that comes, goes, or changes its labels or
/// addresses, and a namespace whose labels change, can change which pods the policies' peers select, never a
/// chain: a node's chains follow its own pods and the policies alone. Such events are applied to the sets of the
/// plan last applied, for the addresses they concern only (recomputed against the new state exactly as a full
/// plan computes them), instead of planning the whole node again. Anything else (a pod of this node, a policy,
/// a resync) asks for a full plan.
public enum FirewallIncremental {
    /// What changed since the last sync, as the informers' events tell it.
    public struct Changes: Sendable, Equatable {
        /// Every address of every pod an event was about (the old object's and the new one's).
        public var addresses: Set<IPAddress> = []
        /// Namespaces an event was about.
        public var namespaces: Set<String> = []
        /// Something only a full plan takes in (a pod of this node, a policy, a resync).
        public var needsFullPlan = false

        public init() {}

        /// Records one object of an event (call it for the old and the new object of an update).
        public mutating func note(_ object: KubeObject, node: String) {
            switch object {
            case .pod(let pod):
                if pod.nodeName == node { needsFullPlan = true }
                addresses.formUnion(pod.ips)
            case .namespace(let namespace): namespaces.insert(namespace.name)
            case .networkPolicy: needsFullPlan = true
            case .service, .endpointSlice, .node: break
            }
        }
    }

    /// The plans after `changes`, from `previous` (the plans last applied) and `engine` (the state now); nil
    /// when only a full plan can say.
    public static func update(_ previous: [FirewallPlan], engine: PolicyEngine, changes: Changes) -> [FirewallPlan]? {
        guard !changes.needsFullPlan else { return nil }
        var addresses = changes.addresses
        if !changes.namespaces.isEmpty {
            for pod in engine.snapshot.pods.values where changes.namespaces.contains(pod.namespace) {
                addresses.formUnion(pod.ips)
            }
        }
        guard !addresses.isEmpty else { return previous }
        return previous.map { update($0, engine: engine, addresses: addresses) }
    }

    static func update(_ plan: FirewallPlan, engine: PolicyEngine, addresses all: Set<IPAddress>) -> FirewallPlan {
        let family = plan.family
        let addresses = all.filter { $0.family == family }
        guard !addresses.isEmpty else { return plan }
        // The pods whose address of this family (their first, as the planner takes it) is one of these.
        var holders: [IPAddress: [Pod]] = [:]
        for pod in engine.snapshot.pods.values where pod.isPolicySubject {
            if let ip = pod.ips.first(where: { $0.family == family }), addresses.contains(ip) {
                holders[ip, default: []].append(pod)
            }
        }
        /// Whether one of `peers` (every policy subject when nil) selects `pod`.
        func selected(_ pod: Pod, by peers: [NetworkPolicy.Peer]?, of policy: NetworkPolicy) -> Bool {
            peers.map { $0.contains { engine.selects($0, in: policy, pod: pod) } } ?? true
        }
        var plan = plan
        for index in plan.sets.indices {
            guard let recipe = plan.setRecipes[plan.sets[index].name] else { continue }
            switch recipe {
            case .podPeers(let peers, let policy):
                // Members are in address order (as the planner makes them): found by bisection.
                var members = plan.sets[index].members
                for ip in addresses {
                    let wanted = holders[ip]?.contains { selected($0, by: peers, of: policy) } ?? false
                    let (found, position) = Self.position(of: ip, in: members)
                    if wanted && !found {
                        members.insert(.address(ip), at: position)
                    } else if !wanted && found {
                        members.remove(at: position)
                    }
                }
                plan.sets[index].members = members
            case .namedPort(let peers, let policy, let port, let proto):
                var members = Set(
                    plan.sets[index].members.filter { member in
                        if case .addressPort(let ip, _, _) = member { return !addresses.contains(ip) }
                        return true
                    })
                for ip in addresses {
                    for pod in holders[ip] ?? [] where selected(pod, by: peers, of: policy) {
                        for number in pod.namedPorts(port, proto: proto) {
                            if let number = UInt16(exactly: number) {
                                members.insert(.addressPort(ip, proto, port: number))
                            }
                        }
                    }
                }
                plan.sets[index].members = members.sorted { $0.restoreText < $1.restoreText }
            }
        }
        return plan
    }

    /// Where `ip` is, or would go, among members of addresses in ascending order.
    static func position(of ip: IPAddress, in members: [IPSetMember]) -> (found: Bool, index: Int) {
        var low = 0
        var high = members.count
        while low < high {
            let middle = (low + high) / 2
            guard case .address(let address) = members[middle] else { return (false, members.count) }
            if address == ip { return (true, middle) }
            if address < ip { low = middle + 1 } else { high = middle }
        }
        return (false, low)
    }
}
