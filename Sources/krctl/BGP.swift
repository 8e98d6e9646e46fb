import ArgumentParser
import KubeModel
import Kernel
import Speaker
import Foundation

struct BGPCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bgp",
        abstract: "Show the BGP sessions and routes of the agent on this node.",
        discussion: """
        Asks the running agent (kube-router with --run-router) over its control socket, \
        <state-dir>/kube-router.sock, which only root can open.
        """,
        subcommands: [BGPPeers.self, BGPRoutes.self]
    )
}

/// Options shared by the commands that read the agent's state on this node (bgp, ipvs).
struct AgentOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The agent's state directory: its control socket and status files.", valueName: "path"))
    var stateDir = "/var/run/kube-router"

    @Option(name: [.customShort("o"), .long], help: ArgumentHelp("Output format: text, json or yaml.", valueName: "format"))
    var output: String = "text"

    @Option(help: ArgumentHelp("How long to wait for the agent's answer, as a Go duration (kubectl's flag).",
                               valueName: "duration"))
    var requestTimeout = "30s"

    func validate() throws {
        guard OutputFormat(rawValue: output) != nil else {
            throw ValidationError("unknown output format \"\(output)\" (expected text, json or yaml)")
        }
        guard let seconds = GoDuration.seconds(requestTimeout), seconds > 0 else {
            throw ValidationError("invalid --request-timeout \"\(requestTimeout)\" (expected a Go duration such as 30s or 2m)")
        }
    }

    func ask<T: Decodable>(_ command: String, as type: T.Type) throws -> T {
        let reply: Data
        do {
            reply = try ControlSocket.ask(path: stateDir + "/" + ControlSocket.fileName, command,
                                          timeout: GoDuration.seconds(requestTimeout) ?? 30)
        } catch {
            throw CommandFailure("\(error)")
        }
        do {
            return try JSONDecoder().decode(T.self, from: reply)
        } catch {
            throw CommandFailure("the agent's answer to \"\(command)\" is not what this krctl reads (versions differ?): \(error)")
        }
    }
}

struct BGPPeers: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "peers",
        abstract: "The BGP peers: address, AS, state, uptime, prefixes, last NOTIFICATION, last error, capabilities."
    )

    @OptionGroup var agent: AgentOptions

    func run() throws {
        let peers = try agent.ask("bgp peers", as: [BGPSpeaker.PeerStatus].self)
        switch OutputFormat(rawValue: agent.output)! {
        case .json: print(try Render.json(peers))
        case .yaml: print(try Render.yaml(peers), terminator: "")
        case .text:
            var rows = [["PEER", "AS", "STATE", "UPTIME", "RECEIVED", "ACCEPTED", "REJECTED", "ADVERTISED", "FROM",
                         "LAST NOTIFICATION", "LAST ERROR"]]
            for p in peers {
                let notification = p.lastNotification.map { "\($0.direction.rawValue) \($0.name)" } ?? "-"
                rows.append([p.address, String(p.asn), p.state, p.uptimeSeconds.map(Self.duration) ?? "-", String(p.prefixesReceived),
                             String(p.prefixesAccepted), p.prefixesRejected.map(String.init) ?? "-",
                             String(p.prefixesAdvertised), p.origin, notification, p.lastError ?? ""])
            }
            print(Table.render(rows))
            for p in peers where !p.capabilities.isEmpty {
                print(Terminal.escapingControlCharacters(
                    "\(p.address): \(p.capabilities.joined(separator: ", ")); hold time \(p.holdTime ?? 0) s"))
            }
            for p in peers {
                if let n = p.lastNotification {
                    let why = n.reason.map { ": \($0)" } ?? ""
                    print("\(p.address): NOTIFICATION \(n.direction.rawValue) at \(n.time): \(n.name)\(why)")
                }
                if let error = p.lastError, let time = p.lastErrorTime {
                    print("\(p.address): last error at \(time): \(error)")
                }
            }
        }
    }

    static func duration(_ seconds: Int) -> String {
        seconds >= 86400 ? "\(seconds / 86400)d\(seconds % 86400 / 3600)h" : seconds >= 3600 ? "\(seconds / 3600)h\(seconds % 3600 / 60)m"
            : seconds >= 60 ? "\(seconds / 60)m\(seconds % 60)s" : "\(seconds)s"
    }
}

struct BGPRoutes: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "routes",
        abstract: "The best BGP path of every prefix beside the kernel's routes, differences flagged."
    )

    @OptionGroup var agent: AgentOptions

    func run() throws {
        let routes = try agent.ask("bgp routes", as: [BGPSpeaker.RouteStatus].self)
        switch OutputFormat(rawValue: agent.output)! {
        case .json: print(try Render.json(routes))
        case .yaml: print(try Render.yaml(routes), terminator: "")
        case .text:
            var rows = [["PREFIX", "NEXT HOP", "FROM PEER", "AS PATH", "PATHS", "KERNEL", "STATUS"]]
            for r in routes {
                var status = r.status
                // Why, when no path is usable: the distinct reasons of the refused paths.
                if r.status == "rejected", let rejected = r.rejected {
                    var reasons: [String] = []
                    for path in rejected where !reasons.contains(path.reason.description) {
                        reasons.append(path.reason.description)
                    }
                    status += ": " + reasons.joined(separator: "; ")
                }
                rows.append([r.prefix, r.nextHop ?? "-", r.peer ?? "-", r.asPath.map(String.init).joined(separator: " "), String(r.paths),
                             r.inKernel ? "via " + r.kernelNextHops.joined(separator: ",") : "-", status])
            }
            print(Table.render(rows))
        }
        if routes.contains(where: { $0.status == "missing in kernel" || $0.status == "stale in kernel" || $0.status == "different next hop" }) {
            throw ExitCode(2)
        }
    }
}

/// kubectl-style columns: left-aligned, separated by three spaces.
enum Table {
    static func render(_ rows: [[String]]) -> String {
        // Cells come from the cluster and from peers: control characters are shown escaped.
        let rows = rows.map { $0.map { Terminal.escapingControlCharacters($0) } }
        guard let first = rows.first else { return "" }
        let widths = (0..<first.count).map { c in rows.map { $0[c].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { c, cell in c == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[c] - cell.count) }
                .joined(separator: "   ")
        }.joined(separator: "\n")
    }
}
