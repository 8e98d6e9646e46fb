import Foundation
import KubeModel

/// Turns logged packets into `Drop`s through the node's plan: the prefix names the denial (pod chain and
/// direction) in the plan's table, the engine gives the reason, and the kernel walk says whether the kernel's
/// rules agree with the plan for that packet. Pure.
public struct DropAttribution: Sendable {
    public let engine: PolicyEngine
    public let node: String
    public let plans: [IPAddress.Family: FirewallPlan]
    public let observed: [IPAddress.Family: ObservedFirewall]

    public init(
        engine: PolicyEngine, node: String, plans: [IPAddress.Family: FirewallPlan],
        observed: [IPAddress.Family: ObservedFirewall]
    ) {
        self.engine = engine
        self.node = node
        self.plans = plans
        self.observed = observed
    }

    /// How an endpoint is named in a drop: `namespace/name` for a pod, `node NAME`, else the address.
    public static func name(_ endpoint: TrafficEndpoint) -> String {
        switch endpoint.kind {
        case .pod(let pod): pod.key
        case .node(let node): "node \(node)"
        case .external: endpoint.ip.description
        }
    }

    /// The packet's ends as the cluster knows them.
    func endpoints(_ header: PacketHeader) -> (source: TrafficEndpoint, destination: TrafficEndpoint) {
        let source =
            (try? engine.resolve(.ip(header.source)))?.first ?? TrafficEndpoint(kind: .external, ip: header.source)
        let destination =
            (try? engine.resolve(.ip(header.destination)))?.first
            ?? TrafficEndpoint(kind: .external, ip: header.destination)
        return (source, destination)
    }

    /// The smallest policy that would allow this logged packet's flow (`DropSuggestion`); nil when none can.
    public func suggestion(_ packet: LoggedPacket) -> DropSuggestion? {
        guard let header = packet.header, let proto = header.proto, let port = header.destinationPort,
            let denial = plans[header.source.family]?.denial(logPrefix: packet.prefix)
        else { return nil }
        let (source, destination) = endpoints(header)
        return DropSuggestion.suggest(
            engine: engine, source: source, destination: destination, proto: proto, port: port,
            direction: denial.direction)
    }

    public func attribute(_ packet: LoggedPacket) -> Drop {
        guard let header = packet.header else {
            return Drop(
                time: packet.time, cause: .policy, direction: nil, from: "?", to: "?", protocol: nil, port: nil,
                pod: nil, policies: [], reason: "the logged packet is not an IPv4 or IPv6 packet", kernelAgrees: nil)
        }
        let (source, destination) = endpoints(header)
        let family = header.source.family
        var drop = Drop(
            time: packet.time, cause: .policy, direction: nil, from: Self.name(source), to: Self.name(destination),
            protocol: header.protocolName, port: header.destinationPort, pod: nil, policies: [], reason: "",
            kernelAgrees: nil, interface: packet.bridgePortIn)
        if let original = packet.original, original.address != header.destination {
            drop.service = original.address.description + (original.port.map { ":\($0)" } ?? "")
        }
        guard let plan = plans[family], let denial = plan.denial(logPrefix: packet.prefix) else {
            drop.reason =
                "logged with prefix \"\(packet.prefix)\", which this node's plan does not hold "
                + "(another logger on group \(packet.group), or a pod whose policies changed since)"
            return drop
        }
        drop.direction = denial.direction.word
        drop.pod = denial.pod
        drop.chain = denial.chain
        drop.policies = denial.policies
        guard let proto = header.proto, let port = header.destinationPort else {
            drop.reason =
                "\(denial.pod) is isolated for \(denial.direction.word)"
                + (denial.policies.isEmpty ? " by default deny" : " by \(denial.policies.joined(separator: ", "))")
                + ", and NetworkPolicy cannot allow \(header.protocolName)"
            return drop
        }
        let explanation = engine.explain(from: source, to: destination, port: port, proto: proto)
        let side = denial.direction == .ingress ? explanation.ingress : explanation.egress
        drop.reason = Self.reason(side, denial: denial, from: drop.from, to: drop.to, port: port, proto: proto)
        drop.kernelAgrees =
            KernelCheck.verdict(
                plan: plan, observed: observed[family] ?? ObservedFirewall(chains: [:], hooks: [], sets: []),
                node: node, from: source, to: destination, port: port, proto: proto
            ).agrees
        return drop
    }

    /// One line: "no ingress rule of shop/db allows TCP/5432 from dev/debug", or the engine's reason when the
    /// engine would allow (the kernel refused what the policies allow: drift, or a plan since changed).
    static func reason(
        _ side: PolicyExplanation.Side, denial: FirewallDenial, from: String, to: String, port: Int,
        proto: PortProtocol
    ) -> String {
        guard side.verdict == .deny else {
            return "the policies now allow this (\(side.reason)): the kernel's rules were older or differ"
        }
        let peer = denial.direction == .ingress ? "from \(from)" : "to \(to)"
        if side.policies.isEmpty {
            return "\(denial.pod) denies \(side.direction) by default (--netpol-default-deny): no policy allows "
                + "\(proto.rawValue)/\(port) \(peer)"
        }
        if side.rules.isEmpty {
            return "\(side.policies.joined(separator: ", ")) isolate\(side.policies.count == 1 ? "s" : "") "
                + "\(denial.pod) for \(side.direction) and allow\(side.policies.count == 1 ? "s" : "") nothing"
        }
        return "no \(side.direction) rule of \(side.policies.joined(separator: ", ")) allows "
            + "\(proto.rawValue)/\(port) \(peer)"
    }
}
