import ArgumentParser
import Core

/// The node agent. This build parses kube-router's flags; the controllers arrive with later issues
/// (firewall, service proxy, router), each behind its `--run-*` switch.
@main
struct KubeRouter: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kube-router",
        abstract: "Kubernetes node networking: service proxy (IPVS), NetworkPolicy firewall and BGP router.",
        version: "0.1.0"
    )

    @Option(help: "Path to a kubeconfig file with authorization and API server location.")
    var kubeconfig: String?

    @Option(help: "The address of the Kubernetes API server (overrides the kubeconfig's).")
    var master: String?

    @Option(help: "The node name to use instead of the host name.")
    var hostnameOverride: String?

    @Option(name: .customLong("run-firewall"), help: "Enable the NetworkPolicy firewall.")
    var runFirewall = true

    @Option(name: .customLong("run-service-proxy"), help: "Enable the IPVS service proxy.")
    var runServiceProxy = true

    @Option(name: .customLong("run-router"), help: "Enable pod networking over BGP.")
    var runRouter = true

    @Option(help: "Period of the full firewall sync, e.g. 5m.")
    var iptablesSyncPeriod = "5m"

    @Flag(name: .customLong("cleanup-config"), help: "Remove every kernel object kube-router owns, then exit.")
    var cleanupConfig = false

    @Option(name: .customShort("v"), help: "Log verbosity (0-5).")
    var verbosity = 0

    func run() throws {
        let enabled = [("firewall", runFirewall), ("service proxy", runServiceProxy), ("router", runRouter)]
            .filter(\.1).map(\.0)
        throw ValidationError("no controller is implemented in this build yet (asked for: \(enabled.joined(separator: ", ")))")
    }
}
