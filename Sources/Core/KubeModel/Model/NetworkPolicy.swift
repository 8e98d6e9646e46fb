/// A `networking.k8s.io/v1` NetworkPolicy, validated as the API server validates it.
public struct NetworkPolicy: Sendable, Hashable {
    public enum Direction: String, Sendable, Hashable, Codable {
        case ingress = "Ingress", egress = "Egress"
        /// Lower-case, for JSON keys and text.
        public var word: String { rawValue.lowercased() }
    }

    /// `ipBlock`: addresses in `cidr` but in none of `except`.
    public struct IPBlock: Sendable, Hashable, CustomStringConvertible {
        public var cidr: CIDR
        public var except: [CIDR]

        public init(cidr: CIDR, except: [CIDR] = []) {
            self.cidr = cidr
            self.except = except
        }

        public func contains(_ ip: IPAddress) -> Bool {
            cidr.contains(ip) && !except.contains { $0.contains(ip) }
        }

        public var description: String {
            except.isEmpty
                ? "ipBlock \(cidr)" : "ipBlock \(cidr) except \(except.map(\.description).joined(separator: ","))"
        }
    }

    /// One entry of `from` / `to`.
    public enum Peer: Sendable, Hashable, CustomStringConvertible {
        /// `podSelector` and/or `namespaceSelector`. A nil pod selector means every pod of the selected
        /// namespaces; a nil namespace selector means the policy's own namespace.
        case pods(podSelector: LabelSelector?, namespaceSelector: LabelSelector?)
        case ipBlock(IPBlock)

        public var description: String {
            switch self {
            case .ipBlock(let block): return block.description
            case .pods(let pods, let namespaces):
                switch (pods, namespaces) {
                case let (p?, n?): return "pods {\(p)} in namespaces {\(n)}"
                case let (p?, nil): return "pods {\(p)} in the policy's namespace"
                case let (nil, n?): return "all pods in namespaces {\(n)}"
                case (nil, nil): return "<none>"
                }
            }
        }
    }

    /// One entry of `ports`.
    public struct Port: Sendable, Hashable, CustomStringConvertible {
        public enum Value: Sendable, Hashable {
            /// No `port`: every port of the protocol.
            case any
            case number(Int)
            /// `port` .. `endPort`, inclusive.
            case range(Int, Int)
            /// A container port name, resolved on the destination pod.
            case named(String)
        }

        public var proto: PortProtocol
        public var value: Value

        public init(proto: PortProtocol = .tcp, value: Value) {
            self.proto = proto
            self.value = value
        }

        public var description: String {
            switch value {
            case .any: "all \(proto.rawValue) ports"
            case .number(let n): "\(n)/\(proto.rawValue)"
            case .range(let a, let b): "\(a)-\(b)/\(proto.rawValue)"
            case .named(let name): "\"\(name)\"/\(proto.rawValue)"
            }
        }
    }

    /// One ingress or egress rule: allows traffic matching any peer (all when `peers` is empty) on any
    /// port entry (all when `ports` is empty).
    public struct Rule: Sendable, Hashable {
        public var peers: [Peer]
        public var ports: [Port]

        public init(peers: [Peer] = [], ports: [Port] = []) {
            self.peers = peers
            self.ports = ports
        }
    }

    public var meta: ObjectMeta
    public var podSelector: LabelSelector
    public var ingress: [Rule]
    public var egress: [Rule]
    /// After API defaulting: Ingress always unless listed otherwise; Egress when egress rules exist.
    public var policyTypes: Set<Direction>

    public var name: String { meta.name }
    public var namespace: String { meta.namespace }
    public var key: String { meta.key }

    public func rules(_ direction: Direction) -> [Rule] { direction == .ingress ? ingress : egress }

    static func defaultPolicyTypes(hasEgressRules: Bool) -> Set<Direction> {
        hasEgressRules ? [.ingress, .egress] : [.ingress]
    }

    init(_ fields: Fields) throws {
        meta = try ObjectMeta(fields, namespaced: true)
        guard let spec = try fields.fields("spec") else { throw FieldError("spec", "is required") }
        // podSelector is required by the API, but `{}` and an omitted selector both mean "all pods".
        podSelector = try spec.fields("podSelector").map(LabelSelector.init) ?? .everything
        ingress = try (spec.objects("ingress") ?? []).map { try Self.rule($0, peersKey: "from") }
        egress = try (spec.objects("egress") ?? []).map { try Self.rule($0, peersKey: "to") }
        if let types = try spec.list("policyTypes"), !types.isEmpty {
            var set: Set<Direction> = []
            for item in types {
                guard case .string(let text) = item.value, let d = Direction(rawValue: text) else {
                    throw FieldError(
                        item.path, "unknown policy type \(item.value.shortText) (expected Ingress or Egress)")
                }
                set.insert(d)
            }
            policyTypes = set
        } else {
            policyTypes = Self.defaultPolicyTypes(hasEgressRules: !egress.isEmpty)
        }
    }

    private static func rule(_ fields: Fields, peersKey: String) throws -> Rule {
        let peers = try (fields.objects(peersKey) ?? []).map(peer)
        let ports = try (fields.objects("ports") ?? []).map(port)
        return Rule(peers: peers, ports: ports)
    }

    private static func peer(_ fields: Fields) throws -> Peer {
        let pods = try fields.fields("podSelector").map(LabelSelector.init)
        let namespaces = try fields.fields("namespaceSelector").map(LabelSelector.init)
        if let block = try fields.fields("ipBlock") {
            guard pods == nil, namespaces == nil else {
                throw FieldError(fields.path, "may not specify both ipBlock and a pod or namespace selector")
            }
            let cidr = try parseCIDR(try block.requiredString("cidr"), at: block.child("cidr"))
            let except = try (block.list("except") ?? []).map { item -> CIDR in
                guard case .string(let text) = item.value else { throw FieldError(item.path, "expected a string") }
                let e = try parseCIDR(text, at: item.path)
                guard e.family == cidr.family, cidr.contains(e), e.prefixLength > cidr.prefixLength else {
                    throw FieldError(item.path, "\(text) must be a strict subset of cidr \(cidr)")
                }
                return e
            }
            return .ipBlock(IPBlock(cidr: cidr, except: except))
        }
        guard pods != nil || namespaces != nil else {
            throw FieldError(fields.path, "must specify a podSelector, a namespaceSelector or an ipBlock")
        }
        return .pods(podSelector: pods, namespaceSelector: namespaces)
    }

    private static func port(_ fields: Fields) throws -> Port {
        let proto = try PortProtocol(fields)
        let endPort = try fields.int("endPort")
        switch fields.value("port") {
        case nil:
            if endPort != nil { throw FieldError(fields.child("endPort"), "may not be set without port") }
            return Port(proto: proto, value: .any)
        case .int(let raw)?:
            let number = Int(raw)
            try validatePort(number, at: fields.child("port"))
            guard let endPort else { return Port(proto: proto, value: .number(number)) }
            try validatePort(endPort, at: fields.child("endPort"))
            guard endPort >= number else {
                throw FieldError(fields.child("endPort"), "\(endPort) is below port \(number)")
            }
            return Port(proto: proto, value: .range(number, endPort))
        case .string(let name)?:
            guard !name.isEmpty, name.count <= 15, name.contains(where: \.isLetter),
                name.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-") }),
                !name.hasPrefix("-"), !name.hasSuffix("-"), !name.contains("--")
            else {
                throw FieldError(
                    fields.child("port"),
                    "\"\(name)\" is not a valid port name "
                        + "(IANA service name: 1-15 lower-case letters, digits and '-', at least one letter); "
                        + "write a number without quotes for a port number"
                )
            }
            if endPort != nil {
                throw FieldError(fields.child("endPort"), "may not be set when port is a named port")
            }
            return Port(proto: proto, value: .named(name))
        case let other?:
            throw FieldError(
                fields.child("port"), "expected a port number or name, got \(other.typeName) \(other.shortText)")
        }
    }
}
