import Foundation
import KubeModel
import Planning

#if canImport(Glibc)
import Glibc
#endif

/// Reads `NodeFacts` for the node checks, every file under `root` (`/` on a node; a fixture tree in
/// tests). Read-only: it runs the `-save` tools, never a command that changes anything, and loads no module.
///
/// What is not a file comes from the kernel when `root` is `/` (`iptables-legacy-save`, `iptables-nft-save`,
/// `iptables --version`, the addresses, the main routing table, the control socket); under another root
/// it comes from fixture files in `<root>/.doctor/`, and is unread (its checks SKIP) without them:
/// - `iptables-legacy-save`, `iptables-nft-save`: the tools' output; `iptables-nft-save.error`: their error
/// - `iptables-version`: `iptables --version`
/// - `addresses`: one `INTERFACE ADDRESS/PREFIX` a line
/// - `routes`: one `DESTINATION PROTOCOL` a line (a number, or `kernel`, `boot`, `static`, `dhcp`, `bird`)
public struct NodeFactsReader: Sendable {
    public var root: String
    /// The agent's state directory (its status files and control socket); nil: the agent is not looked at.
    public var stateDir: String?
    public var cniConfDir: String
    public var cniBinDir: String
    public var xtablesLock: String
    public var api: DoctorAPIFacts?
    public var now: Date

    public init(
        root: String = "/", stateDir: String? = nil, cniConfDir: String = "/etc/cni/net.d",
        cniBinDir: String = "/opt/cni/bin",
        xtablesLock: String = ProcessInfo.processInfo.environment["XTABLES_LOCKFILE"] ?? "/run/xtables.lock",
        api: DoctorAPIFacts? = nil, now: Date = Date()
    ) {
        self.root = root
        self.stateDir = stateDir
        self.cniConfDir = cniConfDir
        self.cniBinDir = cniBinDir
        self.xtablesLock = xtablesLock
        self.api = api
        self.now = now
    }

    var live: Bool { root == "/" || root.isEmpty }

    /// `path` (absolute) under the root.
    func under(_ path: String) -> String {
        live ? path : (root.hasSuffix("/") ? String(root.dropLast()) : root) + path
    }

    func text(_ path: String, limit: Int = 1 << 20) -> String? {
        guard let handle = FileHandle(forReadingAtPath: under(path)) else { return nil }
        defer { try? handle.close() }
        do {
            // nil at end of file: an empty file reads as "".
            return String(decoding: try handle.read(upToCount: limit) ?? Data(), as: UTF8.self)
        } catch {
            return nil
        }
    }

    func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: under(path)) }

    func entries(_ path: String) -> [String]? {
        try? FileManager.default.contentsOfDirectory(atPath: under(path)).sorted()
    }

    public func read() -> NodeFacts {
        let release = text("/proc/sys/kernel/osrelease")?.trimmingCharacters(in: .whitespacesAndNewlines)
        var facts = NodeFacts(
            root: live ? "/" : root, collectedAt: Timestamp.string(now), kernelRelease: release)
        for name in DoctorCatalog.Sysctl.all {
            let path = "/proc/sys/" + name.replacingOccurrences(of: ".", with: "/")
            if let value = text(path)?.trimmingCharacters(in: .whitespacesAndNewlines) { facts.sysctls[name] = value }
        }
        facts.modules = modules(release: release)
        facts.netfilter = netfilter()
        facts.xtablesLock = NodeFacts.PathFact(path: xtablesLock, kind: kind(xtablesLock))
        facts.cni = cni()
        facts.interfaces = entries("/sys/class/net")
        facts.addresses = live ? Self.liveAddresses() : fixtureAddresses()
        facts.routes = live ? Self.liveRoutes() : fixtureRoutes()
        facts.networkd = networkd()
        facts.api = api
        facts.agent = stateDir.map(agent)
        return facts
    }

    func kind(_ path: String) -> NodeFacts.PathFact.Kind {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: under(path)) else { return .missing }
        switch attributes[.type] as? FileAttributeType {
        case .typeRegular?: return .file
        case .typeDirectory?: return .directory
        default: return .other
        }
    }

    // MARK: modules

    /// `xt_set` from `kernel/net/netfilter/xt_set.ko.zst` (and `ip-set` spelled `ip_set`).
    static func moduleName(_ path: some StringProtocol) -> String {
        let text = String(path)
        let base = text.split(separator: "/").last.map(String.init) ?? text
        let name = base.components(separatedBy: ".ko").first ?? base
        return name.replacingOccurrences(of: "-", with: "_")
    }

    func modules(release: String?) -> NodeFacts.ModuleSources {
        let wanted = Set(DoctorCatalog.modules.map(\.name))
        var sources = NodeFacts.ModuleSources()
        sources.loaded = text("/proc/modules").map { text in
            text.split(whereSeparator: \.isNewline).compactMap { $0.split(separator: " ").first.map(Self.moduleName) }
                .filter(wanted.contains)
        }
        if let release {
            let dir = "/lib/modules/\(release)"
            sources.builtin = text("\(dir)/modules.builtin", limit: 8 << 20).map { text in
                text.split(whereSeparator: \.isNewline).map(Self.moduleName).filter(wanted.contains)
            }
            sources.installed = text("\(dir)/modules.dep", limit: 32 << 20).map { text in
                text.split(whereSeparator: \.isNewline).compactMap { line in
                    line.split(separator: ":").first.map(Self.moduleName)
                }.filter(wanted.contains)
            }
        }
        if let (config, source) = kernelConfig(release: release) {
            let keys = Set(DoctorCatalog.modules.map { "CONFIG_\($0.config)" })
            var values: [String: String] = [:]
            for line in config.split(whereSeparator: \.isNewline) where line.hasPrefix("CONFIG_") {
                let parts = line.split(separator: "=", maxSplits: 1)
                guard parts.count == 2, keys.contains(String(parts[0])) else { continue }
                values[String(parts[0])] = String(parts[1])
            }
            sources.kernelConfig = values
            sources.kernelConfigSource = source
        }
        let probes = DoctorCatalog.modules.compactMap(\.probe) + DoctorCatalog.modules.map { "/sys/module/\($0.name)" }
        sources.present = probes.filter(exists)
        return sources
    }

    /// The running kernel's build configuration: `/proc/config.gz` (gunzipped by gzip) or
    /// `/boot/config-<release>`.
    func kernelConfig(release: String?) -> (String, String)? {
        if exists("/proc/config.gz"), let gzip = Self.tool("gzip"),
            let result = try? Subprocess.run(gzip, ["-dc", under("/proc/config.gz")]), result.status == 0
        {
            return (result.stdout, "/proc/config.gz")
        }
        if let release, let text = text("/boot/config-\(release)", limit: 8 << 20) {
            return (text, "/boot/config-\(release)")
        }
        return nil
    }

    // MARK: iptables

    /// An executable of the node's usual directories (not `$PATH`: krctl may run with a narrow one).
    static func tool(_ name: String) -> String? {
        ["/usr/sbin", "/sbin", "/usr/bin", "/bin", "/usr/local/sbin", "/usr/local/bin"].map { "\($0)/\(name)" }
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static func firstLine(_ text: String) -> String {
        text.split(whereSeparator: \.isNewline).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
    }

    func netfilter() -> NodeFacts.NetfilterFacts {
        var facts = NodeFacts.NetfilterFacts()
        guard live else {
            if let text = text("/.doctor/iptables-legacy-save") {
                facts.legacy = IPTablesSnapshot.parse(save: text)
            } else {
                facts.legacyError = "no \(under("/.doctor/iptables-legacy-save")) in the fixture"
            }
            if let error = text("/.doctor/iptables-nft-save.error") {
                facts.nftError = error.trimmingCharacters(in: .whitespacesAndNewlines)
            } else if let text = text("/.doctor/iptables-nft-save") {
                facts.nft = IPTablesSnapshot.parse(save: text)
            } else {
                facts.nftError = "no \(under("/.doctor/iptables-nft-save")) in the fixture"
            }
            facts.hostIPTables = text("/.doctor/iptables-version").map(Self.firstLine)
            return facts
        }
        (facts.legacy, facts.legacyError) = Self.liveLegacy()
        if let save = Self.tool("iptables-nft-save") {
            do {
                let result = try Subprocess.run(save, [])
                if result.status == 0 && !result.stderr.contains("incompatible") {
                    facts.nft = IPTablesSnapshot.parse(save: result.stdout)
                } else {
                    facts.nftError =
                        Self.firstLine(result.stderr.isEmpty ? "exit status \(result.status)" : result.stderr)
                }
            } catch {
                facts.nftError = "\(save): \(error)"
            }
        } else {
            facts.nftError = "iptables-nft-save is not installed"
        }
        if let iptables = Self.tool("iptables"), let result = try? Subprocess.run(iptables, ["--version"]),
            result.status == 0
        {
            facts.hostIPTables = Self.firstLine(result.stdout)
        }
        return facts
    }

    /// The legacy tables: `iptables-legacy-save`, else libiptc (the agent's own reader; policies unknown).
    /// Without `/proc/net/ip_tables_names` no legacy table exists, so nothing is there to read.
    static func liveLegacy() -> (IPTablesSnapshot?, String?) {
        guard let names = try? String(contentsOfFile: "/proc/net/ip_tables_names", encoding: .utf8) else {
            return (IPTablesSnapshot(tables: []), nil)
        }
        if let save = tool("iptables-legacy-save") {
            guard let result = try? Subprocess.run(save, []) else { return (nil, "\(save) could not be run") }
            guard result.status == 0 else {
                return (nil, firstLine(result.stderr.isEmpty ? "exit status \(result.status)" : result.stderr))
            }
            return (IPTablesSnapshot.parse(save: result.stdout), nil)
        }
        var tables: [IPTablesSnapshot.Table] = []
        for name in names.split(whereSeparator: \.isNewline).map(String.init).sorted() {
            do {
                let table = try IPTablesTable(name, family: .ipv4)
                tables.append(
                    IPTablesSnapshot.Table(
                        name: name,
                        chains: table.chains().map {
                            IPTablesSnapshot.Chain(name: $0, policy: nil, rules: table.rules($0).count)
                        }))
            } catch {
                return (nil, "\(error)")
            }
        }
        return (IPTablesSnapshot(tables: tables), nil)
    }

    // MARK: CNI, networkd

    func cni() -> NodeFacts.CNIFacts {
        var facts = NodeFacts.CNIFacts(confDir: cniConfDir, binDir: cniBinDir)
        facts.configs = entries(cniConfDir).map { names in
            names.filter { name in [".conf", ".conflist", ".json"].contains { name.hasSuffix($0) } }
                .compactMap { name in
                    let path = cniConfDir + "/" + name
                    return text(path).map { NodeFacts.TextFile(path: path, text: $0) }
                }
        }
        facts.plugins = entries(cniBinDir).map { names in
            names.filter { FileManager.default.isExecutableFile(atPath: under(cniBinDir + "/" + $0)) }
        }
        return facts
    }

    /// systemd's order: the main file (first of /etc, /run, /usr/local/lib, /usr/lib), then the drop-ins
    /// of every `networkd.conf.d` by file name, a name in /etc hiding the same name further down.
    func networkd() -> NodeFacts.NetworkdFacts {
        let dirs = ["/etc/systemd", "/run/systemd", "/usr/local/lib/systemd", "/usr/lib/systemd"]
        var configs: [NodeFacts.TextFile] = []
        if let main = dirs.map({ "\($0)/networkd.conf" }).first(where: exists), let text = text(main) {
            configs.append(NodeFacts.TextFile(path: main, text: text))
        }
        var dropIns: [String: String] = [:]
        for dir in dirs.reversed() {
            for name in entries("\(dir)/networkd.conf.d") ?? [] where name.hasSuffix(".conf") {
                dropIns[name] = "\(dir)/networkd.conf.d/\(name)"
            }
        }
        for name in dropIns.keys.sorted() {
            if let path = dropIns[name], let text = text(path) {
                configs.append(NodeFacts.TextFile(path: path, text: text))
            }
        }
        return NodeFacts.NetworkdFacts(running: exists("/run/systemd/netif/state"), configs: configs)
    }

    // MARK: addresses and routes

    func fixtureAddresses() -> [NodeFacts.InterfaceAddress]? {
        text("/.doctor/addresses").map { text in
            text.split(whereSeparator: \.isNewline).compactMap { line in
                let fields = line.split(separator: " ", omittingEmptySubsequences: true)
                guard fields.count >= 2 else { return nil }
                return NodeFacts.InterfaceAddress(interface: String(fields[0]), address: String(fields[1]))
            }
        }
    }

    static let protocolNames: [String: UInt8] = [
        "redirect": 1, "kernel": 2, "boot": 3, "static": 4, "dhcp": 16,
        "bird": 12, "zebra": 11, "bgp": 186, "kube-router": NodeNetwork.kubeRouterProtocol,
    ]

    func fixtureRoutes() -> [NodeFacts.RouteFact]? {
        text("/.doctor/routes").map { text in
            text.split(whereSeparator: \.isNewline).compactMap { line in
                let fields = line.split(separator: " ", omittingEmptySubsequences: true)
                guard fields.count >= 2, let proto = UInt8(fields[1]) ?? Self.protocolNames[String(fields[1])] else {
                    return nil
                }
                return NodeFacts.RouteFact(destination: String(fields[0]), proto: proto)
            }
        }
    }

    static func liveRoutes() -> [NodeFacts.RouteFact]? {
        guard let table = try? RouteTable() else { return nil }
        var routes: [NodeFacts.RouteFact] = []
        for family in [IPAddress.Family.ipv4, .ipv6] {
            guard let found = try? table.routes(family: family) else {
                if family == .ipv4 { return nil }
                continue
            }
            routes += found.map { NodeFacts.RouteFact(destination: $0.destination.description, proto: $0.proto) }
        }
        return routes
    }

    /// Every interface address (getifaddrs), with its prefix length.
    static func liveAddresses() -> [NodeFacts.InterfaceAddress]? {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0, let first = list else { return nil }
        defer { freeifaddrs(list) }
        var result: [NodeFacts.InterfaceAddress] = []
        for entry in sequence(first: first, next: { $0.pointee.ifa_next }) {
            guard let address = entry.pointee.ifa_addr, let mask = entry.pointee.ifa_netmask else { continue }
            let family = Int32(address.pointee.sa_family)
            guard family == AF_INET || family == AF_INET6 else { continue }
            var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
            var prefix = 0
            if family == AF_INET {
                var a = address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr }
                inet_ntop(AF_INET, &a, &buffer, socklen_t(buffer.count))
                let m = mask.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr.s_addr }
                prefix = m.nonzeroBitCount
            } else {
                var a = address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee.sin6_addr }
                inet_ntop(AF_INET6, &a, &buffer, socklen_t(buffer.count))
                var m = mask.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee.sin6_addr }
                prefix = withUnsafeBytes(of: &m) { $0.reduce(0) { $0 + $1.nonzeroBitCount } }
            }
            let text = String(cString: buffer)
            result.append(
                NodeFacts.InterfaceAddress(
                    interface: String(cString: entry.pointee.ifa_name), address: "\(text)/\(prefix)"))
        }
        return result
    }

    // MARK: the agent

    func agent(_ stateDir: String) -> NodeFacts.AgentFacts {
        let dir = under(stateDir)
        var facts = NodeFacts.AgentFacts(
            stateDir: stateDir, firewall: FirewallStatus.read(stateDir: dir),
            serviceProxy: ServiceProxyStatus.read(stateDir: dir), router: RouterStatus.read(stateDir: dir))
        let pids = [facts.firewall?.pid, facts.serviceProxy?.pid, facts.router?.pid].compactMap { $0 }
        facts.runningPids = Array(Set(pids.filter { exists("/proc/\($0)") })).sorted()
        facts.socketAnswers = ControlSocket.isServed(path: dir + "/" + ControlSocket.fileName)
        return facts
    }
}
