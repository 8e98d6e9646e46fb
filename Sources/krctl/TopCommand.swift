import ArgumentParser
import Foundation
import Kernel
import KubeModel
import Planning
import Synchronization
import TopUI

/// The signal that ends the dashboard (SIGINT, SIGTERM, SIGHUP): the UI thread sees it within 100 ms and
/// restores the terminal before exiting.
private let topSignal = Atomic<Int32>(0)

struct TopCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "top",
        abstract: "The node's networking live: services, policy, drops, BGP and the agent's health in one dashboard.",
        discussion: """
            Run on the node, as root. krctl reads what the agent works with once per interval, with the readers \
            of krctl ipvs, drops, bgp and doctor: IPVS over generic netlink (rates from the 64-bit counters), the \
            pod chains' counters (libiptc), NFLOG samples of refused packets (it binds group 100 while it runs), \
            the agent's status files, control socket and health endpoint, and conntrack. Pods, policies and drops \
            need the cluster (--kubeconfig or --manifests, as for explain-policy).

            Panes: 1 Overview, 2 Services, 3 Policy, 4 Drops, 5 BGP, 6 Health. Keys: 1-6, Tab and arrows switch \
            panes; up/down, j/k, PgUp/PgDn, g/G move; Enter drills in and Esc goes back; / filters (!text \
            inverts); s sorts by the next column and I inverts; space pauses the display; + and - change the \
            interval; e explains the selection, c shows the equivalent command, ? helps, q quits.

            `krctl top pod NS/NAME` and `krctl top service NS/NAME` narrow every pane to one object and show its \
            path: VIP, IPVS, endpoints, policy at the endpoint.

            Without a terminal (piped output, --once, --iterations, -o json|jsonl) krctl waits one interval (a \
            rate needs two samples) and prints. --record FILE writes the snapshots as JSON lines; --replay FILE \
            shows them instead of reading the node. Exit status: 0; 1 on bad input or without permission; 2 when \
            a source could not be read (what could be read is still shown); 64 on a usage error.
            """
    )

    @Argument(help: ArgumentHelp("Focus on one object: pod or service.", valueName: "kind"))
    var focusKind: TopFocusKind?

    @Argument(help: ArgumentHelp("The object to focus on: NAMESPACE/NAME.", valueName: "name"))
    var focusName: String?

    @OptionGroup var nodeOptions: NodeOptions

    @OptionGroup var cluster: ClusterOptions

    @Option(
        name: [.customShort("n"), .long],
        help: ArgumentHelp("Only pods of this namespace in the Policy pane.", valueName: "namespace"))
    var namespace: String?

    @Option(
        help: ArgumentHelp("Time between collections, as a Go duration.", valueName: "duration"),
        transform: DurationArgument.parse)
    var interval = DurationArgument(seconds: 2)

    @Flag(help: "Print one snapshot (after one interval: rates need two) and exit.")
    var once = false

    @Option(help: ArgumentHelp("Print K snapshots, one per interval, and exit.", valueName: "K"))
    var iterations: Int?

    @Option(
        name: [.customShort("o"), .long],
        help: ArgumentHelp(
            "Print instead of drawing: table, json (krctl/v1 TopSnapshot) or jsonl (a snapshot per line).",
            valueName: "format"))
    var output: TopFormat?

    @Flag(help: "Never colour the output (also: NO_COLOR=1).")
    var noColor = false

    @Flag(help: "ASCII borders and sparklines (also when the locale is not UTF-8).")
    var ascii = false

    @Option(help: ArgumentHelp("Write the snapshots shown to FILE, as JSON lines.", valueName: "file"))
    var record: String?

    @Option(
        help: ArgumentHelp("Show the snapshots of a recording instead of reading the node.", valueName: "file"),
        completion: .file())
    var replay: String?

    @Option(help: ArgumentHelp("The agent's health endpoint.", valueName: "url"))
    var healthURL = "http://127.0.0.1:20244"

    @Option(
        help: ArgumentHelp(
            "The agent's metrics (its --metrics-port), for sync durations, failures and the API watches: "
                + "http://127.0.0.1:PORT/metrics.",
            valueName: "url"))
    var metricsURL: String?

    @Flag(help: "Leave out the node checks of krctl doctor (the Health pane's findings).")
    var noDoctor = false

    func validate() throws {
        if let iterations, iterations < 1 {
            throw ValidationError("--iterations must be at least 1, not \(iterations)")
        }
        if once && iterations != nil { throw ValidationError("--once and --iterations exclude each other") }
        if record != nil && replay != nil { throw ValidationError("--record and --replay exclude each other") }
        if focusKind != nil && focusName == nil {
            throw ValidationError("krctl top \(focusKind!.rawValue) needs the object: NAMESPACE/NAME")
        }
        if let focusName, EndpointReference.namespacedName(focusName) == nil {
            throw ValidationError("the object to focus on must be NAMESPACE/NAME or NAME, not \"\(focusName)\"")
        }
    }

    var focus: TopModel.Focus? {
        guard let focusKind, let focusName, let (ns, name) = EndpointReference.namespacedName(focusName) else {
            return nil
        }
        let key = "\(ns ?? namespace ?? "default")/\(name)"
        return focusKind == .pod ? .pod(key) : .service(key)
    }

    func run() throws {
        let utf8 = TopScreen.setLocale()
        let environment = ProcessInfo.processInfo.environment
        let color = !noColor && (environment["NO_COLOR"] ?? "").isEmpty
        let feed = try makeFeed()
        defer { feed.stop() }
        let batch = once || iterations != nil || output != nil || isatty(1) != 1
        if !batch {
            do {
                let screen = try TopScreen(term: environment["TERM"], color: color)
                try interactive(screen, feed: feed, ascii: ascii || !utf8)
                return
            } catch let unavailable as TopScreen.Unavailable {
                FileHandle.standardError.write(
                    Data("krctl top: \(unavailable): printing one snapshot instead (see --once, -o)\n".utf8))
            }
        }
        try printSnapshots(feed)
    }

    func makeFeed() throws -> TopFeed {
        if let replay {
            guard let data = FileManager.default.contents(atPath: replay) else {
                throw CommandFailure("cannot read the recording \(replay): no such file or no permission")
            }
            do {
                return try TopFeed(
                    .replay(TopRecording.read(String(decoding: data, as: UTF8.self), file: replay)), record: nil)
            } catch let failure as TopRecording.Failure {
                throw CommandFailure(failure.description)
            }
        }
        guard geteuid() == 0 else {
            throw CommandFailure(
                "krctl top reads the kernel's tables: run it as root on the node "
                    + "(or show a recording with --replay FILE)"
            )
        }
        let collector = TopCollector(
            .init(
                node: nodeOptions.node, stateDir: nodeOptions.stateDir, cluster: clusterReader(), namespace: namespace,
                healthURL: healthURL, metricsURL: metricsURL, doctor: !noDoctor))
        return try TopFeed(.live(collector), record: record)
    }

    /// The cluster when one is configured; nil when there is none to read (the panes that need it say so).
    func clusterReader() -> ClusterReader? {
        let environment = ProcessInfo.processInfo.environment
        let configured =
            !cluster.manifests.isEmpty || cluster.kubeconfig != nil || cluster.context != nil
            || environment["KUBECONFIG"] != nil || environment["KUBERNETES_SERVICE_HOST"] != nil
            || FileManager.default.fileExists(atPath: NSHomeDirectory() + "/.kube/config")
        guard configured else { return nil }
        return ClusterReader(
            manifests: cluster.manifests, kubeconfig: cluster.kubeconfig, context: cluster.context,
            strict: cluster.strict)
    }

    // MARK: batch

    func printSnapshots(_ feed: TopFeed) throws {
        let count = iterations ?? (output == .jsonl ? Int.max : 1)
        guard var previous = feed.next(interval: interval.seconds) else { throw CommandFailure("no snapshot to print") }
        // Only -o json prints them all at the end: the others do not keep what they printed (a jsonl stream
        // runs for hours).
        var printed: [TopSnapshot] = []
        var printedAny = false
        var unreachable = false
        func emit(_ snapshot: TopSnapshot) throws {
            unreachable = unreachable || snapshot.sources.contains { $0.state == .unreachable }
            switch output ?? .table {
            case .table:
                let model = TopModel(snapshot: snapshot, now: feed.isReplay ? snapshot.time : Date(), focus: focus)
                write((printedAny ? "\n" : "") + Terminal(color: false).safe(TopBatch.text(model)))
            case .jsonl: write(try TopRecording.line(snapshot) + "\n")
            case .json: printed.append(snapshot)
            }
            printedAny = true
        }
        for _ in 0..<count {
            if !feed.isReplay { Thread.sleep(forTimeInterval: interval.seconds) }
            guard let next = feed.next(interval: interval.seconds) else { break }
            try emit(next)
            previous = next
        }
        // A recording of one snapshot: that one.
        if !printedAny { try emit(previous) }
        if output == .json { write(try TopBatch.json(printed) + "\n") }
        if unreachable { throw ExitCode(2) }
    }

    func write(_ text: String) { FileHandle.standardOutput.write(Data(text.utf8)) }

    // MARK: the dashboard

    func interactive(_ screen: TopScreen, feed: TopFeed, ascii: Bool) throws {
        // A mask inherited from the parent (a test runner) may block them: the dashboard must still end.
        var signals = sigset_t()
        sigemptyset(&signals)
        for signalNumber in [SIGINT, SIGTERM, SIGHUP] {
            signal(signalNumber) { topSignal.store($0, ordering: .relaxed) }
            sigaddset(&signals, signalNumber)
        }
        sigprocmask(SIG_UNBLOCK, &signals, nil)
        defer {
            screen.close()
            if let fallback = screen.fallback {
                let term = ProcessInfo.processInfo.environment["TERM"] ?? "(unset)"
                let hint = "krctl top: TERM=\(term) is unknown here: drew with \(fallback)\n"
                FileHandle.standardError.write(Data(hint.utf8))
            }
        }
        // What the readers write to stderr (the cluster's listing progress, warnings) would draw over the
        // dashboard: it goes nowhere while the screen is open.
        let savedStderr = dup(2)
        let devNull = open("/dev/null", O_WRONLY)
        if savedStderr >= 0 && devNull >= 0 { dup2(devNull, 2) }
        if devNull >= 0 { close(devNull) }
        defer {
            if savedStderr >= 0 {
                dup2(savedStderr, 2)
                close(savedStderr)
            }
        }
        let latest = Locked<(Int, TopSnapshot?)>((0, nil))
        let period = Locked(interval.seconds)
        let stop = Locked(false)
        let replaying = feed.isReplay
        let collector = Thread {
            TopCollector.nameThread("krctl top read")
            var generation = 0
            while !stop.get() {
                guard let snapshot = feed.next(interval: period.get()) else { break }
                generation += 1
                latest.set((generation, snapshot))
                let until = Date(timeIntervalSinceNow: period.get())
                while !stop.get() && Date() < until { Thread.sleep(forTimeInterval: 0.05) }
            }
        }
        collector.name = "krctl top collector"
        collector.start()
        defer { stop.set(true) }

        let renderer = TopRenderer(ascii: ascii, color: screen.color)
        let tables = TopTableCache()
        var state = TopState(
            pane: focus == nil ? .overview : focusKind == .service ? .services : .policy,
            interval: interval.seconds)
        var history = TopHistory()
        var seen = 0
        var newest: TopSnapshot?
        var shown: TopSnapshot?
        var lastDraw = Date.distantPast
        var dirty = true
        while topSignal.load(ordering: .relaxed) == 0 {
            let (generation, snapshot) = latest.get()
            if generation != seen, let snapshot {
                seen = generation
                newest = snapshot
                history.append(snapshot)
                if !state.paused || shown == nil { shown = snapshot }
                dirty = true
            }
            let current = shown ?? TopSnapshot(time: Date(), node: "collecting…", interval: state.interval)
            let model = TopModel(
                snapshot: current, history: history, now: replaying ? current.time : Date(), focus: focus)
            if let key = screen.key() {
                let (width, height) = screen.size
                let (table, rows) = TopRenderer.visible(model, state, tables)
                let ids = rows.map(\.id)
                let layout = TopRenderer.Layout(width: width, height: height, focus: focus != nil)
                let wasPaused = state.paused
                switch state.handle(
                    key, rows: ids, page: layout.page, columns: table.columns.count, drillable: table.drillable)
                {
                case .quit: return
                case .intervalChanged: period.set(state.interval)
                case .none: break
                }
                if wasPaused && !state.paused { shown = newest }
                dirty = true
            }
            // At most 10 frames a second (keys held down), and one a second for the ages.
            let sinceDraw = Date().timeIntervalSince(lastDraw)
            if (dirty && sinceDraw >= 0.1) || sinceDraw >= 1 {
                let current = shown ?? current
                let model = TopModel(
                    snapshot: current, history: history, now: replaying ? current.time : Date(), focus: focus)
                let (width, height) = screen.size
                screen.draw(renderer.render(model, state, width: width, height: height, tables: tables))
                lastDraw = Date()
                dirty = false
            }
        }
    }
}
