import Foundation

/// The lab's wires: a control-plane namespace holding the bridge and the API server's address, and one
/// namespace per node joined to that bridge by a veth pair, as nodes on one switch.
struct LabNetwork {
    let layout: LabLayout

    func createControlPlane() throws {
        Self.loadBridgeNetfilter()
        let cp = layout.controlPlaneNetns
        try Shell.ip("netns", "add", cp)
        try Shell.ip(in: cp, "link", "set", "lo", "up")
        try Shell.ip(in: cp, "link", "add", layout.bridge, "type", "bridge")
        try Shell.ip(in: cp, "addr", "add", "\(layout.apiAddress)/24", "dev", layout.bridge)
        try Shell.ip(in: cp, "link", "set", layout.bridge, "up")
    }

    func createNode(index: Int) throws {
        let node = layout.nodeName(index)
        let netns = layout.nodeNetns(node)
        let cp = layout.controlPlaneNetns
        try Shell.ip("netns", "add", netns)
        try Shell.ip(in: netns, "link", "set", "lo", "up")
        // The node's end is eth0; the switch's end is named after the node in the control plane.
        let port = "\(layout.name)n\(index)"
        try Shell.ip(in: cp, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", netns)
        try Shell.ip(in: cp, "link", "set", port, "master", layout.bridge)
        try Shell.ip(in: cp, "link", "set", port, "up")
        try Shell.ip(in: netns, "addr", "add", "\(layout.nodeAddress(index))/24", "dev", "eth0")
        try Shell.ip(in: netns, "link", "set", "eth0", "up")
        // A node forwards its pods' traffic, as any Kubernetes node is set up to.
        try Shell.run("/usr/sbin/ip", ["netns", "exec", netns, "sysctl", "-qw", "net.ipv4.ip_forward=1"])
        // And, as kubeadm requires of a node, bridged pod traffic goes through netfilter: without it a pod's
        // reply to a client on its own bridge skips the service proxy's NAT (a Service whose endpoint shares the
        // client's node times out) and the pod policies never see pod-to-pod traffic on one node.
        for setting in ["net.bridge.bridge-nf-call-iptables=1", "net.bridge.bridge-nf-call-ip6tables=1"] {
            let result = try Shell.run(
                "/usr/sbin/ip", ["netns", "exec", netns, "sysctl", "-qw", setting], check: false)
            if result.status != 0 {
                print(
                    "lab: warning: \(node): cannot set \(setting) (br_netfilter missing?): Services answered by a pod "
                        + "on the client's own node will time out")
            }
        }
    }

    /// Loads br_netfilter with the kernel's modprobe (it is never loaded on demand), as a node's setup does.
    static func loadBridgeNetfilter() {
        let modprobe =
            (try? String(contentsOfFile: "/proc/sys/kernel/modprobe", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? "/sbin/modprobe"
        _ = try? Shell.run(modprobe.isEmpty ? "/sbin/modprobe" : modprobe, ["-q", "br_netfilter"], check: false)
    }

    /// Every namespace of this lab (control plane, nodes, pods).
    func namespaces() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/var/run/netns")) ?? []
        return names.filter { $0.hasPrefix("\(layout.name)-") }.sorted()
    }

    /// Removes every namespace of the lab: their links, routes and rules go with them.
    func deleteAll() {
        for netns in namespaces() { try? Shell.ip("netns", "delete", netns, check: false) }
    }
}
