import KubeModel

/// Turns the policy semantics into the firewall of one node, for one address family. Pure.
///
/// Layout (names in `FirewallNames`):
/// - INPUT, FORWARD and OUTPUT jump to KUBE-ROUTER-INPUT/FORWARD/OUTPUT.
/// - Those jump, per local pod that is isolated, to its KUBE-POD-FW chain: `-d POD` for ingress
///   (FORWARD, OUTPUT), `-s POD` for egress (FORWARD, INPUT).
/// - A pod chain accepts established/related traffic, drops invalid traffic, accepts traffic from the
///   node itself (kubelet probes), then per isolated direction: clears the allow mark, jumps to each
///   isolating policy's KUBE-NWPLCY chain, and logs (NFLOG, rate limited) and rejects what no policy
///   marked. Allowed packets return to the built-in chain.
/// - With the engine's default deny, every local pod is isolated both ways, with or without policies.
/// - A policy chain marks the packet when one of its rules matches: peers as ipsets (pods: hash:ip;
///   each ipBlock its own hash:net, `except` as nomatch), ports as port matches or, for named ports,
///   a hash:ip,port set of the pods and numbers the name resolves to.
public struct FirewallPlanner: Sendable {
    public let engine: PolicyEngine

    public init(engine: PolicyEngine) { self.engine = engine }

    public func plan(node: String, family: IPAddress.Family) -> FirewallPlan {
        var builder = Builder(engine: engine, family: family)
        let localPods = engine.snapshot.pods.values
            .filter { $0.nodeName == node && $0.isPolicySubject && $0.ips.contains { $0.family == family } }
            .sorted { $0.key < $1.key }
        for pod in localPods { builder.addPod(pod) }
        return builder.finish()
    }

    private struct Builder {
        let engine: PolicyEngine
        let family: IPAddress.Family
        var input: [Rule] = []
        var forward: [Rule] = []
        var output: [Rule] = []
        var podChains: [FirewallPlan.Chain] = []
        var denials: [FirewallDenial] = []
        var policyChains: [String: FirewallPlan.Chain] = [:]
        var policyOrder: [String] = []
        var sets: [String: IPSetSpec] = [:]
        var recipes: [String: FirewallPlan.SetRecipe] = [:]
        /// How many rules use each set beyond the first (sets are shared by content, see `expand`).
        var extraUsers: [String: Int] = [:]
        /// The pods each peer-selector key selects.
        var peerPods: [String: [Pod]] = [:]
        /// Local pods selected by each (policy, direction), for named-port sets of ingress rules.
        var localTargets: [String: [Pod]] = [:]
        var plannedPolicies: [(NetworkPolicy, NetworkPolicy.Direction)] = []

        init(engine: PolicyEngine, family: IPAddress.Family) {
            self.engine = engine
            self.family = family
        }

        func host(_ ip: IPAddress) -> CIDR { CIDR(network: ip, prefixLength: ip.bitWidth) }

        mutating func addPod(_ pod: Pod) {
            guard let ip = pod.ips.first(where: { $0.family == family }) else { return }
            let ingress = engine.isolatingPolicies(of: pod, direction: .ingress)
            let egress = engine.isolatingPolicies(of: pod, direction: .egress)
            let isolatedIngress = !ingress.isEmpty || engine.defaultDeny
            let isolatedEgress = !egress.isEmpty || engine.defaultDeny
            guard isolatedIngress || isolatedEgress else { return }  // not isolated: nothing to enforce
            let chain = FirewallNames.podChain(pod.key)
            let me = host(ip)
            let comment = "pod \(pod.key)"
            var rules: [Rule] = [
                Rule(
                    chain: chain, conntrackStates: ["RELATED", "ESTABLISHED"], target: .accept,
                    comment: "\(comment): established"),
                Rule(chain: chain, conntrackStates: ["INVALID"], target: .drop, comment: "\(comment): invalid"),
            ]
            if isolatedIngress {
                rules.append(
                    Rule(
                        chain: chain, destination: me, sourceIsLocal: true, target: .accept,
                        comment: "\(comment): from its node (kubelet probes)"))
                rules += section(chain: chain, pod: pod, policies: ingress, direction: .ingress, destination: me)
                forward.append(
                    Rule(
                        chain: FirewallNames.forwardChain, destination: me, target: .jump(chain),
                        comment: "\(comment) ingress"))
                output.append(
                    Rule(
                        chain: FirewallNames.outputChain, destination: me, target: .jump(chain),
                        comment: "\(comment) ingress"))
            }
            if isolatedEgress {
                rules += section(chain: chain, pod: pod, policies: egress, direction: .egress, source: me)
                forward.append(
                    Rule(
                        chain: FirewallNames.forwardChain, source: me, target: .jump(chain),
                        comment: "\(comment) egress"))
                input.append(
                    Rule(
                        chain: FirewallNames.inputChain, source: me, target: .jump(chain), comment: "\(comment) egress")
                )
            }
            for policy in ingress { addPolicy(policy, .ingress, target: pod) }
            for policy in egress { addPolicy(policy, .egress, target: pod) }
            podChains.append(FirewallPlan.Chain(name: chain, rules: rules, subject: .pod(pod.key)))
        }

        mutating func section(
            chain: String, pod: Pod, policies: [NetworkPolicy], direction: NetworkPolicy.Direction,
            source: CIDR? = nil, destination: CIDR? = nil
        ) -> [Rule] {
            let mark = FirewallNames.allowMark
            let comment = "pod \(pod.key) \(direction.word)"
            var rules = [
                Rule(
                    chain: chain, source: source, destination: destination, target: .mark(value: 0, mask: mark),
                    comment: "\(comment): start unmarked")
            ]
            for policy in policies {
                rules.append(
                    Rule(
                        chain: chain, source: source, destination: destination,
                        target: .jump(FirewallNames.policyChain(policy.key, direction)),
                        comment: "\(comment): \(policy.key)"))
            }
            let prefix = FirewallNames.logPrefix(chain: chain, direction: direction)
            rules.append(
                Rule(
                    chain: chain, source: source, destination: destination, mark: (mark, mark, true),
                    limitPerMinute: 10, target: .nflog(group: FirewallNames.logGroup, prefix: prefix),
                    comment: "\(comment): log denied"))
            let reject = Rule(
                chain: chain, source: source, destination: destination, mark: (mark, mark, true),
                target: .reject,
                comment: "\(comment): denied by "
                    + (policies.isEmpty
                        ? "default (--netpol-default-deny)" : policies.map(\.key).joined(separator: ",")))
            rules.append(reject)
            denials.append(
                FirewallDenial(
                    chain: chain, pod: pod.key, direction: direction, policies: policies.map(\.key),
                    logPrefix: prefix, reject: reject))
            return rules
        }

        mutating func addPolicy(_ policy: NetworkPolicy, _ direction: NetworkPolicy.Direction, target: Pod) {
            let name = FirewallNames.policyChain(policy.key, direction)
            localTargets[name, default: []].append(target)
            if policyChains[name] == nil {
                policyChains[name] = FirewallPlan.Chain(name: name, rules: [], subject: .policy(policy.key, direction))
                policyOrder.append(name)
                plannedPolicies.append((policy, direction))
            }
        }

        /// Policy chains are built last: named-port sets of ingress rules list every local target pod.
        mutating func buildPolicyChains() {
            for (policy, direction) in plannedPolicies {
                let name = FirewallNames.policyChain(policy.key, direction)
                var rules: [Rule] = []
                for (index, rule) in policy.rules(direction).enumerated() {
                    rules += expand(rule, index: index, policy: policy, direction: direction, chain: name)
                }
                policyChains[name]?.rules = rules
            }
        }

        mutating func expand(
            _ rule: NetworkPolicy.Rule, index: Int, policy: NetworkPolicy,
            direction: NetworkPolicy.Direction, chain: String
        ) -> [Rule] {
            let comment = "\(policy.key) \(direction.word) rule \(index)"
            let peerFlag = direction == .ingress ? "src" : "dst"
            let identity = "\(policy.key)|\(direction.rawValue)|\(index)"
            let prefix = direction == .ingress ? "KUBE-SRC" : "KUBE-DST"
            // Peer sets are named by what they hold (the selectors, and the policy's namespace where a
            // selector is relative to it), so rules with the same peers share one set: fewer members
            // to keep in sync, and a name that does not change when unrelated policies come and go.
            let podPeers = rule.peers.filter { if case .pods = $0 { true } else { false } }
            let peersKey = peersKey(podPeers, policy: policy)
            var peers: [Rule.SetMatch?] = []
            if rule.peers.isEmpty {
                peers = [nil]
            } else {
                if !podPeers.isEmpty {
                    let set = FirewallNames.set(prefix, "pods|" + peersKey, family: family)
                    if isNew(set) {
                        sets[set] = IPSetSpec(
                            name: set, type: .hashIP, members: podAddresses(podPeers, key: peersKey, policy: policy),
                            comment: "\(comment) peer pods", family: family)
                        recipes[set] = .podPeers(podPeers, policy: policy)
                    }
                    peers.append(Rule.SetMatch(name: set, flags: [peerFlag]))
                }
                for (p, peer) in rule.peers.enumerated() {
                    guard case .ipBlock(let block) = peer, block.cidr.family == family else { continue }
                    let set = FirewallNames.set(prefix, "block|\(block)", family: family)
                    if isNew(set) {
                        sets[set] = IPSetSpec(
                            name: set, type: .hashNet,
                            members: [.net(block.cidr)] + block.except.map { .net($0, nomatch: true) },
                            comment: "\(comment) peer \(p) \(block)", family: family)
                    }
                    peers.append(Rule.SetMatch(name: set, flags: [peerFlag]))
                }
                // Peers exist but none can match in this family (e.g. only IPv6 blocks): the rule allows nothing here.
                if peers.isEmpty { return [] }
            }
            var ports: [(proto: PortProtocol?, range: ClosedRange<Int>?, named: Rule.SetMatch?)] = []
            if rule.ports.isEmpty {
                ports = [(nil, nil, nil)]
            } else {
                for (p, entry) in rule.ports.enumerated() {
                    switch entry.value {
                    case .any: ports.append((entry.proto, nil, nil))
                    case .number(let n): ports.append((entry.proto, n...n, nil))
                    case .range(let a, let b): ports.append((entry.proto, a...b, nil))
                    case .named(let portName):
                        // Ingress: the policy's local targets; egress: the peers' pods (shared by content).
                        let key =
                            direction == .ingress
                            ? identity + "|port\(p)" : "named|\(entry)|" + (rule.peers.isEmpty ? "all pods" : peersKey)
                        let set = FirewallNames.set("KUBE-DST", key, family: family)
                        if isNew(set) {
                            let destinations = namedPortDestinations(
                                rule, podPeers: podPeers, peersKey: peersKey, policy: policy,
                                direction: direction, chain: chain)
                            let members = destinations.flatMap { pod -> [IPSetMember] in
                                guard let ip = pod.ips.first(where: { $0.family == family }) else { return [] }
                                return pod.namedPorts(portName, proto: entry.proto).compactMap {
                                    UInt16(exactly: $0).map { .addressPort(ip, entry.proto, port: $0) }
                                }
                            }
                            // In the order of their text, as ever: the restore text stays the same.
                            sets[set] = IPSetSpec(
                                name: set, type: .hashIPPort,
                                members: Set(members).sorted { $0.restoreText < $1.restoreText },
                                comment: "\(comment) port \(p) \"\(portName)\"", family: family)
                            if direction == .egress {
                                recipes[set] = .namedPort(
                                    peers: rule.peers.isEmpty ? nil : podPeers, policy: policy, port: portName,
                                    proto: entry.proto)
                            }
                        }
                        ports.append((entry.proto, nil, Rule.SetMatch(name: set, flags: ["dst", "dst"])))
                    }
                }
            }
            var rules: [Rule] = []
            for peer in peers {
                for port in ports {
                    rules.append(
                        Rule(
                            chain: chain, proto: port.proto, destinationPorts: port.range,
                            sets: [peer, port.named].compactMap { $0 },
                            target: .mark(value: FirewallNames.allowMark, mask: FirewallNames.allowMark),
                            comment: comment))
                }
            }
            return rules
        }

        /// What a list of pod peers selects, as text: their selectors, plus the policy's namespace when
        /// a peer without a namespace selector makes it relative to that namespace.
        func peersKey(_ podPeers: [NetworkPolicy.Peer], policy: NetworkPolicy) -> String {
            let relative = podPeers.contains { if case .pods(_, nil) = $0 { true } else { false } }
            return podPeers.map(\.description).joined(separator: "; ") + (relative ? " @ \(policy.namespace)" : "")
        }

        /// The addresses of the pods the peers select, computed once per selector key.
        mutating func podAddresses(
            _ podPeers: [NetworkPolicy.Peer], key: String, policy: NetworkPolicy
        )
            -> [IPSetMember]
        {
            let ips = matchingPods(podPeers, key: key, policy: policy).compactMap {
                $0.ips.first { $0.family == family }
            }
            return Set(ips).sorted().map { .address($0) }
        }

        /// Endpoint pods (not host-network) matched by any of the pod peers, cluster-wide; computed once
        /// per selector key, as it is the costly part of planning.
        mutating func matchingPods(_ peers: [NetworkPolicy.Peer], key: String, policy: NetworkPolicy) -> [Pod] {
            if let cached = peerPods[key] { return cached }
            var seen = Set<String>()
            let pods = peers.flatMap { engine.pods(selectedBy: $0, in: policy) }.filter { pod in
                pod.ips.contains { $0.family == family } && seen.insert(pod.key).inserted
            }
            peerPods[key] = pods
            return pods
        }

        /// Where a named port is resolved: the local targets for ingress; for egress the pods the rule's
        /// pod peers select (every pod when it has no peers; ipBlock peers never match a named port).
        mutating func namedPortDestinations(
            _ rule: NetworkPolicy.Rule, podPeers: [NetworkPolicy.Peer], peersKey: String,
            policy: NetworkPolicy, direction: NetworkPolicy.Direction, chain: String
        ) -> [Pod] {
            if direction == .ingress { return localTargets[chain] ?? [] }
            if rule.peers.isEmpty { return engine.snapshot.pods.values.filter { $0.isPolicySubject } }
            return podPeers.isEmpty ? [] : matchingPods(podPeers, key: peersKey, policy: policy)
        }

        /// True the first time a set is named; later rules share it (counted for its comment).
        mutating func isNew(_ name: String) -> Bool {
            guard sets[name] != nil else { return true }
            extraUsers[name, default: 0] += 1
            return false
        }

        mutating func finish() -> FirewallPlan {
            buildPolicyChains()
            for (name, count) in extraUsers {
                sets[name]?.comment += " (and \(count) other rule\(count == 1 ? "" : "s"))"
            }
            let top = [
                FirewallPlan.Chain(name: FirewallNames.inputChain, rules: input),
                FirewallPlan.Chain(name: FirewallNames.forwardChain, rules: forward),
                FirewallPlan.Chain(name: FirewallNames.outputChain, rules: output),
            ]
            let hooks = [
                ("INPUT", FirewallNames.inputChain), ("FORWARD", FirewallNames.forwardChain),
                ("OUTPUT", FirewallNames.outputChain),
            ]
            .map { Rule(chain: $0.0, target: .jump($0.1), comment: "kube-router netpol") }
            return FirewallPlan(
                family: family, sets: sets.values.sorted { $0.name < $1.name },
                chains: top + podChains + policyOrder.compactMap { policyChains[$0] }, hooks: hooks,
                denials: denials, setRecipes: recipes)
        }
    }
}
