import ArgumentParser
import Foundation

/// `kr-lab` (run through `scripts/lab`): a Kubernetes cluster on one machine, each node a network namespace
/// running the kube-router DaemonSet's pod, for trying the agent and krctl and for the tests.
@main
struct LabCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kr-lab",
        abstract: "A kube-router cluster on one machine: nodes in network namespaces, the DaemonSet on each.",
        discussion:
            "Run it through scripts/lab, which builds what is missing first. Needs root (network namespaces, "
            + "iptables, routes). The API server is kube-test-server; kubectl applies deploy/; an emulated kubelet "
            + "per node runs the DaemonSet's pod as its spec says and reports its status.",
        subcommands: [
            LabUp.self, LabStatus.self, LabKubectl.self, LabExec.self, LabRestart.self, LabDown.self,
            LabServe.self,
        ]
    )
}

/// Options every lab command takes.
struct LabOptions: ParsableArguments {
    @Option(help: "The lab's name: the prefix of its network namespaces and bridge, and its folder under /run.")
    var name = "krlab"

    func layout() throws -> LabLayout {
        try LabLayout.validate(name: name)
        return LabLayout(name: name)
    }
}

/// This executable's folder: the build's products (kube-router, krctl, kube-test-server) sit beside it.
func executableDirectory() -> String {
    let path =
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    return (path as NSString).deletingLastPathComponent
}

func requireRoot(_ command: String) throws {
    guard geteuid() == 0 else {
        throw LabError("the lab needs root (network namespaces, iptables, routes): run sudo scripts/lab \(command)")
    }
}

/// Replaces this process with `argv` (for commands a person uses interactively: a terminal stays theirs).
func replaceProcess(_ argv: [String], environment: [String: String] = [:]) throws -> Never {
    for (key, value) in environment { setenv(key, value, 1) }
    unblockSignals()
    var cArgs = argv.map { strdup($0) }
    cArgs.append(nil)
    execv(argv[0], cArgs)
    throw LabError("cannot run \(argv[0]): \(String(cString: strerror(errno)))")
}

/// Clears this thread's signal mask: processes started from it inherit the mask, and a blocked SIGTERM
/// would make a container ignore its stop (test runners and dispatch threads block most signals).
func unblockSignals() {
    var none = sigset_t()
    sigemptyset(&none)
    pthread_sigmask(SIG_SETMASK, &none, nil)
}
