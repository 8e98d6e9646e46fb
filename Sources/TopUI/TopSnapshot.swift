import Foundation
import Planning

/// One tick of `krctl top`: what the collectors read from the node, as values (`-o json`, `--record`,
/// `--replay`). Counters are the kernel's; the rates beside them come from `rated(since:)`, the counters'
/// growth over the real time between two snapshots. Versioned: `apiVersion` krctl/v1, `kind` TopSnapshot.
public struct TopSnapshot: Codable, Sendable, Equatable {
    public static let apiVersion = "krctl/v1"
    public static let kind = "TopSnapshot"

    public var apiVersion = TopSnapshot.apiVersion
    public var kind = TopSnapshot.kind
    public var time: Date
    public var node: String
    /// Seconds between collections.
    public var interval: Double
    /// Seconds since the snapshot before (the rates' window); nil for the first.
    public var elapsed: Double?
    public var agent: Agent?
    public var controllers: [Controller]
    public var services: [Service]
    public var pods: [PodDirection]
    /// The latest attributed NFLOG samples, newest last (bounded); alike ones are one with their count.
    public var drops: [Drop]
    /// For those drops' flows (by `Drop.flowKey`), the smallest NetworkPolicy that would allow each, as YAML.
    public var suggestions: [String: String]?
    public var peers: [Peer]
    public var routes: [Route]
    public var conntrack: Conntrack?
    public var findings: [Finding]
    /// What could not be read, or is not there on this node (IPVS on a kernel without it).
    public var sources: [Source]
    /// The agent's API watches by resource, from its metrics (absent without them).
    public var watches: [Watch]?
    /// What reading each source cost krctl this tick, in milliseconds of CPU time (absent in recordings of
    /// older krctl): `krctl top`'s own cost, shown on the Health pane.
    public var collection: [String: Double]?
    /// When `pods`' firewall counters were read (absent: at `time`). At scale the firewall is read less often
    /// than every tick, to keep krctl top within its CPU budget: then this is an earlier tick's time and the
    /// pods keep that read's rates.
    public var countersRead: Date?
    /// Seconds between reads of the firewall's counters, when longer than the interval (the budget's doing).
    public var countersEvery: Double?

    public init(
        time: Date, node: String, interval: Double, elapsed: Double? = nil, agent: Agent? = nil,
        controllers: [Controller] = [], services: [Service] = [], pods: [PodDirection] = [], drops: [Drop] = [],
        peers: [Peer] = [], routes: [Route] = [], conntrack: Conntrack? = nil, findings: [Finding] = [],
        sources: [Source] = []
    ) {
        self.time = time
        self.node = node
        self.interval = interval
        self.elapsed = elapsed
        self.agent = agent
        self.controllers = controllers
        self.services = services
        self.pods = pods
        self.drops = drops
        self.peers = peers
        self.routes = routes
        self.conntrack = conntrack
        self.findings = findings
        self.sources = sources
    }

    /// One of the agent's informers: whether its first list is in, the watch events and the relists so far
    /// (`kube_router_informer_synced`, `kube_router_watch_events_total`, `kube_router_relists_total`).
    public struct Watch: Codable, Sendable, Equatable {
        public var resource: String
        public var synced = false
        public var events = 0.0
        public var relists = 0.0
        /// Why the relists happened (e.g. `expired`), as the metric's reason label says.
        public var relistReasons: [String] = []
        /// Watch events per second since the snapshot before.
        public var eventsPerSecond: Double?

        public init(resource: String, synced: Bool = false, events: Double = 0, relists: Double = 0) {
            self.resource = resource
            self.synced = synced
            self.events = events
            self.relists = relists
        }
    }

    /// The agent's probes, as its health endpoint answers them.
    public struct Agent: Codable, Sendable, Equatable {
        public var ready: Bool?
        public var live: Bool?
        /// Failed checks: `name: message`.
        public var reasons: [String]
        public init(ready: Bool?, live: Bool?, reasons: [String] = []) {
            self.ready = ready
            self.live = live
            self.reasons = reasons
        }
    }

    /// One controller's syncs, from its status file.
    public struct Controller: Codable, Sendable, Equatable {
        public var name: String
        public var syncs: Int
        public var lastSync: Date?
        public var lastSyncFull: Bool?
        /// Seconds the last sync took, and the median and 99th percentile (from the metrics), when known.
        public var duration: Double?
        public var p50: Double?
        public var p99: Double?
        public var errors: Int
        public var problems: [String]
        public var pid: Int32?
        public init(
            name: String, syncs: Int, lastSync: Date?, lastSyncFull: Bool? = nil, duration: Double? = nil,
            p50: Double? = nil, p99: Double? = nil, errors: Int = 0, problems: [String] = [], pid: Int32? = nil
        ) {
            self.name = name
            self.syncs = syncs
            self.lastSync = lastSync
            self.lastSyncFull = lastSyncFull
            self.duration = duration
            self.p50 = p50
            self.p99 = p99
            self.errors = errors
            self.problems = problems
            self.pid = pid
        }
    }

    /// Packet and connection counters (64-bit, from the kernel) or their rates per second.
    public struct Counters: Codable, Sendable, Equatable {
        public var connections: Double
        public var packetsIn: Double
        public var packetsOut: Double
        public var bytesIn: Double
        public var bytesOut: Double
        public init(
            connections: Double = 0, packetsIn: Double = 0, packetsOut: Double = 0, bytesIn: Double = 0,
            bytesOut: Double = 0
        ) {
            self.connections = connections
            self.packetsIn = packetsIn
            self.packetsOut = packetsOut
            self.bytesIn = bytesIn
            self.bytesOut = bytesOut
        }
    }

    /// A real server of a virtual service.
    public struct Server: Codable, Sendable, Equatable {
        public var address: String
        public var pod: String?
        public var node: String?
        public var weight: Int
        public var active: Int
        public var inactive: Int
        public var counters: Counters
        public var rates: Counters?
        public init(
            address: String, pod: String? = nil, node: String? = nil, weight: Int, active: Int, inactive: Int,
            counters: Counters, rates: Counters? = nil
        ) {
            self.address = address
            self.pod = pod
            self.node = node
            self.weight = weight
            self.active = active
            self.inactive = inactive
            self.counters = counters
            self.rates = rates
        }
    }

    /// One IPVS virtual service, named by the Service the agent made it from.
    public struct Service: Codable, Sendable, Equatable {
        public enum State: String, Codable, Sendable { case ok = "OK", noEndpoints = "NO-ENDPOINTS", drift = "DRIFT" }
        /// The virtual service's identity: `TCP 10.96.0.10:53`.
        public var key: String
        /// `namespace/name:port/proto`, or nil when the agent does not own it.
        public var name: String?
        public var type: String?
        public var scheduler: String
        public var persistenceSeconds: Int?
        /// `local` (traffic policy Local), `hairpin`, `persistent`.
        public var flags: [String]
        public var state: State
        public var counters: Counters
        public var rates: Counters?
        public var servers: [Server]
        public init(
            key: String, name: String?, type: String?, scheduler: String, persistenceSeconds: Int? = nil,
            flags: [String] = [], state: State, counters: Counters, rates: Counters? = nil, servers: [Server]
        ) {
            self.key = key
            self.name = name
            self.type = type
            self.scheduler = scheduler
            self.persistenceSeconds = persistenceSeconds
            self.flags = flags
            self.state = state
            self.counters = counters
            self.rates = rates
            self.servers = servers
        }
        public var ready: Int { servers.reduce(0) { $0 + ($1.weight > 0 ? 1 : 0) } }
        public var active: Int { servers.reduce(0) { $0 + $1.active } }
        public var inactive: Int { servers.reduce(0) { $0 + $1.inactive } }
    }

    /// One local pod's direction of the firewall: its REJECT rule's counter and what isolates it.
    public struct PodDirection: Codable, Sendable, Equatable {
        public var pod: String
        public var direction: String
        public var family: String
        public var chain: String
        /// Isolating policies, `namespace/name`; empty under default deny.
        public var policies: [String]
        /// Packets refused since the rule was created; nil when the kernel lacks the planned rule (drift).
        public var refused: UInt64?
        public var refusedPerSecond: Double?
        /// Packets the chain accepted (its ACCEPT rules' counters), and their rate.
        public var allowed: UInt64?
        public var allowedPerSecond: Double?
        public var lastDrop: Date?
        /// Rules of the chain with their comments and counters (the drill-in).
        public var rules: [Rule]
        public init(
            pod: String, direction: String, family: String, chain: String, policies: [String], refused: UInt64?,
            refusedPerSecond: Double? = nil, allowed: UInt64? = nil, allowedPerSecond: Double? = nil,
            lastDrop: Date? = nil, rules: [Rule] = []
        ) {
            self.pod = pod
            self.direction = direction
            self.family = family
            self.chain = chain
            self.policies = policies
            self.refused = refused
            self.refusedPerSecond = refusedPerSecond
            self.allowed = allowed
            self.allowedPerSecond = allowedPerSecond
            self.lastDrop = lastDrop
            self.rules = rules
        }
        public var id: String { "\(pod)|\(direction)|\(family)" }
        /// `id` as a value (no string built): to match thousands of rows between ticks.
        public var key: Key { Key(pod: pod, direction: direction, family: family) }
        public struct Key: Hashable, Sendable {
            public var pod: String
            public var direction: String
            public var family: String
        }
    }

    /// A rule of a pod chain: its text, comment and hits.
    public struct Rule: Codable, Sendable, Equatable {
        public var text: String
        public var packets: UInt64
        public var perSecond: Double?
        public init(text: String, packets: UInt64, perSecond: Double? = nil) {
            self.text = text
            self.packets = packets
            self.perSecond = perSecond
        }
    }

    /// A BGP peer, as the agent's speaker reports it.
    public struct Peer: Codable, Sendable, Equatable {
        public var address: String
        public var asn: UInt32
        /// iBGP or eBGP.
        public var type: String
        public var state: String
        public var since: String?
        public var received: Int
        public var accepted: Int
        public var advertised: Int
        public var flaps: Int
        public var lastError: String?
        public init(
            address: String, asn: UInt32, type: String, state: String, since: String?, received: Int, accepted: Int,
            advertised: Int, flaps: Int, lastError: String?
        ) {
            self.address = address
            self.asn = asn
            self.type = type
            self.state = state
            self.since = since
            self.received = received
            self.accepted = accepted
            self.advertised = advertised
            self.flaps = flaps
            self.lastError = lastError
        }
    }

    /// A best path beside the kernel's route.
    public struct Route: Codable, Sendable, Equatable {
        public var prefix: String
        public var nextHop: String?
        public var peer: String?
        public var inKernel: Bool
        public var status: String
        public init(prefix: String, nextHop: String?, peer: String?, inKernel: Bool, status: String) {
            self.prefix = prefix
            self.nextHop = nextHop
            self.peer = peer
            self.inKernel = inKernel
            self.status = status
        }
    }

    /// The conntrack table's use and its own drops (counters; rates from `rated`).
    public struct Conntrack: Codable, Sendable, Equatable {
        public var count: Int?
        public var max: Int?
        public var insertFailed: UInt64
        public var invalid: UInt64
        public var insertFailedPerSecond: Double?
        public var invalidPerSecond: Double?
        public init(
            count: Int?, max: Int?, insertFailed: UInt64, invalid: UInt64, insertFailedPerSecond: Double? = nil,
            invalidPerSecond: Double? = nil
        ) {
            self.count = count
            self.max = max
            self.insertFailed = insertFailed
            self.invalid = invalid
            self.insertFailedPerSecond = insertFailedPerSecond
            self.invalidPerSecond = invalidPerSecond
        }
    }

    /// A node check (krctl doctor's) that is not OK.
    public struct Finding: Codable, Sendable, Equatable {
        public var id: String
        public var status: String
        public var message: String
        public init(id: String, status: String, message: String) {
            self.id = id
            self.status = status
            self.message = message
        }
    }

    /// A source of the snapshot that could not be read (`unreachable`: exit status 2 in batch mode), or that
    /// this node does not have (`unavailable`: said on its pane, not an error).
    public struct Source: Codable, Sendable, Equatable {
        public enum State: String, Codable, Sendable { case unreachable, unavailable }
        public var name: String
        public var state: State
        public var message: String
        public init(name: String, state: State, message: String) {
            self.name = name
            self.state = state
            self.message = message
        }
    }

    public func source(_ name: String) -> Source? { sources.first { $0.name == name } }

    /// Refused packets per second over all local pods (the REJECT counters' rate).
    public var dropsPerSecond: Double? {
        let rates = pods.compactMap(\.refusedPerSecond)
        return rates.isEmpty && elapsed == nil ? nil : rates.reduce(0, +)
    }

    public var peersEstablished: Int { peers.filter { $0.state == "Established" }.count }
}
