import KubeModel
import Planning

/// The kernel's ipsets as libipset lists them (`ipset save` syntax), read into values. Pure, so that
/// the reading is tested without root: `IPSetSession.list` hands it what libipset printed.
public enum IPSetListing {
    /// Every set whose name has one of the prefixes, in the listing's order, with its members.
    public static func sets(_ text: String, prefixes: [String]) -> [IPSetSpec] {
        var sets: [String: IPSetSpec] = [:]
        var order: [String] = []
        for raw in text.split(separator: "\n") {
            let words = raw.split(separator: " ", maxSplits: 2).map(String.init)
            guard words.count >= 3, prefixes.contains(where: { words[1].hasPrefix($0) }) else { continue }
            switch words[0] {
            case "create":
                let options = words[2].split(separator: " ")
                let type = options.first.map(String.init) ?? ""
                let family: IPAddress.Family = options.contains("inet6") ? .ipv6 : .ipv4
                sets[words[1]] = IPSetSpec(
                    name: words[1], type: IPSetSpec.SetType(rawValue: type) ?? .hashIP, members: [], comment: "",
                    family: family)
                order.append(words[1])
            case "add":
                guard let set = sets[words[1]] else { continue }
                sets[words[1]]?.members.append(member(words[2], type: set.type, family: set.family))
            default: continue
            }
        }
        return order.compactMap { sets[$0] }
    }

    /// One member as the kernel prints it in a set of `type` and `family`, normalised as the kernel
    /// holds it: in hash:net a bare address is its host prefix (`10.0.0.1` is `10.0.0.1/32`), and
    /// addresses are numbers, however they are spelt. Text that is not exactly a member of that type and
    /// family (extensions such as `timeout` or `comment`, another type's syntax) is `.unparsed`, which
    /// no plan holds: the set is refilled rather than taken for right.
    public static func member(_ text: String, type: IPSetSpec.SetType, family: IPAddress.Family) -> IPSetMember {
        parse(text, type: type).flatMap { $0.family == family ? $0 : nil } ?? .unparsed(text)
    }

    private static func parse(_ text: String, type: IPSetSpec.SetType) -> IPSetMember? {
        let words = text.split(separator: " ", omittingEmptySubsequences: false)
        switch type {
        case .hashIP:
            guard words.count == 1, let address = IPAddress(words[0]) else { return nil }
            return .address(address)
        case .hashNet:
            guard words.count == 1 || (words.count == 2 && words[1] == "nomatch") else { return nil }
            let prefix: CIDR
            if words[0].contains("/") {
                guard let cidr = CIDR(words[0]) else { return nil }
                prefix = cidr
            } else {
                guard let address = IPAddress(words[0]) else { return nil }
                prefix = CIDR(network: address, prefixLength: address.bitWidth)
            }
            return .net(prefix, nomatch: words.count == 2)
        case .hashIPPort:
            // `10.0.0.1,tcp:8080`, `fd00::1,udp:53`: an IPv6 address has colons but no comma.
            guard words.count == 1 else { return nil }
            let parts = words[0].split(separator: ",", omittingEmptySubsequences: false)
            guard parts.count == 2, let address = IPAddress(parts[0]) else { return nil }
            let service = parts[1].split(separator: ":", omittingEmptySubsequences: false)
            guard service.count == 2, service[0] == service[0].lowercased(),
                let proto = PortProtocol(caseInsensitive: service[0]),
                let port = UInt16(service[1]), String(port) == service[1]
            else { return nil }
            return .addressPort(address, proto, port: port)
        }
    }
}
