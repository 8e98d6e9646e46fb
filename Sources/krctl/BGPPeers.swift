import ArgumentParser
import Speaker

struct BGPPeers: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "peers",
        abstract: "The BGP peers: address, AS, state, uptime, prefixes, last NOTIFICATION, last error, capabilities.",
        discussion:
            "ADVERTISED counts the node's own routes and, on a route reflector, the routes reflected to the peer."
    )

    @OptionGroup var agent: AgentOptions

    func run() throws {
        let peers = try agent.ask("bgp peers", as: [BGPSpeaker.PeerStatus].self)
        try agent.format.emit(peers) { _ in Self.text(peers) }
    }

    static func text(_ peers: [BGPSpeaker.PeerStatus]) -> String {
        var lines: [String] = []
        var rows = [
            [
                "PEER", "AS", "STATE", "UPTIME", "RECEIVED", "ACCEPTED", "REJECTED", "ADVERTISED", "FROM",
                "LAST NOTIFICATION", "LAST ERROR",
            ]
        ]
        for p in peers {
            let notification = p.lastNotification.map { "\($0.direction.rawValue) \($0.name)" } ?? "-"
            rows.append([
                p.address, String(p.asn), p.state, p.uptimeSeconds.map(Self.duration) ?? "-",
                String(p.prefixesReceived),
                String(p.prefixesAccepted), p.prefixesRejected.map(String.init) ?? "-",
                String(p.prefixesAdvertised + (p.prefixesReflected ?? 0)),
                p.origin + (p.routeReflectorClient == true ? " (route reflector client)" : ""), notification,
                p.lastError ?? "",
            ])
        }
        lines.append(Table.render(rows))
        for p in peers where !p.capabilities.isEmpty {
            lines.append("\(p.address): \(p.capabilities.joined(separator: ", ")); hold time \(p.holdTime ?? 0) s")
        }
        for p in peers {
            if let n = p.lastNotification {
                let why = n.reason.map { ": \($0)" } ?? ""
                lines.append("\(p.address): NOTIFICATION \(n.direction.rawValue) at \(n.time): \(n.name)\(why)")
            }
            if let error = p.lastError, let time = p.lastErrorTime {
                lines.append("\(p.address): last error at \(time): \(error)")
            }
        }
        return lines.joined(separator: "\n")
    }

    static func duration(_ seconds: Int) -> String {
        seconds >= 86400
            ? "\(seconds / 86400)d\(seconds % 86400 / 3600)h"
            : seconds >= 3600
                ? "\(seconds / 3600)h\(seconds % 3600 / 60)m"
                : seconds >= 60 ? "\(seconds / 60)m\(seconds % 60)s" : "\(seconds)s"
    }
}
