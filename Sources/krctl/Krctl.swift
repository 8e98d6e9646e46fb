import ArgumentParser

@main
struct Krctl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "krctl",
        abstract: "Explain why packets for a pod or service are allowed, denied and routed.",
        discussion: """
            krctl reads the same state the kube-router agent works from (the Kubernetes objects, and on a node \
            the kernel's rules) and explains it with the agent's own policy engine.
            """,
        version: version,
        subcommands: [
            ExplainPolicy.self, PolicyCommand.self, TraceCommand.self, IPVSCommand.self, BGPCommand.self, Version.self,
            DoctorCommand.self, Drops.self, TopCommand.self,
        ]
    )

    static let version = "0.1.0"
}
