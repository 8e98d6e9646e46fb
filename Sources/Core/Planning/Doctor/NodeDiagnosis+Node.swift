import Foundation
import KubeModel

/// The node's CNI configuration, addresses, pod CIDR, routes and systemd-networkd.
extension NodeDiagnosis {
    /// One CNI configuration file, read: its network name and the plugin types it chains.
    struct CNIConfig {
        var file: String
        var name: String?
        var types: [String]
        /// host-local IPAM with an empty subnet (a configuration written before the node had a pod CIDR).
        var emptySubnet: Bool
    }

    static func cniConfig(file: NodeFacts.TextFile) -> Result<CNIConfig, JSONError> {
        let value: JSONValue
        do {
            value = try JSONValue.parseJSON(Data(file.text.utf8))
        } catch {
            return .failure(JSONError(description: "\(error)"))
        }
        let plugins = value["plugins"]?.arrayValue ?? [value]
        var types: [String] = []
        var emptySubnet = false
        for plugin in plugins {
            if let type = plugin["type"]?.stringValue { types.append(type) }
            guard let ipam = plugin["ipam"] else { continue }
            if let type = ipam["type"]?.stringValue { types.append(type) }
            if ipam["type"]?.stringValue == "host-local" {
                let subnets =
                    [ipam["subnet"]?.stringValue]
                    + (ipam["ranges"]?.arrayValue ?? []).flatMap {
                        ($0.arrayValue ?? []).map { $0["subnet"]?.stringValue }
                    }
                let given = subnets.compactMap { $0 }
                if given.isEmpty || given.contains(where: { $0.trimmingCharacters(in: .whitespaces).isEmpty }) {
                    emptySubnet = true
                }
            }
        }
        return .success(
            CNIConfig(file: file.path, name: value["name"]?.stringValue, types: types, emptySubnet: emptySubnet))
    }

    static func fileName(_ path: String) -> String { path.split(separator: "/").last.map(String.init) ?? path }

    struct JSONError: Error, CustomStringConvertible { var description: String }

    /// The configuration the runtime uses: the first file by name.
    static func chosenCNIConfig(_ cni: NodeFacts.CNIFacts) -> NodeFacts.TextFile? {
        cni.configs?.min { $0.path < $1.path }
    }

    static func cniConfig(_ cni: NodeFacts.CNIFacts) -> DoctorCheck {
        let id = "cni-config"
        guard let configs = cni.configs, let first = chosenCNIConfig(cni) else {
            return DoctorCheck(
                id: id, status: .warn,
                message: cni.configs == nil
                    ? "\(cni.confDir) does not exist: the container runtime starts no pods until a network "
                        + "configuration is there"
                    : "no configuration in \(cni.confDir) (.conf, .conflist, .json): the container runtime starts "
                        + "no pods until one is there",
                fix: "run kube-router with --enable-cni (it writes 10-kuberouter.conflist from the node's pod CIDR), "
                    + "or install your CNI's configuration",
                issue: DoctorIssue.cniConfig)
        }
        let name = fileName(first.path)
        switch cniConfig(file: first) {
        case .failure(let error):
            return DoctorCheck(
                id: id, status: .fail,
                message: "\(name), the configuration the runtime uses, is not valid JSON (\(error)): no pod starts",
                fix: "fix or remove \(first.path)", issue: DoctorIssue.cniConfig)
        case .success(let config):
            let described =
                "\(name) (network \(config.name ?? "without a name"), plugins \(config.types.joined(separator: ", ")))"
            if config.emptySubnet {
                return DoctorCheck(
                    id: id, status: .fail,
                    message: "\(described) gives host-local an empty subnet: pods get no address",
                    fix: "let kube-router rewrite it once the node has a pod CIDR (--enable-cni), or set the subnet "
                        + "to the node's spec.podCIDR",
                    issue: DoctorIssue.cniConfig)
            }
            let ours = configs.first { fileName($0.path) == "10-kuberouter.conflist" }
            if let ours, ours.path != first.path {
                return DoctorCheck(
                    id: id, status: .warn,
                    message: "the runtime uses \(described), which sorts before kube-router's 10-kuberouter.conflist",
                    fix: "remove the other network's configuration from \(cni.confDir) (or rename it to sort after)",
                    issue: DoctorIssue.cniConfig)
            }
            let others = configs.count > 1 ? " (\(configs.count - 1) more file(s) after it are not used)" : ""
            return DoctorCheck(id: id, status: .ok, message: "uses \(described)\(others)", issue: DoctorIssue.cniConfig)
        }
    }

    static func cniPlugins(_ cni: NodeFacts.CNIFacts) -> DoctorCheck {
        let id = "cni-plugins"
        guard let first = chosenCNIConfig(cni), case .success(let config) = cniConfig(file: first) else {
            return DoctorCheck(
                id: id, status: .skip, message: "no usable CNI configuration to check the plugins of (see cni-config)",
                issue: DoctorIssue.cniPlugins)
        }
        let needed = Array(Set(config.types)).sorted()
        guard let plugins = cni.plugins else {
            return DoctorCheck(
                id: id, status: .fail,
                message: "\(cni.binDir) does not exist: \(list(needed)) are needed by "
                    + "\(fileName(first.path)), so no pod starts",
                fix: "install the CNI plugins into \(cni.binDir) (Debian: containernetworking-plugins; or the "
                    + "release of github.com/containernetworking/plugins)",
                issue: DoctorIssue.cniPlugins)
        }
        let missing = needed.filter { !plugins.contains($0) }
        guard missing.isEmpty else {
            return DoctorCheck(
                id: id, status: .fail,
                message: "missing in \(cni.binDir): \(list(missing)) (needed by "
                    + "\(fileName(first.path))): no pod starts",
                fix: "install the CNI plugins into \(cni.binDir) (Debian: containernetworking-plugins; or the "
                    + "release of github.com/containernetworking/plugins)",
                issue: DoctorIssue.cniPlugins)
        }
        return DoctorCheck(
            id: id, status: .ok, message: "\(list(needed)) in \(cni.binDir)", issue: DoctorIssue.cniPlugins)
    }

    /// Interfaces whose addresses are not the node's: kube-router's and kube-proxy's own.
    static let ownInterfaces: Set<String> = ["lo", "kube-bridge", "kube-dummy-if", "kube-ipvs0"]

    static func isGlobal(_ address: IPAddress) -> Bool {
        let loopback = CIDR(address.family == .ipv4 ? "127.0.0.0/8" : "::1/128")!
        let linkLocal = CIDR(address.family == .ipv4 ? "169.254.0.0/16" : "fe80::/10")!
        return !loopback.contains(address) && !linkLocal.contains(address)
    }

    /// The address part of `10.0.0.5/24`.
    static func host(_ text: String) -> IPAddress? {
        IPAddress(text.split(separator: "/").first ?? Substring(text))
    }

    static func nodeAddresses(_ facts: NodeFacts) -> DoctorCheck {
        let id = "node-addresses"
        guard let addresses = facts.addresses else {
            return DoctorCheck(
                id: id, status: .skip, message: "cannot read this host's addresses", controllers: [.router])
        }
        let global = addresses.filter { a in
            !ownInterfaces.contains(a.interface) && host(a.address).map(isGlobal) == true
        }
        guard !global.isEmpty else {
            return DoctorCheck(
                id: id, status: .fail,
                message: "no global address on any interface (only loopback, link-local or kube-router's own)",
                fix: "configure the node's network before kube-router starts", controllers: [.router])
        }
        let shown = global.map { "\($0.address) on \($0.interface)" }
        let api = facts.api
        guard let node = api?.nodes?.first(where: { $0.name == api?.node }), !node.internalIPs.isEmpty else {
            return DoctorCheck(id: id, status: .ok, message: some(shown), controllers: [.router])
        }
        let here = Set(global.compactMap { host($0.address) })
        let away = node.internalIPs.filter { ip in IPAddress(ip).map { !here.contains($0) } ?? true }
        guard away.isEmpty else {
            return DoctorCheck(
                id: id, status: .fail,
                message: "node \(node.name)'s InternalIP \(list(away)) (from the API) is on no interface of this host "
                    + "(\(some(shown))): this is not \(node.name), or its address changed, and BGP peers use it",
                fix: "check the node name (krctl --node, kube-router --hostname-override) and kubelet's --node-ip",
                controllers: [.router])
        }
        return DoctorCheck(
            id: id, status: .ok,
            message: "InternalIP \(list(node.internalIPs)) of node \(node.name) is here (\(some(shown)))",
            controllers: [.router])
    }

    static func nodePodCIDR(_ facts: NodeFacts) -> DoctorCheck {
        let id = "node-pod-cidr"
        func skip(_ message: String) -> DoctorCheck {
            DoctorCheck(id: id, status: .skip, message: message, issue: DoctorIssue.podCIDR, controllers: [.router])
        }
        guard let api = facts.api else {
            if let advertised = facts.agent?.router?.advertised, !advertised.isEmpty {
                return DoctorCheck(
                    id: id, status: .ok, message: "\(list(advertised)) (the agent's router status; no API to ask)",
                    issue: DoctorIssue.podCIDR, controllers: [.router])
            }
            return skip("no API server to read the node's spec.podCIDR from (krctl --kubeconfig)")
        }
        if api.error != nil { return skip("the API server could not be asked (see api-rbac)") }
        guard let nodes = api.nodes else { return skip("cannot list nodes: \(api.nodesError ?? "unknown error")") }
        guard let node = nodes.first(where: { $0.name == api.node }) else {
            return DoctorCheck(
                id: id, status: .fail,
                message: "node \"\(api.node)\" is not in the API (\(plural(nodes.count, "node")) are"
                    + (api.nodesError.map { "; \($0)" } ?? "") + "): the agent finds no node to configure",
                fix: "give the node's name as kubectl get nodes shows it (krctl --node, kube-router "
                    + "--hostname-override)",
                issue: DoctorIssue.podCIDR, controllers: DoctorController.allCases)
        }
        guard !node.podCIDRs.isEmpty else {
            return DoctorCheck(
                id: id, status: .fail,
                message: "node \(node.name) has no spec.podCIDR: the router has nothing to advertise, and CNI's "
                    + "host-local has no subnet to give pods addresses from",
                fix: "run kube-controller-manager with --allocate-node-cidrs=true and --cluster-cidr (kubeadm: "
                    + "--pod-network-cidr), or set the node's spec.podCIDR",
                issue: DoctorIssue.podCIDR, controllers: [.router])
        }
        return DoctorCheck(
            id: id, status: .ok, message: "node \(node.name): \(list(node.podCIDRs))", issue: DoctorIssue.podCIDR,
            controllers: [.router])
    }

    static func podCIDRRoutes(_ facts: NodeFacts) -> DoctorCheck {
        let id = "pod-cidr-routes"
        guard let routes = facts.routes else {
            return DoctorCheck(id: id, status: .skip, message: "cannot read the routing table", controllers: [.router])
        }
        guard let api = facts.api, api.error == nil, let nodes = api.nodes else {
            return DoctorCheck(
                id: id, status: .skip, message: "no nodes from the API to know the pod CIDRs by (see node-pod-cidr)",
                controllers: [.router])
        }
        let ours: Set<UInt8> = [NodeNetwork.kubeRouterProtocol, DoctorCatalog.kernelRouteProtocol]
        var clashes: [String] = []
        var checked = 0
        for node in nodes where node.name != api.node {
            for text in node.podCIDRs {
                guard let cidr = CIDR(text) else { continue }
                checked += 1
                for route in routes where CIDR(route.destination) == cidr && !ours.contains(route.proto) {
                    clashes.append("\(route.destination) proto \(route.proto) (node \(node.name)'s pod CIDR)")
                }
            }
        }
        guard clashes.isEmpty else {
            return DoctorCheck(
                id: id, status: .warn,
                message: "routes of another protocol to other nodes' pod CIDRs: \(some(clashes)); the router leaves "
                    + "them alone (krctl bgp routes shows kernel-route-of-another-protocol), so BGP does not route "
                    + "to those pods",
                fix: "delete those routes (ip route del DESTINATION proto PROTO) if BGP should route them",
                controllers: [.router])
        }
        return DoctorCheck(
            id: id, status: .ok,
            message: "no route of another protocol to the pod CIDRs of other nodes (\(plural(checked, "CIDR")))",
            controllers: [.router])
    }

    /// The last `ManageForeignRoutes=` of the `[Network]` sections, in the order systemd reads the files.
    static func manageForeignRoutes(_ configs: [NodeFacts.TextFile]) -> (value: String, file: String)? {
        var found: (String, String)?
        for file in configs {
            var section = ""
            for raw in file.text.split(whereSeparator: \.isNewline) {
                let line = raw.trimmingCharacters(in: .whitespaces)
                if line.hasPrefix("#") || line.hasPrefix(";") || line.isEmpty { continue }
                if line.hasPrefix("[") {
                    section = line
                    continue
                }
                guard section == "[Network]", let eq = line.firstIndex(of: "=") else { continue }
                let key = line[..<eq].trimmingCharacters(in: .whitespaces)
                if key == "ManageForeignRoutes" {
                    found = (line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces), file.path)
                }
            }
        }
        return found
    }

    static func networkdForeignRoutes(_ networkd: NodeFacts.NetworkdFacts) -> DoctorCheck {
        let id = "networkd-foreign-routes"
        guard networkd.running else {
            return DoctorCheck(
                id: id, status: .ok, message: "systemd-networkd does not run here", issue: DoctorIssue.networkd,
                controllers: [.router])
        }
        let setting = manageForeignRoutes(networkd.configs)
        if let setting, ["no", "false", "0", "off"].contains(setting.value.lowercased()) {
            return DoctorCheck(
                id: id, status: .ok, message: "ManageForeignRoutes=\(setting.value) (\(setting.file))",
                issue: DoctorIssue.networkd, controllers: [.router])
        }
        let how = setting.map { "ManageForeignRoutes=\($0.value) in \($0.file)" } ?? "ManageForeignRoutes=yes (default)"
        return DoctorCheck(
            id: id, status: .warn,
            message: "systemd-networkd runs with \(how): when it restarts or reconfigures a link it deletes routes "
                + "it did not make, kube-router's BGP routes (proto \(NodeNetwork.kubeRouterProtocol)) among them, "
                + "until the router's next kernel sync (10 s)",
            fix: "set ManageForeignRoutes=no and ManageForeignRoutingPolicyRules=no under [Network] in "
                + "/etc/systemd/networkd.conf.d/kube-router.conf, then networkctl reload",
            issue: DoctorIssue.networkd, controllers: [.router])
    }
}
