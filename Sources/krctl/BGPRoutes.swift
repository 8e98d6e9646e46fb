import ArgumentParser
import Speaker

struct BGPRoutes: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "routes",
        abstract: "The best BGP path of every prefix beside the kernel's routes, differences flagged."
    )

    @OptionGroup var agent: AgentOptions

    func run() throws {
        let routes = try agent.ask("bgp routes", as: [BGPSpeaker.RouteStatus].self)
        try agent.format.emit(routes) { _ in
            var rows = [["PREFIX", "NEXT HOP", "FROM PEER", "AS PATH", "PATHS", "KERNEL", "STATUS"]]
            for r in routes {
                var status = r.status.rawValue
                // Why, when no path is usable: the distinct reasons of the refused paths.
                if r.status == .rejected, let rejected = r.rejected {
                    var reasons: [String] = []
                    for path in rejected where !reasons.contains(path.reason.description) {
                        reasons.append(path.reason.description)
                    }
                    status += ": " + reasons.joined(separator: "; ")
                }
                rows.append([
                    r.prefix, r.nextHop ?? "-", r.peer ?? "-", r.asPath.map(String.init).joined(separator: " "),
                    String(r.paths),
                    r.inKernel ? "via " + r.kernelNextHops.joined(separator: ",") : "-", status,
                ])
            }
            return Table.render(rows)
        }
        if routes.contains(where: \.status.isDrift) {
            throw ExitCode(2)
        }
    }
}
