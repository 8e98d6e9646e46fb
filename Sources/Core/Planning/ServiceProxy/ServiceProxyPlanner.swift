import KubeModel

/// kube-router's service proxy semantics:
/// - ClusterIP on every node; NodePort on the node's addresses; externalIPs and LoadBalancer ingress IPs.
/// - Real servers: the ready endpoints of the service's EndpointSlices for that port (by name), with their
///   port; with graceful termination, terminating endpoints that still serve stay with weight 0 (drained).
/// - `internalTrafficPolicy: Local` limits ClusterIP to endpoints on this node; `externalTrafficPolicy: Local`
///   does the same for NodePort, external and load-balancer addresses.
/// - The scheduler comes from `kube-router.io/service.scheduler` (rr, lc, dh, sh, mh; rr by default);
///   `sessionAffinity: ClientIP` makes the service persistent for its timeout.
/// - Headless and ExternalName services, and those labelled `service.kubernetes.io/service-proxy-name`
///   (another proxy's), are left alone.
public enum ServiceProxyPlanner {
    public static let schedulerAnnotation = "kube-router.io/service.scheduler"
    public static let hairpinAnnotation = "kube-router.io/service.hairpin"
    public static let proxyNameLabel = "service.kubernetes.io/service-proxy-name"
    public static let schedulers: Set<String> = ["rr", "wrr", "lc", "wlc", "dh", "sh", "mh", "sed", "nq"]

    public struct Options: Sendable {
        public var gracefulTermination: Bool
        /// Hairpin for every service, not only the annotated ones.
        public var hairpinAll: Bool
        public init(gracefulTermination: Bool = false, hairpinAll: Bool = false) {
            self.gracefulTermination = gracefulTermination
            self.hairpinAll = hairpinAll
        }
    }

    /// The addresses a node serves NodePorts on: its InternalIP and ExternalIP addresses.
    public static func nodeAddresses(_ node: Node?) -> [IPAddress] {
        (node?.addresses ?? []).filter { $0.type == "InternalIP" || $0.type == "ExternalIP" }.compactMap {
            IPAddress($0.address)
        }
    }

    /// The plan for `node` as the agent makes it: NodePorts on the node's own addresses.
    public static func plan(_ snapshot: ClusterSnapshot, node: String, options: Options = Options()) -> ServiceProxyPlan
    {
        plan(snapshot, node: node, nodeAddresses: nodeAddresses(snapshot.nodes[node]), options: options)
    }

    public static func plan(
        _ snapshot: ClusterSnapshot, node: String, nodeAddresses: [IPAddress], options: Options = Options()
    ) -> ServiceProxyPlan {
        assemble(
            parts(snapshot, node: node, nodeAddresses: nodeAddresses, options: options), nodeAddresses: nodeAddresses)
    }

    /// The plan of every service, by `namespace/name`: what an event sync later updates one by one.
    public static func parts(
        _ snapshot: ClusterSnapshot, node: String, nodeAddresses: [IPAddress], options: Options = Options()
    ) -> [String: ServicePlan] {
        var slicesByService: [String: [EndpointSlice]] = [:]
        for slice in snapshot.endpointSlices.values where !slice.serviceName.isEmpty {
            slicesByService["\(slice.meta.namespace)/\(slice.serviceName)", default: []].append(slice)
        }
        var parts: [String: ServicePlan] = [:]
        for service in snapshot.services.values {
            parts[service.meta.key] = plan(
                service: service, slices: slicesByService[service.meta.key] ?? [], node: node,
                nodeAddresses: nodeAddresses, options: options)
        }
        return parts
    }

    /// The EndpointSlices of one service (`namespace/name`).
    public static func slices(of serviceKey: String, in snapshot: ClusterSnapshot) -> [EndpointSlice] {
        (snapshot.endpointSlicesByService[serviceKey] ?? []).sorted().compactMap { snapshot.endpointSlices[$0] }
    }

    /// The whole plan from the plans of single services (by `namespace/name`), in service order.
    public static func assemble(_ parts: [String: ServicePlan], nodeAddresses: [IPAddress]) -> ServiceProxyPlan {
        var planned: [PlannedVirtualService] = []
        var vips = Set<IPAddress>()
        var problems: [String] = []
        for key in parts.keys.sorted() {
            let part = parts[key]!
            planned += part.services
            vips.formUnion(part.vips)
            problems += part.problems
        }
        return ServiceProxyPlan(services: planned, vips: vips.subtracting(nodeAddresses).sorted(), problems: problems)
    }

    /// `assemble(parts)` after one service's part changed from `old` to what `parts` now holds for `key` (nil:
    /// the service is gone), from the plan assembled before, without going through every part: the service's
    /// virtual services are found by binary search (the plan holds them in key order), and the VIPs and problems
    /// are gathered again only when that service's own changed. At 10,000 services, assembling it all again was
    /// most of an endpoint event's cost. In place: a plan held elsewhere too would be copied whole.
    public static func reassemble(
        _ plan: inout ServiceProxyPlan, key: String, old: ServicePlan?, parts: [String: ServicePlan],
        nodeAddresses: [IPAddress]
    ) {
        let new = parts[key]
        let start = firstIndex(in: plan.services) { serviceKey(of: $0) >= key }
        var end = start
        while end < plan.services.count, serviceKey(of: plan.services[end]) == key { end += 1 }
        plan.services.replaceSubrange(start..<end, with: new?.services ?? [])
        if (old?.vips ?? []) != (new?.vips ?? []) || (old?.problems ?? []) != (new?.problems ?? []) {
            let all = assemble(parts, nodeAddresses: nodeAddresses)
            plan.vips = all.vips
            plan.problems = all.problems
        }
    }

    /// The service (`namespace/name`) a virtual service was planned for: its origin is `namespace/name:port`.
    static func serviceKey(of planned: PlannedVirtualService) -> Substring {
        planned.origin.prefix { $0 != ":" }
    }

    /// The first index where `after` holds (it holds from some index to the end).
    private static func firstIndex(
        in services: [PlannedVirtualService], where after: (PlannedVirtualService) -> Bool
    ) -> Int {
        var low = 0
        var high = services.count
        while low < high {
            let middle = (low + high) / 2
            if after(services[middle]) { high = middle } else { low = middle + 1 }
        }
        return low
    }

    /// One service's virtual services, VIPs and problems: the unit an event replans.
    public static func plan(
        service: Service, slices: [EndpointSlice], node: String, nodeAddresses: [IPAddress],
        options: Options = Options()
    ) -> ServicePlan {
        var part = ServicePlan()
        guard !service.isHeadless, service.type != "ExternalName", service.meta.labels[proxyNameLabel] == nil else {
            return part
        }
        var scheduler = service.meta.annotations[schedulerAnnotation] ?? "rr"
        if !schedulers.contains(scheduler) {
            part.problems.append(
                "service \(service.meta.key): annotation \(schedulerAnnotation)=\"\(scheduler)\" "
                    + "is not an IPVS scheduler (\(schedulers.sorted().joined(separator: ", "))); using rr"
            )
            scheduler = "rr"
        }
        for port in service.ports {
            let portName = port.name.isEmpty ? String(port.port) : port.name
            func destinations(family: IPAddress.Family, localOnly: Bool) -> [IPVSDestination] {
                var result: [IPVSDestination.Server: IPVSDestination] = [:]
                for slice in slices {
                    guard let slicePort = slice.ports.first(where: { $0.name == port.name && $0.proto == port.proto })
                    else { continue }
                    for endpoint in slice.endpoints {
                        if localOnly && endpoint.nodeName != node { continue }
                        let weight: Int32
                        if endpoint.ready && !endpoint.terminating {
                            weight = 1
                        } else if options.gracefulTermination && endpoint.serving {
                            weight = 0
                        } else {
                            continue
                        }
                        for address in endpoint.addresses where address.family == family {
                            let d = IPVSDestination(address: address, port: UInt16(slicePort.port), weight: weight)
                            // The same endpoint in two slices: ready wins over draining.
                            if let existing = result[d.server], existing.weight >= weight { continue }
                            result[d.server] = d
                        }
                    }
                }
                return result.values.sorted { $0.address != $1.address ? $0.address < $1.address : $0.port < $1.port }
            }
            func add(_ address: IPAddress, _ number: Int, kind: VirtualServiceKind, localOnly: Bool) {
                let svc = IPVSService(
                    address: address, proto: port.proto, port: UInt16(number), scheduler: scheduler,
                    persistent: service.sessionAffinityClientIP,
                    timeout: service.sessionAffinityClientIP ? UInt32(service.sessionAffinityTimeout) : 0)
                part.services.append(
                    PlannedVirtualService(
                        service: svc, destinations: destinations(family: address.family, localOnly: localOnly),
                        origin: "\(service.meta.key):\(portName)", kind: kind, portName: portName,
                        hairpin: options.hairpinAll || service.meta.annotations[hairpinAnnotation] != nil,
                        namespace: service.meta.namespace, serviceName: service.meta.name))
            }
            for ip in service.clusterIPs {
                add(ip, port.port, kind: .clusterIP, localOnly: service.internalTrafficPolicyLocal)
                part.vips.append(ip)
            }
            if let nodePort = port.nodePort, service.type == "NodePort" || service.type == "LoadBalancer" {
                for address in nodeAddresses {
                    add(address, nodePort, kind: .nodePort, localOnly: service.externalTrafficPolicyLocal)
                }
            }
            for ip in service.externalIPs {
                add(ip, port.port, kind: .externalIP, localOnly: service.externalTrafficPolicyLocal)
                part.vips.append(ip)
            }
            if service.type == "LoadBalancer" {
                for ip in service.loadBalancerIPs {
                    add(ip, port.port, kind: .loadBalancer, localOnly: service.externalTrafficPolicyLocal)
                    part.vips.append(ip)
                }
            }
        }
        return part
    }
}
