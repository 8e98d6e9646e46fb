import KubeModel

/// Follows one packet through a firewall's chains and sets, the way the kernel would: the planned
/// ruleset (to check the planner) and, with the kernel readers, the live one (krctl's kernel verdict).
public struct FirewallWalk: Sendable {
    public struct Packet: Sendable {
        public var source: IPAddress
        public var destination: IPAddress
        public var proto: PortProtocol
        public var port: Int
        /// True when the source is an address of this node (addrtype LOCAL).
        public var sourceIsLocal: Bool
        /// Conntrack state; a new connection is what policies decide on.
        public var state: String

        public init(
            source: IPAddress, destination: IPAddress, proto: PortProtocol, port: Int,
            sourceIsLocal: Bool = false, state: String = "NEW"
        ) {
            self.source = source
            self.destination = destination
            self.proto = proto
            self.port = port
            self.sourceIsLocal = sourceIsLocal
            self.state = state
        }
    }

    public enum Verdict: String, Sendable { case accept, drop, reject }

    /// One rule that matched on the way, with the chain it is in and its position (0-based).
    public struct Step: Sendable, Equatable {
        public var chain: String
        public var index: Int
        public var comment: String
        public var target: String
    }

    /// One set lookup: the entry the packet presents (`10.0.0.1` or `10.0.0.1,tcp:8080`) and whether
    /// the set holds it.
    public struct SetLookup: Sendable, Equatable, Encodable {
        public var set: String
        public var entry: String
        public var matched: Bool
    }

    public struct Result: Sendable {
        public var verdict: Verdict
        public var steps: [Step]
        /// Set lookups made, in order.
        public var setLookups: [SetLookup]
        /// The rule that decided, when one did (nil: fell off the built-in chain, policy ACCEPT).
        public var decidingStep: Step? { steps.last { ["ACCEPT", "DROP", "REJECT"].contains($0.target) } }
    }

    public let chains: [String: [Rule]]
    public let hooks: [Rule]
    public let sets: [String: IPSetSpec]

    public init(chains: [String: [Rule]], hooks: [Rule], sets: [IPSetSpec]) {
        self.chains = chains
        self.hooks = hooks
        self.sets = Dictionary(sets.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// The firewall as planned.
    public init(plan: FirewallPlan) {
        self.init(
            chains: Dictionary(plan.chains.map { ($0.name, $0.rules) }, uniquingKeysWith: { first, _ in first }),
            hooks: plan.hooks, sets: plan.sets)
    }

    /// The firewall as the kernel holds it.
    public init(observed: ObservedFirewall) {
        self.init(chains: observed.chains, hooks: observed.hooks, sets: observed.sets)
    }

    /// Walks `builtin` (INPUT, FORWARD or OUTPUT) for the packet. A packet that no rule of ours decides
    /// returns to the built-in chain, whose policy is taken to be ACCEPT.
    public func walk(_ packet: Packet, builtin: String) -> Result {
        var result = Result(verdict: .accept, steps: [], setLookups: [])
        var mark: UInt32 = 0
        let entry = hooks.filter { $0.chain == builtin }
        if let verdict = run(entry, chainName: builtin, packet, &mark, &result, depth: 0) { result.verdict = verdict }
        return result
    }

    private func run(
        _ rules: [Rule], chainName: String, _ packet: Packet, _ mark: inout UInt32, _ result: inout Result,
        depth: Int
    ) -> Verdict? {
        guard depth < 32 else { return .drop }  // the kernel refuses loops; never expected here
        for (index, rule) in rules.enumerated() {
            guard matches(rule, packet, mark, &result) else { continue }
            let step = { (target: String) in Step(chain: chainName, index: index, comment: rule.comment, target: target)
            }
            switch rule.target {
            case .accept:
                result.steps.append(step("ACCEPT"))
                return .accept
            case .drop:
                result.steps.append(step("DROP"))
                return .drop
            case .reject:
                result.steps.append(step("REJECT"))
                return .reject
            case .return:
                result.steps.append(step("RETURN"))
                return nil
            case .nflog: result.steps.append(step("NFLOG"))
            case .masquerade: result.steps.append(step("MASQUERADE"))
            case .mark(let value, let maskBits):
                mark = (mark & ~maskBits) ^ value
                result.steps.append(step("MARK"))
            case .jump(let target):
                result.steps.append(step(target))
                if let verdict = run(chains[target] ?? [], chainName: target, packet, &mark, &result, depth: depth + 1)
                {
                    return verdict
                }
            }
        }
        return nil
    }

    private func matches(_ rule: Rule, _ packet: Packet, _ mark: UInt32, _ result: inout Result) -> Bool {
        if let source = rule.source, !source.contains(packet.source) { return false }
        if let destination = rule.destination, !destination.contains(packet.destination) { return false }
        if let proto = rule.proto, proto != packet.proto { return false }
        if let ports = rule.destinationPorts, !ports.contains(packet.port) { return false }
        if !rule.conntrackStates.isEmpty, !rule.conntrackStates.contains(packet.state) { return false }
        if rule.sourceIsLocal && !packet.sourceIsLocal { return false }
        if let m = rule.mark, ((mark & m.mask) == m.value) == m.negated { return false }
        for setMatch in rule.sets {
            let hit = lookup(setMatch, packet)
            result.setLookups.append(SetLookup(set: setMatch.name, entry: Self.entry(setMatch, packet), matched: hit))
            if hit == setMatch.negated { return false }
        }
        return true
    }

    /// What a set match looks up for the packet, written as the set's members are.
    static func entry(_ match: Rule.SetMatch, _ packet: Packet) -> String {
        key(match, packet)?.restoreText ?? "port \(packet.port) (out of range)"
    }

    /// The member a set match looks the packet up as: its address, or its address, protocol and port
    /// for a two-dimensional match; nil for a port no set can hold.
    static func key(_ match: Rule.SetMatch, _ packet: Packet) -> IPSetMember? {
        let address = match.flags.first == "src" ? packet.source : packet.destination
        guard match.flags.count > 1 else { return .address(address) }
        return UInt16(exactly: packet.port).map { .addressPort(address, packet.proto, port: $0) }
    }

    /// Set semantics of the kernel: hash:ip exact, hash:net most specific prefix (nomatch excludes),
    /// hash:ip,port exact on address, protocol and port. A member of another kind than the set's
    /// (or one the reader could not parse) matches nothing.
    func lookup(_ match: Rule.SetMatch, _ packet: Packet) -> Bool {
        guard let set = sets[match.name] else { return false }
        let address = match.flags.first == "src" ? packet.source : packet.destination
        switch set.type {
        case .hashIP:
            return set.members.contains(.address(address))
        case .hashNet:
            var best: (length: Int, nomatch: Bool)?
            for case .net(let cidr, let nomatch) in set.members where cidr.contains(address) {
                if best == nil || cidr.prefixLength > best!.length { best = (cidr.prefixLength, nomatch) }
            }
            return best.map { !$0.nomatch } ?? false
        case .hashIPPort:
            guard let port = UInt16(exactly: packet.port) else { return false }
            return set.members.contains(.addressPort(address, packet.proto, port: port))
        }
    }
}
