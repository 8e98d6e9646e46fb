import Foundation
import KubeModel

/// The kernel's IPVS connection timeouts, in seconds (`ipvsadm --set tcp tcpfin udp`).
public struct IPVSTimeouts: Sendable, Equatable, Codable {
    public var tcp: UInt32
    public var tcpFin: UInt32
    public var udp: UInt32
    public init(tcp: UInt32, tcpFin: UInt32, udp: UInt32) {
        self.tcp = tcp
        self.tcpFin = tcpFin
        self.udp = udp
    }
}
