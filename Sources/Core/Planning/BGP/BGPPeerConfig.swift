import KubeModel

/// A configured peer.
public struct BGPPeerConfig: Sendable, Hashable {
    public var address: IPAddress
    public var asn: UInt32
    public var port: UInt16
    public var password: String?
    /// Only accept connections (never connect out).
    public var passive: Bool
    /// Where the peer came from: `node node-2`, `--peer-router-ips`, `annotation kube-router.io/peers`.
    public var origin: String
    /// The address connections to the peer come from (`localip` of `kube-router.io/peers`); nil: the kernel's
    /// choice.
    public var localAddress: IPAddress?
    /// The IP TTL of the session's packets: 1 towards an external (eBGP) peer, as GoBGP and so kube-router
    /// do, unless `--peer-router-multihop-ttl` (2 or more) says how many hops away it may be; nil (iBGP): the
    /// kernel's default.
    public var ttl: UInt8?
    /// The peer is a route reflector client of ours (RFC 4456): node annotation `kube-router.io/rr.client`
    /// on its node while ours has `kube-router.io/rr.server`.
    public var routeReflectorClient = false

    public init(
        address: IPAddress, asn: UInt32, port: UInt16 = 179, password: String? = nil, passive: Bool = false,
        origin: String = ""
    ) {
        self.address = address
        self.asn = asn
        self.port = port
        self.password = password
        self.passive = passive
        self.origin = origin
    }
}
