import KubeModel

/// The firewall a node must hold, as plain values: the ipsets and the iptables chains and rules of
/// the filter table that kube-router owns. Produced by `FirewallPlanner` (pure); applied by the
/// executors (libipset, libiptc) and read back by the same types for drift checks.
public struct FirewallPlan: Sendable, Equatable {
    public var family: IPAddress.Family
    /// Sets in name order.
    public var sets: [IPSetSpec]
    /// Our chains in creation order, each with its rules in order.
    public var chains: [Chain]
    /// Jumps from the built-in chains into ours (inserted first in INPUT, FORWARD, OUTPUT).
    public var hooks: [Rule]
    /// Per pod chain and isolated direction: its log prefix and REJECT rule (what a drop is attributed by).
    public var denials: [FirewallDenial] = []
    /// What the members of the sets that follow pods were computed from (by set name), so that an event that
    /// only moves pods in or out of them is applied to the sets alone (`FirewallIncremental`).
    public var setRecipes: [String: SetRecipe] = [:]

    /// How a set's members follow the cluster's pods.
    public enum SetRecipe: Sendable, Equatable {
        /// hash:ip: the first address of the family of every pod one of the peers selects.
        case podPeers([NetworkPolicy.Peer], policy: NetworkPolicy)
        /// hash:ip,port: the numbers `port` resolves to on the pods the peers select (every policy subject
        /// when nil), with their first address of the family (an egress rule's named port).
        case namedPort(peers: [NetworkPolicy.Peer]?, policy: NetworkPolicy, port: String, proto: PortProtocol)
    }

    public struct Chain: Sendable, Equatable {
        public var name: String
        public var rules: [Rule]
        /// What the chain stands for, so that nothing is parsed back from its rules' comments.
        public var subject: ChainSubject = .other

        public init(name: String, rules: [Rule], subject: ChainSubject = .other) {
            self.name = name
            self.rules = rules
            self.subject = subject
        }
    }

    /// What one of our chains stands for.
    public enum ChainSubject: Sendable, Equatable, CustomStringConvertible {
        /// A pod's chain (`KUBE-POD-FW-*`): `namespace/name`.
        case pod(String)
        /// A policy's chain for one direction (`KUBE-NWPLCY-*`): `namespace/name`.
        case policy(String, NetworkPolicy.Direction)
        /// A top-level chain the built-in chains jump to, or another of ours.
        case other

        public var description: String {
            switch self {
            case .pod(let key): "pod \(key)"
            case .policy(let key, let direction): "\(key) \(direction.word)"
            case .other: ""
            }
        }
    }

    public func chain(_ name: String) -> Chain? { chains.first { $0.name == name } }

    /// The denial whose NFLOG rule logs with `prefix`; nil for another logger's prefix or another plan's.
    public func denial(logPrefix prefix: String) -> FirewallDenial? { denials.first { $0.logPrefix == prefix } }
}

/// One ipset: `hash:ip` (pod addresses), `hash:net` (ipBlocks; `except` entries are `nomatch`), or
/// `hash:ip,port` (named ports resolved on pods).
public struct IPSetSpec: Sendable, Equatable {
    public enum SetType: String, Sendable { case hashIP = "hash:ip", hashNet = "hash:net", hashIPPort = "hash:ip,port" }

    public var name: String
    public var type: SetType
    /// The members, in the order they are added: `.address` for hash:ip, `.net` for hash:net,
    /// `.addressPort` for hash:ip,port.
    public var members: [IPSetMember]
    /// What the set stands for: `shop/api ingress rule 0 peers`.
    public var comment: String
    /// `family inet` or `inet6` in the kernel.
    public var family: IPAddress.Family = .ipv4

    public init(
        name: String, type: SetType, members: [IPSetMember], comment: String, family: IPAddress.Family = .ipv4
    ) {
        self.name = name
        self.type = type
        self.members = members
        self.comment = comment
        self.family = family
    }
}

/// One iptables rule, structured so that planning, rendering, executing and reading back share it.
public struct Rule: Sendable, Equatable {
    public enum Target: Sendable, Equatable {
        case jump(String)
        case accept, drop, `return`
        /// REJECT (icmp-port-unreachable / icmp6-port-unreachable).
        case reject
        /// NFLOG to a netlink group, rate limited by the rule's `limit`.
        case nflog(group: Int, prefix: String)
        /// MARK --set-xmark value/mask.
        case mark(value: UInt32, mask: UInt32)
        /// MASQUERADE (nat table): the source becomes the outgoing interface's address.
        case masquerade
    }

    /// A set match: `-m set --match-set NAME src|dst[,dst]`.
    public struct SetMatch: Sendable, Equatable {
        public var name: String
        /// One direction flag per dimension of the set: ["src"], ["dst"], ["dst", "dst"].
        public var flags: [String]
        public var negated = false

        public init(name: String, flags: [String], negated: Bool = false) {
            self.name = name
            self.flags = flags
            self.negated = negated
        }
    }

    public var chain: String
    public var source: CIDR?
    public var destination: CIDR?
    public var proto: PortProtocol?
    /// Destination port range (inclusive); needs `proto`.
    public var destinationPorts: ClosedRange<Int>?
    public var sets: [SetMatch] = []
    /// `-m conntrack --ctstate ...`.
    public var conntrackStates: [String] = []
    /// `-m addrtype --src-type LOCAL`.
    public var sourceIsLocal = false
    /// `-m mark [!] --mark value/mask`.
    public var mark: (value: UInt32, mask: UInt32, negated: Bool)?
    /// `-m limit --limit N/minute --limit-burst B`, for logging.
    public var limitPerMinute: Int?
    /// `-m ipvs --ipvs --vdir ORIGINAL --vmethod MASQ`: a packet IPVS forwards in NAT mode, client to server.
    public var ipvsMasquerade = false
    public var target: Target
    /// `-m comment --comment`: the pod, or `namespace/policy` and rule index, this rule is for.
    public var comment: String

    public init(
        chain: String, source: CIDR? = nil, destination: CIDR? = nil, proto: PortProtocol? = nil,
        destinationPorts: ClosedRange<Int>? = nil, sets: [SetMatch] = [], conntrackStates: [String] = [],
        sourceIsLocal: Bool = false, mark: (value: UInt32, mask: UInt32, negated: Bool)? = nil,
        limitPerMinute: Int? = nil, target: Target, comment: String
    ) {
        self.chain = chain
        self.source = source
        self.destination = destination
        self.proto = proto
        self.destinationPorts = destinationPorts
        self.sets = sets
        self.conntrackStates = conntrackStates
        self.sourceIsLocal = sourceIsLocal
        self.mark = mark
        self.limitPerMinute = limitPerMinute
        self.target = target
        self.comment = Self.fitted(comment)
    }

    /// The kernel keeps 255 bytes of a comment (XT_MAX_COMMENT_LEN): cut here, on a character
    /// boundary, so that the planned rule equals the one read back.
    public static func fitted(_ comment: String) -> String {
        guard comment.utf8.count > 255 else { return comment }
        var cut = ""
        for character in comment {
            guard cut.utf8.count + character.utf8.count <= 254 else { break }
            cut.append(character)
        }
        return cut + "~"  // marks the cut
    }

    public static func == (a: Rule, b: Rule) -> Bool {
        a.chain == b.chain && a.source == b.source && a.destination == b.destination && a.proto == b.proto
            && a.destinationPorts == b.destinationPorts && a.sets == b.sets && a.conntrackStates == b.conntrackStates
            && a.sourceIsLocal == b.sourceIsLocal && a.mark?.value == b.mark?.value && a.mark?.mask == b.mark?.mask
            && a.mark?.negated == b.mark?.negated && a.limitPerMinute == b.limitPerMinute && a.target == b.target
            && a.ipvsMasquerade == b.ipvsMasquerade
            && a.comment == b.comment
    }
}
