import Foundation
import KubeModel

/// Kernel modules, sysctls and the conntrack table.
extension NodeDiagnosis {
    static func module(_ facts: NodeFacts, _ m: DoctorCatalog.Module) -> DoctorCheck {
        let sources = facts.modules
        let release = facts.kernelRelease ?? "$(uname -r)"
        let id = "module-\(m.name)"
        func check(_ status: DoctorCheck.Status, _ message: String, fix: String? = nil) -> DoctorCheck {
            DoctorCheck(
                id: id, status: status, message: message, fix: fix, issue: m.issue, controllers: m.controllers)
        }
        let config = sources.kernelConfig?["CONFIG_\(m.config)"]
        let configSource = sources.kernelConfigSource ?? "the kernel config"
        let modprobe =
            "modprobe \(m.name) as root on the node, and load it at boot: "
            + "echo \(m.name) > /etc/modules-load.d/kube-router.conf"
        if sources.loaded?.contains(m.name) == true { return check(.ok, "loaded") }
        if sources.builtin?.contains(m.name) == true {
            return check(.ok, "built into the kernel (/lib/modules/\(release)/modules.builtin)")
        }
        if config == "y" { return check(.ok, "built into the kernel (CONFIG_\(m.config)=y in \(configSource))") }
        if sources.present.contains("/sys/module/\(m.name)") { return check(.ok, "present (/sys/module/\(m.name))") }
        if let probe = m.probe, sources.present.contains(probe) { return check(.ok, "present (\(probe) exists)") }
        if sources.installed?.contains(m.name) == true || config == "m" {
            let whence =
                sources.installed?.contains(m.name) == true
                ? "installed under /lib/modules/\(release)" : "CONFIG_\(m.config)=m in \(configSource)"
            if m.loadsOnDemand {
                return check(.ok, "not loaded yet; loadable (\(whence)): the kernel loads it on first use")
            }
            return check(
                .warn, "not loaded (\(whence)), and nothing loads it on demand; it provides \(m.purpose)",
                fix: modprobe)
        }
        if sources.kernelConfig != nil {
            return check(
                .fail,
                "not in this kernel: CONFIG_\(m.config) is not set (\(configSource)); it provides \(m.purpose)",
                fix: "use a kernel built with CONFIG_\(m.config)=m or =y (a distribution kernel, or its extra "
                    + "modules package such as linux-modules-extra)")
        }
        if sources.installed != nil && sources.builtin != nil && sources.loaded != nil {
            return check(
                .fail,
                "not loaded, not built in and not installed under /lib/modules/\(release); it provides "
                    + m.purpose,
                fix: "install the kernel's modules package (or a kernel built with CONFIG_\(m.config)), then "
                    + modprobe)
        }
        if sources.loaded != nil {
            return check(
                .warn,
                "not loaded, and whether it can be is unknown here: /lib/modules/\(release) and the kernel "
                    + "config are unreadable (in a pod, mount the host's /lib/modules read-only)",
                fix: modprobe)
        }
        return check(
            .skip,
            "cannot tell: /proc/modules, /lib/modules/\(release) and the kernel config are all unreadable under "
                + facts.root)
    }

    static func ipForward(_ facts: NodeFacts) -> DoctorCheck {
        let id = "sysctl-ip_forward"
        let controllers: [DoctorController] = [.router, .serviceProxy]
        guard let value = facts.sysctls[DoctorCatalog.Sysctl.ipForward] else {
            return DoctorCheck(
                id: id, status: .skip, message: "cannot read /proc/sys/net/ipv4/ip_forward under \(facts.root)",
                controllers: controllers)
        }
        if value == "1" { return DoctorCheck(id: id, status: .ok, message: "1", controllers: controllers) }
        return DoctorCheck(
            id: id, status: .fail,
            message: "net.ipv4.ip_forward=\(value): the node forwards no packets, so pods are unreachable from "
                + "other nodes and service traffic to endpoints on other nodes goes nowhere",
            fix: "sysctl -w net.ipv4.ip_forward=1 and persist it in /etc/sysctl.d/ (the service proxy sets it "
                + "when it starts; if it drops back, something resets it: a sysctl.d file, systemd-networkd's "
                + "IPForward=, a firewall service)",
            controllers: controllers)
    }

    static func bridgeCallIPTables(_ facts: NodeFacts) -> DoctorCheck {
        let id = "sysctl-bridge-nf-call-iptables"
        let controllers: [DoctorController] = [.firewall, .serviceProxy]
        let why =
            "traffic between pods on kube-bridge skips iptables: network policies do not apply between pods of "
            + "this node, and a pod reaching itself through a service (hairpin) breaks"
        guard let value = facts.sysctls[DoctorCatalog.Sysctl.bridgeCallIPTables] else {
            guard procSysReadable(facts) else {
                return DoctorCheck(
                    id: id, status: .skip, message: "cannot read /proc/sys under \(facts.root)",
                    issue: DoctorIssue.brNetfilter, controllers: controllers)
            }
            return DoctorCheck(
                id: id, status: .fail,
                message: "/proc/sys/net/bridge is absent (br_netfilter is not loaded): \(why)",
                fix: "modprobe br_netfilter; sysctl -w net.bridge.bridge-nf-call-iptables=1; load and set both at "
                    + "boot (/etc/modules-load.d/, /etc/sysctl.d/)",
                issue: DoctorIssue.brNetfilter, controllers: controllers)
        }
        if value == "1" {
            return DoctorCheck(
                id: id, status: .ok, message: "1", issue: DoctorIssue.brNetfilter, controllers: controllers)
        }
        return DoctorCheck(
            id: id, status: .fail, message: "net.bridge.bridge-nf-call-iptables=\(value): \(why)",
            fix: "sysctl -w net.bridge.bridge-nf-call-iptables=1 and persist it in /etc/sysctl.d/",
            issue: DoctorIssue.brNetfilter, controllers: controllers)
    }

    static func rpFilter(_ facts: NodeFacts) -> DoctorCheck {
        let id = "sysctl-rp_filter"
        let names = [
            DoctorCatalog.Sysctl.rpFilterAll, DoctorCatalog.Sysctl.rpFilterDefault,
            DoctorCatalog.Sysctl.rpFilterBridge,
        ]
        let values = names.compactMap { name in facts.sysctls[name].map { (name, $0) } }
        guard !values.isEmpty else {
            return DoctorCheck(
                id: id, status: .skip, message: "cannot read net.ipv4.conf.*.rp_filter under \(facts.root)",
                issue: DoctorIssue.rpFilter, controllers: [.router])
        }
        let shown = values.map { "\($0.0)=\($0.1)" }.joined(separator: ", ")
        let strict = values.filter { $0.1 == "1" }.map(\.0)
        guard !strict.isEmpty else {
            return DoctorCheck(id: id, status: .ok, message: shown, issue: DoctorIssue.rpFilter, controllers: [.router])
        }
        return DoctorCheck(
            id: id, status: .warn,
            message: "strict reverse path filtering (\(list(strict.map { "\($0)=1" }))): a packet is dropped when "
                + "its reply would leave by another interface, as with pod traffic from nodes in other subnets "
                + "and external traffic to services (the kernel applies the larger of all and the interface's)",
            fix: "use loose mode: sysctl -w net.ipv4.conf.all.rp_filter=2 net.ipv4.conf.default.rp_filter=2 "
                + "and persist it in /etc/sysctl.d/",
            issue: DoctorIssue.rpFilter, controllers: [.router])
    }

    static func ipvsConntrack(_ facts: NodeFacts) -> DoctorCheck {
        let id = "sysctl-vs_conntrack"
        guard let value = facts.sysctls[DoctorCatalog.Sysctl.ipvsConntrack] else {
            return DoctorCheck(
                id: id, status: .skip,
                message: procSysReadable(facts)
                    ? "/proc/sys/net/ipv4/vs is absent until IPVS is loaded (see module-ip_vs)"
                    : "cannot read /proc/sys under \(facts.root)",
                controllers: [.serviceProxy])
        }
        if value == "1" { return DoctorCheck(id: id, status: .ok, message: "1", controllers: [.serviceProxy]) }
        return DoctorCheck(
            id: id, status: .warn,
            message: "net.ipv4.vs.conntrack=\(value): IPVS keeps no conntrack entries, so service traffic that "
                + "must be masqueraded (hairpin, --masquerade-all) is not",
            fix: "sysctl -w net.ipv4.vs.conntrack=1 (the service proxy sets it when it starts: still 0 while it "
                + "runs means something resets it)",
            controllers: [.serviceProxy])
    }

    static func conntrackTable(_ facts: NodeFacts) -> DoctorCheck {
        let id = "conntrack-table"
        guard let count = facts.sysctls[DoctorCatalog.Sysctl.conntrackCount].flatMap({ Int($0) }),
            let max = facts.sysctls[DoctorCatalog.Sysctl.conntrackMax].flatMap({ Int($0) }), max > 0
        else {
            return DoctorCheck(
                id: id, status: .skip,
                message: procSysReadable(facts)
                    ? "/proc/sys/net/netfilter/nf_conntrack_count is absent: nf_conntrack is not loaded"
                    : "cannot read /proc/sys under \(facts.root)",
                issue: DoctorIssue.conntrackFull)
        }
        let percent = count * 100 / max
        let message = "\(count) of \(max) entries (\(percent)%)"
        let fix =
            "raise net.netfilter.nf_conntrack_max (and /sys/module/nf_conntrack/parameters/hashsize), or find "
            + "what opens so many connections (conntrack -S, conntrack -L)"
        if percent >= 90 {
            return DoctorCheck(
                id: id, status: .fail,
                message: message + ": when the table is full the kernel drops new connections "
                    + "(\"nf_conntrack: table full, dropping packet\")",
                fix: fix, issue: DoctorIssue.conntrackFull)
        }
        if percent >= 75 {
            return DoctorCheck(
                id: id, status: .warn, message: message + ": close to full (new connections are dropped then)",
                fix: fix, issue: DoctorIssue.conntrackFull)
        }
        return DoctorCheck(id: id, status: .ok, message: message, issue: DoctorIssue.conntrackFull)
    }
}
