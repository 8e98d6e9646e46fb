import KubeModel

/// Service IPs over BGP, as kube-router announces them: a host route (/32, /128) for each ClusterIP, external
/// IP and LoadBalancer ingress IP that `--advertise-cluster-ip`, `--advertise-external-ip` and
/// `--advertise-loadbalancer-ip` turn on, or the service's annotations `kube-router.io/service.advertise.
/// clusterip|externalip|loadbalancerip` ("true" or "false", over the flag). A service whose traffic policy for
/// that IP is Local (internal for the ClusterIP, external for the others) is announced only by nodes with a
/// ready endpoint of it, so that traffic is never drawn to a node that would drop it; the others by every
/// node. Headless and ExternalName services have nothing to announce. Pure.
public struct ServiceAdvertisement: Sendable, Equatable {
    public var clusterIP: Bool
    public var externalIP: Bool
    public var loadBalancerIP: Bool

    public static let annotations = (
        clusterIP: "kube-router.io/service.advertise.clusterip",
        externalIP: "kube-router.io/service.advertise.externalip",
        loadBalancerIP: "kube-router.io/service.advertise.loadbalancerip"
    )

    public init(clusterIP: Bool = false, externalIP: Bool = false, loadBalancerIP: Bool = false) {
        self.clusterIP = clusterIP
        self.externalIP = externalIP
        self.loadBalancerIP = loadBalancerIP
    }

    /// The host routes node `node` announces for the services, sorted; problems name the service and
    /// annotation (a value other than true or false: the flag applies).
    public func routes(
        node: String, services: [String: Service], slices: [String: EndpointSlice]
    ) -> (routes: [CIDR], problems: [String]) {
        var problems: [String] = []
        // Services with a ready endpoint on this node, by `namespace/name`.
        var local = Set<String>()
        for slice in slices.values where !slice.serviceName.isEmpty {
            if slice.endpoints.contains(where: { $0.ready && $0.nodeName == node }) {
                local.insert(slice.meta.namespace + "/" + slice.serviceName)
            }
        }
        var routes = Set<CIDR>()
        for (key, service) in services.sorted(by: { $0.key < $1.key }) where service.type != "ExternalName" {
            func wanted(_ annotation: String, _ flag: Bool) -> Bool {
                guard let text = service.meta.annotations[annotation] else { return flag }
                switch text.lowercased() {
                case "true": return true
                case "false": return false
                default:
                    problems.append(
                        "service \(key): annotation \(annotation)=\"\(text)\" is not true or false; using the flag "
                            + "(\(flag))")
                    return flag
                }
            }
            var ips: [IPAddress] = []
            if !service.isHeadless, wanted(Self.annotations.clusterIP, clusterIP),
                !service.internalTrafficPolicyLocal || local.contains(key)
            {
                ips += service.clusterIPs
            }
            let externalReachable = !service.externalTrafficPolicyLocal || local.contains(key)
            if externalReachable, wanted(Self.annotations.externalIP, externalIP) { ips += service.externalIPs }
            if externalReachable, service.type == "LoadBalancer",
                wanted(Self.annotations.loadBalancerIP, loadBalancerIP)
            {
                ips += service.loadBalancerIPs
            }
            for ip in ips { routes.insert(CIDR(network: ip, prefixLength: ip.family == .ipv4 ? 32 : 128)) }
        }
        return (routes.sorted { $0.description < $1.description }, problems)
    }
}
