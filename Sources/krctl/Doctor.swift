import ArgumentParser
import Foundation
import Kernel
import KubeAPI
import KubeModel
import Planning

struct DoctorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check this node for what kube-router needs, and say how to fix what is wrong.",
        discussion: """
            Each check gives its status (OK, WARN, FAIL, SKIP), what it found, the fix, and the kube-router \
            issue it prevents: iptables backends and versions, kernel modules and settings, the conntrack \
            table, the FORWARD policy, kube-proxy's leftovers, the xtables lock, CNI, the node's addresses, \
            pod CIDR and routes, systemd-networkd, the API's RBAC for the agent, and the agent's own status. \
            The agent runs the same checks. Exit status: 0 all OK, 1 warnings, 2 failures.
            """
    )

    @Option(
        help: ArgumentHelp(
            "Read the node's files under this directory instead of / (a fixture tree; see krctl-doctor(1)).",
            valueName: "dir"), completion: .directory)
    var root = "/"

    @Option(help: ArgumentHelp("The agent's state directory (under --root).", valueName: "path"))
    var stateDir = "/var/run/kube-router"

    @Option(help: ArgumentHelp("The node's name (default: the agent's status, then the host name).", valueName: "name"))
    var node: String?

    @Option(
        help: ArgumentHelp(
            "The controllers the agent runs, comma-separated: what only others need is SKIP.", valueName: "list"))
    var controllers = DoctorController.allCases.map(\.rawValue).joined(separator: ",")

    @Option(
        help: ArgumentHelp(
            "Path to the kubeconfig file (default: $KUBECONFIG, ~/.kube/config, in-cluster; with --root only this).",
            valueName: "path"))
    var kubeconfig: String?

    @Option(help: ArgumentHelp("The kubeconfig context to use.", valueName: "name"))
    var context: String?

    @Option(help: ArgumentHelp("How long to wait for each API request, as a Go duration.", valueName: "duration"))
    var requestTimeout = "10s"

    @Option(help: ArgumentHelp("The CNI configuration directory (under --root).", valueName: "path"))
    var cniConfDir = "/etc/cni/net.d"

    @Option(help: ArgumentHelp("The CNI plugin directory (under --root).", valueName: "path"))
    var cniBinDir = "/opt/cni/bin"

    @OptionGroup var format: OutputOptions

    var enabled: Set<DoctorController> {
        Set(controllers.split(separator: ",").compactMap { DoctorController(rawValue: String($0)) })
    }

    func validate() throws {
        for name in controllers.split(separator: ",") where DoctorController(rawValue: String(name)) == nil {
            throw ValidationError(
                "unknown controller \"\(name)\" in --controllers (firewall, service-proxy, router)")
        }
        guard let seconds = GoDuration.seconds(requestTimeout), seconds > 0 else {
            throw ValidationError("invalid --request-timeout \"\(requestTimeout)\" (a Go duration such as 10s)")
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ValidationError("--root \(root) is not a directory")
        }
    }

    func run() throws {
        let stateDirectory = (root == "/" ? "" : root) + stateDir
        let name =
            node ?? RouterStatus.read(stateDir: stateDirectory)?.node ?? FirewallStatus.read(stateDir: stateDirectory)?
            .node ?? ServiceProxyStatus.read(stateDir: stateDirectory)?.node ?? ProcessInfo.processInfo.hostName
        let report = NodeDoctor.run(
            root: root, stateDir: stateDir, api: askAPI(node: name), controllers: enabled, cniConfDir: cniConfDir,
            cniBinDir: cniBinDir)
        try format.emit(DoctorOutput(report)) { Self.text(report, $0) }
        throw ExitCode(report.exitStatus)
    }

    /// The API's answers, or nil when there is no API to ask: none configured (and on a fixture root only
    /// an explicit --kubeconfig counts, so the machine's own never leaks into a fixture's report).
    func askAPI(node: String) -> DoctorAPIFacts? {
        guard root == "/" || kubeconfig != nil else { return nil }
        let config: KubeConfig
        do {
            config = try KubeConfig.resolve(kubeconfig: kubeconfig, context: context)
        } catch {
            guard kubeconfig != nil || context != nil else { return nil }
            return DoctorAPIFacts(server: kubeconfig ?? "the kubeconfig", node: node, error: "\(error)")
        }
        let client = KubeClient(config: config, requestTimeout: GoDuration.seconds(requestTimeout) ?? 10)
        return client.doctorAPIFacts(node: node, requests: DoctorCatalog.accessRequests(for: enabled))
    }

    static func text(_ report: DoctorReport, _ terminal: Terminal) -> String {
        func paint(_ status: DoctorCheck.Status) -> String {
            switch status {
            case .ok: terminal.paint(status.rawValue, .green)
            case .warn: terminal.paint(status.rawValue, .yellow)
            case .fail: terminal.paint(status.rawValue, .red)
            case .skip: terminal.paint(status.rawValue, .dim)
            }
        }
        // Painted statuses are wider than they look: pad the plain word, then paint it.
        let rows = [["STATUS", "CHECK", "MESSAGE"]] + report.checks.map { [$0.status.rawValue, $0.id, $0.message] }
        var lines = Table.render(rows).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        for (i, check) in report.checks.enumerated() {
            let line = lines[i + 1]
            lines[i + 1] = paint(check.status) + line.dropFirst(check.status.rawValue.count)
        }
        let problems = report.checks.filter { $0.status == .warn || $0.status == .fail }
        if !problems.isEmpty {
            lines.append("")
            for check in problems {
                var line = "\(paint(check.status)) \(check.id): \(check.fix ?? "(no fix known)")"
                if let issue = check.issue { line += " (see \(issue))" }
                lines.append(line)
            }
        }
        let counts = report.counts
        lines.append("")
        lines.append(
            DoctorCheck.Status.allCases.map { "\(counts[$0] ?? 0) \($0.rawValue)" }.joined(separator: ", "))
        return lines.joined(separator: "\n")
    }
}

/// `krctl doctor -o json|yaml`: `{"checks": [{"id", "status", "message", "fix", "issue"}]}`, every key present
/// (`fix` and `issue` null when there is none).
struct DoctorOutput: Encodable {
    struct Row: Encodable {
        var check: DoctorCheck

        enum CodingKeys: String, CodingKey { case id, status, message, fix, issue }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(check.id, forKey: .id)
            try c.encode(check.status, forKey: .status)
            try c.encode(check.message, forKey: .message)
            if let fix = check.fix { try c.encode(fix, forKey: .fix) } else { try c.encodeNil(forKey: .fix) }
            if let issue = check.issue { try c.encode(issue, forKey: .issue) } else { try c.encodeNil(forKey: .issue) }
        }
    }

    var checks: [Row]

    init(_ report: DoctorReport) { checks = report.checks.map(Row.init) }
}
