import ArgumentParser

/// `krctl trace`: the data-path commands.
struct TraceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trace",
        abstract: "Follow a packet along the node's data path.",
        subcommands: [TraceService.self]
    )
}
