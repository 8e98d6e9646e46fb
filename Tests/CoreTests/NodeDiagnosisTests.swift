import Foundation
import TestSupport
import Testing

@testable import Kernel
@testable import KubeModel
@testable import Planning

/// The node checks as a pure function of `NodeFacts`, and the reader on fixture trees.
@Suite struct NodeDiagnosisTests {
    /// The facts of a healthy node, read from a fixture tree (so the reader is exercised too).
    func healthy() throws -> NodeFacts {
        let fixture = try NodeFixture()
        return NodeFactsReader(root: fixture.root, now: Date()).read()
    }

    func check(
        _ facts: NodeFacts, _ id: String, enabled: Set<DoctorController> = Set(DoctorController.allCases)
    )
        throws -> DoctorCheck
    {
        try #require(NodeDiagnosis.evaluate(facts, enabled: enabled)[id], "no check \(id)")
    }

    @Test func healthyNodePassesEveryCheckItCanEvaluate() throws {
        let facts = try healthy()
        #expect(facts.kernelRelease == NodeFixture.release)
        #expect(facts.sysctls["net.ipv4.ip_forward"] == "1")
        #expect(facts.modules.loaded?.contains("xt_set") == true)
        #expect(facts.netfilter.legacy?.ruleCount == 2)
        #expect(facts.netfilter.nft?.ruleCount == 0)
        #expect(facts.xtablesLock.kind == .file)
        let report = NodeDiagnosis.evaluate(facts)
        let problems = report.checks.filter { $0.status == .warn || $0.status == .fail }
        #expect(problems.isEmpty, "\(problems)")
        #expect(report.exitStatus == 0)
        // Without an API and an agent these cannot be evaluated: SKIP, with the reason.
        #expect(report["api-rbac"]?.status == .skip)
        #expect(report["agent-health"]?.status == .skip)
        #expect(report["node-pod-cidr"]?.status == .skip)
        let ids = report.checks.map(\.id)
        #expect(Set(ids).count == ids.count, "ids are unique")
        #expect(ids.allSatisfy { $0.range(of: "^[a-z0-9_.-]+$", options: .regularExpression) != nil })
    }

    @Test func ipForwardOffFailsAndBlocksOnlyTheControllersThatNeedIt() throws {
        var facts = try healthy()
        facts.sysctls["net.ipv4.ip_forward"] = "0"
        let report = NodeDiagnosis.evaluate(facts)
        let forward = try #require(report["sysctl-ip_forward"])
        #expect(forward.status == .fail)
        #expect(forward.fix?.contains("sysctl -w net.ipv4.ip_forward=1") == true)
        #expect(report.exitStatus == 2)
        #expect(report.blocking([.router]).map(\.id) == ["sysctl-ip_forward"])
        #expect(report.blocking([.firewall]).isEmpty)
    }

    @Test func strictReversePathFilteringWarns() throws {
        var facts = try healthy()
        facts.sysctls["net.ipv4.conf.all.rp_filter"] = "1"
        let rp = try check(facts, "sysctl-rp_filter")
        #expect(rp.status == .warn)
        #expect(rp.message.contains("net.ipv4.conf.all.rp_filter=1"))
        #expect(rp.issue == DoctorIssue.rpFilter)
        #expect(NodeDiagnosis.evaluate(facts).exitStatus == 1)
        facts.sysctls["net.ipv4.conf.all.rp_filter"] = "2"
        #expect(try check(facts, "sysctl-rp_filter").status == .ok)
    }

    @Test func bridgeNetfilterAbsentFails() throws {
        var facts = try healthy()
        facts.sysctls["net.bridge.bridge-nf-call-iptables"] = nil
        let bridge = try check(facts, "sysctl-bridge-nf-call-iptables")
        #expect(bridge.status == .fail && bridge.message.contains("br_netfilter is not loaded"))
        // Nothing under /proc/sys at all: unreadable, not missing.
        facts.sysctls = [:]
        #expect(try check(facts, "sysctl-bridge-nf-call-iptables").status == .skip)
    }

    @Test func moduleEvidenceFromEachSource() throws {
        var facts = try healthy()
        facts.modules.loaded = facts.modules.loaded?.filter { $0 != "xt_set" && $0 != "br_netfilter" }
        facts.modules.installed = []
        facts.modules.builtin = []
        facts.modules.present = []
        // Readable sources, xt_set in none of them: not in this kernel.
        var xtSet = try check(facts, "module-xt_set")
        #expect(xtSet.status == .fail && xtSet.message.contains("not installed"), "\(xtSet.message)")
        #expect(xtSet.issue == DoctorIssue.xtSet)
        // The kernel config decides when it is there.
        facts.modules.kernelConfig = ["CONFIG_NETFILTER_XT_SET": "m", "CONFIG_BRIDGE_NETFILTER": "m"]
        facts.modules.kernelConfigSource = "/boot/config-x"
        xtSet = try check(facts, "module-xt_set")
        #expect(xtSet.status == .ok && xtSet.message.contains("loads it on first use"))
        // br_netfilter is never loaded on demand.
        let bridge = try check(facts, "module-br_netfilter")
        #expect(bridge.status == .warn && bridge.fix?.contains("modprobe br_netfilter") == true)
        facts.modules.kernelConfig = [:]
        xtSet = try check(facts, "module-xt_set")
        #expect(xtSet.status == .fail && xtSet.message.contains("CONFIG_NETFILTER_XT_SET is not set"))
        // Built in (=y), or present in /sys/module, is enough.
        facts.modules.kernelConfig = ["CONFIG_NETFILTER_XT_SET": "y"]
        #expect(try check(facts, "module-xt_set").status == .ok)
        facts.modules.kernelConfig = nil
        facts.modules.present = ["/sys/module/xt_set"]
        #expect(try check(facts, "module-xt_set").status == .ok)
        // No source at all: SKIP, never a guess.
        facts.modules = NodeFacts.ModuleSources()
        #expect(try check(facts, "module-xt_set").status == .skip)
        // /proc/modules only (a pod without /lib/modules): cannot tell whether it can be loaded.
        facts.modules.loaded = []
        #expect(try check(facts, "module-xt_set").status == .warn)
    }

    @Test func aDisabledControllersNeedIsSkipped() throws {
        var facts = try healthy()
        facts.modules.loaded = facts.modules.loaded?.filter { !$0.hasPrefix("ip_vs") }
        facts.modules.installed = []
        let withProxy = try check(facts, "module-ip_vs")
        #expect(withProxy.status == .fail)
        let without = try check(facts, "module-ip_vs", enabled: [.firewall, .router])
        #expect(without.status == .skip && without.message.contains("--run-service-proxy"), "\(without.message)")
        #expect(NodeDiagnosis.evaluate(facts, enabled: [.firewall, .router]).exitStatus == 0)
    }

    @Test func dockersForwardDropAndMixedBackendsWarn() throws {
        var facts = try healthy()
        let docker = """
            *filter
            :INPUT ACCEPT [0:0]
            :FORWARD DROP [0:0]
            :OUTPUT ACCEPT [0:0]
            :DOCKER - [0:0]
            :DOCKER-USER - [0:0]
            -A FORWARD -j DOCKER-USER
            -A DOCKER-USER -j RETURN
            COMMIT
            """
        facts.netfilter.nft = IPTablesSnapshot.parse(save: docker)
        let forward = try check(facts, "forward-policy")
        #expect(forward.status == .warn && forward.message.contains("Docker"), "\(forward.message)")
        #expect(forward.issue == DoctorIssue.forwardDrop)
        let backends = try check(facts, "iptables-backends")
        #expect(backends.status == .warn && backends.message.contains("both backends"), "\(backends.message)")
        #expect(backends.message.contains("filter/DOCKER"))
        facts.netfilter.legacy = IPTablesSnapshot(tables: [])
        #expect(try check(facts, "iptables-backends").message.contains("once it runs"))
        facts.netfilter.nft = nil
        facts.netfilter.nftError = "iptables v1.8.7 (nf_tables): table `filter' is incompatible, use 'nft' tool."
        #expect(try check(facts, "iptables-version").status == .fail)
    }

    @Test func kubeProxyLeftoversAreFound() throws {
        var facts = try healthy()
        facts.netfilter.legacy = IPTablesSnapshot.parse(
            save: """
                *nat
                :PREROUTING ACCEPT [0:0]
                :KUBE-SERVICES - [0:0]
                :KUBE-SVC-ERIFXISQEP7F7OF4 - [0:0]
                :KUBE-SEP-ABC - [0:0]
                -A PREROUTING -j KUBE-SERVICES
                COMMIT
                *filter
                :KUBE-FIREWALL - [0:0]
                COMMIT
                """)
        let leftovers = try check(facts, "kube-proxy-leftovers")
        #expect(leftovers.status == .warn)
        #expect(leftovers.message.contains("nat/KUBE-SERVICES") && leftovers.message.contains("1 KUBE-SVC-*"))
        #expect(!leftovers.message.contains("KUBE-FIREWALL"), "kubelet's chain is not kube-proxy's")
        facts.netfilter.legacy = IPTablesSnapshot(tables: [])
        facts.interfaces = ["eth0", "kube-ipvs0"]
        #expect(try check(facts, "kube-proxy-leftovers").message.contains("kube-ipvs0"))
    }

    @Test func conntrackTableUse() throws {
        var facts = try healthy()
        facts.sysctls["net.netfilter.nf_conntrack_count"] = "950"
        facts.sysctls["net.netfilter.nf_conntrack_max"] = "1000"
        #expect(try check(facts, "conntrack-table").status == .fail)
        facts.sysctls["net.netfilter.nf_conntrack_count"] = "800"
        #expect(try check(facts, "conntrack-table").status == .warn)
        facts.sysctls["net.netfilter.nf_conntrack_count"] = nil
        #expect(try check(facts, "conntrack-table").status == .skip)
    }

    @Test func xtablesLockKinds() throws {
        var facts = try healthy()
        facts.xtablesLock.kind = .directory
        #expect(try check(facts, "xtables-lock").status == .fail)
        facts.xtablesLock.kind = .missing
        #expect(try check(facts, "xtables-lock").status == .warn)
    }

    @Test func cniConfigurationAndPlugins() throws {
        var facts = try healthy()
        #expect(try check(facts, "cni-config").message.contains("10-kuberouter.conflist"))
        facts.cni.plugins = ["bridge", "loopback"]
        let plugins = try check(facts, "cni-plugins")
        #expect(plugins.status == .fail && plugins.message.contains("host-local and portmap"), "\(plugins.message)")
        facts.cni.configs = [
            NodeFacts.TextFile(
                path: "/etc/cni/net.d/10-kuberouter.conf",
                text: #"{"name":"k","type":"bridge","ipam":{"type":"host-local","subnet":""}}"#)
        ]
        #expect(try check(facts, "cni-config").status == .fail)
        facts.cni.configs = [NodeFacts.TextFile(path: "/etc/cni/net.d/05-x.conf", text: "{not json")]
        #expect(try check(facts, "cni-config").status == .fail)
        #expect(try check(facts, "cni-plugins").status == .skip)
        facts.cni.configs = []
        #expect(try check(facts, "cni-config").status == .warn)
        facts.cni.configs = [
            NodeFacts.TextFile(
                path: "/etc/cni/net.d/05-other.conflist", text: #"{"name":"o","plugins":[{"type":"x"}]}"#),
            NodeFacts.TextFile(path: "/etc/cni/net.d/10-kuberouter.conflist", text: NodeFixture.kubeRouterCNI),
        ]
        #expect(try check(facts, "cni-config").status == .warn, "another network sorts first")
    }

    func withAPI(_ facts: NodeFacts, nodes: [DoctorAPIFacts.NodeInfo], denied: Set<String> = []) -> NodeFacts {
        var facts = facts
        facts.api = DoctorAPIFacts(
            server: "https://api:6443", node: "n1",
            reviews: DoctorCatalog.apiAccess.map {
                AccessReview(request: $0.request, allowed: !denied.contains($0.request.description))
            },
            nodes: nodes)
        return facts
    }

    @Test func rbacDenialsFailForTheControllersThatNeedThem() throws {
        let n1 = DoctorAPIFacts.NodeInfo(name: "n1", podCIDRs: ["10.244.1.0/24"], internalIPs: ["10.0.0.5"])
        var facts = withAPI(try healthy(), nodes: [n1])
        #expect(try check(facts, "api-rbac").status == .ok)
        facts = withAPI(facts, nodes: [n1], denied: ["watch networkpolicies.networking.k8s.io"])
        let rbac = try check(facts, "api-rbac")
        #expect(rbac.status == .fail && rbac.controllers == [.firewall], "\(rbac)")
        #expect(rbac.message.contains("watch networkpolicies.networking.k8s.io"))
        let report = NodeDiagnosis.evaluate(facts)
        #expect(report.blocking([.firewall]).map(\.id) == ["api-rbac"])
        #expect(report.blocking([.serviceProxy, .router]).isEmpty)
        // Only the service proxy and the router enabled: nobody needs network policies.
        #expect(try check(facts, "api-rbac", enabled: [.serviceProxy, .router]).status == .ok)
        facts.api?.error = "cannot connect to the API server"
        #expect(try check(facts, "api-rbac").status == .fail)
    }

    @Test func nodeAddressesPodCIDRAndRoutesFromTheAPI() throws {
        let n1 = DoctorAPIFacts.NodeInfo(name: "n1", podCIDRs: ["10.244.1.0/24"], internalIPs: ["10.0.0.5"])
        let n2 = DoctorAPIFacts.NodeInfo(name: "n2", podCIDRs: ["10.244.2.0/24"], internalIPs: ["10.0.0.6"])
        let n3 = DoctorAPIFacts.NodeInfo(name: "n3", podCIDRs: ["10.244.3.0/24"], internalIPs: ["10.0.0.7"])
        var facts = withAPI(try healthy(), nodes: [n1, n2, n3])
        #expect(try check(facts, "node-addresses").status == .ok)
        #expect(try check(facts, "node-pod-cidr").message.contains("10.244.1.0/24"))
        #expect(try check(facts, "pod-cidr-routes").status == .ok)
        facts.routes?.append(NodeFacts.RouteFact(destination: "10.244.3.0/24", proto: 4))
        let routes = try check(facts, "pod-cidr-routes")
        #expect(routes.status == .warn && routes.message.contains("node n3"), "\(routes.message)")
        facts = withAPI(
            facts, nodes: [DoctorAPIFacts.NodeInfo(name: "n1", podCIDRs: [], internalIPs: ["192.168.9.9"])])
        #expect(try check(facts, "node-pod-cidr").status == .fail)
        let addresses = try check(facts, "node-addresses")
        #expect(addresses.status == .fail && addresses.message.contains("192.168.9.9"))
        facts = withAPI(facts, nodes: [n2])
        let missing = try check(facts, "node-pod-cidr")
        #expect(missing.status == .fail && missing.message.contains("not in the API"))
    }

    @Test func systemdNetworkdForeignRoutes() throws {
        var facts = try healthy()
        #expect(try check(facts, "networkd-foreign-routes").status == .ok)
        facts.networkd.running = true
        #expect(try check(facts, "networkd-foreign-routes").status == .warn)
        facts.networkd.configs = [
            .init(path: "/etc/systemd/networkd.conf", text: "[Network]\n#ManageForeignRoutes=yes\n"),
            .init(path: "/etc/systemd/networkd.conf.d/10-kr.conf", text: "[Network]\nManageForeignRoutes=no\n"),
        ]
        let ok = try check(facts, "networkd-foreign-routes")
        #expect(ok.status == .ok && ok.message.contains("10-kr.conf"))
        facts.networkd.configs.append(
            .init(path: "/usr/lib/systemd/networkd.conf.d/99-x.conf", text: "[Network]\nManageForeignRoutes=yes"))
        #expect(try check(facts, "networkd-foreign-routes").status == .warn, "the last file read wins")
    }

    @Test func agentHealthFromStatusFiles() throws {
        var facts = try healthy()
        facts.agent = NodeFacts.AgentFacts(stateDir: "/var/run/kube-router")
        #expect(try check(facts, "agent-health").status == .skip)
        var firewall = FirewallStatus(node: "n1", syncs: 3, lastSync: Date(), podChains: [:], defaultDeny: false)
        firewall.pid = 4242
        facts.agent?.firewall = firewall
        facts.agent?.runningPids = [4242]
        #expect(try check(facts, "agent-health").status == .ok)
        facts.agent?.runningPids = []
        let stopped = try check(facts, "agent-health")
        #expect(stopped.status == .warn && stopped.controllers == [.firewall] && stopped.message.contains("4242"))
        facts.agent?.runningPids = [4242]
        // Two hours and a minute before the facts were read (not before now: the reading took time).
        let collected = try #require(Timestamp.date(facts.collectedAt))
        facts.agent?.firewall?.lastSync = Timestamp.string(collected - 7260)
        #expect(try check(facts, "agent-health").message.contains("no sync for 2h"))
    }

    @Test func iptablesSaveParsing() {
        let snapshot = IPTablesSnapshot.parse(
            save: NodeFixture.legacyRules + "*nat\n:POSTROUTING ACCEPT [1:2]\nCOMMIT\n")
        #expect(snapshot.tables.map(\.name) == ["filter", "nat"])
        #expect(snapshot["filter"]?["FORWARD"]?.policy == "ACCEPT")
        #expect(snapshot["filter"]?["KUBE-ROUTER-INPUT"]?.policy == nil)
        #expect(snapshot["filter"]?["INPUT"]?.rules == 1)
        #expect(snapshot.ruleCount == 2)
    }

    @Test func readerReadsFixtureFilesOnly() throws {
        let fixture = try NodeFixture()
        try fixture.write("/etc/systemd/networkd.conf", "[Network]\nManageForeignRoutes=yes\n")
        try fixture.write("/usr/lib/systemd/networkd.conf.d/50-kr.conf", "[Network]\nManageForeignRoutes=no\n")
        try fixture.write("/etc/systemd/networkd.conf.d/50-kr.conf", "[Network]\nManageForeignRoutes=yes\n")
        try fixture.write("/run/systemd/netif/state", "")
        try fixture.write("/boot/config-\(NodeFixture.release)", "CONFIG_IP_VS=m\n# CONFIG_IP_VS_RR is not set\n")
        try fixture.remove("/run/xtables.lock")
        try fixture.mkdir("/run/xtables.lock")
        let facts = NodeFactsReader(root: fixture.root).read()
        #expect(facts.networkd.running)
        #expect(
            facts.networkd.configs.map(\.path) == [
                "/etc/systemd/networkd.conf", "/etc/systemd/networkd.conf.d/50-kr.conf",
            ])
        #expect(facts.modules.kernelConfig == ["CONFIG_IP_VS": "m"])
        #expect(facts.modules.builtin == ["ip_tables"])
        #expect(facts.modules.installed == ["xt_set"])
        #expect(facts.xtablesLock.kind == .directory)
        #expect(facts.addresses?.contains { $0.interface == "eth0" && $0.address == "10.0.0.5/24" } == true)
        #expect(facts.routes?.contains { $0.destination == "10.244.2.0/24" && $0.proto == 201 } == true)
        #expect(facts.cni.plugins?.sorted() == ["bridge", "host-local", "loopback", "portmap"])
        #expect(facts.agent == nil)
    }
}
