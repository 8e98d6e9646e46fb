import Prometheus

/// A metric family the agent exports: its name, help text and, where upstream kube-router exports the same
/// quantity, upstream's name (docs/metrics.md lists them, so dashboards carry over).
struct MetricFamily: Sendable {
    enum Kind: String, Sendable { case counter, gauge, histogram }
    var name: String
    var kind: Kind
    var help: String
    var labels: [String]
    var upstream: String?

    var descriptor: MetricNameDescriptor { MetricNameDescriptor(metricName: name, unitName: "", helpText: help) }

    private init(
        _ name: String, _ kind: Kind, _ help: String, labels: [String] = [], upstream: String? = nil
    ) {
        self.name = name
        self.kind = kind
        self.help = help
        self.labels = labels
        self.upstream = upstream
    }

    // MARK: Agent and process
    static let buildInfo = Self(
        "kube_router_build_info", .gauge, "Always 1; the labels name the agent's version and the Swift compiler.",
        labels: ["version", "swift_version"], upstream: "kube_router_build_info")
    static let processCPU = Self(
        "process_cpu_seconds_total", .counter, "User and system CPU time spent, in seconds.")
    static let processResident = Self(
        "process_resident_memory_bytes", .gauge, "Resident memory size, in bytes.")
    static let processVirtual = Self(
        "process_virtual_memory_bytes", .gauge, "Virtual memory size, in bytes.")
    static let processOpenFDs = Self("process_open_fds", .gauge, "Open file descriptors.")
    static let processMaxFDs = Self("process_max_fds", .gauge, "The limit of open file descriptors.")
    static let processStart = Self(
        "process_start_time_seconds", .gauge, "When the process started, in seconds since the Unix epoch.")
    static let ready = Self(
        "kube_router_ready", .gauge, "1 when /readyz answers 200, else 0.")
    static let nodeCheck = Self(
        "kube_router_node_check", .gauge,
        "The node checks (krctl doctor): 1 for the check's current status, labelled by check id and status.",
        labels: ["check", "status"])

    // MARK: Controllers
    static let syncDuration = Self(
        "kube_router_sync_duration_seconds", .histogram, "How long each sync of a controller took.",
        labels: ["controller"],
        upstream: "kube_router_controller_iptables_sync_time, kube_router_controller_ipvs_services_sync_time, "
            + "kube_router_controller_routes_sync_time")
    static let syncPhaseDuration = Self(
        "kube_router_sync_phase_duration_seconds", .histogram,
        "How long each phase of a sync took (plan, ipsets, iptables, netfilter, ipvs, ...).",
        labels: ["controller", "phase"])
    static let syncs = Self(
        "kube_router_syncs_total", .counter, "Syncs by controller, kind (full or incremental) and result.",
        labels: ["controller", "kind", "result"])
    static let lastSuccess = Self(
        "kube_router_last_sync_success_timestamp_seconds", .gauge,
        "When the controller's last successful sync ended, in seconds since the Unix epoch.",
        labels: ["controller"])
    static let eventToKernel = Self(
        "kube_router_event_to_kernel_seconds", .histogram,
        "From an API event reaching the agent to the kernel holding its effect (event syncs).",
        labels: ["controller"])
    static let driftRepairs = Self(
        "kube_router_drift_repairs_total", .counter,
        "Periodic full syncs that found the kernel changed behind the agent's back and put it right.",
        labels: ["controller"])

    // MARK: API
    static let informerSynced = Self(
        "kube_router_informer_synced", .gauge, "1 once the resource's first list is in the informer's cache.",
        labels: ["resource"])
    static let watchEvents = Self(
        "kube_router_watch_events_total", .counter, "Watch events received, by resource and type.",
        labels: ["resource", "type"])
    static let relists = Self(
        "kube_router_relists_total", .counter, "Lists after the first, by resource and reason.",
        labels: ["resource", "reason"])
    static let apiRequests = Self(
        "kube_router_api_requests_total", .counter,
        "Requests to the API server by verb and HTTP status (<error>: no answer).", labels: ["verb", "code"])

    // MARK: Firewall
    static let firewallChains = Self(
        "kube_router_firewall_chains", .gauge, "The firewall's iptables chains (every family).",
        upstream: "kube_router_controller_policy_chains")
    static let firewallRules = Self(
        "kube_router_firewall_rules", .gauge, "Rules in the firewall's chains.")
    static let firewallSets = Self(
        "kube_router_firewall_ipsets", .gauge, "The firewall's ipsets.",
        upstream: "kube_router_controller_policy_ipsets")
    static let firewallSetEntries = Self(
        "kube_router_firewall_ipset_entries", .gauge, "Members of the firewall's ipsets.")
    static let firewallProtectedPods = Self(
        "kube_router_firewall_protected_pods", .gauge, "Local pods with a firewall chain of their own.")
    static let firewallRejectedPackets = Self(
        "kube_router_firewall_rejected_packets_total", .counter,
        "Packets the pods' policies refused (the REJECT rules' counters of every pod chain), by address family.",
        labels: ["family"])

    // MARK: Service proxy
    static let ipvsServices = Self(
        "kube_router_ipvs_services", .gauge, "IPVS virtual services the service proxy keeps.",
        upstream: "kube_router_controller_ipvs_services")
    static let ipvsRealServers = Self(
        "kube_router_ipvs_real_servers", .gauge, "Real servers of those virtual services.")
    static let ipvsDraining = Self(
        "kube_router_ipvs_real_servers_draining", .gauge,
        "Real servers of weight 0: terminating endpoints whose connections drain (--ipvs-graceful-termination).")
    static let serviceConnections = Self(
        "kube_router_service_connections_total", .counter, "Connections IPVS scheduled for the service port.",
        labels: ["namespace", "service", "protocol", "port", "address_type"],
        upstream: "kube_router_service_total_connections")
    static let servicePacketsIn = Self(
        "kube_router_service_packets_in_total", .counter, "Packets in, to the service port.",
        labels: ["namespace", "service", "protocol", "port", "address_type"],
        upstream: "kube_router_service_packets_in")
    static let servicePacketsOut = Self(
        "kube_router_service_packets_out_total", .counter, "Packets out, from the service port.",
        labels: ["namespace", "service", "protocol", "port", "address_type"],
        upstream: "kube_router_service_packets_out")
    static let serviceBytesIn = Self(
        "kube_router_service_bytes_in_total", .counter, "Bytes in, to the service port.",
        labels: ["namespace", "service", "protocol", "port", "address_type"],
        upstream: "kube_router_service_bytes_in")
    static let serviceBytesOut = Self(
        "kube_router_service_bytes_out_total", .counter, "Bytes out, from the service port.",
        labels: ["namespace", "service", "protocol", "port", "address_type"],
        upstream: "kube_router_service_bytes_out")

    // MARK: BGP
    static let bgpPeers = Self(
        "kube_router_bgp_peers", .gauge, "Configured BGP peers by type (internal: same AS) and session state.",
        labels: ["type", "state"], upstream: "kube_router_controller_bgp_peers")
    static let bgpPeerUp = Self(
        "kube_router_bgp_peer_up", .gauge, "1 while the session with an external peer is Established.",
        labels: ["peer", "asn"])
    static let bgpPeerTransitions = Self(
        "kube_router_bgp_peer_established_transitions_total", .counter,
        "Times the session with an external peer reached Established.", labels: ["peer", "asn"])
    static let bgpPrefixesReceived = Self(
        "kube_router_bgp_prefixes_received", .gauge, "Prefixes the peer has announced to us.", labels: ["peer"],
        upstream: "kube_router_controller_bgp_advertisements_received")
    static let bgpPrefixesAdvertised = Self(
        "kube_router_bgp_prefixes_advertised", .gauge, "Prefixes we announce to the peer.", labels: ["peer"],
        upstream: "kube_router_controller_bgp_advertisements_sent")
    static let bgpUpdatesReceived = Self(
        "kube_router_bgp_updates_received_total", .counter, "UPDATE messages from the peer.", labels: ["peer"])
    static let bgpUpdatesSent = Self(
        "kube_router_bgp_updates_sent_total", .counter, "UPDATE messages to the peer.", labels: ["peer"])
    static let bgpNotifications = Self(
        "kube_router_bgp_notifications_total", .counter, "NOTIFICATION messages, by peer and direction.",
        labels: ["peer", "direction"])
    static let bgpRoutesInstalled = Self(
        "kube_router_bgp_routes_installed", .gauge, "Learned routes the speaker holds in the kernel.")
    static let bgpRouteChanges = Self(
        "kube_router_bgp_route_changes_total", .counter, "Kernel routes the speaker added, replaced or removed.")
    static let bgpRouteReinjections = Self(
        "kube_router_bgp_route_reinjections_total", .counter,
        "Routes a full route sync had to put back because something removed them from the kernel.")

    static let all: [MetricFamily] = [
        buildInfo, processCPU, processResident, processVirtual, processOpenFDs, processMaxFDs, processStart, ready,
        nodeCheck, syncDuration, syncPhaseDuration, syncs, lastSuccess, eventToKernel, driftRepairs, informerSynced,
        watchEvents, relists, apiRequests, firewallChains, firewallRules, firewallSets, firewallSetEntries,
        firewallProtectedPods, firewallRejectedPackets, ipvsServices, ipvsRealServers, ipvsDraining, serviceConnections,
        servicePacketsIn,
        servicePacketsOut, serviceBytesIn, serviceBytesOut, bgpPeers, bgpPeerUp, bgpPeerTransitions,
        bgpPrefixesReceived, bgpPrefixesAdvertised, bgpUpdatesReceived, bgpUpdatesSent, bgpNotifications,
        bgpRoutesInstalled, bgpRouteChanges, bgpRouteReinjections,
    ]
}
