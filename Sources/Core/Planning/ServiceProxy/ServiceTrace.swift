import KubeModel

/// The path of a packet to a Service on one node, as planned by the agent's planner and as the
/// kernel holds it: the VIP on kube-dummy-if, the IPVS virtual service, each real server with its
/// counters, the kernel's route to it and, for a given client pod, the policy verdict. What the
/// kernel holds differently from the plan is drift. Built from values: the caller reads the kernel.
public struct ServiceTrace: Sendable, Encodable {
    public struct RealServer: Sendable, Encodable {
        public var address: String
        public var port: Int
        /// The endpoint's pod, when the cluster knows it.
        public var pod: String?
        public var node: String?
        public var plannedWeight: Int?
        public var kernelWeight: Int?
        public var activeConnections: Int?
        public var inactiveConnections: Int?
        public var connections: Int?
        /// `ip route get` for the endpoint, as the kernel answered.
        public var route: String?
        /// The client's traffic to this endpoint under NetworkPolicy: allow or deny, and why.
        public var policy: String?
        public var policyReason: String?
        /// `ok`, `missing in kernel`, `not planned`, `weight differs`.
        public var status: String
    }

    public struct VirtualService: Sendable, Encodable {
        /// `TCP 10.96.0.10:80`.
        public var key: String
        public var kind: VirtualServiceKind
        public var port: String
        public var scheduler: String
        public var persistenceSeconds: Int?
        /// The VIP is on kube-dummy-if (nil: not a VIP, a NodePort on the node's address).
        public var vipPresent: Bool?
        /// The kernel holds the service (nil: the kernel was not read).
        public var inKernel: Bool?
        public var kernelScheduler: String?
        public var connections: Int?
        public var realServers: [RealServer]
        public var drift: [String]
    }

    public var service: String
    public var type: String
    public var node: String
    public var client: String?
    public var kernelRead: Bool
    public var virtualServices: [VirtualService]
    public var notes: [String]

    public var hasDrift: Bool { virtualServices.contains { !$0.drift.isEmpty } }

    /// What the kernel holds, read by the caller.
    public struct Observed: Sendable {
        public var vips: Set<IPAddress>
        public var ipvs: [String: IPVSEntry]
        public init(vips: Set<IPAddress>, ipvs: [String: IPVSEntry]) {
            self.vips = vips
            self.ipvs = ipvs
        }
    }

    /// `planned`: the plan's entries for this service; `observed`: nil when the kernel was not read;
    /// `route` and `policy` answer per endpoint address.
    public static func build(
        service: Service, node: String, planned: [PlannedVirtualService], vips: Set<IPAddress>,
        observed: Observed?, snapshot: ClusterSnapshot, client: String?,
        route: (IPAddress) -> String?, policy: (IPAddress, Int, PortProtocol) -> (String, String)?
    ) -> ServiceTrace {
        var podsByIP: [IPAddress: Pod] = [:]
        for pod in snapshot.pods.values where !pod.hostNetwork { for ip in pod.ips { podsByIP[ip] = pod } }
        var result: [VirtualService] = []
        for p in planned {
            var drift: [String] = []
            let key = p.service.key
            let isVIP = vips.contains(p.service.address)
            var vipPresent: Bool?
            if let observed, isVIP {
                vipPresent = observed.vips.contains(p.service.address)
                if vipPresent == false {
                    drift.append(
                        "VIP \(p.service.address) is not on \(NodeNetwork.dummyInterface): "
                            + "the node does not take its packets"
                    )
                }
            }
            let entry = observed?.ipvs[key]
            if observed != nil {
                if entry == nil {
                    drift.append("IPVS has no virtual service \(key)")
                } else if !entry!.service.sameSettings(p.service) {
                    drift.append("IPVS holds \(entry!.service) where the plan says \(p.service)")
                }
            }
            var servers: [RealServer] = []
            let kernelByKey = Dictionary(
                (entry?.destinations ?? []).map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
            var keys = p.destinations.map(\.key)
            for d in entry?.destinations ?? [] where !keys.contains(d.key) { keys.append(d.key) }
            for k in keys {
                let plannedDest = p.destinations.first { $0.key == k }
                let kernelDest = kernelByKey[k]
                guard let d = plannedDest ?? kernelDest else { continue }
                let pod = podsByIP[d.address]
                var status = "ok"
                if observed != nil {
                    if plannedDest == nil {
                        status = "not planned"
                        drift.append("real server \(k) is in the kernel but not planned (stale)")
                    } else if entry != nil && kernelDest == nil {
                        status = "missing in kernel"
                        drift.append("real server \(k) is missing from \(key)")
                    } else if let kernelDest, let plannedDest, kernelDest.weight != plannedDest.weight {
                        status = "weight differs"
                        drift.append(
                            "real server \(k) has weight \(kernelDest.weight) where the plan says \(plannedDest.weight)"
                        )
                    }
                }
                let verdict = policy(d.address, Int(d.port), p.service.proto)
                servers.append(
                    RealServer(
                        address: d.address.description, port: Int(d.port), pod: pod?.key, node: pod?.nodeName,
                        plannedWeight: plannedDest.map { Int($0.weight) },
                        kernelWeight: kernelDest.map { Int($0.weight) },
                        activeConnections: kernelDest.map { Int($0.activeConnections) },
                        inactiveConnections: kernelDest.map { Int($0.inactiveConnections) },
                        connections: kernelDest.map { Int($0.stats.connections) },
                        route: route(d.address), policy: verdict?.0, policyReason: verdict?.1, status: status))
            }
            result.append(
                VirtualService(
                    key: key, kind: p.kind, port: p.portName, scheduler: p.service.scheduler,
                    persistenceSeconds: p.service.persistent ? Int(p.service.timeout) : nil,
                    vipPresent: vipPresent, inKernel: observed == nil ? nil : entry != nil,
                    kernelScheduler: entry?.service.scheduler,
                    connections: entry.map { Int($0.service.stats.connections) },
                    realServers: servers, drift: drift))
        }
        var notes: [String] = []
        if planned.isEmpty {
            if service.isHeadless {
                notes.append("headless service: no virtual IP, clients reach the pods directly (DNS)")
            } else if service.type == "ExternalName" {
                notes.append("ExternalName service: DNS only, no proxying")
            } else if service.meta.labels[ServiceProxyPlanner.proxyNameLabel] != nil {
                notes.append(
                    "labelled \(ServiceProxyPlanner.proxyNameLabel)="
                        + "\(service.meta.labels[ServiceProxyPlanner.proxyNameLabel]!): another proxy serves it"
                )
            } else {
                notes.append("no virtual service planned for the selected port")
            }
        }
        for p in planned where p.destinations.isEmpty {
            let local =
                p.kind == .clusterIP && service.internalTrafficPolicyLocal
                || p.kind != .clusterIP && service.externalTrafficPolicyLocal
            notes.append(
                "\(p.service.key): no ready endpoint\(local ? " on this node (traffic policy Local)" : ""): "
                    + "connections are refused"
            )
        }
        return ServiceTrace(
            service: service.meta.key, type: service.type, node: node, client: client, kernelRead: observed != nil,
            virtualServices: result, notes: notes)
    }
}
