import Foundation
import KubeModel

/// One dropped packet (or several alike), attributed: who sent it where, the pod whose policy refused it, the
/// policies that isolate that pod, the engine's one-line reason, and whether the kernel's rules agree with the
/// plan for that packet. The JSON of `krctl drops`.
public struct Drop: Sendable, Codable, Equatable {
    /// What refused the packet.
    public enum Cause: String, Sendable, Codable {
        /// A pod chain's REJECT: NetworkPolicy (or default deny).
        case policy
        /// Conntrack judged the packet INVALID (out of window, no connection): our pod chain's DROP.
        case conntrackInvalid = "conntrack-invalid"
        /// The conntrack table could not insert the connection (full, or a race): no policy involved.
        case conntrackTable = "conntrack-table"
    }

    public var time: Date?
    public var cause: Cause
    /// `ingress` or `egress`: the side of `pod` that refused.
    public var direction: String?
    /// `namespace/name` for a pod, else the address (or `node NAME`).
    public var from: String
    public var to: String
    /// `TCP`, `UDP`, `SCTP`, `ICMP`, ...
    public var `protocol`: String?
    public var port: Int?
    /// The pod whose policy dropped the packet.
    public var pod: String?
    /// The policies that isolate `pod` in `direction` (empty under default deny).
    public var policies: [String]
    /// The policy engine's reason, one line.
    public var reason: String
    /// True when the kernel's rules give the planned verdict for this packet; nil when not walked.
    public var kernelAgrees: Bool?
    /// The pod chain that logged it.
    public var chain: String?
    /// The bridge port (veth) the packet came in by, when bridged.
    public var interface: String?
    /// The service address and port the client asked for, before IPVS (conntrack's original destination),
    /// when it differs from `to`.
    public var service: String?
    /// How many drops this entry stands for: 1 for a sample; the count of samples alike in an aggregate.
    public var count: Int

    public init(
        time: Date?, cause: Cause, direction: String?, from: String, to: String, protocol: String?, port: Int?,
        pod: String?, policies: [String], reason: String, kernelAgrees: Bool?, chain: String? = nil,
        interface: String? = nil, service: String? = nil, count: Int = 1
    ) {
        self.time = time
        self.cause = cause
        self.direction = direction
        self.from = from
        self.to = to
        self.protocol = `protocol`
        self.port = port
        self.pod = pod
        self.policies = policies
        self.reason = reason
        self.kernelAgrees = kernelAgrees
        self.chain = chain
        self.interface = interface
        self.service = service
        self.count = count
    }

    /// Drops of one flow (same ends, protocol, port, pod and side) are one line of a summary.
    public var flowKey: String {
        [cause.rawValue, direction ?? "", from, to, `protocol` ?? "", port.map(String.init) ?? "", pod ?? ""]
            .joined(separator: "|")
    }
}
