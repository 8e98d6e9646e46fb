/// A Pod, reduced to what networking needs: where it runs, its addresses, labels and named ports.
public struct Pod: Sendable, Hashable {
    public struct ContainerPort: Sendable, Hashable {
        public var name: String
        public var port: Int
        public var proto: PortProtocol

        public init(name: String = "", port: Int, proto: PortProtocol = .tcp) {
            self.name = name
            self.port = port
            self.proto = proto
        }
    }

    public enum Phase: String, Sendable, Hashable {
        case pending = "Pending", running = "Running", succeeded = "Succeeded", failed = "Failed", unknown = "Unknown"
    }

    public var meta: ObjectMeta
    public var nodeName: String
    public var hostNetwork: Bool
    public var phase: Phase
    /// `status.podIPs` (or `status.podIP`), at most one per family.
    public var ips: [IPAddress]
    public var hostIP: IPAddress?
    public var ports: [ContainerPort]

    public var name: String { meta.name }
    public var namespace: String { meta.namespace }
    public var labels: [String: String] { meta.labels }
    public var key: String { meta.key }

    /// Finished pods and pods without an address carry no traffic: they are not network endpoints.
    public var isEndpoint: Bool {
        !ips.isEmpty && phase != .succeeded && phase != .failed
    }

    /// Whether NetworkPolicy applies to this pod: host-network pods share the node's stack and are exempt.
    public var isPolicySubject: Bool { isEndpoint && !hostNetwork }

    /// Container ports named `name` for `proto` (a pod may declare the same name in several containers).
    public func namedPorts(_ name: String, proto: PortProtocol) -> [Int] {
        ports.filter { $0.name == name && $0.proto == proto }.map(\.port)
    }

    init(_ fields: Fields) throws {
        meta = try ObjectMeta(fields, namespaced: true)
        let spec = try fields.fields("spec") ?? Fields([:], path: "spec")
        nodeName = try spec.string("nodeName") ?? ""
        hostNetwork = try spec.bool("hostNetwork") ?? false
        var ports: [ContainerPort] = []
        for container in try spec.objects("containers") ?? [] {
            for p in try container.objects("ports") ?? [] {
                let number = try p.int("containerPort") ?? 0
                try validatePort(number, at: p.child("containerPort"))
                ports.append(ContainerPort(name: try p.string("name") ?? "", port: number, proto: try PortProtocol(p)))
            }
        }
        self.ports = ports
        let status = try fields.fields("status") ?? Fields([:], path: "status")
        let phaseText = try status.string("phase") ?? "Running"
        phase = Phase(rawValue: phaseText) ?? .unknown
        var ips: [IPAddress] = []
        for item in try status.objects("podIPs") ?? [] {
            if let text = try item.string("ip") { ips.append(try parseIP(text, at: item.child("ip"))) }
        }
        if ips.isEmpty, let text = try status.string("podIP"), !text.isEmpty {
            ips.append(try parseIP(text, at: status.child("podIP")))
        }
        self.ips = ips
        hostIP = try status.string("hostIP").flatMap { $0.isEmpty ? nil : try parseIP($0, at: status.child("hostIP")) }
    }
}
