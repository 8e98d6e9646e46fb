import ArgumentParser
import Foundation
import KubeModel
import Planning

struct ExplainPolicy: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain-policy",
        abstract: "Explain whether NetworkPolicies allow a packet, and which rule decides.",
        discussion: """
            A single query (--from, --to, --port) prints the verdict and, for each side (the source's egress and \
            the destination's ingress), whether the pod is isolated, by which policies, and which rule allows the \
            packet or that none does. --matrix prints the verdict for every ordered pair of distinct pods.

            The cluster is read from --manifests, or else from the API server: --kubeconfig, $KUBECONFIG, \
            ~/.kube/config, or the service account when run in a pod. Both give the same answers.

            Endpoints are NAMESPACE/POD, POD (in --namespace), or an IP address (a pod's, a node's or an \
            external one). Ports are NUMBER[/PROTOCOL] or a container port NAME[/PROTOCOL] resolved on the \
            destination pod; the protocol defaults to TCP.

            Run on a node (as root), a single query also walks the packet through the kernel's live iptables \
            rules and ipsets and prints the kernel's verdict beside the policies': the chain path, the deciding \
            rule and its comment, the set lookups. Where the kernel differs from what the agent's plan for this \
            node says, the difference is reported as drift with its cause (missing chain, pod IP missing from a \
            set, stale rule). --kernel=auto does this when kube-router's chains or status file are present.

            Exit status: 0 when verdicts were computed (allow or deny), 1 on bad input (invalid manifests, \
            unknown pod), 2 when the kernel drifts from the plan, 64 on a usage error.
            """
    )

    @OptionGroup var cluster: ClusterOptions

    @Option(
        help: ArgumentHelp("Source: NAMESPACE/POD, POD or IP.", valueName: "endpoint"),
        transform: EndpointArgument.parse)
    var from: EndpointArgument?

    @Option(
        help: ArgumentHelp("Destination: NAMESPACE/POD, POD or IP.", valueName: "endpoint"),
        transform: EndpointArgument.parse)
    var to: EndpointArgument?

    @Option(
        help: ArgumentHelp(
            "Destination port: NUMBER[/TCP|UDP|SCTP] or NAME[/PROTOCOL] (repeatable with --matrix).",
            valueName: "port"),
        transform: PortQuery.parse)
    var port: [PortQuery] = []

    @Flag(help: "Print the allow/deny truth table of every ordered pair of distinct pods.")
    var matrix = false

    @Option(
        name: [.customShort("n"), .long],
        help: ArgumentHelp(
            "Namespace of bare pod names (default: the kubeconfig context's, else default); "
                + "with --matrix, only pods of this namespace (repeatable).",
            valueName: "namespace"))
    var namespace: [String] = []

    @OptionGroup var format: OutputOptions

    @Option(
        help: ArgumentHelp(
            "Compare with this node's kernel: auto (when kube-router's rules are here), always or never.",
            valueName: "mode"))
    var kernel: KernelMode = .auto

    @Flag(help: "Explain as agents running with --netpol-default-deny do (default: as this node's agent runs).")
    var netpolDefaultDeny = false

    @OptionGroup var nodeOptions: NodeOptions

    /// What was asked: one packet, or the truth table. `validate` and `run` read the flags here only.
    private enum Query {
        case single(from: EndpointArgument, to: EndpointArgument, port: PortQuery)
        case matrix(ports: [PortQuery])
    }

    private func query() throws -> Query {
        if matrix {
            guard from == nil, to == nil else { throw ValidationError("--matrix takes no --from or --to") }
            guard !port.isEmpty else { throw ValidationError("--matrix needs at least one --port PORT[/PROTOCOL]") }
            return .matrix(ports: port)
        }
        guard let from, let to else { throw ValidationError("give --from and --to (or --matrix)") }
        guard port.count == 1, let single = port.first else {
            throw ValidationError("give exactly one --port for a single query")
        }
        guard namespace.count <= 1 else { throw ValidationError("give at most one --namespace for a single query") }
        return .single(from: from, to: to, port: single)
    }

    func validate() throws {
        _ = try query()
    }

    func run() throws {
        let query = try query()
        // As kubectl does, bare pod names live in the kubeconfig context's namespace when -n is not given.
        let (snapshot, contextNamespace) = try cluster.load()
        do {
            switch query {
            case .matrix(let ports):
                // No kernel for a matrix: it would walk thousands of packets for one node's view.
                let engine = PolicyEngine(snapshot, defaultDeny: netpolDefaultDeny)
                let scope = namespace.isEmpty ? nil : Set(namespace)
                let result = engine.matrix(pods: engine.endpointPods(namespaces: scope), ports: ports)
                try format.emit(result) { PolicyText.matrix(result, terminal: $0) }
            case .single(let from, let to, let port):
                let defaultNamespace = namespace.first ?? contextNamespace
                try explain(
                    from: from.reference(defaultNamespace: defaultNamespace),
                    to: to.reference(defaultNamespace: defaultNamespace), port: port, in: snapshot)
            }
        } catch let error as QueryError {
            throw CommandFailure(error.description)
        }
    }

    /// One packet: the policies' verdict, and on a node the kernel's beside it (exit status 2 on drift).
    private func explain(
        from source: EndpointReference, to destination: EndpointReference, port: PortQuery,
        in snapshot: ClusterSnapshot
    ) throws {
        let local: NodeOptions.Local? =
            switch kernel {
            case .never: nil
            case .auto: nodeOptions.agentLocal()
            case .always: try nodeOptions.local()
            }
        let engine = PolicyEngine(snapshot, defaultDeny: netpolDefaultDeny || local?.status?.defaultDeny == true)
        let (src, dst) = try engine.pair(from: engine.resolve(source), to: engine.resolve(destination))
        let number = try engine.resolvePort(port, on: dst)
        var portName: String?
        if case .named(let name) = port.value { portName = name }
        var explanation = engine.explain(from: src, to: dst, port: number, proto: port.proto, portName: portName)
        var drift = false
        if let local {
            let plan = FirewallPlanner(engine: engine).plan(node: local.name, family: dst.ip.family)
            let verdict = KernelCheck.verdict(
                plan: plan, observed: local.observed(dst.ip.family), node: local.name,
                from: src, to: dst, port: number, proto: port.proto)
            explanation.kernel = verdict
            drift = verdict.hasDrift
        }
        try format.emit(explanation) { PolicyText.explanation(explanation, terminal: $0) }
        if drift { throw ExitCode(2) }
    }
}
