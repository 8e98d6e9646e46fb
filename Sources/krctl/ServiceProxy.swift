import ArgumentParser
import Foundation
import Kernel
import KubeAPI
import KubeModel
import Planning

/// `krctl ipvs`: the node's IPVS table, named by the Services the agent made it from.
struct IPVSCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ipvs",
        abstract: "The node's IPVS table with service names, real servers and counters.",
        discussion: """
            Reads the kernel over generic netlink (run as root on the node). Service names come from the \
            agent's status file, <state-dir>/service-proxy.json; virtual services the agent does not own are \
            shown as "(not kube-router's)".
            """
    )

    @OptionGroup var agent: AgentOptions

    struct Row: Encodable {
        struct Server: Encodable {
            var address: String
            var port: Int
            var forwarding: String
            var weight: Int
            var activeConnections: Int
            var inactiveConnections: Int
            var stats: IPVSStats
        }
        var service: String?
        var kind: String?
        var key: String
        var scheduler: String
        var persistenceSeconds: Int?
        var stats: IPVSStats
        var realServers: [Server]
    }

    func run() throws {
        let client: IPVSClient
        do { client = try IPVSClient() } catch {
            throw CommandFailure("\(error) (krctl ipvs reads the kernel: run it as root on the node)")
        }
        let status = ServiceProxyStatus.read(stateDir: agent.stateDir)
        var rows: [Row] = []
        for service in try client.services().sorted(by: { $0.key < $1.key }) {
            let owned = status?.owned?[service.key]
            let name = owned?.service
            let kind = owned?.kind?.rawValue
            let servers = try client.destinations(of: service).sorted { $0.key < $1.key }.map {
                Row.Server(
                    address: $0.address.description, port: Int($0.port), forwarding: "\($0.forwarding)",
                    weight: Int($0.weight),
                    activeConnections: Int($0.activeConnections), inactiveConnections: Int($0.inactiveConnections),
                    stats: $0.stats)
            }
            rows.append(
                Row(
                    service: name, kind: kind, key: service.key, scheduler: service.scheduler,
                    persistenceSeconds: service.persistent ? Int(service.timeout) : nil, stats: service.stats,
                    realServers: servers))
        }
        try agent.format.emit(rows) { _ in
            if rows.isEmpty {
                return "IPVS table is empty"
                    + (status == nil
                        ? " (and no agent status in \(agent.stateDir): "
                            + "is kube-router running with --run-service-proxy?)"
                        : "")
            }
            var table = [
                [
                    "SERVICE", "KIND", "VIRTUAL SERVICE / REAL SERVER", "SCHEDULER", "WEIGHT", "ACTIVE", "INACTIVE",
                    "CONNS", "PKTS IN", "PKTS OUT", "BYTES IN", "BYTES OUT",
                ]
            ]
            for r in rows {
                table.append([
                    r.service ?? "(not kube-router's)", r.kind ?? "-", r.key,
                    r.scheduler + (r.persistenceSeconds.map { " persistent \($0)s" } ?? ""), "", "", "",
                    String(r.stats.connections), String(r.stats.packetsIn), String(r.stats.packetsOut),
                    String(r.stats.bytesIn), String(r.stats.bytesOut),
                ])
                for s in r.realServers {
                    let address = s.address.contains(":") ? "[\(s.address)]:\(s.port)" : "\(s.address):\(s.port)"
                    table.append([
                        "", "", "  -> \(address)", s.forwarding, String(s.weight), String(s.activeConnections),
                        String(s.inactiveConnections), String(s.stats.connections), String(s.stats.packetsIn),
                        String(s.stats.packetsOut), String(s.stats.bytesIn), String(s.stats.bytesOut),
                    ])
                }
            }
            return Table.render(table)
        }
    }
}

struct TraceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trace",
        abstract: "Follow a packet along the node's data path.",
        subcommands: [TraceService.self]
    )
}

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

    @Argument(help: ArgumentHelp("The service: NAMESPACE/NAME or NAME (in --namespace).", valueName: "service"))
    var service: String

    @Option(
        name: [.customShort("n"), .long],
        help: ArgumentHelp(
            "Namespace of a bare service name (default: the kubeconfig context's, else default).",
            valueName: "namespace"))
    var namespace: String?

    @Option(
        help: ArgumentHelp(
            "The client pod, NAMESPACE/POD or POD: adds the policy verdict at each endpoint.", valueName: "pod"))
    var from: String?

    @Option(help: ArgumentHelp("Only this service port (its name or number).", valueName: "port"))
    var port: String?

    @Option(
        help: ArgumentHelp("Compare with this node's kernel: auto (when readable), always or never.", valueName: "mode")
    )
    var kernel: KernelMode = .auto

    @OptionGroup var format: OutputOptions

    @OptionGroup var cluster: ClusterOptions
    @OptionGroup var nodeOptions: NodeOptions

    func run() throws {
        let (snapshot, contextNamespace) = try cluster.load(resources: APIResource.all)
        let parts = service.split(separator: "/", maxSplits: 1).map(String.init)
        let key = parts.count == 2 ? service : "\(namespace ?? contextNamespace)/\(service)"
        guard let svc = snapshot.services[key] else {
            let ns = key.split(separator: "/").first.map(String.init) ?? ""
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
            let matching = svc.ports.filter {
                $0.name == port || String($0.port) == port || $0.nodePort.map(String.init) == port
            }
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
            guard let reference = EndpointReference(from, defaultNamespace: namespace ?? contextNamespace) else {
                throw ValidationError("invalid --from \"\(from)\" (expected NAMESPACE/POD, POD or an IP address)")
            }
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
