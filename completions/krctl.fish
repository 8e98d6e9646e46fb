function __krctl_should_offer_completions_for_flags_or_options -a expected_commands
    set -l non_repeating_flags_or_options $argv[2..]
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __krctl_parse_tokens
    test "$commands" = "$expected_commands"; and return $non_repeating_flags_or_options_absent
end

function __krctl_should_offer_completions_for_positional -a expected_commands positional_index_comparison expected_positional_index
    set -l non_repeating_flags_or_options
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __krctl_parse_tokens
    test "$commands" = "$expected_commands" -a \( "$positional_index" "$positional_index_comparison" "$expected_positional_index" \)
end

function __krctl_parse_tokens -S
    set -l unparsed_tokens (__krctl_tokens -pc)
    switch $unparsed_tokens[1]
    case 'krctl'
        __krctl_parse_subcommand 0 'version' 'h/help'
        switch $unparsed_tokens[1]
        case 'explain-policy'
            __krctl_parse_subcommand 0 'f/manifests=+' 'kubeconfig=' 'context=' 'strict' 'from=' 'to=' 'port=+' 'matrix' 'n/namespace=+' 'o/output=' 'no-color' 'kernel=' 'netpol-default-deny' 'node=' 'state-dir=' 'version' 'h/help'
        case 'policy'
            __krctl_parse_subcommand 0 'version' 'h/help'
            switch $unparsed_tokens[1]
            case 'check'
                __krctl_parse_subcommand 1 'f/manifests=+' 'kubeconfig=' 'context=' 'strict' 'node=' 'state-dir=' 'n/namespace=' 'o/output=' 'no-color' 'version' 'h/help'
            end
        case 'trace'
            __krctl_parse_subcommand 0 'version' 'h/help'
            switch $unparsed_tokens[1]
            case 'service'
                __krctl_parse_subcommand 1 'n/namespace=' 'from=' 'port=' 'kernel=' 'o/output=' 'no-color' 'f/manifests=+' 'kubeconfig=' 'context=' 'strict' 'node=' 'state-dir=' 'version' 'h/help'
            end
        case 'ipvs'
            __krctl_parse_subcommand 0 'state-dir=' 'o/output=' 'no-color' 'request-timeout=' 'version' 'h/help'
        case 'bgp'
            __krctl_parse_subcommand 0 'version' 'h/help'
            switch $unparsed_tokens[1]
            case 'peers'
                __krctl_parse_subcommand 0 'state-dir=' 'o/output=' 'no-color' 'request-timeout=' 'version' 'h/help'
            case 'routes'
                __krctl_parse_subcommand 0 'state-dir=' 'o/output=' 'no-color' 'request-timeout=' 'version' 'h/help'
            end
        case 'version'
            __krctl_parse_subcommand 0 'version' 'h/help'
        case 'doctor'
            __krctl_parse_subcommand 0 'root=' 'state-dir=' 'node=' 'controllers=' 'kubeconfig=' 'context=' 'request-timeout=' 'cni-conf-dir=' 'cni-bin-dir=' 'o/output=' 'no-color' 'version' 'h/help'
        case 'drops'
            __krctl_parse_subcommand 0 'node=' 'state-dir=' 'manifests=+' 'kubeconfig=' 'context=' 'n/namespace=' 'pod=' 'port=' 'since=' 'f/follow' 'count=' 'suggest' 'o/output=' 'no-color' 'version' 'h/help'
        case 'top'
            __krctl_parse_subcommand 2 'node=' 'state-dir=' 'f/manifests=+' 'kubeconfig=' 'context=' 'strict' 'n/namespace=' 'interval=' 'once' 'iterations=' 'o/output=' 'no-color' 'ascii' 'record=' 'replay=' 'health-url=' 'metrics-url=' 'no-doctor' 'version' 'h/help'
        case 'help'
            __krctl_parse_subcommand -r 1 'version'
        end
    end
end

function __krctl_tokens
    if test (string split -m 1 -f 1 -- . "$FISH_VERSION") -gt 3
        commandline --tokens-raw $argv
    else
        commandline -o $argv
    end
end

function __krctl_parse_subcommand -S -a positional_count
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

function __krctl_complete_directories
    set -l token (commandline -t)
    string match -- '*/' $token
    set -l subdirs $token*/
    printf %s\n $subdirs
end

function __krctl_custom_completion
    set -x SAP_SHELL fish
    set -x SAP_SHELL_VERSION $FISH_VERSION
    set -l tokens (__krctl_tokens -p)
    if test -z "$(__krctl_tokens -t)"
        set -l index (count (__krctl_tokens -pc))
        set tokens $tokens[..$index] \'\' $tokens[(math $index + 1)..]
    end
    command $tokens[1] $argv $tokens
end

complete -c 'krctl' -f
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl" version' -l 'version' -d 'Show the version.'
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'krctl' -n '__krctl_should_offer_completions_for_positional "krctl" -eq 1' -fa 'explain-policy' -d 'Explain whether NetworkPolicies allow a packet, and which rule decides.'
complete -c 'krctl' -n '__krctl_should_offer_completions_for_positional "krctl" -eq 1' -fa 'policy' -d 'Inspect the NetworkPolicy firewall of this node.'
complete -c 'krctl' -n '__krctl_should_offer_completions_for_positional "krctl" -eq 1' -fa 'trace' -d 'Follow a packet along the node\'s data path.'
complete -c 'krctl' -n '__krctl_should_offer_completions_for_positional "krctl" -eq 1' -fa 'ipvs' -d 'The node\'s IPVS table with service names, real servers and counters.'
complete -c 'krctl' -n '__krctl_should_offer_completions_for_positional "krctl" -eq 1' -fa 'bgp' -d 'Show the BGP sessions and routes of the agent on this node.'
complete -c 'krctl' -n '__krctl_should_offer_completions_for_positional "krctl" -eq 1' -fa 'version' -d 'Print the version of krctl and the C libraries it links.'
complete -c 'krctl' -n '__krctl_should_offer_completions_for_positional "krctl" -eq 1' -fa 'doctor' -d 'Check this node for what kube-router needs, and say how to fix what is wrong.'
complete -c 'krctl' -n '__krctl_should_offer_completions_for_positional "krctl" -eq 1' -fa 'drops' -d 'Which packets this node\'s firewall dropped, by which pod\'s policy, why, and what would allow them.'
complete -c 'krctl' -n '__krctl_should_offer_completions_for_positional "krctl" -eq 1' -fa 'top' -d 'The node\'s networking live: services, policy, drops, BGP and the agent\'s health in one dashboard.'
complete -c 'krctl' -n '__krctl_should_offer_completions_for_positional "krctl" -eq 1' -fa 'help' -d 'Show subcommand help information.'
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl explain-policy"' -s 'f' -l 'manifests' -d 'Read objects from a YAML/JSON file or folder instead of the API server (repeatable).' -rfka ''
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl explain-policy" kubeconfig' -l 'kubeconfig' -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then in-cluster).' -rfka ''
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl explain-policy" context' -l 'context' -d 'The kubeconfig context to use (default: its current-context).' -rfka ''
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl explain-policy" strict' -l 'strict' -d 'Manifests: unknown fields, kinds that are not read and objects defined twice are errors, not warnings.'
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl explain-policy" from' -l 'from' -d 'Source: NAMESPACE/POD, POD or IP.' -rfka ''
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl explain-policy" to' -l 'to' -d 'Destination: NAMESPACE/POD, POD or IP.' -rfka ''
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl explain-policy"' -l 'port' -d 'Destination port: NUMBER[/TCP|UDP|SCTP] or NAME[/PROTOCOL] (repeatable with --matrix).' -rfka ''
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl explain-policy" matrix' -l 'matrix' -d 'Print the allow/deny truth table of every ordered pair of distinct pods.'
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl explain-policy"' -s 'n' -l 'namespace' -d 'Namespace of bare pod names (default: the kubeconfig context\'s, else default); with --matrix, only pods of this namespace (repeatable).' -rfka ''
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl explain-policy" o output' -s 'o' -l 'output' -d 'Output format: text, json or yaml.' -rfka 'text json yaml'
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl explain-policy" no-color' -l 'no-color' -d 'Never colour the output (also: NO_COLOR=1).'
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl explain-policy" kernel' -l 'kernel' -d 'Compare with this node\'s kernel: auto (when kube-router\'s rules are here), always or never.' -rfka 'auto always never'
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl explain-policy" netpol-default-deny' -l 'netpol-default-deny' -d 'Explain as agents running with --netpol-default-deny do (default: as this node\'s agent runs).'
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl explain-policy" node' -l 'node' -d 'The node krctl runs on (default: the agent\'s status file, then the host name).' -rfka ''
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl explain-policy" state-dir' -l 'state-dir' -d 'The agent\'s state directory, where it records its syncs.' -rfka ''
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl explain-policy" version' -l 'version' -d 'Show the version.'
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl explain-policy" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl policy" version' -l 'version' -d 'Show the version.'
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl policy" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'krctl' -n '__krctl_should_offer_completions_for_positional "krctl policy" -eq 1' -fa 'check' -d 'Is a pod of this node protected now, by which chains, and when was it last synced?'
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl policy check"' -s 'f' -l 'manifests' -d 'Read objects from a YAML/JSON file or folder instead of the API server (repeatable).' -rfka ''
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl policy check" kubeconfig' -l 'kubeconfig' -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then in-cluster).' -rfka ''
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl policy check" context' -l 'context' -d 'The kubeconfig context to use (default: its current-context).' -rfka ''
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl policy check" strict' -l 'strict' -d 'Manifests: unknown fields, kinds that are not read and objects defined twice are errors, not warnings.'
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl policy check" node' -l 'node' -d 'The node krctl runs on (default: the agent\'s status file, then the host name).' -rfka ''
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl policy check" state-dir' -l 'state-dir' -d 'The agent\'s state directory, where it records its syncs.' -rfka ''
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl policy check" n namespace' -s 'n' -l 'namespace' -d 'Namespace of a bare pod name (default: the kubeconfig context\'s, else default).' -rfka ''
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl policy check" o output' -s 'o' -l 'output' -d 'Output format: text, json or yaml.' -rfka 'text json yaml'
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl policy check" no-color' -l 'no-color' -d 'Never colour the output (also: NO_COLOR=1).'
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl policy check" version' -l 'version' -d 'Show the version.'
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl policy check" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl trace" version' -l 'version' -d 'Show the version.'
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl trace" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'krctl' -n '__krctl_should_offer_completions_for_positional "krctl trace" -eq 1' -fa 'service' -d 'The path of a packet to a Service on this node: VIP, IPVS service, real servers, routes, policy.'
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl trace service" n namespace' -s 'n' -l 'namespace' -d 'Namespace of a bare service name (default: the kubeconfig context\'s, else default).' -rfka ''
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl trace service" from' -l 'from' -d 'The client pod, NAMESPACE/POD or POD: adds the policy verdict at each endpoint.' -rfka ''
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl trace service" port' -l 'port' -d 'Only this service port (its name or number).' -rfka ''
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl trace service" kernel' -l 'kernel' -d 'Compare with this node\'s kernel: auto (when readable), always or never.' -rfka 'auto always never'
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl trace service" o output' -s 'o' -l 'output' -d 'Output format: text, json or yaml.' -rfka 'text json yaml'
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl trace service" no-color' -l 'no-color' -d 'Never colour the output (also: NO_COLOR=1).'
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl trace service"' -s 'f' -l 'manifests' -d 'Read objects from a YAML/JSON file or folder instead of the API server (repeatable).' -rfka ''
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl trace service" kubeconfig' -l 'kubeconfig' -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then in-cluster).' -rfka ''
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl trace service" context' -l 'context' -d 'The kubeconfig context to use (default: its current-context).' -rfka ''
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl trace service" strict' -l 'strict' -d 'Manifests: unknown fields, kinds that are not read and objects defined twice are errors, not warnings.'
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl trace service" node' -l 'node' -d 'The node krctl runs on (default: the agent\'s status file, then the host name).' -rfka ''
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl trace service" state-dir' -l 'state-dir' -d 'The agent\'s state directory, where it records its syncs.' -rfka ''
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl trace service" version' -l 'version' -d 'Show the version.'
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl trace service" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl ipvs" state-dir' -l 'state-dir' -d 'The agent\'s state directory: its control socket and status files.' -rfka ''
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl ipvs" o output' -s 'o' -l 'output' -d 'Output format: text, json or yaml.' -rfka 'text json yaml'
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl ipvs" no-color' -l 'no-color' -d 'Never colour the output (also: NO_COLOR=1).'
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl ipvs" request-timeout' -l 'request-timeout' -d 'How long to wait for the agent\'s answer, as a Go duration (kubectl\'s flag). (default: 30s)' -rfka ''
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl ipvs" version' -l 'version' -d 'Show the version.'
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl ipvs" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl bgp" version' -l 'version' -d 'Show the version.'
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl bgp" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'krctl' -n '__krctl_should_offer_completions_for_positional "krctl bgp" -eq 1' -fa 'peers' -d 'The BGP peers: address, AS, state, uptime, prefixes, last NOTIFICATION, last error, capabilities.'
complete -c 'krctl' -n '__krctl_should_offer_completions_for_positional "krctl bgp" -eq 1' -fa 'routes' -d 'The best BGP path of every prefix beside the kernel\'s routes, differences flagged.'
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl bgp peers" state-dir' -l 'state-dir' -d 'The agent\'s state directory: its control socket and status files.' -rfka ''
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl bgp peers" o output' -s 'o' -l 'output' -d 'Output format: text, json or yaml.' -rfka 'text json yaml'
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl bgp peers" no-color' -l 'no-color' -d 'Never colour the output (also: NO_COLOR=1).'
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl bgp peers" request-timeout' -l 'request-timeout' -d 'How long to wait for the agent\'s answer, as a Go duration (kubectl\'s flag). (default: 30s)' -rfka ''
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl bgp peers" version' -l 'version' -d 'Show the version.'
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl bgp peers" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl bgp routes" state-dir' -l 'state-dir' -d 'The agent\'s state directory: its control socket and status files.' -rfka ''
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl bgp routes" o output' -s 'o' -l 'output' -d 'Output format: text, json or yaml.' -rfka 'text json yaml'
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl bgp routes" no-color' -l 'no-color' -d 'Never colour the output (also: NO_COLOR=1).'
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl bgp routes" request-timeout' -l 'request-timeout' -d 'How long to wait for the agent\'s answer, as a Go duration (kubectl\'s flag). (default: 30s)' -rfka ''
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl bgp routes" version' -l 'version' -d 'Show the version.'
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl bgp routes" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl version" version' -l 'version' -d 'Show the version.'
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl version" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl doctor" root' -l 'root' -d 'Read the node\'s files under this directory instead of / (a fixture tree; see krctl-doctor(1)).' -rfa '(__krctl_complete_directories)'
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl doctor" state-dir' -l 'state-dir' -d 'The agent\'s state directory (under --root).' -rfka ''
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl doctor" node' -l 'node' -d 'The node\'s name (default: the agent\'s status, then the host name).' -rfka ''
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl doctor" controllers' -l 'controllers' -d 'The controllers the agent runs, comma-separated: what only others need is SKIP.' -rfka ''
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl doctor" kubeconfig' -l 'kubeconfig' -d 'Path to the kubeconfig file (default: $KUBECONFIG, ~/.kube/config, in-cluster; with --root only this).' -rfka ''
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl doctor" context' -l 'context' -d 'The kubeconfig context to use.' -rfka ''
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl doctor" request-timeout' -l 'request-timeout' -d 'How long to wait for each API request, as a Go duration.' -rfka ''
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl doctor" cni-conf-dir' -l 'cni-conf-dir' -d 'The CNI configuration directory (under --root).' -rfka ''
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl doctor" cni-bin-dir' -l 'cni-bin-dir' -d 'The CNI plugin directory (under --root).' -rfka ''
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl doctor" o output' -s 'o' -l 'output' -d 'Output format: text, json or yaml.' -rfka 'text json yaml'
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl doctor" no-color' -l 'no-color' -d 'Never colour the output (also: NO_COLOR=1).'
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl doctor" version' -l 'version' -d 'Show the version.'
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl doctor" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl drops" node' -l 'node' -d 'The node krctl runs on (default: the agent\'s status file, then the host name).' -rfka ''
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl drops" state-dir' -l 'state-dir' -d 'The agent\'s state directory, where it records its syncs.' -rfka ''
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl drops"' -l 'manifests' -d 'Read objects from a YAML/JSON file or folder instead of the API server (repeatable).' -rfka ''
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl drops" kubeconfig' -l 'kubeconfig' -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then in-cluster).' -rfka ''
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl drops" context' -l 'context' -d 'The kubeconfig context to use (default: its current-context).' -rfka ''
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl drops" n namespace' -s 'n' -l 'namespace' -d 'Only drops from, to or by pods of this namespace.' -rfka ''
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl drops" pod' -l 'pod' -d 'Only drops from, to or by this pod: NAMESPACE/POD or POD (in --namespace).' -rfka ''
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl drops" port' -l 'port' -d 'Only drops to this destination port.' -rfka ''
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl drops" since' -l 'since' -d 'How long to listen without --follow, as a Go duration; counters are reported for this window.' -rfka ''
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl drops" f follow' -s 'f' -l 'follow' -d 'Print drops as they arrive, until interrupted or --count.'
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl drops" count' -l 'count' -d 'Exit after this many drops.' -rfka ''
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl drops" suggest' -l 'suggest' -d 'For each dropped flow, the smallest NetworkPolicy that would allow exactly it.'
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl drops" o output' -s 'o' -l 'output' -d 'Output format: text, json or jsonl (one JSON object per drop).' -rfka 'text json jsonl'
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl drops" no-color' -l 'no-color' -d 'Never colour the output (also: NO_COLOR=1).'
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl drops" version' -l 'version' -d 'Show the version.'
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl drops" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'krctl' -n '__krctl_should_offer_completions_for_positional "krctl top" -eq 1' -fka 'pod service'
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl top" node' -l 'node' -d 'The node krctl runs on (default: the agent\'s status file, then the host name).' -rfka ''
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl top" state-dir' -l 'state-dir' -d 'The agent\'s state directory, where it records its syncs.' -rfka ''
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl top"' -s 'f' -l 'manifests' -d 'Read objects from a YAML/JSON file or folder instead of the API server (repeatable).' -rfka ''
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl top" kubeconfig' -l 'kubeconfig' -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then in-cluster).' -rfka ''
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl top" context' -l 'context' -d 'The kubeconfig context to use (default: its current-context).' -rfka ''
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl top" strict' -l 'strict' -d 'Manifests: unknown fields, kinds that are not read and objects defined twice are errors, not warnings.'
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl top" n namespace' -s 'n' -l 'namespace' -d 'Only pods of this namespace in the Policy pane.' -rfka ''
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl top" interval' -l 'interval' -d 'Time between collections, as a Go duration.' -rfka ''
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl top" once' -l 'once' -d 'Print one snapshot (after one interval: rates need two) and exit.'
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl top" iterations' -l 'iterations' -d 'Print K snapshots, one per interval, and exit.' -rfka ''
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl top" o output' -s 'o' -l 'output' -d 'Print instead of drawing: table, json (krctl/v1 TopSnapshot) or jsonl (a snapshot per line).' -rfka 'table json jsonl'
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl top" no-color' -l 'no-color' -d 'Never colour the output (also: NO_COLOR=1).'
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl top" ascii' -l 'ascii' -d 'ASCII borders and sparklines (also when the locale is not UTF-8).'
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl top" record' -l 'record' -d 'Write the snapshots shown to FILE, as JSON lines.' -rfka ''
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl top" replay' -l 'replay' -d 'Show the snapshots of a recording instead of reading the node.' -rF
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl top" health-url' -l 'health-url' -d 'The agent\'s health endpoint.' -rfka ''
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl top" metrics-url' -l 'metrics-url' -d 'The agent\'s metrics (its --metrics-port), for sync durations, failures and the API watches: http://127.0.0.1:PORT/metrics.' -rfka ''
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl top" no-doctor' -l 'no-doctor' -d 'Leave out the node checks of krctl doctor (the Health pane\'s findings).'
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl top" version' -l 'version' -d 'Show the version.'
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl top" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'krctl' -n '__krctl_should_offer_completions_for_flags_or_options "krctl help" version' -l 'version' -d 'Show the version.'
