import ArgumentParser
import Core

/// The node agent. This build parses kube-router's flags; the controllers arrive with later issues
/// (firewall, service proxy, router), each behind its `--run-*` switch.
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

    @Option(name: .customLong("run-firewall"), help: ArgumentHelp("Enable the NetworkPolicy firewall.", valueName: "bool"))
    var runFirewall = true

    @Option(name: .customLong("run-service-proxy"), help: ArgumentHelp("Enable the IPVS service proxy.", valueName: "bool"))
    var runServiceProxy = true

    @Option(name: .customLong("run-router"), help: ArgumentHelp("Enable pod networking over BGP.", valueName: "bool"))
    var runRouter = true

    @Option(help: ArgumentHelp("Period of the full firewall sync, as a Go duration (5m, 90s).", valueName: "duration"))
    var iptablesSyncPeriod = "5m"

    @Option(name: .customLong("cleanup-config"), help: ArgumentHelp("Remove every kernel object kube-router owns, then exit.", valueName: "bool"))
    var cleanupConfig = false

    @Option(name: [.customShort("v"), .customLong("v")], help: ArgumentHelp("Log verbosity (0-10).", valueName: "level"))
    var verbosity = 0

    /// kube-router's boolean flags, which Go accepts bare (`--run-router`) as well as with `=true|false`.
    static let booleanFlags = ["--run-firewall", "--run-service-proxy", "--run-router", "--cleanup-config"]

    func validate() throws {
        guard let period = GoDuration.seconds(iptablesSyncPeriod), period > 0 else {
            throw ValidationError("invalid --iptables-sync-period \"\(iptablesSyncPeriod)\" (expected a Go duration such as 5m or 90s)")
        }
        guard (0...10).contains(verbosity) else { throw ValidationError("-v must be between 0 and 10") }
    }

    func run() throws {
        if cleanupConfig {
            // Nothing in this build creates kernel objects, so there is nothing of ours to remove.
            print("kube-router: cleanup done (this build owns no kernel objects)")
            return
        }
        let enabled = [("firewall", runFirewall), ("service proxy", runServiceProxy), ("router", runRouter)]
            .filter(\.1).map(\.0)
        guard !enabled.isEmpty else {
            throw AgentFailure("nothing to run: --run-firewall, --run-service-proxy and --run-router are all false")
        }
        throw AgentFailure("no controller is implemented in this build yet (asked for: \(enabled.joined(separator: ", ")))")
    }
}

struct AgentFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Rewrites bare Go-style boolean flags (`--run-router`) to `--run-router=true`.
func normalizedArguments(_ arguments: [String], booleans: [String]) -> [String] {
    arguments.map { booleans.contains($0) ? "\($0)=true" : $0 }
}
