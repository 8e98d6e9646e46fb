import KubeModel

/// The smallest NetworkPolicy that would allow exactly one dropped flow: in the namespace of the pod whose
/// policy refused it, selecting that pod by its labels, with one rule for the peer (its labels and namespace,
/// or its address) and the port (by the container port's name when it has one). Pure; YAML as text.
public struct DropSuggestion: Sendable, Encodable, Equatable {
    /// `shop/db → shop/api TCP/9000`.
    public var flow: String
    public var namespace: String
    public var name: String
    public var yaml: String

    /// Nil when the drop cannot be allowed by a NetworkPolicy (not a policy drop, no port, or an end that
    /// is not what the plan said).
    public static func suggest(
        engine: PolicyEngine, source: TrafficEndpoint, destination: TrafficEndpoint, proto: PortProtocol,
        port: Int, direction: NetworkPolicy.Direction
    ) -> DropSuggestion? {
        guard let subject = (direction == .ingress ? destination : source).pod else { return nil }
        let peer = direction == .ingress ? source : destination
        // The port by its name on the destination pod, when one of its containers names it.
        var portValue = "\(port)"
        if let pod = destination.pod,
            let named = pod.ports.first(where: { !$0.name.isEmpty && $0.port == port && $0.proto == proto })
        {
            portValue = named.name
        }
        let peerYAML: String
        switch peer.kind {
        case .pod(let pod):
            let labels = labelsYAML(pod.labels)
            peerYAML =
                pod.namespace == subject.namespace
                ? "{podSelector: {matchLabels: \(labels)}}"
                : "{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: \(pod.namespace)}}, "
                    + "podSelector: {matchLabels: \(labels)}}"
        case .node, .external:
            peerYAML = "{ipBlock: {cidr: \"\(peer.ip)/\(peer.ip.bitWidth)\"}}"
        }
        let peerName: String
        switch peer.kind {
        case .pod(let pod): peerName = pod.namespace == subject.namespace ? pod.name : "\(pod.namespace)-\(pod.name)"
        case .node(let node): peerName = "node-\(node)"
        case .external: peerName = peer.ip.description.replacingOccurrences(of: ":", with: "-")
        }
        let name = sanitized(
            "allow-\(direction == .ingress ? "from" : "to")-\(peerName)-\(proto.rawValue.lowercased())-\(portValue)")
        let rule = direction == .ingress ? "ingress:\n  - from: " : "egress:\n  - to: "
        let yaml = """
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata:
              name: \(name)
              namespace: \(subject.namespace)
            spec:
              podSelector:
                matchLabels: \(labelsYAML(subject.labels))
              policyTypes: [\(direction.rawValue)]
              \(rule)[\(peerYAML)]
                ports: [{protocol: \(proto.rawValue), port: \(portValue)}]

            """
        let flow =
            "\(DropAttribution.name(source)) → \(DropAttribution.name(destination)) \(proto.rawValue)/\(port)"
        return DropSuggestion(flow: flow, namespace: subject.namespace, name: name, yaml: yaml)
    }

    /// `{app: api, tier: "1"}`, keys sorted, values quoted.
    static func labelsYAML(_ labels: [String: String]) -> String {
        "{" + labels.sorted { $0.key < $1.key }.map { "\($0.key): \"\($0.value)\"" }.joined(separator: ", ") + "}"
    }

    /// A DNS-1123 name of at most 63 characters.
    static func sanitized(_ text: String) -> String {
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789-")
        var name = String(text.lowercased().map { allowed.contains($0) ? $0 : "-" }.prefix(63))
        while name.hasSuffix("-") { name.removeLast() }
        return name
    }
}
