import ArgumentParser
import CCurl
import CNcurses
import Foundation
import Kernel
import KubeAPI
import KubeModel

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
        subcommands: [
            ExplainPolicy.self, PolicyCommand.self, TraceCommand.self, IPVSCommand.self, BGPCommand.self, Version.self,
            DoctorCommand.self,
        ]
    )
}

enum KrctlVersion {
    static let string = "0.1.0"
}

struct Version: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the version of krctl and the C libraries it links.")

    func run() throws {
        print("krctl \(KrctlVersion.string)")
        let libraries =
            KernelLibraries.versions + [
                ("libcurl", String(cString: kr_curl_version())), ("ncursesw", String(cString: kr_curses_version())),
            ]
        for library in libraries {
            print("\(library.name) \(library.version)")
        }
    }
}

/// Options every command that reads the cluster shares: manifests offline, else the live API
/// server through a kubeconfig (kubectl's lookup order) or the pod's service account.
struct ClusterOptions: ParsableArguments {
    @Option(
        name: [.customShort("f"), .customLong("manifests")],
        help: ArgumentHelp(
            "Read objects from a YAML/JSON file or folder instead of the API server (repeatable).", valueName: "path"))
    var manifests: [String] = []

    @Option(
        help: ArgumentHelp(
            "Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then in-cluster).",
            valueName: "path"))
    var kubeconfig: String?

    @Option(help: ArgumentHelp("The kubeconfig context to use (default: its current-context).", valueName: "name"))
    var context: String?

    @Flag(
        help: "Manifests: unknown fields, kinds that are not read and objects defined twice are errors, not warnings.")
    var strict = false

    /// Reads the cluster, with the namespace bare pod names live in: the kubeconfig context's (as kubectl
    /// does), or `default` for manifests. Errors come back worded for the operator.
    func load(
        resources: [APIResource] = APIResource.forPolicy
    ) throws -> (snapshot: ClusterSnapshot, contextNamespace: String) {
        do {
            let source = try source(resources: resources)
            let namespace = (source as? APISource)?.config.namespace ?? "default"
            return (try source.snapshot(), namespace)
        } catch let error as ManifestLoadError {
            throw CommandFailure(error)
        } catch let error as KubeAPIError {
            throw CommandFailure("cannot read the cluster: \(error)")
        }
    }

    func source(resources: [APIResource] = APIResource.forPolicy) throws -> any ClusterSource {
        if !manifests.isEmpty {
            guard kubeconfig == nil, context == nil else {
                throw ValidationError("--manifests reads files: it takes no --kubeconfig or --context")
            }
            let progress = Progress()
            return ManifestSource(paths: manifests, strict: strict, warn: { progress.warn($0) })
        }
        let config: KubeConfig
        do {
            config = try KubeConfig.resolve(kubeconfig: kubeconfig, context: context)
        } catch let error as KubeConfigError {
            throw CommandFailure("\(error.description) (or read manifests with --manifests PATH)")
        }
        let progress = Progress()
        for warning in config.securityWarnings { progress.warn(warning) }
        return APISource(
            config: config, resources: resources,
            progress: { resource, count in progress.update("listing \(resource): \(count)") },
            warn: { message in progress.warn(message) })
    }
}

/// Progress of long operations on a terminal's stderr (one line, rewritten); warnings always.
final class Progress: @unchecked Sendable {
    private let tty = isatty(2) == 1
    private let lock = NSLock()
    private var shown = false

    func update(_ text: String) {
        guard tty else { return }
        lock.withLock {
            FileHandle.standardError.write(Data("\r\u{1B}[K\(text)".utf8))
            shown = true
        }
    }

    func warn(_ text: String) {
        lock.withLock {
            if shown {
                FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
                shown = false
            }
            FileHandle.standardError.write(Data("warning: \(Terminal.escapingControlCharacters(text))\n".utf8))
        }
    }

    deinit {
        if shown { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }
}

/// A failure at run time (bad manifests, unknown pod): printed as `Error: ...`, exit status 1.
struct CommandFailure: Error, CustomStringConvertible {
    var description: String
    /// Names from manifests and the cluster end up in errors: control characters are shown escaped.
    init(_ description: String) { self.description = Terminal.escapingControlCharacters(description) }

    /// Every invalid object of the manifests, one per line.
    init(_ error: ManifestLoadError) {
        self.init(
            "invalid manifests (\(error.errors.count) problem\(error.errors.count == 1 ? "" : "s")):\n"
                + error.errors.map { "  \($0)" }.joined(separator: "\n"))
    }
}
