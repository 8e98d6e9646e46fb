import ArgumentParser
import Foundation
import Kernel
import KubeModel
import Planning

struct PolicyCheck: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Is a pod of this node protected now, by which chains, and when was it last synced?",
        discussion: """
            Run on the pod's node, as root. The policies that isolate the pod are read from the cluster \
            (--manifests or the API server, as for explain-policy); its chains and sets are read from the \
            kernel and compared with what the agent's plan for this node holds. Differences are reported as \
            drift with their cause.

            Exit status: 0 when the kernel holds the pod's firewall as planned, 1 on bad input or when the \
            kernel cannot be read, 2 on drift, 64 on a usage error.
            """
    )

    @Argument(
        help: ArgumentHelp("The pod: NAMESPACE/POD or POD (in --namespace).", valueName: "pod"),
        transform: PodArgument.parse)
    var pod: PodArgument

    @OptionGroup var cluster: ClusterOptions
    @OptionGroup var nodeOptions: NodeOptions

    @Option(
        name: [.customShort("n"), .long],
        help: ArgumentHelp(
            "Namespace of a bare pod name (default: the kubeconfig context's, else default).", valueName: "namespace"))
    var namespace: String?

    @OptionGroup var format: OutputOptions

    func run() throws {
        let (snapshot, contextNamespace) = try cluster.load()
        let key = pod.key(defaultNamespace: namespace ?? contextNamespace)
        guard let target = snapshot.pods[key] else { throw CommandFailure("pod \(key) not found") }
        let local = try nodeOptions.local()
        guard target.nodeName == local.name else {
            throw CommandFailure(
                "pod \(target.key) runs on node \(target.nodeName.isEmpty ? "(none yet)" : target.nodeName), "
                    + "and this is node \(local.name): run krctl policy check on that node "
                    + "(or give --node if this node's name differs)"
            )
        }
        let engine = PolicyEngine(snapshot, defaultDeny: local.status?.defaultDeny == true)
        let family = target.ips.first?.family ?? .ipv4
        let plan = FirewallPlanner(engine: engine).plan(node: local.name, family: family)
        let protection = KernelCheck.protection(
            of: target, engine: engine, plan: plan, observed: local.observed(family),
            node: local.name, status: local.status, counters: try? DenialCounters.rules(family: family))
        try format.emit(protection) { FirewallText.protection(protection, terminal: $0) }
        if protection.state == .drift { throw ExitCode(2) }
    }
}
