import Foundation
import KubeModel

/// How the node routes pods over BGP, from kube-router's flags.
public struct RouterSettings: Sendable {
    public var clusterASN: UInt32
    public var fullMesh: Bool
    /// `--peer-router-ips/asns/passwords/ports`: external routers every node peers with.
    public var externalPeers: [BGPPeerConfig]
    public var routerID: IPAddress?
    /// `--service-cluster-ip-range` and `--service-external-ip-range`: never installed from a peer.
    public var serviceRanges: [CIDR]
    /// `--bgp-import-reject`: nothing inside these is installed from a peer.
    public var importRejects: [CIDR]
    /// The networks connected to this node (read from its kernel by the caller): nothing inside them is
    /// installed from a peer.
    public var localNetworks: [CIDR] = []
    /// `--advertise-cluster-ip`, `--advertise-external-ip`, `--advertise-loadbalancer-ip`.
    public var advertise = ServiceAdvertisement()
    /// `--advertise-pod-cidr`.
    public var advertisePodCIDR = true
    /// `--enable-ibgp`: peer with the cluster's nodes of the same AS at all (false: external peers only).
    public var iBGP = true
    /// `--peer-router-multihop-ttl`: the TTL of eBGP sessions when 2 or more (else 1: directly connected).
    public var multihopTTL: UInt8 = 0

    public init(
        clusterASN: UInt32 = 64512, fullMesh: Bool = true, externalPeers: [BGPPeerConfig] = [],
        routerID: IPAddress? = nil, serviceRanges: [CIDR] = [], importRejects: [CIDR] = []
    ) {
        self.clusterASN = clusterASN
        self.fullMesh = fullMesh
        self.externalPeers = externalPeers
        self.routerID = routerID
        self.serviceRanges = serviceRanges
        self.importRejects = importRejects
    }

    /// A comma-separated list of CIDRs (a flag or an annotation); an error names `origin` and the value.
    public static func cidrs(_ text: String, origin: String) throws -> [CIDR] {
        let items = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        return try items.map { item in
            guard let cidr = CIDR(item) else {
                throw RouterConfigError("\(origin): \"\(item)\" is not a CIDR (such as 10.96.0.0/12 or fd00::/108)")
            }
            return cidr
        }
    }

    /// Parses kube-router's comma-separated peer flags (passwords base64, as upstream); the lists must
    /// line up with the addresses (ports and passwords may be left out).
    public static func peers(
        ips: String, asns: String, passwords: String, ports: String, defaultPort: UInt16,
        origin: String
    ) throws -> [BGPPeerConfig] {
        // Empty entries count (a peer without a password between two with one); an empty flag is no list.
        func list(_ s: String) -> [String] {
            s.trimmingCharacters(in: .whitespaces).isEmpty
                ? []
                : s.split(separator: ",", omittingEmptySubsequences: false).map {
                    $0.trimmingCharacters(in: .whitespaces)
                }
        }
        let ipList = list(ips)
        let asnList = list(asns)
        let passwordList = list(passwords)
        let portList = list(ports)
        guard asnList.count == ipList.count else {
            throw RouterConfigError(
                "\(origin): \(ipList.count) peer address(es) but \(asnList.count) ASN(s); give one ASN per address")
        }
        guard passwordList.isEmpty || passwordList.count == ipList.count else {
            throw RouterConfigError("\(origin): \(ipList.count) peer address(es) but \(passwordList.count) password(s)")
        }
        guard portList.isEmpty || portList.count == ipList.count else {
            throw RouterConfigError("\(origin): \(ipList.count) peer address(es) but \(portList.count) port(s)")
        }
        return try ipList.enumerated().map { i, text in
            guard let address = IPAddress(text) else {
                throw RouterConfigError("\(origin): \"\(text)\" is not an IP address")
            }
            guard let asn = UInt32(asnList[i]), asn > 0 else {
                throw RouterConfigError("\(origin): \"\(asnList[i])\" is not an AS number (1-4294967295)")
            }
            var password: String?
            if !passwordList.isEmpty, !passwordList[i].isEmpty {
                guard let data = Data(base64Encoded: passwordList[i]), let text = String(data: data, encoding: .utf8)
                else {
                    throw RouterConfigError("\(origin): password \(i + 1) is not base64")
                }
                password = text
            }
            var port = defaultPort
            if !portList.isEmpty {
                guard let p = UInt16(portList[i]), p > 0 else {
                    throw RouterConfigError("\(origin): \"\(portList[i])\" is not a port")
                }
                port = p
            }
            return BGPPeerConfig(address: address, asn: asn, port: port, password: password, origin: origin)
        }
    }
}

public struct RouterConfigError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
