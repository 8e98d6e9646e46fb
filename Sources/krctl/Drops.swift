import ArgumentParser
import Foundation
import Kernel
import KubeModel
import Planning

struct Drops: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drops",
        abstract: "Which packets this node's firewall dropped, by which pod's policy, why, and what would allow them.",
        discussion: """
            Run on the node, as root. krctl binds the firewall's NFLOG group (100) while it runs, reads the packets \
            the pod chains log when they refuse one (the first 128 bytes), and attributes each to the pod whose \
            policy refused it through the agent's plan for this node: direction, source and destination, protocol \
            and port, the isolating policies, the policy engine's reason, and whether the kernel's rules agree with \
            the plan for that packet. The cluster is read as for explain-policy (--manifests, --kubeconfig, \
            --context).

            Samples are limited to 10 a minute per pod chain and direction; the REJECT rules' counters, printed \
            beside them, count every refused packet: in the window and since the rule was created. Drops that no \
            policy made are listed apart: the pod chains' conntrack INVALID drops and the conntrack table's insert \
            failures and drops.

            Without --follow krctl listens for --since (default 5s) and prints what it saw; with --follow it \
            prints each drop as it arrives until interrupted or --count drops were seen. Only one process can \
            hold an NFLOG group (tcpdump -i nflog:100, ulogd): when another does, krctl names its pid and prints \
            the counters only.

            Exit status: 0 when drops were read, 1 on bad input or when the kernel cannot be read, 2 when the \
            group is held by another process and only counters could be read, 64 on a usage error.
            """
    )

    @OptionGroup var nodeOptions: NodeOptions

    @Option(
        name: .customLong("manifests"),
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

    @Option(
        name: [.customShort("n"), .long],
        help: ArgumentHelp("Only drops from, to or by pods of this namespace.", valueName: "namespace"))
    var namespace: String?

    @Option(
        help: ArgumentHelp(
            "Only drops from, to or by this pod: NAMESPACE/POD or POD (in --namespace).", valueName: "pod"),
        transform: PodArgument.parse)
    var pod: PodArgument?

    @Option(help: ArgumentHelp("Only drops to this destination port.", valueName: "port"))
    var port: Int?

    @Option(
        help: ArgumentHelp(
            "How long to listen without --follow, as a Go duration; counters are reported for this window.",
            valueName: "duration"),
        transform: DurationArgument.parse)
    var since = DurationArgument(seconds: 5)

    @Flag(name: [.customShort("f"), .long], help: "Print drops as they arrive, until interrupted or --count.")
    var follow = false

    @Option(help: ArgumentHelp("Exit after this many drops.", valueName: "K"))
    var count: Int?

    @Flag(help: "For each dropped flow, the smallest NetworkPolicy that would allow exactly it.")
    var suggest = false

    @Option(
        name: [.customShort("o"), .long],
        help: ArgumentHelp("Output format: text, json or jsonl (one JSON object per drop).", valueName: "format"))
    var output: DropsFormat = .text

    @Flag(help: "Never colour the output (also: NO_COLOR=1).")
    var noColor = false

    func validate() throws {
        if let count, count < 1 { throw ValidationError("--count must be at least 1, not \(count)") }
        if let port, !(1...65535).contains(port) { throw ValidationError("--port must be 1 to 65535, not \(port)") }
        if follow && output == .json { throw ValidationError("--follow prints as drops arrive: use -o text or jsonl") }
    }

    func run() throws {
        let (snapshot, contextNamespace) = try ClusterReader(
            manifests: manifests, kubeconfig: kubeconfig, context: context, strict: false
        ).load()
        let podKey = pod?.key(defaultNamespace: namespace ?? contextNamespace)
        if let podKey, snapshot.pods[podKey] == nil { throw CommandFailure("pod \(podKey) not found") }
        let local = try nodeOptions.local()
        let engine = PolicyEngine(snapshot, defaultDeny: local.status?.defaultDeny == true)
        let planner = FirewallPlanner(engine: engine)
        var plans: [IPAddress.Family: FirewallPlan] = [:]
        for family in [IPAddress.Family.ipv4, .ipv6] { plans[family] = planner.plan(node: local.name, family: family) }
        let attribution = DropAttribution(engine: engine, node: local.name, plans: plans, observed: local.observed)
        let terminal = noColor ? Terminal(color: false) : Terminal.detect()
        let before = try counters(plans)
        let conntrackBefore = DenialCounters.conntrack()

        var reader: NFLogReader?
        var holder: NFLogHolder?
        do {
            reader = try NFLogReader(group: FirewallNames.logGroup)
        } catch NFLogReader.Failure.held(_, let found) {
            holder = found
            warn("\(NFLogReader.Failure.held(group: FirewallNames.logGroup, holder: found))")
        } catch {
            throw CommandFailure("cannot read NFLOG: \(error)")
        }

        let started = Date()
        var drops: [Drop] = []
        var suggestions: [String: DropSuggestion] = [:]
        var attributed: [String: Drop] = [:]
        var samples = 0
        if follow && output == .text && reader != nil {
            write(Table.render([DropsReport.header]) + "\n")
        }
        while let nflog = reader {
            let remaining = follow ? 1.0 : since.seconds - Date().timeIntervalSince(started)
            if remaining <= 0 { break }
            let packets = try nflog.next(timeout: min(remaining, 1.0))
            for packet in packets where packet.group == nflog.group {
                samples += 1
                // Alike packets (one flow, one chain) share their reason and kernel walk: computed once.
                let flow = packet.header.map {
                    "\(packet.prefix)|\($0.source)|\($0.destination)|\($0.protocolNumber)|\($0.destinationPort ?? -1)"
                }
                var drop = flow.flatMap { attributed[$0] } ?? attribution.attribute(packet)
                if let flow { attributed[flow] = drop }
                drop.time = packet.time
                drop.interface = packet.bridgePortIn
                guard matches(drop, podKey: podKey) else { continue }
                drops.append(drop)
                if suggest, suggestions[drop.flowKey] == nil, let s = attribution.suggestion(packet) {
                    suggestions[drop.flowKey] = s
                }
                if output == .jsonl { write(try DropsFormat.encode(drop, pretty: false) + "\n") }
                if follow && output == .text {
                    write(terminal.safe(DropsReport.row(drop).joined(separator: "   ")) + "\n")
                }
                if let count, drops.count >= count { break }
            }
            if let count, drops.count >= count { break }
        }
        let window = Date().timeIntervalSince(started)
        let after = try counters(plans)
        let conntrackAfter = DenialCounters.conntrack()
        let report = DropsReport(
            node: local.name, window: window,
            group: DropsReport.Group(
                group: FirewallNames.logGroup, read: reader != nil,
                holder: holder.map { DropsReport.NFLogHolderInfo(pid: $0.pid, command: $0.command, portID: $0.portID) },
                samples: samples, lost: reader?.lost ?? 0, conntrack: reader?.conntrack ?? false),
            drops: DropsReport.aggregate(drops),
            counters: counterRows(before: before, after: after, podKey: podKey),
            nonPolicy: nonPolicy(before: before, after: after, conntrack: (conntrackBefore, conntrackAfter)),
            suggestions: suggest ? DropsReport.aggregate(drops).compactMap { suggestions[$0.flowKey] } : nil)
        reader?.close()
        switch output {
        case .json: write(try DropsFormat.encode(report, pretty: true) + "\n")
        case .jsonl:
            for counter in report.counters { write(try DropsFormat.encode(["counter": counter], pretty: false) + "\n") }
            for suggestion in report.suggestions ?? [] {
                write(try DropsFormat.encode(["suggestion": suggestion], pretty: false) + "\n")
            }
        case .text:
            if follow && reader != nil {
                // The rows were printed as they came: the counters and what no policy dropped follow.
                write(terminal.safe(report.text(terminal, drops: false)))
            } else {
                write(terminal.safe(report.text(terminal)))
            }
        }
        if holder != nil || (reader == nil) { throw ExitCode(2) }
    }

    func matches(_ drop: Drop, podKey: String?) -> Bool {
        if let port, drop.port != port { return false }
        if let podKey, drop.pod != podKey && drop.from != podKey && drop.to != podKey { return false }
        if let namespace, pod == nil {
            let prefix = namespace + "/"
            if ![drop.pod, drop.from, drop.to].contains(where: { $0?.hasPrefix(prefix) == true }) { return false }
        }
        return true
    }

    func counters(_ plans: [IPAddress.Family: FirewallPlan]) throws -> [DenialCount] {
        do {
            var all: [DenialCount] = []
            for family in [IPAddress.Family.ipv4, .ipv6] {
                guard let plan = plans[family], !plan.denials.isEmpty else { continue }
                all += try DenialCounters.read(plan: plan)
            }
            return all
        } catch {
            throw CommandFailure("cannot read this node's firewall counters: \(error) (run krctl as root on the node)")
        }
    }

    func counterRows(before: [DenialCount], after: [DenialCount], podKey: String?) -> [DropsReport.Counter] {
        let start = Dictionary(
            before.map { ("\($0.chain)|\($0.direction)", $0) }, uniquingKeysWith: { a, _ in a })
        return after.filter { c in
            if let podKey { return c.pod == podKey }
            if let namespace { return c.pod.hasPrefix(namespace + "/") }
            return true
        }.map { c in
            let old = start["\(c.chain)|\(c.direction)"]?.packets
            return DropsReport.Counter(
                pod: c.pod, direction: c.direction, family: c.family, policies: c.policies,
                window: c.packets.map { $0 &- min($0, old ?? 0) }, total: c.packets, bytes: c.bytes)
        }
    }

    func nonPolicy(
        before: [DenialCount], after: [DenialCount],
        conntrack: (ConntrackStatistics?, ConntrackStatistics?)
    ) -> DropsReport.NonPolicy {
        let invalidBefore = before.compactMap(\.invalidPackets).reduce(0, +)
        let invalidAfter = after.compactMap(\.invalidPackets).reduce(0, +)
        var result = DropsReport.NonPolicy(
            invalidWindow: invalidAfter &- min(invalidAfter, invalidBefore), invalidTotal: invalidAfter)
        if let a = conntrack.0, let b = conntrack.1 {
            result.conntrackInsertFailed = b.insertFailed &- min(b.insertFailed, a.insertFailed)
            result.conntrackDrop = b.drop &- min(b.drop, a.drop)
            result.conntrackEarlyDrop = b.earlyDrop &- min(b.earlyDrop, a.earlyDrop)
        }
        return result
    }

    func write(_ text: String) { FileHandle.standardOutput.write(Data(text.utf8)) }
    func warn(_ text: String) {
        // A holder's command name comes from /proc: shown escaped, as every text krctl prints.
        FileHandle.standardError.write(Data("Warning: \(Terminal.escapingControlCharacters(text))\n".utf8))
    }
}
