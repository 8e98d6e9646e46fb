import KubeModel
import KubeAPI
import Planning
import Kernel
import Speaker
import Foundation

/// Pod networking over BGP: from the nodes in the API, the peers of this node (the full mesh of its
/// AS, routers from flags and annotations) and its pod CIDRs; the speaker does the rest. Node events
/// mark the plan dirty; one worker thread applies it.
final class RouterController: @unchecked Sendable {
    struct Options {
        var settings: RouterSettings
        var bgpPort: UInt16
        var maxPrefixes: Int
        var holdTime: UInt16
        var gracefulRestartTime: UInt16?
        var cniConfigPath: String?
        var controlSocketPath: String
    }

    private let informers: Informers
    private let node: String
    private let options: Options
    private let log: Log
    private let condition = NSCondition()
    private var dirty = true
    private var speaker: BGPSpeaker?
    private var lastProblems: [String] = []
    private var writtenCNI: String?

    init(informers: Informers, node: String, options: Options, log: Log) {
        self.informers = informers
        self.node = node
        self.options = options
        self.log = log
    }

    func handle(_ event: InformerEvent) {
        switch event {
        case .synced: markDirty()
        case .added(let o), .deleted(let o), .updated(_, let o): if o.kind == "Node" { markDirty() }
        case .problem, .rejected: break  // the firewall controller (or the log) reports API problems
        }
    }

    private func markDirty() { condition.withLock { dirty = true; condition.signal() } }

    func start() throws {
        try ControlSocket.serve(path: options.controlSocketPath) { [weak self] command in
            self?.answer(command) ?? Data("{}".utf8)
        }
        let thread = Thread { [self] in loop() }
        thread.name = "router"
        thread.start()
    }

    private func loop() {
        while true {
            condition.withLock {
                while !dirty { condition.wait() }
                dirty = false
            }
            guard informers.hasSynced else { continue }
            apply()
        }
    }

    private func apply() {
        let snapshot = informers.snapshot()
        var settings = options.settings
        settings.localNetworks = Self.connectedNetworks()
        let plan = RouterPlanner.plan(node: node, nodes: snapshot.nodes, settings: settings, bgpPort: options.bgpPort)
        if plan.problems != lastProblems {
            for problem in plan.problems { log.warn("router: \(problem)") }
            lastProblems = plan.problems
        }
        guard let routerID = plan.routerID else {
            log.warn("router: no router ID: node \(node) has no IPv4 InternalIP; give --router-id")
            return
        }
        let speaker = condition.withLock { self.speaker }
        if let speaker, speaker.config.asn != plan.localASN || speaker.config.routerID != routerID {
            log.info("router: AS or router ID changed (AS \(plan.localASN), ID \(routerID)): restarting the speaker")
            speaker.stop()
            condition.withLock { self.speaker = nil }
        }
        if condition.withLock({ self.speaker == nil }) {
            do {
                let config = BGPSpeaker.Config(asn: plan.localASN, routerID: routerID, port: options.bgpPort, holdTime: options.holdTime,
                                               connectRetry: 1, gracefulRestartTime: options.gracefulRestartTime,
                                               maxPrefixes: options.maxPrefixes)
                let new = try BGPSpeaker(config: config, importPolicy: plan.importPolicy) { [log] message in
                    log.info(message)
                }
                try new.start()
                condition.withLock { self.speaker = new }
                log.info("router: BGP speaker AS \(plan.localASN), router ID \(routerID), port \(options.bgpPort)")
            } catch {
                log.error("router: cannot start the BGP speaker: \(error); retrying")
                Thread.sleep(forTimeInterval: 1)
                markDirty()
                return
            }
        }
        let current = condition.withLock { self.speaker }
        current?.setImportPolicy(plan.importPolicy)
        current?.setPeers(plan.peers)
        current?.setAdvertised(plan.advertised)
        log.info("router: \(plan.peers.count) peer(s), advertising \(plan.advertised.map(\.description).joined(separator: ", "))")
        writeCNIConfig(plan.advertised)
    }

    /// The subnets of this node's links: the kernel's own routes (protocol kernel) without a gateway.
    static func connectedNetworks() -> [CIDR] {
        guard let table = try? RouteTable() else { return [] }
        return [IPAddress.Family.ipv4, .ipv6].flatMap { family in
            ((try? table.routes(family: family, proto: 2)) ?? [])
                .filter { $0.gateways.isEmpty && $0.destination.prefixLength > 0 }.map(\.destination)
        }
    }

    /// `--enable-cni`: the bridge plugin on kube-bridge with host-local IPAM over the node's pod CIDRs.
    private func writeCNIConfig(_ cidrs: [CIDR]) {
        guard let path = options.cniConfigPath, !cidrs.isEmpty else { return }
        let ranges = cidrs.map { "[{\"subnet\": \"\($0)\"}]" }.joined(separator: ", ")
        let text = """
        {
          "cniVersion": "0.3.0",
          "name": "mynet",
          "plugins": [
            {
              "name": "kubernetes",
              "type": "bridge",
              "bridge": "kube-bridge",
              "isDefaultGateway": true,
              "hairpinMode": true,
              "ipam": {"type": "host-local", "ranges": [\(ranges)]}
            },
            {"type": "portmap", "capabilities": {"snat": true, "portMappings": true}}
          ]
        }

        """
        guard text != writtenCNI else { return }
        do {
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            writtenCNI = text
            log.info("router: wrote the CNI configuration \(path)")
        } catch {
            log.error("router: cannot write the CNI configuration \(path): \(error)")
        }
    }

    /// The control socket's commands: `bgp peers`, `bgp routes`.
    private func answer(_ command: String) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let speaker = condition.withLock { self.speaker }
        switch command.trimmingCharacters(in: .whitespaces) {
        case "bgp peers": return (try? encoder.encode(speaker?.peerStatus() ?? [])) ?? Data("[]".utf8)
        case "bgp routes":
            // The answer for a full table is large: the memory it took goes back once it is encoded.
            let data = (try? encoder.encode(speaker?.routeStatus() ?? [])) ?? Data("[]".utf8)
            if data.count > 1 << 20 { Memory.trim() }
            return data
        default: return Data("{\"error\": \"unknown command\"}".utf8)
        }
    }
}
