import ArgumentParser

struct PolicyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy",
        abstract: "Inspect the NetworkPolicy firewall of this node.",
        subcommands: [PolicyCheck.self]
    )
}
