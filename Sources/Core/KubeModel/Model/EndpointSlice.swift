/// An EndpointSlice (discovery.k8s.io/v1): the backends of one service for one address family.
public struct EndpointSlice: Sendable, Hashable {
    public struct Endpoint: Sendable, Hashable {
        public var addresses: [IPAddress]
        /// Absent conditions mean "ready" (API semantics); serving/terminating follow ready when absent.
        public var ready: Bool
        public var serving: Bool
        public var terminating: Bool
        public var nodeName: String
        /// `namespace/name` of the backing pod, when known.
        public var podKey: String?
    }

    public struct Port: Sendable, Hashable {
        public var name: String
        public var port: Int
        public var proto: PortProtocol
    }

    public var meta: ObjectMeta
    public var addressType: String
    public var endpoints: [Endpoint]
    public var ports: [Port]

    /// The owning Service's name, from the well-known label.
    public var serviceName: String { meta.labels["kubernetes.io/service-name"] ?? "" }

    init(_ fields: Fields) throws {
        meta = try ObjectMeta(fields, namespaced: true)
        addressType = try fields.string("addressType") ?? "IPv4"
        endpoints = try (fields.objects("endpoints") ?? []).map { e in
            let addresses = try e.strings("addresses").enumerated().map {
                try parseIP($0.element, at: e.child("addresses[\($0.offset)]"))
            }
            let conditions = try e.fields("conditions")
            let ready = try conditions?.bool("ready") ?? true
            let terminating = try conditions?.bool("terminating") ?? false
            let serving = try conditions?.bool("serving") ?? ready
            var podKey: String?
            if let ref = try e.fields("targetRef"), try ref.string("kind") == "Pod", let name = try ref.string("name") {
                podKey = "\(try ref.string("namespace") ?? "default")/\(name)"
            }
            return Endpoint(
                addresses: addresses, ready: ready, serving: serving, terminating: terminating,
                nodeName: try e.string("nodeName") ?? "", podKey: podKey)
        }
        ports = try (fields.objects("ports") ?? []).map { p in
            let number = try p.int("port") ?? 0
            try validatePort(number, at: p.child("port"))
            return Port(name: try p.string("name") ?? "", port: number, proto: try PortProtocol(p))
        }
    }
}
