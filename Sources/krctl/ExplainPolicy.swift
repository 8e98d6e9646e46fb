import ArgumentParser
import Core
import Foundation

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

        Exit status: 0 when verdicts were computed (allow or deny), 1 on bad input (invalid manifests, \
        unknown pod), 64 on a usage error.
        """
    )

    @OptionGroup var cluster: ClusterOptions

    @Option(help: ArgumentHelp("Source: NAMESPACE/POD, POD or IP.", valueName: "endpoint"))
    var from: String?

    @Option(help: ArgumentHelp("Destination: NAMESPACE/POD, POD or IP.", valueName: "endpoint"))
    var to: String?

    @Option(help: ArgumentHelp("Destination port: NUMBER[/TCP|UDP|SCTP] or NAME[/PROTOCOL] (repeatable with --matrix).", valueName: "port"))
    var port: [String] = []

    @Flag(help: "Print the allow/deny truth table of every ordered pair of distinct pods.")
    var matrix = false

    @Option(name: [.customShort("n"), .long],
            help: ArgumentHelp("Namespace of bare pod names (default: the kubeconfig context's, else default); with --matrix, only pods of this namespace (repeatable).", valueName: "namespace"))
    var namespace: [String] = []

    @Option(name: [.customShort("o"), .long], help: ArgumentHelp("Output format: text, json or yaml.", valueName: "format"))
    var output: String = "text"

    @Flag(help: "Never colour the output (also: NO_COLOR=1).")
    var noColor = false

    func validate() throws {
        guard OutputFormat(rawValue: output) != nil else {
            throw ValidationError("unknown output format \"\(output)\" (expected text, json or yaml)")
        }
        if matrix {
            guard from == nil, to == nil else { throw ValidationError("--matrix takes no --from or --to") }
            guard !port.isEmpty else { throw ValidationError("--matrix needs at least one --port PORT[/PROTOCOL]") }
        } else {
            guard from != nil, to != nil else { throw ValidationError("give --from and --to (or --matrix)") }
            guard port.count == 1 else { throw ValidationError("give exactly one --port for a single query") }
            guard namespace.count <= 1 else { throw ValidationError("give at most one --namespace for a single query") }
        }
        for (text, option) in [(from, "--from"), (to, "--to")] {
            if let text { _ = try reference(text, option, "default") }
        }
        for p in port where PortQuery(p) == nil {
            throw ValidationError("invalid --port \"\(p)\" (expected NUMBER[/PROTOCOL] or NAME[/PROTOCOL], protocol TCP, UDP or SCTP, number 1-65535)")
        }
    }

    func run() throws {
        let format = OutputFormat(rawValue: output)!
        let terminal = noColor ? Terminal(color: false) : Terminal.detect()
        let snapshot: ClusterSnapshot
        // As kubectl does, bare pod names live in the kubeconfig context's namespace when -n is not given.
        var contextNamespace = "default"
        do {
            let source = try cluster.source()
            if let api = source as? APISource { contextNamespace = api.config.namespace }
            snapshot = try source.snapshot()
        } catch let error as ManifestLoadError {
            throw CommandFailure(error)
        } catch let error as KubeAPIError {
            throw CommandFailure("cannot read the cluster: \(error)")
        }
        let engine = PolicyEngine(snapshot)
        do {
            if matrix {
                let scope = namespace.isEmpty ? nil : Set(namespace)
                let result = engine.matrix(pods: engine.endpointPods(namespaces: scope), ports: port.compactMap(PortQuery.init))
                switch format {
                case .text: print(PolicyText.matrix(result, terminal: terminal))
                case .json: print(try Render.json(result))
                case .yaml: print(try Render.yaml(result), terminator: "")
                }
            } else {
                let defaultNamespace = namespace.first ?? contextNamespace
                let source = try reference(from!, "--from", defaultNamespace)
                let destination = try reference(to!, "--to", defaultNamespace)
                let (src, dst) = try engine.pair(from: engine.resolve(source), to: engine.resolve(destination))
                let query = PortQuery(port[0])!
                let number = try engine.resolvePort(query, on: dst)
                var portName: String?
                if case .named(let name) = query.value { portName = name }
                let explanation = engine.explain(from: src, to: dst, port: number, proto: query.proto, portName: portName)
                switch format {
                case .text: print(PolicyText.explanation(explanation, terminal: terminal))
                case .json: print(try Render.json(explanation))
                case .yaml: print(try Render.yaml(explanation), terminator: "")
                }
            }
        } catch let error as QueryError {
            throw CommandFailure(error.description)
        }
    }

    private func reference(_ text: String, _ option: String, _ defaultNamespace: String) throws -> EndpointReference {
        guard let ref = EndpointReference(text, defaultNamespace: defaultNamespace) else {
            throw ValidationError("invalid \(option) \"\(text)\" (expected NAMESPACE/POD, POD or an IP address)")
        }
        return ref
    }
}
