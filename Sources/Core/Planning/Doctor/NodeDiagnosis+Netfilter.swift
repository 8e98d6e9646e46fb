import Foundation
import KubeModel

/// iptables: both backends, the host's tools, Docker's FORWARD policy, kube-proxy's rules, the lock.
extension NodeDiagnosis {
    /// Chains of a backend's snapshot that are not built in, `table/CHAIN`.
    static func userChains(_ snapshot: IPTablesSnapshot) -> [String] {
        snapshot.tables.flatMap { t in t.chains.filter { $0.policy == nil }.map { "\(t.name)/\($0.name)" } }
    }

    static func tablesWithRules(_ snapshot: IPTablesSnapshot) -> [String] {
        snapshot.tables.filter { $0.chains.contains { $0.rules > 0 } }.map(\.name)
    }

    static func backends(_ n: NodeFacts.NetfilterFacts) -> DoctorCheck {
        let id = "iptables-backends"
        let controllers: [DoctorController] = [.firewall, .serviceProxy]
        func check(_ status: DoctorCheck.Status, _ message: String, fix: String? = nil) -> DoctorCheck {
            DoctorCheck(
                id: id, status: status, message: message, fix: fix, issue: DoctorIssue.mixedBackends,
                controllers: controllers)
        }
        guard n.legacy != nil || n.nft != nil else {
            let reasons = [n.legacyError.map { "legacy: \($0)" }, n.nftError.map { "nft: \($0)" }].compactMap { $0 }
            return check(.skip, "neither backend could be read (\(reasons.joined(separator: "; ")))")
        }
        let legacy =
            n.legacy.map { l in
                "legacy: \(plural(l.ruleCount, "rule"))"
                    + (l.ruleCount > 0 ? " (\(tablesWithRules(l).joined(separator: ", ")))" : "")
            } ?? "legacy: unread (\(n.legacyError ?? "unknown"))"
        guard let nft = n.nft, nft.ruleCount > 0 else {
            let nftText = n.nft == nil ? "nft: unread (\(n.nftError ?? "unknown"))" : "nft: no rules"
            return check(.ok, "\(legacy); \(nftText)")
        }
        let chains = userChains(nft)
        let nftText =
            "nft: \(plural(nft.ruleCount, "rule")) in \(tablesWithRules(nft).joined(separator: ", "))"
            + (chains.isEmpty ? "" : " (chains \(some(chains)))")
        let fix =
            "make every component of the node write one backend: kube-router writes legacy (libiptc), so switch "
            + "the others to it (update-alternatives --set iptables /usr/sbin/iptables-legacy, and ip6tables; "
            + "restart kubelet, the container runtime, Docker) and delete their nft rules after reviewing them "
            + "(nft list ruleset)"
        if (n.legacy?.ruleCount ?? 0) > 0 {
            return check(
                .warn,
                "both backends hold rules (\(legacy); \(nftText)): every packet passes both, and each side's "
                    + "tools show half of what filters it",
                fix: fix)
        }
        return check(
            .warn,
            "\(nftText), and kube-router writes the legacy backend (\(legacy)): once it runs, packets pass both",
            fix: fix)
    }

    static func iptablesVersion(_ n: NodeFacts.NetfilterFacts) -> DoctorCheck {
        let id = "iptables-version"
        if let error = n.nftError, error.contains("incompatible") {
            return DoctorCheck(
                id: id, status: .fail,
                message: "this host's iptables (\(n.hostIPTables ?? "unknown version")) cannot read the nf_tables "
                    + "rules: a newer iptables (a container's) wrote them (\(error)); the tools see a broken table",
                fix: "run the same iptables version on the host and in every container that writes rules (the "
                    + "newest); kube-router's own rules are legacy and not affected",
                issue: DoctorIssue.versionSkew)
        }
        guard let version = n.hostIPTables else {
            return DoctorCheck(
                id: id, status: .skip, message: "no iptables command on this node", issue: DoctorIssue.versionSkew)
        }
        let mode =
            version.contains("nf_tables")
            ? ": the iptables command works on nf_tables, so iptables -L and iptables-save do not show "
                + "kube-router's rules (iptables-legacy-save does)"
            : ": the same backend kube-router writes"
        return DoctorCheck(id: id, status: .ok, message: version + mode, issue: DoctorIssue.versionSkew)
    }

    static let dockerChains: Set<String> = ["DOCKER", "DOCKER-USER", "DOCKER-FORWARD", "DOCKER-ISOLATION-STAGE-1"]

    static func forwardDrop(_ n: NodeFacts.NetfilterFacts) -> DoctorCheck {
        let id = "forward-policy"
        let controllers: [DoctorController] = [.router, .serviceProxy]
        let sides = [("legacy", n.legacy), ("nft", n.nft)].compactMap { name, snapshot in
            snapshot.map { (name, $0) }
        }
        guard !sides.isEmpty else {
            return DoctorCheck(
                id: id, status: .skip, message: "neither iptables backend could be read",
                issue: DoctorIssue.forwardDrop, controllers: controllers)
        }
        let policies = sides.compactMap { name, s in s["filter"]?["FORWARD"]?.policy.map { (name, $0) } }
        let docker = sides.contains { _, s in s["filter"]?.chains.contains { dockerChains.contains($0.name) } ?? false }
        let dropping = policies.filter { $0.1 == "DROP" }.map(\.0)
        let shown = policies.map { "\($0.1) (\($0.0))" }.joined(separator: ", ")
        guard !dropping.isEmpty else {
            return DoctorCheck(
                id: id, status: .ok,
                message: policies.isEmpty ? "no filter FORWARD chain" : "filter FORWARD policy \(shown)",
                issue: DoctorIssue.forwardDrop, controllers: controllers)
        }
        let who = docker ? "Docker set the filter FORWARD policy to DROP" : "the filter FORWARD policy is DROP"
        return DoctorCheck(
            id: id, status: .warn,
            message: "\(who) (\(list(dropping))): forwarded traffic no rule accepts is dropped, such as traffic "
                + "to pods from other nodes and service traffic IPVS sends to endpoints on other nodes",
            fix: docker
                ? "keep Docker out of the node's firewall (\"iptables\": false in /etc/docker/daemon.json; a "
                    + "Kubernetes node needs only containerd), or accept the pod CIDR in DOCKER-USER"
                : "accept the cluster's pod CIDR in FORWARD (iptables -I FORWARD -s POD_CIDR -j ACCEPT, and -d), "
                    + "or set the policy to ACCEPT",
            issue: DoctorIssue.forwardDrop, controllers: controllers)
    }

    /// kube-proxy's chains (iptables and IPVS modes); KUBE-FIREWALL and KUBE-KUBELET-CANARY are kubelet's.
    static func isKubeProxyChain(_ name: String) -> Bool {
        [
            "KUBE-SERVICES", "KUBE-NODEPORTS", "KUBE-PROXY-CANARY", "KUBE-PROXY-FIREWALL", "KUBE-EXTERNAL-SERVICES",
            "KUBE-NODE-PORT", "KUBE-LOAD-BALANCER",
        ].contains(name)
            || ["KUBE-SVC-", "KUBE-SEP-", "KUBE-XLB-", "KUBE-EXT-", "KUBE-FW-", "KUBE-SVL-"].contains {
                name.hasPrefix($0)
            }
    }

    static func kubeProxyLeftovers(_ facts: NodeFacts) -> DoctorCheck {
        let id = "kube-proxy-leftovers"
        let n = facts.netfilter
        let sides = [("legacy", n.legacy), ("nft", n.nft)].compactMap { name, s in s.map { (name, $0) } }
        guard !sides.isEmpty || facts.interfaces != nil else {
            return DoctorCheck(
                id: id, status: .skip, message: "neither iptables backend nor the interfaces could be read",
                issue: DoctorIssue.kubeProxyLeftovers, controllers: [.serviceProxy])
        }
        var found: [String] = []
        for (name, snapshot) in sides {
            let chains = snapshot.chainNames.filter { isKubeProxyChain($0.chain) }
            guard !chains.isEmpty else { continue }
            let services = chains.filter { $0.chain.hasPrefix("KUBE-SVC-") }.count
            let named = chains.filter { !$0.chain.hasPrefix("KUBE-SVC-") && !$0.chain.hasPrefix("KUBE-SEP-") }
                .map { "\($0.table)/\($0.chain)" }
            found.append(
                "\(plural(chains.count, "chain")) in \(name) (\(some(named))"
                    + (services > 0 ? ", \(services) KUBE-SVC-*" : "") + ")")
        }
        if facts.interfaces?.contains("kube-ipvs0") == true { found.append("the link kube-ipvs0 (IPVS mode)") }
        guard !found.isEmpty else {
            return DoctorCheck(
                id: id, status: .ok, message: "no kube-proxy chains or links", issue: DoctorIssue.kubeProxyLeftovers,
                controllers: [.serviceProxy])
        }
        return DoctorCheck(
            id: id, status: .warn,
            message: "kube-proxy's state is here: \(found.joined(separator: "; ")); its rules catch service "
                + "traffic before IPVS does, so services follow kube-proxy's last view, not kube-router's",
            fix: "remove the kube-proxy DaemonSet (kubectl -n kube-system delete ds kube-proxy), then on every node "
                + "run kube-proxy --cleanup (or delete its chains) and ip link del kube-ipvs0",
            issue: DoctorIssue.kubeProxyLeftovers, controllers: [.serviceProxy])
    }

    static func xtablesLock(_ lock: NodeFacts.PathFact) -> DoctorCheck {
        let id = "xtables-lock"
        let controllers: [DoctorController] = [.firewall, .serviceProxy]
        switch lock.kind {
        case .file:
            return DoctorCheck(
                id: id, status: .ok, message: "\(lock.path) exists", issue: DoctorIssue.xtablesLock,
                controllers: controllers)
        case .missing:
            return DoctorCheck(
                id: id, status: .warn,
                message: "\(lock.path) is absent: no iptables writer has run here yet, or this is a container "
                    + "that does not share the host's lock, so its table commits can overwrite kubelet's or "
                    + "Docker's",
                fix: "in a pod, mount the host's \(lock.path) (hostPath, type: FileOrCreate)",
                issue: DoctorIssue.xtablesLock, controllers: controllers)
        case .directory, .other:
            return DoctorCheck(
                id: id, status: .fail,
                message: "\(lock.path) is a \(lock.kind == .directory ? "directory" : "special file"), not a "
                    + "file: no iptables writer can lock it (a hostPath volume without type: FileOrCreate makes "
                    + "a directory)",
                fix: "remove it on the host (rmdir \(lock.path)) and mount it with hostPath type: FileOrCreate",
                issue: DoctorIssue.xtablesLock, controllers: controllers)
        }
    }
}
