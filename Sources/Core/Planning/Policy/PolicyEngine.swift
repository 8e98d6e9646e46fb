import KubeModel

/// The NetworkPolicy semantics of `networking.k8s.io/v1`, as pure code over a snapshot.
///
/// The same engine answers `krctl explain-policy` and (in the agent) decides what the firewall must
/// enforce, so the explanation and the enforcement cannot disagree by construction.
///
/// Semantics, in brief:
/// - A pod is isolated for a direction when a policy in its namespace selects it and lists that
///   direction in `policyTypes` (defaulted: Ingress always, Egress when egress rules exist).
///   A non-isolated direction allows everything.
/// - An isolated direction allows what at least one rule of one selecting policy allows (union).
/// - A rule matches when one of its peers (all when none) and one of its ports (all when none) match.
/// - Pod-to-pod traffic must be allowed by the source's egress and the destination's ingress.
/// - `ipBlock` matches by address, pods included (as kube-router does).
/// - Host-network pods are not subject to policy; as peers they match only by address (ipBlock).
/// - Traffic from a pod's own node (kubelet probes) is always allowed into it (kube-router's rule).
/// - A pod's traffic to itself never leaves its network namespace: always allowed.
/// - With `defaultDeny` (the agent's `--netpol-default-deny`), every pod is isolated for both
///   directions, policies or not: only what a policy allows passes (own node and loopback still do).
public struct PolicyEngine: Sendable {
    public let snapshot: ClusterSnapshot
    public let defaultDeny: Bool
    private let policiesByNamespace: [String: [NetworkPolicy]]
    private let podsByIP: [IPAddress: Pod]
    /// Pods subject to policy, per namespace: selecting peers namespace first is what keeps planning fast.
    private let subjectsByNamespace: [String: [Pod]]
    private let nodesByIP: [IPAddress: String]

    public init(_ snapshot: ClusterSnapshot, defaultDeny: Bool = false) {
        self.snapshot = snapshot
        self.defaultDeny = defaultDeny
        var byNamespace: [String: [NetworkPolicy]] = [:]
        for policy in snapshot.networkPolicies.values { byNamespace[policy.namespace, default: []].append(policy) }
        for key in byNamespace.keys { byNamespace[key]!.sort { $0.name < $1.name } }
        policiesByNamespace = byNamespace
        var byIP: [IPAddress: Pod] = [:]
        // Host-network pods share their node's address; the node, not the pod, owns that IP.
        for pod in snapshot.pods.values where pod.isEndpoint && !pod.hostNetwork {
            for ip in pod.ips { byIP[ip] = pod }
        }
        podsByIP = byIP
        subjectsByNamespace = Dictionary(grouping: snapshot.pods.values.filter(\.isPolicySubject), by: \.namespace)
        var nodes: [IPAddress: String] = [:]
        for node in snapshot.nodes.values {
            for ip in node.internalIPs { nodes[ip] = node.name }
        }
        nodesByIP = nodes
    }

    // MARK: - Resolving endpoints

    /// Resolves an operator's reference to a pod, node or external address.
    public func resolve(_ reference: EndpointReference) throws -> [TrafficEndpoint] {
        switch reference {
        case .ip(let ip):
            if let pod = podsByIP[ip] { return [TrafficEndpoint(kind: .pod(pod), ip: ip)] }
            if let node = nodesByIP[ip] { return [TrafficEndpoint(kind: .node(node), ip: ip)] }
            return [TrafficEndpoint(kind: .external, ip: ip)]
        case .pod(let namespace, let name):
            guard let pod = snapshot.pods["\(namespace)/\(name)"] else {
                let known = snapshot.pods.keys.filter { $0.hasPrefix("\(namespace)/") }.count
                throw QueryError("pod \(namespace)/\(name) not found (\(known) pods in namespace \(namespace))")
            }
            guard !pod.ips.isEmpty else {
                throw QueryError(
                    "pod \(pod.key) has no IP address yet (phase \(pod.phase.rawValue)): it is not a network endpoint")
            }
            guard pod.isEndpoint else {
                throw QueryError(
                    "pod \(pod.key) has finished (phase \(pod.phase.rawValue)): it is not a network endpoint")
            }
            return pod.ips.map { TrafficEndpoint(kind: .pod(pod), ip: $0) }
        }
    }

    /// Picks one address for each end in a common family (the destination's order wins).
    public func pair(from: [TrafficEndpoint], to: [TrafficEndpoint]) throws -> (TrafficEndpoint, TrafficEndpoint) {
        for dst in to {
            if let src = from.first(where: { $0.ip.family == dst.ip.family }) { return (src, dst) }
        }
        throw QueryError(
            "\(from.first?.description ?? "source") and \(to.first?.description ?? "destination") "
                + "have no IP family in common"
        )
    }

    /// Resolves a named query port on the destination pod.
    public func resolvePort(_ query: PortQuery, on destination: TrafficEndpoint) throws -> Int {
        switch query.value {
        case .number(let n): return n
        case .named(let name):
            guard let pod = destination.pod else {
                throw QueryError(
                    "port \"\(name)\" is a name, but the destination \(destination.ip) is not a pod: give a number")
            }
            guard let number = pod.namedPorts(name, proto: query.proto).first else {
                let declared = pod.ports.filter { !$0.name.isEmpty }.map {
                    "\($0.name)=\($0.port)/\($0.proto.rawValue)"
                }
                throw QueryError(
                    "pod \(pod.key) has no container port named \"\(name)\" for \(query.proto.rawValue)"
                        + (declared.isEmpty
                            ? " (it declares no named ports)" : " (it declares \(declared.joined(separator: ", ")))"))
            }
            return number
        }
    }

    // MARK: - Verdicts

    /// The policies in the pod's namespace that select it for `direction`.
    public func isolatingPolicies(of pod: Pod, direction: NetworkPolicy.Direction) -> [NetworkPolicy] {
        guard pod.isPolicySubject else { return [] }
        return (policiesByNamespace[pod.namespace] ?? []).filter {
            $0.policyTypes.contains(direction) && $0.podSelector.matches(pod.labels)
        }
    }

    /// True when only what policies allow passes in `direction` (a policy selects the pod, or default deny).
    public func isIsolated(_ pod: Pod, direction: NetworkPolicy.Direction) -> Bool {
        pod.isPolicySubject && (defaultDeny || !isolatingPolicies(of: pod, direction: direction).isEmpty)
    }

    /// The verdict alone, for matrices and the firewall: no explanation is built.
    public func allows(
        from source: TrafficEndpoint, to destination: TrafficEndpoint, port: Int, proto: PortProtocol
    ) -> Bool {
        if isLoopback(source, destination) { return true }
        return sideAllows(
            .egress, subject: source, peer: destination, destination: destination, port: port, proto: proto)
            && sideAllows(
                .ingress, subject: destination, peer: source, destination: destination, port: port, proto: proto)
    }

    private func sideAllows(
        _ direction: NetworkPolicy.Direction, subject: TrafficEndpoint, peer: TrafficEndpoint,
        destination: TrafficEndpoint, port: Int, proto: PortProtocol
    ) -> Bool {
        guard let pod = subject.pod, pod.isPolicySubject else { return true }
        let policies = isolatingPolicies(of: pod, direction: direction)
        if policies.isEmpty && !defaultDeny { return true }
        if direction == .ingress && isFromOwnNode(peer, to: pod) { return true }
        for policy in policies {
            for rule in policy.rules(direction) {
                if ruleMatch(rule, in: policy, peer: peer, destination: destination.pod, port: port, proto: proto)
                    .allows
                {
                    return true
                }
            }
        }
        return false
    }

    /// The full explanation of one packet.
    public func explain(
        from source: TrafficEndpoint, to destination: TrafficEndpoint, port: Int, proto: PortProtocol,
        portName: String? = nil
    ) -> PolicyExplanation {
        var egress = explainSide(
            .egress, subject: source, peer: destination, destination: destination, port: port, proto: proto)
        var ingress = explainSide(
            .ingress, subject: destination, peer: source, destination: destination, port: port, proto: proto)
        if isLoopback(source, destination) {
            // A pod talking to itself stays inside its own network namespace: no node firewall sees it.
            egress.verdict = .allow
            ingress.verdict = .allow
            let note = "a pod's traffic to itself never leaves its network namespace: always allowed"
            egress.reason = note
            ingress.reason = note
        }
        let verdict: PolicyExplanation.Verdict = egress.verdict == .allow && ingress.verdict == .allow ? .allow : .deny
        return PolicyExplanation(
            from: describe(source), to: describe(destination), port: port, protocol: proto,
            portName: portName, verdict: verdict, egress: egress, ingress: ingress)
    }

    private func explainSide(
        _ direction: NetworkPolicy.Direction, subject: TrafficEndpoint, peer: TrafficEndpoint,
        destination: TrafficEndpoint, port: Int, proto: PortProtocol
    ) -> PolicyExplanation.Side {
        var side = PolicyExplanation.Side(
            direction: direction.word, pod: subject.pod?.key, subject: false, isolated: false,
            policies: [], verdict: .allow, reason: "", allowedBy: [], rules: [], namedPorts: [])
        guard let pod = subject.pod else {
            side.reason = "\(subject.ip) is not a pod: no \(direction.word) policy applies"
            return side
        }
        guard pod.isPolicySubject else {
            side.reason = "\(pod.key) uses the host network: NetworkPolicy does not apply to it"
            return side
        }
        side.subject = true
        let policies = isolatingPolicies(of: pod, direction: direction)
        side.policies = policies.map(\.key)
        guard !policies.isEmpty || defaultDeny else {
            side.reason =
                "no NetworkPolicy selects \(pod.key) for \(direction.word): all \(direction.word) traffic is allowed"
            return side
        }
        side.isolated = true
        var namedPorts: [PolicyExplanation.NamedPort] = []
        for policy in policies {
            for (index, rule) in policy.rules(direction).enumerated() {
                let match = ruleMatch(
                    rule, in: policy, peer: peer, destination: destination.pod, port: port, proto: proto)
                for named in match.namedPorts where !namedPorts.contains(named) { namedPorts.append(named) }
                let result = PolicyExplanation.RuleResult(
                    policy: policy.key, rule: index, allows: match.allows,
                    peer: match.peer, port: match.port, reason: match.reason)
                side.rules.append(result)
                if match.allows { side.allowedBy.append(result) }
            }
        }
        side.namedPorts = namedPorts
        let names = side.policies.joined(separator: ", ")
        if let first = side.allowedBy.first {
            side.reason = "allowed by \(first.policy) \(direction.word) rule \(first.rule): \(first.reason)"
        } else if direction == .ingress && isFromOwnNode(peer, to: pod) {
            side.reason =
                "\(peer.ip) is the node of \(pod.key): traffic from a pod's own node is always allowed (kubelet probes)"
        } else {
            side.verdict = .deny
            let ruleCount = policies.reduce(0) { $0 + $1.rules(direction).count }
            side.reason =
                policies.isEmpty
                ? "no NetworkPolicy allows \(direction.word) for \(pod.key), "
                    + "and the node denies by default (--netpol-default-deny)"
                : ruleCount == 0
                    ? "\(pod.key) is isolated for \(direction.word) by \(names), "
                        + "which allow no \(direction.word) traffic"
                    : "\(pod.key) is isolated for \(direction.word) by \(names), "
                        + "and none of their \(ruleCount) rule(s) matches"
        }
        return side
    }

    // MARK: - Rule matching (shared by verdicts and explanations)

    struct RuleMatch {
        var allows: Bool
        var peer: Int?
        var port: Int?
        var reason: String
        var namedPorts: [PolicyExplanation.NamedPort]
    }

    func ruleMatch(
        _ rule: NetworkPolicy.Rule, in policy: NetworkPolicy, peer: TrafficEndpoint, destination: Pod?,
        port: Int, proto: PortProtocol
    ) -> RuleMatch {
        var namedPorts: [PolicyExplanation.NamedPort] = []
        // Ports first: their resolution is reported even when the peer does not match.
        var portIndex: Int?
        var portText = "any port"
        if !rule.ports.isEmpty {
            for (i, entry) in rule.ports.enumerated() {
                let (ok, named) = portMatches(entry, port: port, proto: proto, destination: destination)
                if let named { namedPorts.append(named) }
                if ok && portIndex == nil {
                    portIndex = i
                    portText = "port \(entry)"
                }
            }
        }
        var peerIndex: Int?
        var peerText = "any peer"
        if !rule.peers.isEmpty {
            peerIndex = rule.peers.firstIndex { peerMatches($0, in: policy, peer: peer) }
            if let i = peerIndex { peerText = rule.peers[i].description }
        }
        let peerOK = rule.peers.isEmpty || peerIndex != nil
        let portOK = rule.ports.isEmpty || portIndex != nil
        let reason: String
        switch (peerOK, portOK) {
        case (true, true): reason = "\(peerText), \(portText)"
        case (false, true):
            reason = "\(peer.description) matches none of \(rule.peers.map(\.description).joined(separator: "; "))"
        case (true, false):
            reason = "\(port)/\(proto.rawValue) is not in \(rule.ports.map(\.description).joined(separator: ", "))"
        case (false, false): reason = "neither peer nor port matches"
        }
        return RuleMatch(
            allows: peerOK && portOK, peer: peerIndex, port: portIndex, reason: reason, namedPorts: namedPorts)
    }

    /// The pods a pod peer of `policy` selects (the set `peerMatches` accepts), namespaces first.
    public func pods(selectedBy peer: NetworkPolicy.Peer, in policy: NetworkPolicy) -> [Pod] {
        guard case .pods(let podSelector, let namespaceSelector) = peer else { return [] }
        var namespaces = [policy.namespace]
        if let namespaceSelector {
            namespaces = subjectsByNamespace.keys.filter { namespaceSelector.matches(namespaceLabels($0)) }
        }
        return namespaces.flatMap { subjectsByNamespace[$0] ?? [] }.filter { podSelector?.matches($0.labels) ?? true }
    }

    /// Whether `pod` is among `pods(selectedBy: peer, in: policy)`, without listing them.
    public func selects(_ peer: NetworkPolicy.Peer, in policy: NetworkPolicy, pod: Pod) -> Bool {
        guard case .pods(let podSelector, let namespaceSelector) = peer, pod.isPolicySubject else { return false }
        if let namespaceSelector {
            guard namespaceSelector.matches(namespaceLabels(pod.namespace)) else { return false }
        } else if pod.namespace != policy.namespace {
            return false
        }
        return podSelector?.matches(pod.labels) ?? true
    }

    /// A namespace's labels; one the API has not (yet) shown has its name label alone, as the API server sets it.
    func namespaceLabels(_ namespace: String) -> [String: String] {
        snapshot.namespaces[namespace]?.labels ?? ["kubernetes.io/metadata.name": namespace]
    }

    func peerMatches(_ peer: NetworkPolicy.Peer, in policy: NetworkPolicy, peer endpoint: TrafficEndpoint) -> Bool {
        switch peer {
        case .ipBlock(let block):
            return block.contains(endpoint.ip)
        case .pods(let podSelector, let namespaceSelector):
            guard let pod = endpoint.pod, pod.isPolicySubject else { return false }
            if let namespaceSelector {
                let labels =
                    snapshot.namespaces[pod.namespace]?.labels ?? ["kubernetes.io/metadata.name": pod.namespace]
                guard namespaceSelector.matches(labels) else { return false }
            } else if pod.namespace != policy.namespace {
                return false
            }
            return podSelector?.matches(pod.labels) ?? true
        }
    }

    func portMatches(
        _ entry: NetworkPolicy.Port, port: Int, proto: PortProtocol,
        destination: Pod?
    ) -> (Bool, PolicyExplanation.NamedPort?) {
        switch entry.value {
        case .any: return (entry.proto == proto, nil)
        case .number(let n): return (entry.proto == proto && n == port, nil)
        case .range(let low, let high): return (entry.proto == proto && (low...high).contains(port), nil)
        case .named(let name):
            // A named port means "whatever that name is on the destination pod", for the entry's protocol.
            let numbers = destination?.namedPorts(name, proto: entry.proto) ?? []
            let named = PolicyExplanation.NamedPort(
                name: name, protocol: entry.proto, pod: destination?.key, resolvedTo: numbers)
            return (entry.proto == proto && numbers.contains(port), named)
        }
    }

    /// Node traffic, however the operator named it: the node, its address, or a host-network pod on it.
    private func isLoopback(_ source: TrafficEndpoint, _ destination: TrafficEndpoint) -> Bool {
        guard let a = source.pod, let b = destination.pod else { return false }
        return a.key == b.key && !a.hostNetwork
    }

    private func isFromOwnNode(_ peer: TrafficEndpoint, to pod: Pod) -> Bool {
        switch peer.kind {
        case .node(let name): return name == pod.nodeName || peer.ip == pod.hostIP
        case .pod(let source): return source.hostNetwork && !pod.nodeName.isEmpty && source.nodeName == pod.nodeName
        case .external: return peer.ip == pod.hostIP
        }
    }

    private func describe(_ endpoint: TrafficEndpoint) -> PolicyExplanation.Endpoint {
        switch endpoint.kind {
        case .pod(let pod):
            return .init(
                kind: "pod", ip: endpoint.ip.description, pod: pod.key, namespace: pod.namespace,
                node: pod.nodeName.isEmpty ? nil : pod.nodeName, labels: pod.labels,
                hostNetwork: pod.hostNetwork ? true : nil)
        case .node(let name):
            return .init(kind: "node", ip: endpoint.ip.description, node: name)
        case .external:
            return .init(kind: "external", ip: endpoint.ip.description)
        }
    }

    // MARK: - Matrix

    /// Every pod that is a network endpoint, sorted by key, optionally limited to some namespaces.
    public func endpointPods(namespaces: Set<String>? = nil) -> [Pod] {
        snapshot.pods.values
            .filter { $0.isEndpoint && (namespaces?.contains($0.namespace) ?? true) }
            .sorted { $0.key < $1.key }
    }

    /// The truth table for every ordered pair of distinct pods and every port. A named port is
    /// resolved per destination; a destination without that name denies (nothing listens there).
    public func matrix(pods: [Pod], ports: [PortQuery]) -> PolicyMatrix {
        var cells: [MatrixCell] = []
        cells.reserveCapacity(ports.count * pods.count * max(pods.count - 1, 0))
        for query in ports {
            for src in pods {
                for dst in pods where dst.key != src.key {
                    let endpoints = try? pair(
                        from: src.ips.map { TrafficEndpoint(kind: .pod(src), ip: $0) },
                        to: dst.ips.map { TrafficEndpoint(kind: .pod(dst), ip: $0) })
                    let dstEndpoint = endpoints?.1
                    let number = dstEndpoint.flatMap { try? resolvePort(query, on: $0) }
                    var allowed = false
                    if let (s, d) = endpoints, let number {
                        allowed = allows(from: s, to: d, port: number, proto: query.proto)
                    }
                    let reported: Int
                    switch query.value {
                    case .number(let n): reported = n
                    case .named: reported = number ?? 0
                    }
                    var portName: String?
                    if case .named(let name) = query.value { portName = name }
                    cells.append(
                        MatrixCell(
                            from: src.key, to: dst.key, port: reported, protocol: query.proto,
                            portName: portName, verdict: allowed ? .allow : .deny))
                }
            }
        }
        return PolicyMatrix(pods: pods.map(\.key), ports: ports.map(\.description), cells: cells)
    }
}
