import ArgumentParser

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
