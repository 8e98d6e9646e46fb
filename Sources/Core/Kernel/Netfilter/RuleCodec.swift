import CIPTables
import Foundation
import KubeModel
import Planning

/// `Rule` <-> `ipt_entry` bytes, with the match and target revisions iptables-legacy 1.8 writes on a
/// 6.x kernel. The one place that knows the layouts: the executor writes with it and every reader
/// (agent reconcile, krctl's kernel walk) reads with it.
enum RuleCodec {
    struct Failure: Error, CustomStringConvertible { var description: String }

    static let conntrackOrder: [(String, UInt16)] = [
        ("INVALID", 1), ("NEW", 1 << 3), ("RELATED", 1 << 2), ("ESTABLISHED", 1 << 1), ("UNTRACKED", 1 << 8),
    ]

    static func protocolNumber(_ p: PortProtocol) -> UInt16 {
        switch p {
        case .tcp: 6
        case .udp: 17
        case .sctp: 132
        }
    }

    static func copy(_ text: String, into buffer: UnsafeMutableRawBufferPointer) {
        let bytes = Array(text.utf8.prefix(buffer.count - 1))
        bytes.withUnsafeBytes { buffer.copyMemory(from: $0) }
        buffer[bytes.count] = 0
    }

    static func string(_ buffer: UnsafeRawBufferPointer) -> String {
        String(decoding: buffer.prefix { $0 != 0 }, as: UTF8.self)
    }

    static func add<T>(_ builder: inout kr_rule, _ name: String, _ revision: UInt8, _ value: inout T) throws {
        let rc = withUnsafeBytes(of: &value) { kr_rule_add_match(&builder, name, revision, $0.baseAddress, $0.count) }
        guard rc == 0 else { throw Failure(description: "out of memory") }
    }

    // MARK: - Encoding

    static func encode(_ rule: Rule, into builder: inout kr_rule) throws {
        let v6 = builder.v6 != 0
        for (cidr, isSource) in [(rule.source, true), (rule.destination, false)] {
            guard let cidr else { continue }
            guard (cidr.family == .ipv6) == v6 else {
                throw Failure(
                    description:
                        "\(cidr.family.rawValue) address \(cidr) in an \(v6 ? "IPv6" : "IPv4") rule (\(rule.comment))")
            }
            if v6 {
                var bytes = [UInt8](repeating: 0, count: 16)
                for i in 0..<8 { bytes[i] = UInt8(truncatingIfNeeded: cidr.network.high >> (56 - 8 * i)) }
                for i in 0..<8 { bytes[8 + i] = UInt8(truncatingIfNeeded: cidr.network.low >> (56 - 8 * i)) }
                kr_rule_set_ip6(&builder, isSource ? 1 : 0, bytes, Int32(cidr.prefixLength))
            } else {
                kr_rule_set_ip(
                    &builder, isSource ? 1 : 0, UInt32(truncatingIfNeeded: cidr.network.low), Int32(cidr.prefixLength))
            }
        }
        if let proto = rule.proto { kr_rule_set_proto(&builder, protocolNumber(proto)) }
        for set in rule.sets {
            let index = kr_ipset_index(set.name)
            guard index >= 0 else {
                throw Failure(description: "ipset \(set.name) does not exist (rule \(rule.comment))")
            }
            var info = xt_set_info_match_v4()
            info.match_set.index = ip_set_id_t(index)
            info.match_set.dim = UInt8(set.flags.count)
            var flags: UInt8 = set.negated ? UInt8(IPSET_INV_MATCH.rawValue) : 0
            for (i, flag) in set.flags.enumerated() where flag == "src" { flags |= UInt8(1 << (i + 1)) }
            info.match_set.flags = flags
            try add(&builder, "set", 4, &info)
        }
        if let proto = rule.proto, let ports = rule.destinationPorts {
            let low = UInt16(ports.lowerBound)
            let high = UInt16(ports.upperBound)
            switch proto {
            case .tcp:
                var info = xt_tcp()
                info.spts = (0, 0xFFFF)
                info.dpts = (low, high)
                try add(&builder, "tcp", 0, &info)
            case .udp:
                var info = xt_udp()
                info.spts = (0, 0xFFFF)
                info.dpts = (low, high)
                try add(&builder, "udp", 0, &info)
            case .sctp:
                var info = xt_sctp_info()
                info.spts = (0, 0xFFFF)
                info.dpts = (low, high)
                info.flags = UInt32(XT_SCTP_DEST_PORTS)
                try add(&builder, "sctp", 0, &info)
            }
        }
        if !rule.conntrackStates.isEmpty {
            var info = xt_conntrack_mtinfo3()
            info.match_flags = UInt16(XT_CONNTRACK_STATE)
            for state in rule.conntrackStates {
                guard let bit = conntrackOrder.first(where: { $0.0 == state })?.1 else {
                    throw Failure(description: "unknown conntrack state \(state)")
                }
                info.state_mask |= bit
            }
            try add(&builder, "conntrack", 3, &info)
        }
        if rule.sourceIsLocal {
            var info = xt_addrtype_info_v1()
            info.source = UInt16(XT_ADDRTYPE_LOCAL)
            try add(&builder, "addrtype", 1, &info)
        }
        if let mark = rule.mark {
            var info = xt_mark_mtinfo1()
            info.mark = mark.value
            info.mask = mark.mask
            info.invert = mark.negated ? 1 : 0
            try add(&builder, "mark", 1, &info)
        }
        if let perMinute = rule.limitPerMinute {
            var info = xt_rateinfo()
            info.avg = UInt32(XT_LIMIT_SCALE) * 60 / UInt32(perMinute)
            info.burst = 10
            try add(&builder, "limit", 0, &info)
        }
        if rule.ipvsMasquerade {
            var info = xt_ipvs_mtinfo()
            info.bitmask = UInt8(XT_IPVS_IPVS_PROPERTY | XT_IPVS_DIR | XT_IPVS_METHOD)
            info.fwd_method = 0  // IP_VS_CONN_F_MASQ
            try add(&builder, "ipvs", 0, &info)
        }
        var comment = xt_comment_info()
        withUnsafeMutableBytes(of: &comment.comment) { copy(rule.comment, into: $0) }
        try add(&builder, "comment", 0, &comment)

        let rc: Int32
        switch rule.target {
        case .jump(let chain): rc = kr_rule_finish(&builder, chain, 0, nil, 0, 1)
        case .accept: rc = kr_rule_finish(&builder, "ACCEPT", 0, nil, 0, 1)
        case .drop: rc = kr_rule_finish(&builder, "DROP", 0, nil, 0, 1)
        case .return: rc = kr_rule_finish(&builder, "RETURN", 0, nil, 0, 1)
        case .reject where v6:
            var info = ip6t_reject_info()
            info.with = UInt32(IP6T_ICMP6_PORT_UNREACH.rawValue)
            rc = withUnsafeBytes(of: &info) { kr_rule_finish(&builder, "REJECT", 0, $0.baseAddress, $0.count, 0) }
        case .reject:
            var info = ipt_reject_info()
            info.with = IPT_ICMP_PORT_UNREACHABLE
            rc = withUnsafeBytes(of: &info) { kr_rule_finish(&builder, "REJECT", 0, $0.baseAddress, $0.count, 0) }
        case .nflog(let group, let prefix):
            var info = xt_nflog_info()
            info.group = UInt16(group)
            info.threshold = UInt16(XT_NFLOG_DEFAULT_THRESHOLD)
            withUnsafeMutableBytes(of: &info.prefix) { copy(prefix, into: $0) }
            rc = withUnsafeBytes(of: &info) { kr_rule_finish(&builder, "NFLOG", 0, $0.baseAddress, $0.count, 0) }
        case .mark(let value, let mask):
            var info = xt_mark_tginfo2()
            info.mark = value
            info.mask = mask
            rc = withUnsafeBytes(of: &info) { kr_rule_finish(&builder, "MARK", 2, $0.baseAddress, $0.count, 0) }
        case .masquerade where v6:
            var info = nf_nat_range()
            rc = withUnsafeBytes(of: &info) { kr_rule_finish(&builder, "MASQUERADE", 0, $0.baseAddress, $0.count, 0) }
        case .masquerade:
            var info = nf_nat_ipv4_multi_range_compat()
            info.rangesize = 1
            rc = withUnsafeBytes(of: &info) { kr_rule_finish(&builder, "MASQUERADE", 0, $0.baseAddress, $0.count, 0) }
        }
        guard rc == 0 else { throw Failure(description: "out of memory") }
    }

    // MARK: - Decoding

    /// An entry of either family, reduced to what decoding needs: the header's fields, the matches
    /// (name and data) and the target's data.
    struct EntryView {
        var source: CIDR?
        var destination: CIDR?
        var proto: UInt16
        var matches: [(name: String, data: UnsafeRawPointer)]
        var targetData: UnsafeRawPointer
    }

    static func view(_ e: UnsafePointer<ipt_entry>) -> EntryView {
        let ip = e.pointee.ip
        func cidr(_ address: in_addr, _ mask: in_addr) -> CIDR? {
            guard mask.s_addr != 0 else { return nil }
            return CIDR(
                network: IPAddress(v4: UInt32(bigEndian: address.s_addr)),
                prefixLength: UInt32(bigEndian: mask.s_addr).nonzeroBitCount)
        }
        var matches: [(String, UnsafeRawPointer)] = []
        var offset = 0
        while true {
            var match: UnsafePointer<xt_entry_match>?
            offset = kr_entry_match(e, offset, &match)
            guard offset != 0, let m = match else { break }
            matches.append((withUnsafeBytes(of: m.pointee.u.user.name) { string($0) }, kr_match_data(m)!))
        }
        return EntryView(
            source: cidr(ip.src, ip.smsk), destination: cidr(ip.dst, ip.dmsk), proto: ip.proto,
            matches: matches, targetData: kr_target_data(kr_entry_target(e)!)!)
    }

    static func view(_ e: UnsafePointer<ip6t_entry>) -> EntryView {
        let ip = e.pointee.ipv6
        func cidr(_ address: in6_addr, _ mask: in6_addr) -> CIDR? {
            let m = withUnsafeBytes(of: mask) { Array($0) }
            let a = withUnsafeBytes(of: address) { Array($0) }
            let length = m.reduce(0) { $0 + $1.nonzeroBitCount }
            guard length > 0 else { return nil }
            var h: UInt64 = 0
            var l: UInt64 = 0
            for i in 0..<8 { h = h << 8 | UInt64(a[i]) }
            for i in 8..<16 { l = l << 8 | UInt64(a[i]) }
            return CIDR(network: IPAddress(v6: h, l), prefixLength: length)
        }
        var matches: [(String, UnsafeRawPointer)] = []
        var offset = 0
        while true {
            var match: UnsafePointer<xt_entry_match>?
            offset = kr_entry6_match(e, offset, &match)
            guard offset != 0, let m = match else { break }
            matches.append((withUnsafeBytes(of: m.pointee.u.user.name) { string($0) }, kr_match_data(m)!))
        }
        let proto = ip.flags & UInt8(IP6T_F_PROTO) != 0 ? ip.proto : 0
        return EntryView(
            source: cidr(ip.src, ip.smsk), destination: cidr(ip.dst, ip.dmsk), proto: proto,
            matches: matches, targetData: kr_target_data(kr_entry6_target(e)!)!)
    }

    static func decode(_ entry: EntryView, chain: String, target: String) -> Rule {
        var rule = Rule(chain: chain, target: .accept, comment: "")
        rule.source = entry.source
        rule.destination = entry.destination
        rule.proto = PortProtocol.allCases.first { protocolNumber($0) == entry.proto }
        var unknown: [String] = []
        for (name, data) in entry.matches {
            switch name {
            case "comment":
                let info = data.assumingMemoryBound(to: xt_comment_info.self).pointee
                rule.comment = withUnsafeBytes(of: info.comment) { string($0) }
            case "set":
                let info = data.assumingMemoryBound(to: xt_set_info_match_v4.self).pointee
                var nameBuffer = [CChar](repeating: 0, count: 32)
                let setName =
                    kr_ipset_name(Int32(info.match_set.index), &nameBuffer, 32) == 0
                    ? String(decoding: nameBuffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                    : "#\(info.match_set.index)"
                let flags = (0..<Int(info.match_set.dim)).map {
                    info.match_set.flags & UInt8(1 << ($0 + 1)) != 0 ? "src" : "dst"
                }
                rule.sets.append(
                    .init(
                        name: setName, flags: flags,
                        negated: info.match_set.flags & UInt8(IPSET_INV_MATCH.rawValue) != 0))
            case "tcp":
                let info = data.assumingMemoryBound(to: xt_tcp.self).pointee
                rule.destinationPorts = Int(info.dpts.0)...Int(info.dpts.1)
            case "udp":
                let info = data.assumingMemoryBound(to: xt_udp.self).pointee
                rule.destinationPorts = Int(info.dpts.0)...Int(info.dpts.1)
            case "sctp":
                let info = data.assumingMemoryBound(to: xt_sctp_info.self).pointee
                rule.destinationPorts = Int(info.dpts.0)...Int(info.dpts.1)
            case "conntrack":
                let info = data.assumingMemoryBound(to: xt_conntrack_mtinfo3.self).pointee
                rule.conntrackStates = conntrackOrder.filter { info.state_mask & $0.1 != 0 }.map(\.0)
            case "addrtype":
                let info = data.assumingMemoryBound(to: xt_addrtype_info_v1.self).pointee
                rule.sourceIsLocal = info.source & UInt16(XT_ADDRTYPE_LOCAL) != 0
            case "mark":
                let info = data.assumingMemoryBound(to: xt_mark_mtinfo1.self).pointee
                rule.mark = (info.mark, info.mask, info.invert != 0)
            case "limit":
                let info = data.assumingMemoryBound(to: xt_rateinfo.self).pointee
                rule.limitPerMinute = info.avg == 0 ? nil : Int(UInt32(XT_LIMIT_SCALE) * 60 / info.avg)
            case "ipvs":
                let info = data.assumingMemoryBound(to: xt_ipvs_mtinfo.self).pointee
                let wanted = UInt8(XT_IPVS_IPVS_PROPERTY | XT_IPVS_DIR | XT_IPVS_METHOD)
                if info.bitmask == wanted && info.invert == 0 && info.fwd_method == 0 /* IP_VS_CONN_F_MASQ */ {
                    rule.ipvsMasquerade = true
                } else {
                    unknown.append("ipvs")
                }
            default:
                unknown.append(name)
            }
        }
        let targetData = entry.targetData
        switch target {
        case "ACCEPT": rule.target = .accept
        case "DROP": rule.target = .drop
        case "RETURN": rule.target = .return
        case "REJECT": rule.target = .reject
        case "NFLOG":
            let info = targetData.assumingMemoryBound(to: xt_nflog_info.self).pointee
            rule.target = .nflog(group: Int(info.group), prefix: withUnsafeBytes(of: info.prefix) { string($0) })
        case "MASQUERADE": rule.target = .masquerade
        case "MARK":
            let info = targetData.assumingMemoryBound(to: xt_mark_tginfo2.self).pointee
            rule.target = .mark(value: info.mark, mask: info.mask)
        default:
            rule.target = .jump(target)
        }
        if !unknown.isEmpty { rule.comment += " [foreign matches: \(unknown.joined(separator: ","))]" }
        return rule
    }
}
