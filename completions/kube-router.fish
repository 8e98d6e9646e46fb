function __kube-router_should_offer_completions_for_flags_or_options -a expected_commands
    set -l non_repeating_flags_or_options $argv[2..]
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __kube-router_parse_tokens
    test "$commands" = "$expected_commands"; and return $non_repeating_flags_or_options_absent
end

function __kube-router_should_offer_completions_for_positional -a expected_commands positional_index_comparison expected_positional_index
    set -l non_repeating_flags_or_options
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __kube-router_parse_tokens
    test "$commands" = "$expected_commands" -a \( "$positional_index" "$positional_index_comparison" "$expected_positional_index" \)
end

function __kube-router_parse_tokens -S
    set -l unparsed_tokens (__kube-router_tokens -pc)
    switch $unparsed_tokens[1]
    case 'kube-router'
        __kube-router_parse_subcommand 0 'kubeconfig=' 'master=' 'hostname-override=' 'run-firewall=' 'run-service-proxy=' 'run-router=' 'iptables-sync-period=' 'ipvs-sync-period=' 'ipvs-graceful-termination=' 'masquerade-all=' 'hairpin-mode=' 'netpol-default-deny=' 'cluster-asn=' 'nodes-full-mesh=' 'peer-router-multihop-ttl=' 'override-nexthop=' 'enable-ibgp=' 'advertise-pod-cidr=' 'advertise-cluster-ip=' 'advertise-external-ip=' 'advertise-loadbalancer-ip=' 'peer-router-ips=' 'peer-router-asns=' 'peer-router-passwords=' 'peer-router-ports=' 'bgp-port=' 'peer-router-max-prefixes=' 'bgp-import-reject=' 'service-cluster-ip-range=' 'service-external-ip-range=' 'bgp-holdtime=' 'bgp-graceful-restart=' 'bgp-graceful-restart-time=' 'bgp-graceful-restart-deferral-time=' 'router-id=' 'enable-pod-egress=' 'enable-cni=' 'cni-conf-file=' 'cni-conf-template=' 'proc-sys-net-path=' 'cleanup-config=' 'v/v=' 'log-format=' 'health-addr=' 'health-port=' 'metrics-addr=' 'metrics-port=' 'metrics-path=' 'shutdown-timeout=' 'state-dir=' 'version' 'h/help'
        switch $unparsed_tokens[1]
        case 'help'
            __kube-router_parse_subcommand -r 1 'version'
        end
    end
end

function __kube-router_tokens
    if test (string split -m 1 -f 1 -- . "$FISH_VERSION") -gt 3
        commandline --tokens-raw $argv
    else
        commandline -o $argv
    end
end

function __kube-router_parse_subcommand -S -a positional_count
    argparse -s r -- $argv
    set -l option_specs $argv[2..]
    set -l is_repeating_positional $_flag_r
    set -el _flag_r
    set -a commands $unparsed_tokens[1]
    set positional_index 0
    while true
        set -e unparsed_tokens[1]
        argparse -sn "$commands" $option_specs -- $unparsed_tokens 2> /dev/null
        set unparsed_tokens $argv
        set positional_index (math $positional_index + 1)
        for non_repeating_flag_or_option in $non_repeating_flags_or_options
            if set -ql "_flag_$(string replace -a - _ -- $non_repeating_flag_or_option)"
                set non_repeating_flags_or_options_absent 1
                break
            end
        end
        test (count $unparsed_tokens) -eq 0 -o \( -z "$is_repeating_positional" -a "$positional_index" -gt "$positional_count" \) && break
    end
end

function __kube-router_complete_directories
    set -l token (commandline -t)
    string match -- '*/' $token
    set -l subdirs $token*/
    printf %s\n $subdirs
end

function __kube-router_custom_completion
    set -x SAP_SHELL fish
    set -x SAP_SHELL_VERSION $FISH_VERSION
    set -l tokens (__kube-router_tokens -p)
    if test -z "$(__kube-router_tokens -t)"
        set -l index (count (__kube-router_tokens -pc))
        set tokens $tokens[..$index] \'\' $tokens[(math $index + 1)..]
    end
    command $tokens[1] $argv $tokens
end

complete -c 'kube-router' -f
complete -c 'kube-router' -n '__kube-router_should_offer_completions_for_flags_or_options "kube-router" kubeconfig' -l 'kubeconfig' -d 'Path to a kubeconfig file with authorization and API server location.' -rfka ''
complete -c 'kube-router' -n '__kube-router_should_offer_completions_for_flags_or_options "kube-router" master' -l 'master' -d 'The address of the Kubernetes API server (overrides the kubeconfig\'s).' -rfka ''
complete -c 'kube-router' -n '__kube-router_should_offer_completions_for_flags_or_options "kube-router" hostname-override' -l 'hostname-override' -d 'The node name to use instead of the host name.' -rfka ''
complete -c 'kube-router' -n '__kube-router_should_offer_completions_for_flags_or_options "kube-router" run-firewall' -l 'run-firewall' -d 'Enable the NetworkPolicy firewall.' -rfka ''
complete -c 'kube-router' -n '__kube-router_should_offer_completions_for_flags_or_options "kube-router" run-service-proxy' -l 'run-service-proxy' -d 'Enable the IPVS service proxy.' -rfka ''
complete -c 'kube-router' -n '__kube-router_should_offer_completions_for_flags_or_options "kube-router" run-router' -l 'run-router' -d 'Enable pod networking over BGP.' -rfka ''
complete -c 'kube-router' -n '__kube-router_should_offer_completions_for_flags_or_options "kube-router" iptables-sync-period' -l 'iptables-sync-period' -d 'Period of the full firewall sync, as a Go duration (5m, 90s).' -rfka ''
complete -c 'kube-router' -n '__kube-router_should_offer_completions_for_flags_or_options "kube-router" ipvs-sync-period' -l 'ipvs-sync-period' -d 'Period of the full IPVS sync, as a Go duration.' -rfka ''
complete -c 'kube-router' -n '__kube-router_should_offer_completions_for_flags_or_options "kube-router" ipvs-graceful-termination' -l 'ipvs-graceful-termination' -d 'Keep terminating endpoints that still serve as real servers of weight 0 until they go, so their connections drain.' -rfka ''
complete -c 'kube-router' -n '__kube-router_should_offer_completions_for_flags_or_options "kube-router" masquerade-all' -l 'masquerade-all' -d 'Masquerade all service traffic IPVS forwards (pods lose their source address).' -rfka ''
complete -c 'kube-router' -n '__kube-router_should_offer_completions_for_flags_or_options "kube-router" hairpin-mode' -l 'hairpin-mode' -d 'Hairpin for every service: a pod reaches itself through its service (else only for kube-router.io/service.hairpin).' -rfka ''
complete -c 'kube-router' -n '__kube-router_should_offer_completions_for_flags_or_options "kube-router" netpol-default-deny' -l 'netpol-default-deny' -d 'Isolate every pod both ways: only what a NetworkPolicy allows passes (traffic from the pod\'s node and replies still do).' -rfka ''
complete -c 'kube-router' -n '__kube-router_should_offer_completions_for_flags_or_options "kube-router" cluster-asn' -l 'cluster-asn' -d 'The AS of the cluster\'s nodes (kube-router.io/node.asn overrides it per node).' -rfka ''
complete -c 'kube-router' -n '__kube-router_should_offer_completions_for_flags_or_options "kube-router" nodes-full-mesh' -l 'nodes-full-mesh' -d 'Peer with every node of the same AS (iBGP full mesh).' -rfka ''
complete -c 'kube-router' -n '__kube-router_should_offer_completions_for_flags_or_options "kube-router" peer-router-multihop-ttl' -l 'peer-router-multihop-ttl' -d 'The IP TTL of eBGP sessions, for peers that many hops away (2-255; without it, or below 2, eBGP peers must be directly connected: TTL 1).' -rfka ''
complete -c 'kube-router' -n '__kube-router_should_offer_completions_for_flags_or_options "kube-router" override-nexthop' -l 'override-nexthop' -d 'Announce routes with the session\'s own local address as next hop (next-hop-self), for nodes that reach peers over several interfaces; default: the node\'s InternalIP.' -rfka ''
complete -c 'kube-router' -n '__kube-router_should_offer_completions_for_flags_or_options "kube-router" enable-ibgp' -l 'enable-ibgp' -d 'Peer with the cluster\'s nodes of the same AS (false: only with the external peers).' -rfka ''
complete -c 'kube-router' -n '__kube-router_should_offer_completions_for_flags_or_options "kube-router" advertise-pod-cidr' -l 'advertise-pod-cidr' -d 'Announce the node\'s pod CIDRs over BGP.' -rfka ''
complete -c 'kube-router' -n '__kube-router_should_offer_completions_for_flags_or_options "kube-router" advertise-cluster-ip' -l 'advertise-cluster-ip' -d 'Announce services\' ClusterIPs over BGP as host routes (kube-router.io/service.advertise.clusterip overrides it per service).' -rfka ''
complete -c 'kube-router' -n '__kube-router_should_offer_completions_for_flags_or_options "kube-router" advertise-external-ip' -l 'advertise-external-ip' -d 'Announce services\' external IPs over BGP (kube-router.io/service.advertise.externalip overrides it).' -rfka ''
complete -c 'kube-router' -n '__kube-router_should_offer_completions_for_flags_or_options "kube-router" advertise-loadbalancer-ip' -l 'advertise-loadbalancer-ip' -d 'Announce LoadBalancer services\' ingress IPs over BGP (kube-router.io/service.advertise.loadbalancerip overrides it).' -rfka ''
complete -c 'kube-router' -n '__kube-router_should_offer_completions_for_flags_or_options "kube-router" peer-router-ips' -l 'peer-router-ips' -d 'External BGP peers every node peers with, comma-separated addresses.' -rfka ''
complete -c 'kube-router' -n '__kube-router_should_offer_completions_for_flags_or_options "kube-router" peer-router-asns' -l 'peer-router-asns' -d 'The AS of each --peer-router-ips address, comma-separated.' -rfka ''
complete -c 'kube-router' -n '__kube-router_should_offer_completions_for_flags_or_options "kube-router" peer-router-passwords' -l 'peer-router-passwords' -d 'TCP MD5 password of each --peer-router-ips address, base64, comma-separated.' -rfka ''
complete -c 'kube-router' -n '__kube-router_should_offer_completions_for_flags_or_options "kube-router" peer-router-ports' -l 'peer-router-ports' -d 'The BGP port of each --peer-router-ips address, comma-separated (default: --bgp-port).' -rfka ''
complete -c 'kube-router' -n '__kube-router_should_offer_completions_for_flags_or_options "kube-router" bgp-port' -l 'bgp-port' -d 'The port the BGP speaker listens on and connects to (1-65535).' -rfka ''
complete -c 'kube-router' -n '__kube-router_should_offer_completions_for_flags_or_options "kube-router" peer-router-max-prefixes' -l 'peer-router-max-prefixes' -d 'The most prefixes one BGP peer (router or node) may send; past it: a Cease, and its routes go.' -rfka ''
complete -c 'kube-router' -n '__kube-router_should_offer_completions_for_flags_or_options "kube-router" bgp-import-reject' -l 'bgp-import-reject' -d 'Routes learned over BGP inside these CIDRs are never installed, comma-separated.' -rfka ''
complete -c 'kube-router' -n '__kube-router_should_offer_completions_for_flags_or_options "kube-router" service-cluster-ip-range' -l 'service-cluster-ip-range' -d 'The service ClusterIP range(s), comma-separated for dual stack; never installed from a BGP peer.' -rfka ''
complete -c 'kube-router' -n '__kube-router_should_offer_completions_for_flags_or_options "kube-router" service-external-ip-range' -l 'service-external-ip-range' -d 'The services\' external IP range(s), comma-separated; never installed from a BGP peer.' -rfka ''
complete -c 'kube-router' -n '__kube-router_should_offer_completions_for_flags_or_options "kube-router" bgp-holdtime' -l 'bgp-holdtime' -d 'BGP hold time, as a Go duration (3s to 18h12m15s; 0 disables keepalives).' -rfka ''
complete -c 'kube-router' -n '__kube-router_should_offer_completions_for_flags_or_options "kube-router" bgp-graceful-restart' -l 'bgp-graceful-restart' -d 'Graceful restart (RFC 4724): routes survive a restart of the agent or a peer.' -rfka ''
complete -c 'kube-router' -n '__kube-router_should_offer_completions_for_flags_or_options "kube-router" bgp-graceful-restart-time' -l 'bgp-graceful-restart-time' -d 'How long peers keep our routes while we restart, as a Go duration.' -rfka ''
complete -c 'kube-router' -n '__kube-router_should_offer_completions_for_flags_or_options "kube-router" bgp-graceful-restart-deferral-time' -l 'bgp-graceful-restart-deferral-time' -d 'How long routes a previous run left stay while the peers have not all sent End-of-RIB, as a Go duration.' -rfka ''
complete -c 'kube-router' -n '__kube-router_should_offer_completions_for_flags_or_options "kube-router" router-id' -l 'router-id' -d 'The BGP router ID (default: the node\'s IPv4 InternalIP).' -rfka ''
complete -c 'kube-router' -n '__kube-router_should_offer_completions_for_flags_or_options "kube-router" enable-pod-egress' -l 'enable-pod-egress' -d 'Masquerade pods\' traffic to addresses outside every node\'s pod CIDR and not a node\'s (SNAT to the node\'s address), so that hosts outside the cluster can answer.' -rfka ''
complete -c 'kube-router' -n '__kube-router_should_offer_completions_for_flags_or_options "kube-router" enable-cni' -l 'enable-cni' -d 'Write the CNI configuration (bridge plugin on kube-bridge, host-local IPAM over the pod CIDR).' -rfka ''
complete -c 'kube-router' -n '__kube-router_should_offer_completions_for_flags_or_options "kube-router" cni-conf-file' -l 'cni-conf-file' -d 'Where --enable-cni writes the CNI configuration.' -rfka ''
complete -c 'kube-router' -n '__kube-router_should_offer_completions_for_flags_or_options "kube-router" cni-conf-template' -l 'cni-conf-template' -d 'A CNI network (JSON, a conflist or one network) for --enable-cni to write: its host-local IPAM gets the node\'s pod CIDRs (default: the bridge plugin on kube-bridge, and portmap).' -rfka ''
complete -c 'kube-router' -n '__kube-router_should_offer_completions_for_flags_or_options "kube-router" proc-sys-net-path' -l 'proc-sys-net-path' -d 'Where the agent writes the net.* sysctls: the host\'s /proc/sys/net, mounted writable (an unprivileged pod\'s /proc/sys is read-only).' -rfka ''
complete -c 'kube-router' -n '__kube-router_should_offer_completions_for_flags_or_options "kube-router" cleanup-config' -l 'cleanup-config' -d 'Remove every kernel object kube-router owns, then exit.' -rfka ''
complete -c 'kube-router' -n '__kube-router_should_offer_completions_for_flags_or_options "kube-router" v v' -s 'v' -l 'v' -d 'Log verbosity (0-10).' -rfka ''
complete -c 'kube-router' -n '__kube-router_should_offer_completions_for_flags_or_options "kube-router" log-format' -l 'log-format' -d 'Log line format: text (klog-like) or json (one object per line, for log collectors).' -rfka ''
complete -c 'kube-router' -n '__kube-router_should_offer_completions_for_flags_or_options "kube-router" health-addr' -l 'health-addr' -d 'The address /livez, /readyz and /healthz listen on.' -rfka ''
complete -c 'kube-router' -n '__kube-router_should_offer_completions_for_flags_or_options "kube-router" health-port' -l 'health-port' -d 'The port of /livez, /readyz and /healthz (0: off).' -rfka ''
complete -c 'kube-router' -n '__kube-router_should_offer_completions_for_flags_or_options "kube-router" metrics-addr' -l 'metrics-addr' -d 'The address the Prometheus metrics listen on.' -rfka ''
complete -c 'kube-router' -n '__kube-router_should_offer_completions_for_flags_or_options "kube-router" metrics-port' -l 'metrics-port' -d 'The port of the Prometheus metrics (0: off).' -rfka ''
complete -c 'kube-router' -n '__kube-router_should_offer_completions_for_flags_or_options "kube-router" metrics-path' -l 'metrics-path' -d 'The path of the Prometheus metrics.' -rfka ''
complete -c 'kube-router' -n '__kube-router_should_offer_completions_for_flags_or_options "kube-router" shutdown-timeout' -l 'shutdown-timeout' -d 'On SIGTERM: how long a running sync may take to finish before the agent exits, as a Go duration.' -rfka ''
complete -c 'kube-router' -n '__kube-router_should_offer_completions_for_flags_or_options "kube-router" state-dir' -l 'state-dir' -d 'Where the agent writes its status for krctl.' -rfka ''
complete -c 'kube-router' -n '__kube-router_should_offer_completions_for_flags_or_options "kube-router" version' -l 'version' -d 'Show the version.'
complete -c 'kube-router' -n '__kube-router_should_offer_completions_for_flags_or_options "kube-router" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'kube-router' -n '__kube-router_should_offer_completions_for_positional "kube-router" -eq 1' -fa 'help' -d 'Show subcommand help information.'
complete -c 'kube-router' -n '__kube-router_should_offer_completions_for_flags_or_options "kube-router help" version' -l 'version' -d 'Show the version.'
