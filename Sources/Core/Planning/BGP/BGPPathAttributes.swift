import KubeModel

/// The path attributes of an UPDATE (RFC 4271 §5, RFC 1997, RFC 4760, RFC 6793), decoded with
/// RFC 7606's error handling; unknown optional transitive attributes are kept to pass on.
public struct BGPPathAttributes: Sendable, Equatable {
    public enum Origin: UInt8, Sendable { case igp = 0, egp = 1, incomplete = 2 }

    public struct Segment: Sendable, Equatable {
        public enum Kind: UInt8, Sendable { case set = 1, sequence = 2, confedSequence = 3, confedSet = 4 }
        public var kind: Kind
        public var asns: [UInt32]
        public init(_ kind: Kind, _ asns: [UInt32]) {
            self.kind = kind
            self.asns = asns
        }
    }

    public struct MPReach: Sendable, Equatable {
        public var afi: UInt16
        public var safi: UInt8
        /// One next hop, or for IPv6 a global and a link-local one.
        public var nextHops: [IPAddress]
        public var nlri: [CIDR]

        public init(afi: UInt16, safi: UInt8, nextHops: [IPAddress], nlri: [CIDR]) {
            self.afi = afi
            self.safi = safi
            self.nextHops = nextHops
            self.nlri = nlri
        }
    }

    public struct MPUnreach: Sendable, Equatable {
        public var afi: UInt16
        public var safi: UInt8
        public var withdrawn: [CIDR]

        public init(afi: UInt16, safi: UInt8, withdrawn: [CIDR]) {
            self.afi = afi
            self.safi = safi
            self.withdrawn = withdrawn
        }
    }

    /// An attribute we do not interpret, as received.
    public struct Raw: Sendable, Equatable {
        public var flags: UInt8
        public var type: UInt8
        public var value: [UInt8]
        public var isTransitive: Bool { flags & 0x40 != 0 }
    }

    public var origin: Origin?
    public var asPath: [Segment]?
    public var nextHop: IPAddress?
    public var med: UInt32?
    public var localPref: UInt32?
    public var atomicAggregate = false
    public var aggregator: (asn: UInt32, address: IPAddress)?
    public var communities: [UInt32]?
    /// RFC 4456: the BGP Identifier of the route's originator in the AS, set by the first route reflector.
    public var originatorID: UInt32?
    /// RFC 4456: the cluster IDs of the route reflectors the route passed, the last one first.
    public var clusterList: [UInt32]?
    public var mpReach: MPReach?
    public var mpUnreach: MPUnreach?
    public var unknown: [Raw] = []

    public init() {}

    public static func == (a: Self, b: Self) -> Bool {
        a.origin == b.origin && a.asPath == b.asPath && a.nextHop == b.nextHop && a.med == b.med
            && a.localPref == b.localPref
            && a.atomicAggregate == b.atomicAggregate && a.aggregator?.asn == b.aggregator?.asn
            && a.aggregator?.address == b.aggregator?.address && a.communities == b.communities
            && a.originatorID == b.originatorID && a.clusterList == b.clusterList
            && a.mpReach == b.mpReach && a.mpUnreach == b.mpUnreach && a.unknown == b.unknown
    }

    /// Every AS on the path (sets included), for loop detection and path length.
    public var asns: [UInt32] { (asPath ?? []).flatMap(\.asns) }

    /// AS_PATH length for best-path selection: a set counts as one (RFC 4271 §9.1.2.2).
    public var pathLength: Int {
        (asPath ?? []).reduce(0) { total, segment in
            switch segment.kind {
            case .sequence: total + segment.asns.count
            case .set: total + 1
            case .confedSequence, .confedSet: total
            }
        }
    }

    // MARK: Decoding

    /// What RFC 7606 handling decided while decoding.
    struct Problems {
        var treatAsWithdraw: String?
        var discarded: [String] = []
    }

    mutating func decode(
        _ r: inout WireReader, options: BGPMessage.Options, problems update: inout Problems
    ) throws(BGPError) {
        var seen = Set<UInt8>()
        // From a 2-octet AS speaker (RFC 6793 §4.2.3): merged with AS_PATH and AGGREGATOR at the end.
        var as4Path: [Segment]?
        var as4Aggregator: (asn: UInt32, address: IPAddress)?
        while !r.isAtEnd {
            // An attribute that overruns the list: the NLRI is still located by the list's length, so the
            // routes are withdrawn rather than the session reset (RFC 7606 §4).
            let overrun = "a path attribute overruns the attribute list"
            guard r.remaining >= 3 else {
                update.treatAsWithdraw = overrun
                return
            }
            let flags = try r.u8(or: .updateError(1, overrun))
            let type = try r.u8(or: .updateError(1, overrun))
            let extended = flags & 0x10 != 0
            guard r.remaining >= (extended ? 2 : 1) else {
                update.treatAsWithdraw = overrun
                return
            }
            let length =
                extended ? Int(try r.u16(or: .updateError(1, overrun))) : Int(try r.u8(or: .updateError(1, overrun)))
            guard r.remaining >= length else {
                update.treatAsWithdraw = overrun
                return
            }
            var v = try r.sub(length, or: .updateError(1, overrun))
            let raw = Array(r.bytes[v.offset..<v.end])
            // Duplicates: only the first counts (RFC 7606 §3.g); a second MP attribute is fatal.
            guard seen.insert(type).inserted else {
                if type == 14 || type == 15 { throw BGPError.updateError(1, "MP_REACH_NLRI or MP_UNREACH_NLRI twice") }
                update.discarded.append("duplicate attribute \(type)")
                continue
            }
            let optional = flags & 0x80 != 0
            func withdraw(_ why: String) { if update.treatAsWithdraw == nil { update.treatAsWithdraw = why } }
            switch type {
            case 1:
                guard length == 1, let o = Origin(rawValue: raw[0]), !optional else {
                    withdraw("malformed ORIGIN")
                    continue
                }
                origin = o
            case 2:
                guard !optional, let path = Self.decodeASPath(raw, fourOctet: options.fourOctetAS) else {
                    withdraw("malformed AS_PATH")
                    continue
                }
                asPath = path
            case 3:
                guard length == 4, !optional, let address = IPAddress(bytes: raw[...]) else {
                    withdraw("malformed NEXT_HOP")
                    continue
                }
                nextHop = address
            case 4:
                guard length == 4 else {
                    withdraw("malformed MULTI_EXIT_DISC")
                    continue
                }
                med = try v.u32(or: .updateError(5, ""))
            case 5:
                guard length == 4 else {
                    withdraw("malformed LOCAL_PREF")
                    continue
                }
                localPref = try v.u32(or: .updateError(5, ""))
            case 6:
                guard length == 0 else {
                    update.discarded.append("malformed ATOMIC_AGGREGATE")
                    continue
                }
                atomicAggregate = true
            case 7:
                let asLength = options.fourOctetAS ? 4 : 2
                guard length == asLength + 4 else {
                    update.discarded.append("malformed AGGREGATOR")
                    continue
                }
                let asn =
                    asLength == 4 ? try v.u32(or: .updateError(5, "")) : UInt32(try v.u16(or: .updateError(5, "")))
                aggregator = (asn, IPAddress(bytes: raw[asLength...])!)
            case 8:
                guard length > 0, length % 4 == 0 else {
                    withdraw("malformed COMMUNITIES")
                    continue
                }
                var list: [UInt32] = []
                while !v.isAtEnd { list.append(try v.u32(or: .updateError(5, ""))) }
                communities = list
            case 9:
                // Malformed reflection attributes: the route is withdrawn (RFC 7606 §7.9).
                guard optional, length == 4 else {
                    withdraw("malformed ORIGINATOR_ID")
                    continue
                }
                originatorID = try v.u32(or: .updateError(5, ""))
            case 10:
                guard optional, length > 0, length % 4 == 0 else {
                    withdraw("malformed CLUSTER_LIST")
                    continue
                }
                var list: [UInt32] = []
                while !v.isAtEnd { list.append(try v.u32(or: .updateError(5, ""))) }
                clusterList = list
            case 17 where options.fourOctetAS, 18 where options.fourOctetAS:
                // Only a 2-octet AS speaker sends these (RFC 6793 §4.2.2); from a 4-octet one they are discarded.
                update.discarded.append("\(type == 17 ? "AS4_PATH" : "AS4_AGGREGATOR") from a 4-octet AS speaker")
            case 17:
                // Malformed, or with confederation segments: discarded (RFC 6793 §6, RFC 7606 §7.6).
                guard optional, let path = Self.decodeASPath(raw, fourOctet: true),
                    path.allSatisfy({ $0.kind == .sequence || $0.kind == .set })
                else {
                    update.discarded.append("malformed AS4_PATH")
                    continue
                }
                as4Path = path
            case 18:
                guard optional, length == 8, let address = IPAddress(bytes: raw[4...]) else {
                    update.discarded.append("malformed AS4_AGGREGATOR")
                    continue
                }
                let asn = UInt32(raw[0]) << 24 | UInt32(raw[1]) << 16 | UInt32(raw[2]) << 8 | UInt32(raw[3])
                as4Aggregator = (asn, address)
            case 14:
                mpReach = try Self.decodeMPReach(&v)
            case 15:
                mpUnreach = try Self.decodeMPUnreach(&v)
            default:
                // An unknown well-known attribute cannot be ignored (RFC 4271 §6.3).
                guard optional else {
                    throw BGPError.updateError(
                        2, data: [flags, type] + (extended ? [UInt8(length >> 8)] : []) + [UInt8(length & 0xFF)] + raw,
                        "unrecognized well-known attribute \(type)")
                }
                unknown.append(Raw(flags: flags, type: type, value: raw))
            }
        }
        guard !options.fourOctetAS, as4Path != nil || as4Aggregator != nil else { return }
        // RFC 6793 §4.2.3: an AGGREGATOR with a real 2-octet AS means the AS4 attributes are stale: ignored.
        if let aggregator, aggregator.asn != UInt32(BGPOpen.asTrans) { return }
        if aggregator != nil, let as4Aggregator { aggregator = as4Aggregator }
        if let as4Path, let asPath { self.asPath = Self.merge(asPath: asPath, as4Path: as4Path) }
    }

    /// The path a 2-octet AS speaker carried (RFC 6793 §4.2.3): AS4_PATH holds the real AS numbers of
    /// the last ones; the leading AS_PATH entries that AS4_PATH lacks (added by 2-octet speakers) come
    /// first. An AS4_PATH longer than AS_PATH is ignored.
    public static func merge(asPath: [Segment], as4Path: [Segment]) -> [Segment] {
        func length(_ path: [Segment]) -> Int {
            path.reduce(0) { $0 + ($1.kind == .sequence ? $1.asns.count : $1.kind == .set ? 1 : 0) }
        }
        let n = length(asPath)
        let m = length(as4Path)
        guard n >= m else { return asPath }
        var needed = n - m
        var leading: [Segment] = []
        for segment in asPath {
            switch segment.kind {
            case .confedSequence, .confedSet:
                // Confederation segments are not counted and are kept where they are.
                if needed > 0 { leading.append(segment) }
            case .set:
                if needed > 0 {
                    leading.append(segment)
                    needed -= 1
                }
            case .sequence:
                if needed > 0 {
                    let take = min(needed, segment.asns.count)
                    leading.append(Segment(.sequence, Array(segment.asns.prefix(take))))
                    needed -= take
                }
            }
        }
        var merged = leading
        for segment in as4Path {
            if segment.kind == .sequence, let last = merged.last, last.kind == .sequence,
                last.asns.count + segment.asns.count <= 255
            {
                merged[merged.count - 1].asns += segment.asns
            } else {
                merged.append(segment)
            }
        }
        return merged
    }

    static func decodeASPath(_ bytes: [UInt8], fourOctet: Bool) -> [Segment]? {
        var r = WireReader(bytes)
        var segments: [Segment] = []
        let width = fourOctet ? 4 : 2
        let stop = BGPError.updateError(11, "")
        while !r.isAtEnd {
            guard let typeByte = try? r.u8(or: stop), let kind = Segment.Kind(rawValue: typeByte),
                let count = try? r.u8(or: stop), count > 0, r.remaining >= Int(count) * width
            else { return nil }
            var asns: [UInt32] = []
            for _ in 0..<count {
                asns.append(width == 4 ? (try? r.u32(or: stop)) ?? 0 : UInt32((try? r.u16(or: stop)) ?? 0))
            }
            segments.append(Segment(kind, asns))
        }
        return segments
    }

    public static func family(_ afi: UInt16) -> IPAddress.Family? {
        switch afi {
        case AFI.ipv4.rawValue: .ipv4
        case AFI.ipv6.rawValue: .ipv6
        default: nil
        }
    }

    static func decodeMPReach(_ v: inout WireReader) throws(BGPError) -> MPReach {
        let bad = BGPError.updateError(9, "malformed MP_REACH_NLRI")
        let afi = try v.u16(or: bad)
        let safi = try v.u8(or: bad)
        let nextHopLength = Int(try v.u8(or: bad))
        let nextHopBytes = try v.take(nextHopLength, or: bad)
        _ = try v.u8(or: bad)  // reserved
        guard let family = family(afi), safi == SAFI.unicast.rawValue else {
            // A family we did not negotiate: not ours to interpret (RFC 4760 §7).
            return MPReach(afi: afi, safi: safi, nextHops: [], nlri: [])
        }
        let size = family == .ipv4 ? 4 : 16
        guard nextHopLength > 0, nextHopLength % size == 0, nextHopLength <= 2 * size else { throw bad }
        let nextHops = stride(from: 0, to: nextHopLength, by: size).compactMap {
            IPAddress(bytes: nextHopBytes[$0..<$0 + size])
        }
        return MPReach(
            afi: afi, safi: safi, nextHops: nextHops,
            nlri: try BGPUpdate.decodePrefixes(&v, family: family, what: "MP_REACH_NLRI"))
    }

    static func decodeMPUnreach(_ v: inout WireReader) throws(BGPError) -> MPUnreach {
        let bad = BGPError.updateError(9, "malformed MP_UNREACH_NLRI")
        let afi = try v.u16(or: bad)
        let safi = try v.u8(or: bad)
        guard let family = family(afi), safi == SAFI.unicast.rawValue else {
            return MPUnreach(afi: afi, safi: safi, withdrawn: [])
        }
        return MPUnreach(
            afi: afi, safi: safi, withdrawn: try BGPUpdate.decodePrefixes(&v, family: family, what: "MP_UNREACH_NLRI"))
    }

    // MARK: Encoding

    func encode(into w: inout WireWriter, options: BGPMessage.Options) {
        func attribute(_ flags: UInt8, _ type: UInt8, _ value: [UInt8]) {
            if value.count > 255 {
                w.u8(flags | 0x10)
                w.u8(type)
                w.u16(UInt16(value.count))
            } else {
                w.u8(flags)
                w.u8(type)
                w.u8(UInt8(value.count))
            }
            w.append(value)
        }
        if let origin { attribute(0x40, 1, [origin.rawValue]) }
        if let asPath {
            var v = WireWriter()
            for segment in asPath {
                v.u8(segment.kind.rawValue)
                v.u8(UInt8(segment.asns.count))
                for asn in segment.asns {
                    if options.fourOctetAS { v.u32(asn) } else { v.u16(asn > 0xFFFF ? BGPOpen.asTrans : UInt16(asn)) }
                }
            }
            attribute(0x40, 2, v.bytes)
            // Towards a 2-octet AS speaker, AS_TRANS stands in for a 4-octet AS: AS4_PATH carries the real
            // path, without confederation segments (RFC 6793 §4.2.2).
            if !options.fourOctetAS, asPath.contains(where: { $0.asns.contains { $0 > 0xFFFF } }) {
                var v4 = WireWriter()
                for segment in asPath where segment.kind == .sequence || segment.kind == .set {
                    v4.u8(segment.kind.rawValue)
                    v4.u8(UInt8(segment.asns.count))
                    for asn in segment.asns { v4.u32(asn) }
                }
                attribute(0xC0, 17, v4.bytes)
            }
        }
        if let nextHop { attribute(0x40, 3, nextHop.bytes) }
        if let med {
            var v = WireWriter()
            v.u32(med)
            attribute(0x80, 4, v.bytes)
        }
        if let localPref {
            var v = WireWriter()
            v.u32(localPref)
            attribute(0x40, 5, v.bytes)
        }
        if atomicAggregate { attribute(0x40, 6, []) }
        if let aggregator {
            var v = WireWriter()
            if options.fourOctetAS {
                v.u32(aggregator.asn)
            } else {
                v.u16(aggregator.asn > 0xFFFF ? BGPOpen.asTrans : UInt16(aggregator.asn))
            }
            v.append(aggregator.address.bytes)
            attribute(0xC0, 7, v.bytes)
            if !options.fourOctetAS, aggregator.asn > 0xFFFF {
                var v4 = WireWriter()
                v4.u32(aggregator.asn)
                v4.append(aggregator.address.bytes)
                attribute(0xC0, 18, v4.bytes)
            }
        }
        if let communities {
            var v = WireWriter()
            for c in communities { v.u32(c) }
            attribute(0xC0, 8, v.bytes)
        }
        if let originatorID {
            var v = WireWriter()
            v.u32(originatorID)
            attribute(0x80, 9, v.bytes)
        }
        if let clusterList, !clusterList.isEmpty {
            var v = WireWriter()
            for id in clusterList { v.u32(id) }
            attribute(0x80, 10, v.bytes)
        }
        if let mpReach {
            var v = WireWriter()
            v.u16(mpReach.afi)
            v.u8(mpReach.safi)
            let hops = mpReach.nextHops.flatMap(\.bytes)
            v.u8(UInt8(hops.count))
            v.append(hops)
            v.u8(0)
            for prefix in mpReach.nlri { BGPUpdate.encodePrefix(prefix, into: &v) }
            attribute(0x80, 14, v.bytes)
        }
        if let mpUnreach {
            var v = WireWriter()
            v.u16(mpUnreach.afi)
            v.u8(mpUnreach.safi)
            for prefix in mpUnreach.withdrawn { BGPUpdate.encodePrefix(prefix, into: &v) }
            attribute(0x80, 15, v.bytes)
        }
        // Unknown optional transitive attributes go on, marked partial (RFC 4271 §5); others do not.
        // AS4_PATH and AS4_AGGREGATOR are ours to send (above), never passed on as they came.
        for raw in unknown where raw.isTransitive && raw.type != 17 && raw.type != 18 {
            attribute((raw.flags & ~0x10) | 0x20, raw.type, raw.value)
        }
    }
}
