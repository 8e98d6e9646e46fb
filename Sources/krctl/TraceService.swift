import ArgumentParser
import Foundation
import Kernel
import KubeAPI
import KubeModel
import Planning

/// `krctl trace service NS/NAME`: from the VIP to each endpoint, as planned and as the kernel holds it.
struct TraceService: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "service",
        abstract: "The path of a packet to a Service on this node: VIP, IPVS service, real servers, routes, policy.",
        discussion: """
            The plan comes from the agent's own service proxy planner run on the cluster's objects; on a node \
            (as root) it is compared with the kernel: the VIP on kube-dummy-if, the IPVS virtual service and its \
            real servers with their weights and connections, and the kernel's route to each endpoint. With \
            --from, each endpoint also gets the NetworkPolicy verdict for the client pod. Exit status 2 when \
            the kernel differs from the plan (drift).
            """
    )

    @Argument(
        help: ArgumentHelp("The service: NAMESPACE/NAME or NAME (in --namespace).", valueName: "service"),
        transform: ServiceArgument.parse)
    var service: ServiceArgument

    @Option(
        name: [.customShort("n"), .long],
        help: ArgumentHelp(
            "Namespace of a bare service name (default: the kubeconfig context's, else default).",
            valueName: "namespace"))
    var namespace: String?

    @Option(
        help: ArgumentHelp(
            "The client pod, NAMESPACE/POD or POD: adds the policy verdict at each endpoint.", valueName: "pod"),
        transform: EndpointArgument.parse)
    var from: EndpointArgument?

    @Option(
        help: ArgumentHelp("Only this service port (its name or number).", valueName: "port"),
        transform: ServicePortArgument.parse)
    var port: ServicePortArgument?

    @Option(
        help: ArgumentHelp("Compare with this node's kernel: auto (when readable), always or never.", valueName: "mode")
    )
    var kernel: KernelMode = .auto

    @OptionGroup var format: OutputOptions

    @OptionGroup var cluster: ClusterOptions
    @OptionGroup var nodeOptions: NodeOptions

    func run() throws {
        let (snapshot, contextNamespace) = try cluster.load(resources: APIResource.all)
        let ns = service.namespace ?? namespace ?? contextNamespace
        let key = "\(ns)/\(service.name)"
        guard let svc = snapshot.services[key] else {
            let known = snapshot.services.keys.filter { $0.hasPrefix(ns + "/") }.sorted().prefix(8)
            throw CommandFailure(
                "service \(key) not found"
                    + (known.isEmpty
                        ? " (namespace \(ns) has no services)"
                        : " (namespace \(ns) has \(known.joined(separator: ", ")))"))
        }
        let status = ServiceProxyStatus.read(stateDir: nodeOptions.stateDir)
        let node =
            nodeOptions.node ?? status?.node ?? FirewallStatus.read(stateDir: nodeOptions.stateDir)?.node
            ?? ProcessInfo.processInfo.hostName
        let options = ServiceProxyPlanner.Options(
            gracefulTermination: status?.gracefulTermination ?? false, hairpinAll: status?.hairpinAll ?? false)
        let plan = ServiceProxyPlanner.plan(snapshot, node: node, options: options)
        var planned = plan.services.filter { $0.origin.hasPrefix(svc.meta.key + ":") }
        if let port {
            let matching = svc.ports.filter(port.matches)
            guard !matching.isEmpty else {
                let ports = svc.ports.map {
                    $0.name.isEmpty ? "\($0.port)/\($0.proto.rawValue)" : "\($0.name)=\($0.port)/\($0.proto.rawValue)"
                }
                throw CommandFailure("service \(key) has no port \"\(port)\" (it has \(ports.joined(separator: ", ")))")
            }
            let names = Set(matching.map { $0.name.isEmpty ? String($0.port) : $0.name })
            planned = planned.filter { names.contains($0.portName) }
        }

        // The kernel, when krctl runs on the node.
        var observed: ServiceTrace.Observed?
        if kernel != .never {
            do {
                let client = try IPVSClient()
                let wanted = Set(planned.map(\.service.key))
                var ipvs: [String: IPVSEntry] = [:]
                for s in try client.services() where wanted.contains(s.key) {
                    ipvs[s.key] = IPVSEntry(service: s, destinations: try client.destinations(of: s))
                }
                let interfaces = try NetworkInterfaces()
                let vips = try interfaces.addresses(of: NetworkInterfaces.dummyInterface)
                observed = ServiceTrace.Observed(vips: Set(vips), ipvs: ipvs)
            } catch {
                if kernel == .always {
                    throw CommandFailure("cannot read this node's IPVS table: \(error) (run krctl as root on the node)")
                }
            }
        }

        var clientEndpoints: [TrafficEndpoint] = []
        let engine = PolicyEngine(
            snapshot, defaultDeny: FirewallStatus.read(stateDir: nodeOptions.stateDir)?.defaultDeny == true)
        if let from {
            let reference = from.reference(defaultNamespace: namespace ?? contextNamespace)
            do { clientEndpoints = try engine.resolve(reference) } catch let error as QueryError {
                throw CommandFailure(error.description)
            }
        }
        let kernelRead = observed != nil
        let trace = ServiceTrace.build(
            service: svc, node: node, planned: planned, vips: Set(plan.vips), observed: observed, snapshot: snapshot,
            client: clientEndpoints.first.map { $0.pod?.key ?? $0.ip.description },
            route: { address in kernelRead ? (try? NetworkInterfaces.route(to: address))?.description : nil },
            policy: { address, port, proto in
                guard let source = clientEndpoints.first(where: { $0.ip.family == address.family }),
                    let destination = try? engine.resolve(.ip(address)).first
                else { return nil }
                let explanation = engine.explain(from: source, to: destination, port: port, proto: proto)
                let side = explanation.egress.verdict == .deny ? explanation.egress : explanation.ingress
                return (explanation.verdict.rawValue, side.reason)
            })

        try format.emit(trace) { _ in Self.text(trace) }
        if trace.hasDrift { throw ExitCode(2) }
    }

    static func text(_ trace: ServiceTrace) -> String {
        var lines = [
            "service \(trace.service) (\(trace.type)) on node \(trace.node)"
                + (trace.client.map { ", client \($0)" } ?? "")
        ]
        if !trace.kernelRead {
            lines.append("(kernel not read: the plan only; run krctl as root on the node to compare)")
        }
        for v in trace.virtualServices {
            lines.append("")
            lines.append(
                "\(v.key)   \(v.kind), port \(v.port), scheduler \(v.scheduler)"
                    + (v.persistenceSeconds.map { ", persistent \($0)s" } ?? ""))
            if let present = v.vipPresent {
                lines.append("  VIP on \(NetworkInterfaces.dummyInterface): " + (present ? "present" : "MISSING"))
            }
            if let inKernel = v.inKernel {
                lines.append(
                    "  IPVS virtual service: "
                        + (inKernel ? "present, \(v.connections ?? 0) connections so far" : "MISSING"))
            }
            if v.realServers.isEmpty {
                lines.append("  no real servers: connections are refused")
            } else {
                var rows = [
                    ["REAL SERVER", "POD", "NODE", "WEIGHT", "ACTIVE", "INACTIVE", "ROUTE", "POLICY", "STATUS"]
                ]
                for s in v.realServers {
                    let address = s.address.contains(":") ? "[\(s.address)]:\(s.port)" : "\(s.address):\(s.port)"
                    let weight = s.kernelWeight.map(String.init) ?? s.plannedWeight.map { "\($0) (planned)" } ?? "-"
                    rows.append([
                        address, s.pod ?? "-", s.node ?? "-", weight + ((s.plannedWeight ?? 1) == 0 ? " draining" : ""),
                        s.activeConnections.map(String.init) ?? "-", s.inactiveConnections.map(String.init) ?? "-",
                        s.route ?? "-", s.policy ?? "-", s.status,
                    ])
                }
                lines += Table.render(rows).split(separator: "\n").map { "  " + $0 }
                for s in v.realServers where s.policy == "deny" {
                    lines.append("  \(s.address): denied: \(s.policyReason ?? "")")
                }
            }
            for d in v.drift { lines.append("  DRIFT: \(d)") }
        }
        for note in trace.notes { lines.append("note: \(note)") }
        return lines.joined(separator: "\n")
    }
}
