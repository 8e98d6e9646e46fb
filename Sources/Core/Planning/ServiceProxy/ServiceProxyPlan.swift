import KubeModel

/// The IPVS table and the VIPs a node must hold for the cluster's Services, as plain values. Pure.
public struct ServiceProxyPlan: Sendable, Equatable {
    public var services: [PlannedVirtualService]
    /// Addresses for `kube-dummy-if`: cluster, external and load-balancer IPs (never the node's own).
    public var vips: [IPAddress]
    /// Problems with the cluster's data (an unknown scheduler), named by service and annotation.
    public var problems: [String]
}
