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
