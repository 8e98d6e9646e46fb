import KubeModel

/// RFC 2918 (subtype 0), with RFC 7313's subtypes (1 BoRR, 2 EoRR).
public struct BGPRouteRefresh: Sendable, Equatable {
    public var afi: UInt16
    public var safi: UInt8
    public var subtype: UInt8

    public init(afi: UInt16, safi: UInt8, subtype: UInt8 = 0) {
        self.afi = afi
        self.safi = safi
        self.subtype = subtype
    }
}
