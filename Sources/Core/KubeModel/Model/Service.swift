/// A Service: the virtual addresses and ports the service proxy programs.
public struct Service: Sendable, Hashable {
    public struct Port: Sendable, Hashable {
        public var name: String
        public var proto: PortProtocol
        public var port: Int
        /// A number, or the name of a container port; empty means "same as port".
        public var targetPort: String
        public var nodePort: Int?
    }

    public var meta: ObjectMeta
    public var type: String
    /// Empty for headless services (`clusterIP: None`).
    public var clusterIPs: [IPAddress]
    public var isHeadless: Bool
    public var ports: [Port]
    public var selector: [String: String]
    public var externalIPs: [IPAddress]
    public var loadBalancerIPs: [IPAddress]
    public var sessionAffinityClientIP: Bool
    public var sessionAffinityTimeout: Int
    public var externalTrafficPolicyLocal: Bool
    public var internalTrafficPolicyLocal: Bool

    public var namespace: String { meta.namespace }

    init(_ fields: Fields) throws {
        meta = try ObjectMeta(fields, namespaced: true)
        let spec = try fields.fields("spec") ?? Fields([:], path: "spec")
        type = try spec.string("type") ?? "ClusterIP"
        let validTypes = ["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"]
        guard validTypes.contains(type) else {
            throw FieldError(
                spec.child("type"), "unknown service type \"\(type)\" (expected \(validTypes.joined(separator: ", ")))")
        }
        var ips = try spec.strings("clusterIPs")
        if ips.isEmpty, let single = try spec.string("clusterIP") { ips = [single] }
        isHeadless = ips.first == "None"
        clusterIPs = try ips.enumerated().compactMap { i, text in
            text == "None" || text.isEmpty ? nil : try parseIP(text, at: spec.child("clusterIPs[\(i)]"))
        }
        ports = try (spec.objects("ports") ?? []).map { p in
            let number = try p.int("port") ?? 0
            try validatePort(number, at: p.child("port"))
            var target = ""
            switch p.value("targetPort") {
            case .int(let i)?:
                try validatePort(Int(i), at: p.child("targetPort"))
                target = String(i)
            case .string(let s)?: target = s
            case nil: target = ""
            case let other?:
                throw FieldError(p.child("targetPort"), "expected a number or a port name, got \(other.typeName)")
            }
            let nodePort = try p.int("nodePort")
            if let nodePort { try validatePort(nodePort, at: p.child("nodePort")) }
            return Port(
                name: try p.string("name") ?? "", proto: try PortProtocol(p), port: number,
                targetPort: target, nodePort: nodePort)
        }
        selector = try spec.stringMap("selector")
        externalIPs = try spec.strings("externalIPs").enumerated().map {
            try parseIP($0.element, at: spec.child("externalIPs[\($0.offset)]"))
        }
        let ingress = try fields.fields("status")?.fields("loadBalancer")?.objects("ingress") ?? []
        loadBalancerIPs = try ingress.compactMap { item in
            try item.string("ip").map { try parseIP($0, at: item.child("ip")) }
        }
        sessionAffinityClientIP = try spec.string("sessionAffinity") == "ClientIP"
        sessionAffinityTimeout =
            try spec.fields("sessionAffinityConfig")?.fields("clientIP")?.int("timeoutSeconds") ?? 10800
        externalTrafficPolicyLocal = try spec.string("externalTrafficPolicy") == "Local"
        internalTrafficPolicyLocal = try spec.string("internalTrafficPolicy") == "Local"
    }
}
