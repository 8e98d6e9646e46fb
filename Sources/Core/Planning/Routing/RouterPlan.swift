import Foundation
import KubeModel

/// What the router of one node must do, from the cluster's nodes: its AS and router ID, the
/// prefixes it advertises (its pod CIDRs), and its peers. Pure.
public struct RouterPlan: Sendable, Equatable {
    public var localASN: UInt32
    public var routerID: IPAddress?
    public var advertised: [CIDR]
    public var peers: [BGPPeerConfig]
    /// Which learned routes may be installed: from the nodes' pod CIDRs and addresses, the flags and annotations.
    public var importPolicy: BGPImportPolicy
    /// Problems with the cluster's data (a bad annotation), named by node and annotation; the rest
    /// of the plan stands.
    public var problems: [String]
    /// Host routes of service IPs this node announces besides its pod CIDRs (`ServiceAdvertisement`); not
    /// pod ranges (the CNI file takes `advertised` only).
    public var serviceRoutes: [CIDR] = []
    /// `--advertise-pod-cidr`: whether the pod CIDRs are announced (the CNI file takes them either way).
    public var announcePodCIDRs = true
    /// What is added to the routes towards each peer outside the cluster (communities, prepending).
    public var exports: [IPAddress: BGPExport] = [:]
    /// The node's InternalIPs: our routes' next hop (unless --override-nexthop).
    public var nodeAddresses: [IPAddress] = []
    /// This node reflects routes with this cluster ID (`kube-router.io/rr.server`); nil: it does not.
    public var clusterID: UInt32?

    /// Everything the speaker announces: the pod CIDRs (unless turned off), then the service routes.
    public var announced: [CIDR] {
        let pods = announcePodCIDRs ? advertised : []
        return pods + serviceRoutes.filter { !pods.contains($0) }
    }
}
