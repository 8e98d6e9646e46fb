import Foundation
import KubeModel

/// What the node checks look at, read once (`NodeFactsReader` in Kernel) and judged by a pure function
/// (`NodeDiagnosis`). Every part that could not be read is nil (or says why): a check that cannot be
/// evaluated is SKIP with that reason, never a guess.
public struct NodeFacts: Codable, Sendable, Equatable {
    /// Where the files were read: `/` on a node, a fixture tree in tests.
    public var root: String
    /// When the facts were read (ISO 8601, UTC): the age of the agent's last syncs is measured from it.
    public var collectedAt: String
    /// `uname -r` (`<root>/proc/sys/kernel/osrelease`).
    public var kernelRelease: String?
    /// Dotted sysctl name → value, for the settings the checks read; a missing key: no such file (the
    /// feature is not in the kernel, or its module is not loaded).
    public var sysctls: [String: String]
    public var modules: ModuleSources
    public var netfilter: NetfilterFacts
    /// `/run/xtables.lock` (or `$XTABLES_LOCKFILE`).
    public var xtablesLock: PathFact
    public var cni: CNIFacts
    /// Network interfaces (`/sys/class/net`); nil when unreadable.
    public var interfaces: [String]?
    /// The node's addresses; nil when they could not be read.
    public var addresses: [InterfaceAddress]?
    /// The main table's routes; nil when they could not be read.
    public var routes: [RouteFact]?
    public var networkd: NetworkdFacts
    /// What the API server said; nil when there is no API to ask (no kubeconfig, offline).
    public var api: DoctorAPIFacts?
    /// The agent's state on this node; nil when not asked (the agent checking itself).
    public var agent: AgentFacts?

    public init(
        root: String, collectedAt: String, kernelRelease: String? = nil, sysctls: [String: String] = [:],
        modules: ModuleSources = ModuleSources(), netfilter: NetfilterFacts = NetfilterFacts(),
        xtablesLock: PathFact = PathFact(path: "/run/xtables.lock", kind: .missing),
        cni: CNIFacts = CNIFacts(), interfaces: [String]? = nil, addresses: [InterfaceAddress]? = nil,
        routes: [RouteFact]? = nil, networkd: NetworkdFacts = NetworkdFacts(), api: DoctorAPIFacts? = nil,
        agent: AgentFacts? = nil
    ) {
        self.root = root
        self.collectedAt = collectedAt
        self.kernelRelease = kernelRelease
        self.sysctls = sysctls
        self.modules = modules
        self.netfilter = netfilter
        self.xtablesLock = xtablesLock
        self.cni = cni
        self.interfaces = interfaces
        self.addresses = addresses
        self.routes = routes
        self.networkd = networkd
        self.api = api
        self.agent = agent
    }

    /// A file read as text, by its path under the root.
    public struct TextFile: Codable, Sendable, Equatable {
        public var path: String
        public var text: String
        public init(path: String, text: String) {
            self.path = path
            self.text = text
        }
    }

    /// Whether a path exists, and as what.
    public struct PathFact: Codable, Sendable, Equatable {
        public enum Kind: String, Codable, Sendable { case missing, file, directory, other }
        public var path: String
        public var kind: Kind
        public init(path: String, kind: Kind) {
            self.path = path
            self.kind = kind
        }
    }

    /// Where the kernel's modules could be seen, for the modules the checks ask about (`DoctorCatalog`).
    /// Each list is nil when its source could not be read, and lists only the asked-for names.
    public struct ModuleSources: Codable, Sendable, Equatable {
        /// Loaded now (`/proc/modules`; absent on a kernel without module support).
        public var loaded: [String]?
        /// Built in (`/lib/modules/<release>/modules.builtin`).
        public var builtin: [String]?
        /// Installed, loadable (`/lib/modules/<release>/modules.dep`).
        public var installed: [String]?
        /// `CONFIG_*` → value (`y`, `m`) for the asked-for options that are set; nil without a kernel config.
        public var kernelConfig: [String: String]?
        /// Where the kernel config was read (`/proc/config.gz`, `/boot/config-<release>`).
        public var kernelConfigSource: String?
        /// The probe paths (`/sys/module/<name>`, `/proc/net/ip_vs`, ...) that exist.
        public var present: [String]

        public init(
            loaded: [String]? = nil, builtin: [String]? = nil, installed: [String]? = nil,
            kernelConfig: [String: String]? = nil, kernelConfigSource: String? = nil, present: [String] = []
        ) {
            self.loaded = loaded
            self.builtin = builtin
            self.installed = installed
            self.kernelConfig = kernelConfig
            self.kernelConfigSource = kernelConfigSource
            self.present = present
        }
    }

    /// Both iptables backends: the legacy x_tables the agent writes through libiptc, and nf_tables that
    /// `iptables-nft` (Debian's default `iptables`) writes; both filter every packet.
    public struct NetfilterFacts: Codable, Sendable, Equatable {
        /// The legacy tables (`iptables-legacy-save`); nil when unreadable (`legacyError` says why).
        public var legacy: IPTablesSnapshot?
        public var legacyError: String?
        /// The nf_tables side as iptables sees it (`iptables-nft-save`); nil when unreadable.
        public var nft: IPTablesSnapshot?
        /// Why the nft side could not be read: no tool, or tables this host's iptables cannot parse.
        public var nftError: String?
        /// The host's `iptables --version` (`iptables v1.8.9 (nf_tables)`); nil without an `iptables`.
        public var hostIPTables: String?

        public init(
            legacy: IPTablesSnapshot? = nil, legacyError: String? = nil, nft: IPTablesSnapshot? = nil,
            nftError: String? = nil, hostIPTables: String? = nil
        ) {
            self.legacy = legacy
            self.legacyError = legacyError
            self.nft = nft
            self.nftError = nftError
            self.hostIPTables = hostIPTables
        }
    }

    /// The CNI configuration kubelet's runtime reads, and the plugin binaries.
    public struct CNIFacts: Codable, Sendable, Equatable {
        public var confDir: String
        public var binDir: String
        /// The `.conf`, `.conflist` and `.json` files of `confDir`, by name; nil when the directory is missing.
        public var configs: [TextFile]?
        /// Executable files of `binDir`; nil when the directory is missing.
        public var plugins: [String]?

        public init(
            confDir: String = "/etc/cni/net.d", binDir: String = "/opt/cni/bin", configs: [TextFile]? = nil,
            plugins: [String]? = nil
        ) {
            self.confDir = confDir
            self.binDir = binDir
            self.configs = configs
            self.plugins = plugins
        }
    }

    /// One address of one interface (`10.0.0.5/24` on `eth0`).
    public struct InterfaceAddress: Codable, Sendable, Equatable {
        public var interface: String
        public var address: String
        public init(interface: String, address: String) {
            self.interface = interface
            self.address = address
        }
    }

    /// One route of the main table: its destination and the protocol number that says who made it.
    public struct RouteFact: Codable, Sendable, Equatable {
        public var destination: String
        public var proto: UInt8
        public init(destination: String, proto: UInt8) {
            self.destination = destination
            self.proto = proto
        }
    }

    /// systemd-networkd: whether it runs here, and its configuration (`networkd.conf` and drop-ins, in
    /// the order systemd reads them).
    public struct NetworkdFacts: Codable, Sendable, Equatable {
        public var running: Bool
        public var configs: [TextFile]
        public init(running: Bool = false, configs: [TextFile] = []) {
            self.running = running
            self.configs = configs
        }
    }

    /// The agent as its state directory shows it.
    public struct AgentFacts: Codable, Sendable, Equatable {
        public var stateDir: String
        public var firewall: FirewallStatus?
        public var serviceProxy: ServiceProxyStatus?
        public var router: RouterStatus?
        /// The writers' pids (from the status files) that are running.
        public var runningPids: [Int32]
        /// Whether something answers on the control socket (the router serves it); nil when not tried.
        public var socketAnswers: Bool?

        public init(
            stateDir: String, firewall: FirewallStatus? = nil, serviceProxy: ServiceProxyStatus? = nil,
            router: RouterStatus? = nil, runningPids: [Int32] = [], socketAnswers: Bool? = nil
        ) {
            self.stateDir = stateDir
            self.firewall = firewall
            self.serviceProxy = serviceProxy
            self.router = router
            self.runningPids = runningPids
            self.socketAnswers = socketAnswers
        }
    }
}
