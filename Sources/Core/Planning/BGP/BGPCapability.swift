import KubeModel

/// One capability (RFC 5492). Unknown ones are kept as they came and otherwise ignored.
public enum BGPCapability: Sendable, Equatable {
    case multiprotocol(afi: UInt16, safi: UInt8)
    case routeRefresh
    case gracefulRestart(GracefulRestart)
    case fourOctetAS(UInt32)
    case enhancedRouteRefresh
    case unknown(code: UInt8, value: [UInt8])

    /// RFC 4724: restart flags and time, and per family whether forwarding state was kept.
    public struct GracefulRestart: Sendable, Equatable {
        /// The R bit: the sender has restarted.
        public var restarting: Bool
        /// The N bit (RFC 8538): graceful notification supported.
        public var notification: Bool
        /// Seconds, 12 bits.
        public var restartTime: UInt16
        public var families: [(afi: UInt16, safi: UInt8, forwardingPreserved: Bool)]

        public init(
            restarting: Bool, notification: Bool = false, restartTime: UInt16,
            families: [(afi: UInt16, safi: UInt8, forwardingPreserved: Bool)]
        ) {
            self.restarting = restarting
            self.notification = notification
            self.restartTime = restartTime & 0x0FFF
            self.families = families
        }

        public static func == (a: Self, b: Self) -> Bool {
            a.restarting == b.restarting && a.notification == b.notification && a.restartTime == b.restartTime
                && a.families.elementsEqual(b.families) {
                    $0.afi == $1.afi && $0.safi == $1.safi && $0.forwardingPreserved == $1.forwardingPreserved
                }
        }
    }

    public var name: String {
        switch self {
        case .multiprotocol(let afi, let safi):
            "multiprotocol \(AFI(rawValue: afi).map { "\($0)" } ?? "afi \(afi)")/"
                + (safi == 1 ? "unicast" : "safi \(safi)")
        case .routeRefresh: "route-refresh"
        case .gracefulRestart(let gr): "graceful-restart (\(gr.restartTime) s\(gr.restarting ? ", restarting" : ""))"
        case .fourOctetAS: "4-octet-as"
        case .enhancedRouteRefresh: "enhanced-route-refresh"
        case .unknown(let code, _): "capability \(code)"
        }
    }

    static func decode(_ r: inout WireReader) throws(BGPError) -> BGPCapability {
        let malformed = BGPError.openError(0, "a capability overruns its parameter")
        let code = try r.u8(or: malformed)
        let length = Int(try r.u8(or: malformed))
        var v = try r.sub(length, or: malformed)
        let bad = BGPError.openError(0, "capability \(code) has a malformed value of \(length) bytes")
        switch code {
        case 1:
            guard length == 4 else { throw bad }
            let afi = try v.u16(or: bad)
            _ = try v.u8(or: bad)
            return .multiprotocol(afi: afi, safi: try v.u8(or: bad))
        case 2:
            guard length == 0 else { throw bad }
            return .routeRefresh
        case 64:
            guard length >= 2, (length - 2) % 4 == 0 else { throw bad }
            let header = try v.u16(or: bad)
            var families: [(UInt16, UInt8, Bool)] = []
            while !v.isAtEnd {
                let afi = try v.u16(or: bad)
                let safi = try v.u8(or: bad)
                let flags = try v.u8(or: bad)
                families.append((afi, safi, flags & 0x80 != 0))
            }
            return .gracefulRestart(
                GracefulRestart(
                    restarting: header & 0x8000 != 0, notification: header & 0x4000 != 0,
                    restartTime: header & 0x0FFF, families: families))
        case 65:
            guard length == 4 else { throw bad }
            return .fourOctetAS(try v.u32(or: bad))
        case 70 where length == 0:
            return .enhancedRouteRefresh
        default:
            return .unknown(code: code, value: try v.take(length, or: bad))
        }
    }

    func encode(into w: inout WireWriter) {
        switch self {
        case .multiprotocol(let afi, let safi):
            w.u8(1)
            w.u8(4)
            w.u16(afi)
            w.u8(0)
            w.u8(safi)
        case .routeRefresh:
            w.u8(2)
            w.u8(0)
        case .gracefulRestart(let gr):
            w.u8(64)
            w.u8(UInt8(2 + 4 * gr.families.count))
            w.u16((gr.restarting ? 0x8000 : 0) | (gr.notification ? 0x4000 : 0) | gr.restartTime & 0x0FFF)
            for f in gr.families {
                w.u16(f.afi)
                w.u8(f.safi)
                w.u8(f.forwardingPreserved ? 0x80 : 0)
            }
        case .fourOctetAS(let asn):
            w.u8(65)
            w.u8(4)
            w.u32(asn)
        case .enhancedRouteRefresh:
            w.u8(70)
            w.u8(0)
        case .unknown(let code, let value):
            w.u8(code)
            w.u8(UInt8(value.count))
            w.append(value)
        }
    }
}
