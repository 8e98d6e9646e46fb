import ArgumentParser
import Core
import Foundation

/// The node agent: the NetworkPolicy firewall for the pods of its node. The service proxy and the
/// router arrive with later issues, each behind its `--run-*` switch.
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

    @Option(name: .customLong("netpol-default-deny"),
            help: ArgumentHelp("Isolate every pod both ways: only what a NetworkPolicy allows passes (traffic from the pod's node and replies still do).", valueName: "bool"))
    var netpolDefaultDeny = false

    @Option(name: .customLong("cleanup-config"), help: ArgumentHelp("Remove every kernel object kube-router owns, then exit.", valueName: "bool"))
    var cleanupConfig = false

    @Option(name: [.customShort("v"), .customLong("v")], help: ArgumentHelp("Log verbosity (0-10).", valueName: "level"))
    var verbosity = 0

    /// kube-router's boolean flags, which Go accepts bare (`--run-router`) as well as with `=true|false`.
    static let booleanFlags = ["--run-firewall", "--run-service-proxy", "--run-router", "--cleanup-config", "--netpol-default-deny"]

    func validate() throws {
        guard let period = GoDuration.seconds(iptablesSyncPeriod), period > 0 else {
            throw ValidationError("invalid --iptables-sync-period \"\(iptablesSyncPeriod)\" (expected a Go duration such as 5m or 90s)")
        }
        guard (0...10).contains(verbosity) else { throw ValidationError("-v must be between 0 and 10") }
    }

    @Option(help: ArgumentHelp("Where the agent writes its status for krctl.", valueName: "path"))
    var stateDir = "/var/run/kube-router"

    func run() throws {
        let log = Log(verbosity: verbosity)
        if cleanupConfig {
            var chains = try IPTablesSync.cleanup(family: .ipv4).chainsDeleted
            // ip6tables may be missing from the kernel: then nothing of ours can be there either.
            if (try? IPTablesTable("filter", family: .ipv6)) != nil {
                chains += try IPTablesSync.cleanup(family: .ipv6).chainsDeleted
            }
            let sets = try IPSetSync(session: IPSetSession()).removeStale(keeping: [])
            print("kube-router: cleanup done: \(chains) chains and \(sets.count) ipsets removed")
            return
        }
        guard runFirewall else {
            throw AgentFailure("nothing to run: of the controllers only the firewall is implemented in this build, and --run-firewall=false")
        }
        if runServiceProxy { log.warn("--run-service-proxy: the IPVS service proxy is not implemented in this build yet; skipped") }
        if runRouter { log.warn("--run-router: the BGP router is not implemented in this build yet; skipped") }
        warnIfNFTBackendInUse(log)

        var config: KubeConfig
        do {
            config = try kubeconfig.map { try KubeConfig.load(paths: [$0], context: nil) } ?? KubeConfig.inCluster()
        } catch let error as KubeConfigError {
            throw AgentFailure("\(error.description) (give --kubeconfig, or run in a pod)")
        }
        if let master { config.server = master }
        let node = hostnameOverride ?? ProcessInfo.processInfo.environment["NODE_NAME"] ?? ProcessInfo.processInfo.hostName
        let period = GoDuration.seconds(iptablesSyncPeriod) ?? 300
        log.info("kube-router: node \(node), API server \(config.server) (\(config.origin)), firewall sync every \(iptablesSyncPeriod)\(netpolDefaultDeny ? ", default deny" : "")")

        let box = ControllerBox()
        let informers = Informers(client: KubeClient(config: config), resources: APIResource.forPolicy) { event in
            box.controller?.handle(event)
        }
        let controller = FirewallController(informers: informers, node: node, period: period, defaultDeny: netpolDefaultDeny,
                                            stateDir: stateDir, log: log)
        box.controller = controller
        informers.start()
        while !informers.waitForSync(timeout: 10) {
            log.info("kube-router: waiting for the API server's objects (\(config.server))")
        }
        log.info("kube-router: informers synced")
        controller.start()
        // The rules stay in place when the agent stops: a restart opens no window.
        while true { sleep(3600) }
    }

    /// Both iptables backends filter packets; a node whose other components use nft is worth a warning.
    private func warnIfNFTBackendInUse(_ log: Log) {
        for tool in ["/usr/sbin/iptables-nft-save", "/sbin/iptables-nft-save"] where FileManager.default.isExecutableFile(atPath: tool) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: tool)
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = FileHandle.nullDevice
            guard (try? process.run()) != nil else { return }
            let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            let rules = text.split(separator: "\n").filter { $0.hasPrefix("-A ") }.count
            if rules > 0 {
                log.warn("this node has \(rules) rules in the iptables nft backend: kube-router writes the legacy tables (iptables-legacy); both filter packets, so check iptables-nft-save too when debugging")
            }
            return
        }
    }
}

/// Lets the informer handler reach the controller created after it.
final class ControllerBox: @unchecked Sendable {
    var controller: FirewallController?
}

struct AgentFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Rewrites bare Go-style boolean flags (`--run-router`) to `--run-router=true`.
func normalizedArguments(_ arguments: [String], booleans: [String]) -> [String] {
    arguments.map { booleans.contains($0) ? "\($0)=true" : $0 }
}
