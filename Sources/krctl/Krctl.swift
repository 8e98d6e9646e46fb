import ArgumentParser
import Core

@main
struct Krctl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "krctl",
        abstract: "Explain why packets for a pod or service are allowed, denied and routed.",
        discussion: """
        krctl reads the same state the kube-router agent works from (the Kubernetes objects, and on a node \
        the kernel's rules) and explains it with the agent's own policy engine.
        """,
        version: KrctlVersion.string,
        subcommands: [ExplainPolicy.self, Version.self]
    )
}

enum KrctlVersion {
    static let string = "0.1.0"
}

struct Version: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the version of krctl and the C libraries it links.")

    func run() throws {
        print("krctl \(KrctlVersion.string)")
        for library in NativeLibraries.versions {
            print("\(library.name) \(library.version)")
        }
    }
}

/// Options every command that reads the cluster shares.
struct ClusterOptions: ParsableArguments {
    @Option(name: [.customShort("f"), .customLong("manifests")],
            help: ArgumentHelp("Read objects from a YAML/JSON file or folder (repeatable; required in this release).", valueName: "path"))
    var manifests: [String] = []

    func source() throws -> any ClusterSource {
        guard !manifests.isEmpty else {
            throw ValidationError("no cluster to read: give --manifests PATH (a file or folder of YAML/JSON manifests)")
        }
        return ManifestSource(paths: manifests)
    }
}

/// A failure at run time (bad manifests, unknown pod): printed as `Error: ...`, exit status 1.
struct CommandFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
