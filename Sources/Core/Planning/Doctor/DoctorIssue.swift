import Foundation

/// The issues the checks cite (kube-router's where there is one).
public enum DoctorIssue {
    static let base = "https://github.com/cloudnativelabs/kube-router/issues/"
    /// Kube-router mixes iptables-legacy and iptables-nft rules.
    public static let mixedBackends = base + "1069"
    /// kube-router does not work with iptables 1.8.8 (nf_tables) on host: user-space version skew.
    public static let versionSkew = base + "1370"
    /// 'iptables: No chain/target/match by that name': the xt_set match is missing.
    public static let xtSet = base + "775"
    /// 'Kernel error received: set type not supported'.
    public static let setType = base + "539"
    /// `modprobe ip_vs` failed: IPVS not available to the service proxy.
    public static let ipvs = base + "907"
    /// Hairpin traffic and bridged pod traffic need br_netfilter and bridge-nf-call-iptables.
    public static let brNetfilter = base + "151"
    /// Reverse path filtering drops asymmetric pod traffic.
    public static let rpFilter = base + "138"
    /// NodePort service not visible beyond the node: Docker's FORWARD DROP.
    public static let forwardDrop = base + "757"
    /// kube-proxy's rules interfere with IPVS: `kube-proxy --cleanup`.
    public static let kubeProxyLeftovers = base + "278"
    /// Concurrent iptables writers without the shared xtables lock.
    public static let xtablesLock = base + "506"
    /// A CNI configuration with an empty host-local subnet.
    public static let cniConfig = base + "246"
    /// The CNI plugins (bridge, host-local) kube-router's configuration uses are missing.
    public static let cniPlugins = base + "878"
    /// No pod CIDR allocated to the node.
    public static let podCIDR = base + "320"
    /// systemd-networkd restart silently breaks kube-router (foreign routes removed).
    public static let networkd = base + "1815"
    /// The agent's service account may not list what it watches.
    public static let rbac = base + "115"
    /// nf_conntrack: table full, dropping packet (Kubernetes' issue; kube-router has none of its own).
    public static let conntrackFull = "https://github.com/kubernetes/kubernetes/issues/71261"
}
