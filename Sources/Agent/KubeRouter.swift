import ArgumentParser
import Foundation
import Kernel
import KubeAPI
import KubeModel
import Planning
import Speaker

#if canImport(Glibc)
import Glibc
#endif

/// The node agent: the IPVS service proxy, the NetworkPolicy firewall for the pods of its node and
/// pod networking over BGP, each behind its `--run-*` switch.
struct KubeRouter: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kube-router",
        abstract: "Kubernetes node networking: service proxy (IPVS), NetworkPolicy firewall and BGP router.",
        discussion: """
            Boolean flags take kube-router's forms: --run-firewall, --run-firewall=true, --run-firewall=false.
            """,
        version: "0.1.0"
    )

    @Option(help: "Path to a kubeconfig file with authorization and API server location.")
    var kubeconfig: String?

    @Option(help: "The address of the Kubernetes API server (overrides the kubeconfig's).")
    var master: String?

    @Option(help: "The node name to use instead of the host name.")
    var hostnameOverride: String?

    @Option(
        name: .customLong("run-firewall"), help: ArgumentHelp("Enable the NetworkPolicy firewall.", valueName: "bool"))
    var runFirewall = true

    @Option(
        name: .customLong("run-service-proxy"), help: ArgumentHelp("Enable the IPVS service proxy.", valueName: "bool"))
    var runServiceProxy = true

    @Option(name: .customLong("run-router"), help: ArgumentHelp("Enable pod networking over BGP.", valueName: "bool"))
    var runRouter = true

    @Option(help: ArgumentHelp("Period of the full firewall sync, as a Go duration (5m, 90s).", valueName: "duration"))
    var iptablesSyncPeriod = "5m"

    @Option(help: ArgumentHelp("Period of the full IPVS sync, as a Go duration.", valueName: "duration"))
    var ipvsSyncPeriod = "5m"

    @Option(
        name: .customLong("ipvs-graceful-termination"),
        help: ArgumentHelp(
            "Keep terminating endpoints that still serve as real servers of weight 0 until they go, "
                + "so their connections drain.",
            valueName: "bool"))
    var ipvsGracefulTermination = false

    @Option(
        name: .customLong("masquerade-all"),
        help: ArgumentHelp(
            "Masquerade all service traffic IPVS forwards (pods lose their source address).", valueName: "bool"))
    var masqueradeAll = false

    @Option(
        name: .customLong("hairpin-mode"),
        help: ArgumentHelp(
            "Hairpin for every service: a pod reaches itself through its service "
                + "(else only for kube-router.io/service.hairpin).",
            valueName: "bool"))
    var hairpinMode = false

    @Option(
        name: .customLong("netpol-default-deny"),
        help: ArgumentHelp(
            "Isolate every pod both ways: only what a NetworkPolicy allows passes "
                + "(traffic from the pod's node and replies still do).",
            valueName: "bool"))
    var netpolDefaultDeny = false

    @Option(
        help: ArgumentHelp(
            "The AS of the cluster's nodes (kube-router.io/node.asn overrides it per node).", valueName: "asn"))
    var clusterAsn: UInt32 = 64512

    @Option(
        name: .customLong("nodes-full-mesh"),
        help: ArgumentHelp("Peer with every node of the same AS (iBGP full mesh).", valueName: "bool"))
    var nodesFullMesh = true

    @Option(
        help: ArgumentHelp(
            "The IP TTL of eBGP sessions, for peers that many hops away (2-255; without it, or below 2, eBGP "
                + "peers must be directly connected: TTL 1).",
            valueName: "ttl"))
    var peerRouterMultihopTtl: UInt8 = 0

    @Option(
        name: .customLong("override-nexthop"),
        help: ArgumentHelp(
            "Announce routes with the session's own local address as next hop (next-hop-self), for nodes that reach "
                + "peers over several interfaces; default: the node's InternalIP.",
            valueName: "bool"))
    var overrideNexthop = false

    @Option(
        name: .customLong("enable-ibgp"),
        help: ArgumentHelp(
            "Peer with the cluster's nodes of the same AS (false: only with the external peers).", valueName: "bool"))
    var enableIbgp = true

    @Option(
        name: .customLong("advertise-pod-cidr"),
        help: ArgumentHelp("Announce the node's pod CIDRs over BGP.", valueName: "bool"))
    var advertisePodCidr = true

    @Option(
        name: .customLong("advertise-cluster-ip"),
        help: ArgumentHelp(
            "Announce services' ClusterIPs over BGP as host routes (kube-router.io/service.advertise.clusterip "
                + "overrides it per service).",
            valueName: "bool"))
    var advertiseClusterIp = false

    @Option(
        name: .customLong("advertise-external-ip"),
        help: ArgumentHelp(
            "Announce services' external IPs over BGP (kube-router.io/service.advertise.externalip overrides it).",
            valueName: "bool"))
    var advertiseExternalIp = false

    @Option(
        name: .customLong("advertise-loadbalancer-ip"),
        help: ArgumentHelp(
            "Announce LoadBalancer services' ingress IPs over BGP (kube-router.io/service.advertise.loadbalancerip "
                + "overrides it).",
            valueName: "bool"))
    var advertiseLoadbalancerIp = false

    @Option(
        help: ArgumentHelp("External BGP peers every node peers with, comma-separated addresses.", valueName: "ips"))
    var peerRouterIps = ""

    @Option(help: ArgumentHelp("The AS of each --peer-router-ips address, comma-separated.", valueName: "asns"))
    var peerRouterAsns = ""

    @Option(
        help: ArgumentHelp(
            "TCP MD5 password of each --peer-router-ips address, base64, comma-separated.", valueName: "passwords"))
    var peerRouterPasswords = ""

    @Option(
        help: ArgumentHelp(
            "The BGP port of each --peer-router-ips address, comma-separated (default: --bgp-port).", valueName: "ports"
        ))
    var peerRouterPorts = ""

    @Option(help: ArgumentHelp("The port the BGP speaker listens on and connects to (1-65535).", valueName: "port"))
    var bgpPort: Int = 179

    @Option(
        help: ArgumentHelp(
            "The most prefixes one BGP peer (router or node) may send; past it: a Cease, and its routes go.",
            valueName: "count"))
    var peerRouterMaxPrefixes = 10000

    @Option(
        help: ArgumentHelp(
            "Routes learned over BGP inside these CIDRs are never installed, comma-separated.",
            valueName: "cidrs"))
    var bgpImportReject = ""

    @Option(
        help: ArgumentHelp(
            "The service ClusterIP range(s), comma-separated for dual stack; never installed from a BGP peer.",
            valueName: "cidrs"))
    var serviceClusterIpRange = "10.96.0.0/12"

    @Option(
        help: ArgumentHelp(
            "The services' external IP range(s), comma-separated; never installed from a BGP peer.",
            valueName: "cidrs"))
    var serviceExternalIpRange = ""

    @Option(
        help: ArgumentHelp(
            "BGP hold time, as a Go duration (3s to 18h12m15s; 0 disables keepalives).", valueName: "duration"))
    var bgpHoldtime = "90s"

    @Option(
        name: .customLong("bgp-graceful-restart"),
        help: ArgumentHelp(
            "Graceful restart (RFC 4724): routes survive a restart of the agent or a peer.", valueName: "bool"))
    var bgpGracefulRestart = false

    @Option(
        help: ArgumentHelp("How long peers keep our routes while we restart, as a Go duration.", valueName: "duration"))
    var bgpGracefulRestartTime = "90s"

    @Option(
        help: ArgumentHelp(
            "How long routes a previous run left stay while the peers have not all sent End-of-RIB, as a Go duration.",
            valueName: "duration"))
    var bgpGracefulRestartDeferralTime = "6m0s"

    @Option(help: ArgumentHelp("The BGP router ID (default: the node's IPv4 InternalIP).", valueName: "ip"))
    var routerId: String?

    @Option(
        name: .customLong("enable-pod-egress"),
        help: ArgumentHelp(
            "Masquerade pods' traffic to addresses outside every node's pod CIDR and not a node's (SNAT to the "
                + "node's address), so that hosts outside the cluster can answer.",
            valueName: "bool"))
    var enablePodEgress = true

    @Option(
        name: .customLong("enable-cni"),
        help: ArgumentHelp(
            "Write the CNI configuration (bridge plugin on kube-bridge, host-local IPAM over the pod CIDR).",
            valueName: "bool"))
    var enableCni = false

    @Option(help: ArgumentHelp("Where --enable-cni writes the CNI configuration.", valueName: "path"))
    var cniConfFile =
        ProcessInfo.processInfo.environment["KUBE_ROUTER_CNI_CONF_FILE"] ?? "/etc/cni/net.d/10-kuberouter.conflist"

    @Option(
        help: ArgumentHelp(
            "A CNI network (JSON, a conflist or one network) for --enable-cni to write: its host-local IPAM gets "
                + "the node's pod CIDRs (default: the bridge plugin on kube-bridge, and portmap).",
            valueName: "path"))
    var cniConfTemplate: String?

    @Option(
        help: ArgumentHelp(
            "Where the agent writes the net.* sysctls: the host's /proc/sys/net, mounted writable "
                + "(an unprivileged pod's /proc/sys is read-only).",
            valueName: "path"))
    var procSysNetPath = Sysctl.defaultProcSysNet

    @Option(
        name: .customLong("cleanup-config"),
        help: ArgumentHelp("Remove every kernel object kube-router owns, then exit.", valueName: "bool"))
    var cleanupConfig = false

    @Option(
        name: [.customShort("v"), .customLong("v")], help: ArgumentHelp("Log verbosity (0-10).", valueName: "level"))
    var verbosity = 0

    @Option(
        help: ArgumentHelp(
            "Log line format: text (klog-like) or json (one object per line, for log collectors).",
            valueName: "format"))
    var logFormat = "text"

    @Option(help: ArgumentHelp("The address /livez, /readyz and /healthz listen on.", valueName: "ip"))
    var healthAddr = "127.0.0.1"

    @Option(help: ArgumentHelp("The port of /livez, /readyz and /healthz (0: off).", valueName: "port"))
    var healthPort = 20244

    @Option(help: ArgumentHelp("The address the Prometheus metrics listen on.", valueName: "ip"))
    var metricsAddr = "0.0.0.0"

    @Option(help: ArgumentHelp("The port of the Prometheus metrics (0: off).", valueName: "port"))
    var metricsPort = 0

    @Option(help: ArgumentHelp("The path of the Prometheus metrics.", valueName: "path"))
    var metricsPath = "/metrics"

    @Option(
        help: ArgumentHelp(
            "On SIGTERM: how long a running sync may take to finish before the agent exits, as a Go duration.",
            valueName: "duration"))
    var shutdownTimeout = "10s"

    /// kube-router's boolean flags, which Go accepts bare (`--run-router`) as well as with `=true|false`.
    static let booleanFlags = [
        "--run-firewall", "--run-service-proxy", "--run-router", "--cleanup-config", "--netpol-default-deny",
        "--ipvs-graceful-termination", "--masquerade-all", "--hairpin-mode",
        "--nodes-full-mesh", "--bgp-graceful-restart", "--enable-cni", "--enable-pod-egress",
        "--advertise-cluster-ip", "--advertise-external-ip", "--advertise-loadbalancer-ip", "--enable-ibgp",
        "--advertise-pod-cidr", "--override-nexthop",
    ]

    func validate() throws {
        guard let period = GoDuration.seconds(iptablesSyncPeriod), period > 0 else {
            throw ValidationError(
                "invalid --iptables-sync-period \"\(iptablesSyncPeriod)\" (expected a Go duration such as 5m or 90s)")
        }
        guard let ipvsPeriod = GoDuration.seconds(ipvsSyncPeriod), ipvsPeriod > 0 else {
            throw ValidationError(
                "invalid --ipvs-sync-period \"\(ipvsSyncPeriod)\" (expected a Go duration such as 5m or 90s)")
        }
        guard (0...10).contains(verbosity) else { throw ValidationError("-v must be between 0 and 10") }
        guard Log.Format(rawValue: logFormat) != nil else {
            throw ValidationError("invalid --log-format \"\(logFormat)\" (expected text or json)")
        }
        guard let hold = GoDuration.seconds(bgpHoldtime), hold == 0 || (hold >= 3 && hold <= 65535) else {
            throw ValidationError(
                "invalid --bgp-holdtime \"\(bgpHoldtime)\" (0, or a Go duration from 3s to 18h12m15s)")
        }
        guard let restart = GoDuration.seconds(bgpGracefulRestartTime), restart >= 1, restart <= 4095 else {
            throw ValidationError(
                "invalid --bgp-graceful-restart-time \"\(bgpGracefulRestartTime)\" (a Go duration from 1s to 68m15s)")
        }
        guard clusterAsn > 0 else { throw ValidationError("--cluster-asn must be 1-4294967295") }
        guard (1...65535).contains(bgpPort) else {
            throw ValidationError("invalid --bgp-port \(bgpPort) (a TCP port, 1-65535)")
        }
        for (flag, port) in [("--health-port", healthPort), ("--metrics-port", metricsPort)]
        where !(0...65535).contains(port) {
            throw ValidationError("invalid \(flag) \(port) (a TCP port, 1-65535, or 0 for off)")
        }
        for (flag, address) in [("--health-addr", healthAddr), ("--metrics-addr", metricsAddr)]
        where IPAddress(address) == nil {
            throw ValidationError("invalid \(flag) \"\(address)\" (an IP address)")
        }
        if healthPort != 0, healthPort == metricsPort, healthAddr != metricsAddr {
            throw ValidationError(
                "--health-port and --metrics-port are both \(healthPort) but --health-addr and --metrics-addr differ: "
                    + "give them different ports, or the same address")
        }
        guard metricsPath.hasPrefix("/"), !["/livez", "/readyz", "/healthz"].contains(metricsPath) else {
            throw ValidationError("invalid --metrics-path \"\(metricsPath)\" (a path such as /metrics)")
        }
        guard let shutdown = GoDuration.seconds(shutdownTimeout), shutdown >= 0 else {
            throw ValidationError("invalid --shutdown-timeout \"\(shutdownTimeout)\" (a Go duration such as 10s)")
        }
        guard let deferral = GoDuration.seconds(bgpGracefulRestartDeferralTime), deferral >= 0 else {
            throw ValidationError(
                "invalid --bgp-graceful-restart-deferral-time \"\(bgpGracefulRestartDeferralTime)\" "
                    + "(a Go duration such as 6m)")
        }
        guard peerRouterMaxPrefixes >= 1 else {
            throw ValidationError("invalid --peer-router-max-prefixes \(peerRouterMaxPrefixes) (at least 1)")
        }
        if let routerId, IPAddress(routerId)?.family != .ipv4 {
            throw ValidationError("--router-id \"\(routerId)\" is not an IPv4 address")
        }
        do {
            _ = try externalPeers()
            _ = try serviceRanges()
            _ = try RouterSettings.cidrs(bgpImportReject, origin: "--bgp-import-reject")
        } catch {
            throw ValidationError("\(error)")
        }
    }

    func externalPeers() throws -> [BGPPeerConfig] {
        try RouterSettings.peers(
            ips: peerRouterIps, asns: peerRouterAsns, passwords: peerRouterPasswords, ports: peerRouterPorts,
            defaultPort: UInt16(clamping: bgpPort), origin: "--peer-router-ips")
    }

    func serviceRanges() throws -> [CIDR] {
        try RouterSettings.cidrs(serviceClusterIpRange, origin: "--service-cluster-ip-range")
            + RouterSettings.cidrs(serviceExternalIpRange, origin: "--service-external-ip-range")
    }

    @Option(help: ArgumentHelp("Where the agent writes its status for krctl.", valueName: "path"))
    var stateDir = "/var/run/kube-router"

    func run() throws {
        Log.bootstrap(format: Log.Format(rawValue: logFormat) ?? .text, verbosity: verbosity)
        let log = Log()
        guard Capabilities.effective(Capabilities.netAdmin) else {
            throw AgentFailure(
                """
                kube-router needs root (CAP_NET_ADMIN) to program iptables, ipsets, IPVS and routes: run it as root, \
                or in a pod with hostNetwork and the capability NET_ADMIN
                """)
        }
        if cleanupConfig {
            var chains = try IPTablesSync.cleanup(family: .ipv4).chainsDeleted
            // ip6tables may be missing from the kernel: then nothing of ours can be there either.
            if (try? IPTablesTable("filter", family: .ipv6)) != nil {
                chains += try IPTablesSync.cleanup(family: .ipv6).chainsDeleted
            }
            let services = try cleanupServiceProxy()
            chains += services.chains
            for family in [IPAddress.Family.ipv4, .ipv6] where (try? IPTablesTable("nat", family: family)) != nil {
                chains += try IPTablesSync.cleanup(family: family, owner: PodEgress.natOwner).chainsDeleted
            }
            let sets =
                try IPSetSync(session: IPSetSession()).removeStale(keeping: [])
                + IPSetSync(session: IPSetSession(), owner: ServiceProxyNetfilter.setOwner).removeStale(keeping: [])
                + IPSetSync(session: IPSetSession(), owner: PodEgress.setOwner).removeStale(keeping: [])
            // The routes the BGP speaker installed (our protocol number); nobody else's.
            let table = try RouteTable()
            var routes = 0
            for family in [IPAddress.Family.ipv4, .ipv6] {
                for route in try table.routes(family: family, proto: RouteTable.kubeRouterProtocol) {
                    if try table.deleteIfPresent(route) { routes += 1 }
                }
            }
            print(
                "kube-router: cleanup done: \(chains) chains, \(sets.count) ipsets, \(routes) routes and "
                    + "\(services.ipvs) IPVS services removed"
                    + (services.dummy ? ", \(NetworkInterfaces.dummyInterface) deleted" : ""))
            return
        }
        guard runFirewall || runRouter || runServiceProxy else {
            throw AgentFailure("nothing to run: --run-firewall, --run-router and --run-service-proxy are all false")
        }
        // One agent per node and state directory: two would rewrite each other's rules for ever.
        let stateLock: StateDirectoryLock
        do {
            stateLock = try StateDirectoryLock(stateDir: stateDir)
        } catch {
            throw AgentFailure("\(error)")
        }
        defer { withExtendedLifetime(stateLock) {} }
        if runServiceProxy {
            do { _ = try IPVSClient() } catch {
                throw AgentFailure("--run-service-proxy: \(error); or run with --run-service-proxy=false")
            }
        }
        if runFirewall { warnIfNFTBackendInUse(log) }

        var config: KubeConfig
        do {
            config = try kubeconfig.map { try KubeConfig.load(paths: [$0], context: nil) } ?? KubeConfig.inCluster()
        } catch let error as KubeConfigError {
            throw AgentFailure("\(error.description) (give --kubeconfig, or run in a pod)")
        }
        if let master { config.server = master }
        for warning in config.securityWarnings { log.warn("kube-router: \(warning)") }
        let node =
            hostnameOverride ?? ProcessInfo.processInfo.environment["NODE_NAME"] ?? ProcessInfo.processInfo.hostName
        let period = GoDuration.seconds(iptablesSyncPeriod) ?? 300
        log.info(
            "kube-router: node \(node), API server \(config.server) (\(config.origin)), "
                + "firewall sync every \(iptablesSyncPeriod)\(netpolDefaultDeny ? ", default deny" : "")"
        )

        let box = ControllerBox()
        var enabled = Set<DoctorController>()
        if runFirewall { enabled.insert(.firewall) }
        if runServiceProxy { enabled.insert(.serviceProxy) }
        if runRouter { enabled.insert(.router) }
        let cniTemplate = try readCNITemplate()
        let informers = Informers(
            client: KubeClient(config: config), resources: Self.informerResources(for: enabled)
        ) { event in
            box.firewall?.handle(event)
            box.router?.handle(event)
            box.serviceProxy?.handle(event)
        }
        if runServiceProxy {
            let options = ServiceProxyController.Options(
                period: GoDuration.seconds(ipvsSyncPeriod) ?? 300, gracefulTermination: ipvsGracefulTermination,
                masqueradeAll: masqueradeAll, hairpinAll: hairpinMode, stateDir: stateDir)
            box.serviceProxy = ServiceProxyController(
                cluster: informers, node: node, options: options, log: log,
                backends: .real(procSysNet: procSysNetPath))
        }
        if runFirewall {
            box.firewall = FirewallController(
                cluster: informers, node: node, period: period, defaultDeny: netpolDefaultDeny,
                stateDir: stateDir, log: log)
        }
        if runRouter {
            var settings = RouterSettings(
                clusterASN: clusterAsn, fullMesh: nodesFullMesh, externalPeers: try externalPeers(),
                routerID: routerId.flatMap { IPAddress($0) },
                serviceRanges: try serviceRanges(),
                importRejects: try RouterSettings.cidrs(
                    bgpImportReject,
                    origin: "--bgp-import-reject"))
            settings.iBGP = enableIbgp
            settings.multihopTTL = peerRouterMultihopTtl
            settings.advertisePodCIDR = advertisePodCidr
            settings.advertise = ServiceAdvertisement(
                clusterIP: advertiseClusterIp, externalIP: advertiseExternalIp, loadBalancerIP: advertiseLoadbalancerIp)
            let options = RouterController.Options(
                settings: settings,
                bgpPort: UInt16(clamping: bgpPort), maxPrefixes: peerRouterMaxPrefixes,
                holdTime: UInt16(GoDuration.seconds(bgpHoldtime) ?? 90),
                gracefulRestartTime: bgpGracefulRestart
                    ? UInt16(GoDuration.seconds(bgpGracefulRestartTime) ?? 90) : nil,
                startupDeferral: GoDuration.seconds(bgpGracefulRestartDeferralTime) ?? 360,
                cniConfigPath: enableCni ? cniConfFile : nil, cniTemplate: cniTemplate,
                controlSocketPath: stateDir + "/" + ControlSocket.fileName, stateDir: stateDir,
                podEgress: enablePodEgress, overrideNextHop: overrideNexthop)
            try FileManager.default.createDirectory(atPath: stateDir, withIntermediateDirectories: true)
            let router = RouterController(cluster: informers, node: node, options: options, log: log)
            // The CNI file only after the first full firewall sync and the router's own (kube-router #873).
            router.writeCNIAfter([box.firewall?.monitor].compactMap { $0 })
            box.router = router
        }
        let monitors = [box.firewall?.monitor, box.serviceProxy?.monitor, box.router?.monitor].compactMap { $0 }
        let health = AgentHealth(monitors: monitors) { informers.hasSynced }
        if let router = box.router {
            health.add(.init(name: "bgp", latching: true) { router.readiness() })
        }
        // The node checks of `krctl doctor`: a failure an enabled controller needs keeps readiness red.
        let nodeChecks = NodeChecks(client: informers.client, node: node, enabled: enabled, log: log)
        health.add(.init(name: "node", latching: false) { nodeChecks.readiness() })
        let metrics = AgentMetrics(version: Self.configuration.version)
        metrics.addNodeChecks(nodeChecks)
        for monitor in monitors { metrics.observe(monitor) }
        metrics.addHealth(health)
        metrics.addInformers(informers)
        if let firewall = box.firewall { metrics.addFirewall(firewall) }
        if let proxy = box.serviceProxy { metrics.addServiceProxy(proxy) { try? IPVSClient() } }
        if let router = box.router { metrics.addRouter(router) }
        let endpoints = try startEndpoints(health: health, metrics: metrics, log: log)

        // The stop path (StopSignals): readiness fails at once; no sync starts; the running ones may end
        // until --shutdown-timeout; BGP sessions close (graceful restart where the peer negotiated it);
        // the informers and the listeners stop, and the process exits 0. Everything in the kernel stays.
        let timeout = GoDuration.seconds(shutdownTimeout) ?? 10
        let reason = "kube-router on node \(node) is shutting down"
        StopSignals.onStop {
            health.beginShutdown()
            let deadline = Date(timeIntervalSinceNow: timeout)
            var late: [String] = []
            if let firewall = box.firewall, !firewall.stop(waitingUntil: deadline) { late.append("firewall") }
            if let proxy = box.serviceProxy, !proxy.stop(waitingUntil: deadline) { late.append("service proxy") }
            if let router = box.router, !router.stop(waitingUntil: deadline, reason: reason) { late.append("router") }
            informers.stop()
            nodeChecks.stop()
            endpoints.stop()
            log.info(
                "kube-router: stopped"
                    + (late.isEmpty
                        ? "; the kernel keeps every rule, set, virtual service and route"
                        : "; the \(late.joined(separator: ", ")) sync was still running after --shutdown-timeout "
                            + "\(shutdownTimeout)"))
        }
        informers.start()
        nodeChecks.start { monitors.allSatisfy { $0.snapshot.fullSuccesses > 0 } }
        while !informers.waitForSync(timeout: 10) {
            // The stop path ends the process; returning from here would race its exit with main's.
            if informers.isStopped { while true { sleep(3600) } }
            log.info("kube-router: waiting for the API server's objects (\(config.server))")
        }
        log.info("kube-router: informers synced")
        box.firewall?.start()
        box.serviceProxy?.start()
        try box.router?.start()
        // The rules stay in place when the agent stops: a restart opens no window.
        while true { sleep(3600) }
    }

    /// The resources the informers follow for `enabled` controllers: what `DoctorCatalog.apiAccess` says
    /// they list and watch (the one list, which the ClusterRole in deploy/ grants).
    static func informerResources(for enabled: Set<DoctorController>) -> [APIResource] {
        let watched = DoctorCatalog.accessRequests(for: enabled).filter { $0.verb == "watch" }
        return APIResource.all.filter { r in watched.contains { $0.group == r.group && $0.resource == r.plural } }
    }

    /// `--cni-conf-template`, read and parsed once at start: a bad file stops the agent with its reason.
    private func readCNITemplate() throws -> JSONValue? {
        guard enableCni, let cniConfTemplate else { return nil }
        guard let data = FileManager.default.contents(atPath: cniConfTemplate) else {
            throw AgentFailure("--cni-conf-template: cannot read \(cniConfTemplate)")
        }
        do {
            let template = try JSONValue.parseJSON(data)
            guard case .object = template else { throw AgentFailure("not a JSON object") }
            return template
        } catch {
            throw AgentFailure("--cni-conf-template \(cniConfTemplate): \(error)")
        }
    }

    /// The health and metrics listeners (one when they share a port).
    private func startEndpoints(health: AgentHealth, metrics: AgentMetrics, log: Log) throws -> AgentEndpoints {
        var listeners: [(String, Int, [HTTPEndpoints.Route], String)] = []
        let healthRoutes = HealthEndpoints.routes(health)
        let metricsRoute = HTTPEndpoints.Route(path: metricsPath, slow: true) { _ in
            HTTPEndpoints.Response(
                status: .ok, contentType: "text/plain; version=0.0.4; charset=utf-8", body: metrics.render())
        }
        if healthPort != 0 && healthPort == metricsPort {
            listeners.append(
                (healthAddr, healthPort, healthRoutes + [metricsRoute], "--health-port and --metrics-port"))
        } else {
            if healthPort != 0 { listeners.append((healthAddr, healthPort, healthRoutes, "--health-port")) }
            if metricsPort != 0 { listeners.append((metricsAddr, metricsPort, [metricsRoute], "--metrics-port")) }
        }
        let endpoints = AgentEndpoints()
        for (address, port, routes, flag) in listeners {
            do {
                try endpoints.listen(host: address, port: port, routes: routes)
            } catch {
                endpoints.stop()
                throw AgentFailure(
                    "cannot listen on \(address):\(port) (\(flag)): \(error); give another port, or 0 to turn it off")
            }
            log.info("kube-router: serving \(routes.map(\.path).joined(separator: ", ")) on \(address):\(port)")
        }
        return endpoints
    }

    /// The service proxy's pieces: its chains (filter, nat; both families), the IPVS services it
    /// recorded as its own or whose VIP is on kube-dummy-if, and kube-dummy-if itself.
    private func cleanupServiceProxy() throws -> (chains: Int, ipvs: Int, dummy: Bool) {
        var chains = 0
        for family in [IPAddress.Family.ipv4, .ipv6] {
            for owner in [ServiceProxyNetfilter.filterOwner, ServiceProxyNetfilter.natOwner] {
                guard (try? IPTablesTable(owner.table, family: family)) != nil else { continue }
                chains += try IPTablesSync.cleanup(family: family, owner: owner).chainsDeleted
            }
        }
        var ipvs = 0
        if let client = try? IPVSClient() {
            let interfaces = try NetworkInterfaces()
            let vips = Set(try interfaces.addresses(of: NetworkInterfaces.dummyInterface))
            let owned = Set(ServiceProxyStatus.read(stateDir: stateDir)?.services.keys.map { $0 } ?? [])
            for service in try client.services() where owned.contains(service.key) || vips.contains(service.address) {
                try client.delete(service)
                ipvs += 1
            }
        }
        let dummy = try NetworkInterfaces().deleteLink(NetworkInterfaces.dummyInterface)
        return (chains, ipvs, dummy)
    }

    /// Both iptables backends filter packets; a node whose other components use nft is worth a warning.
    private func warnIfNFTBackendInUse(_ log: Log) {
        for tool in ["/usr/sbin/iptables-nft-save", "/sbin/iptables-nft-save"]
        where FileManager.default.isExecutableFile(atPath: tool) {
            guard let text = try? Subprocess.run(tool, []).stdout else { return }
            let rules = text.split(separator: "\n").filter { $0.hasPrefix("-A ") }.count
            if rules > 0 {
                log.warn(
                    "this node has \(rules) rules in the iptables nft backend: kube-router writes the legacy tables "
                        + "(iptables-legacy); both filter packets, so check iptables-nft-save too when debugging"
                )
            }
            return
        }
    }
}

/// Lets the informer handler reach the controller created after it.
final class ControllerBox: @unchecked Sendable {
    var firewall: FirewallController?
    var router: RouterController?
    var serviceProxy: ServiceProxyController?
}

struct AgentFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Rewrites bare Go-style boolean flags (`--run-router`) to `--run-router=true`.
func normalizedArguments(_ arguments: [String], booleans: [String]) -> [String] {
    arguments.map { booleans.contains($0) ? "\($0)=true" : $0 }
}
