/// A cluster Node: its addresses (peering, NodePort) and pod CIDRs (routing).
public struct Node: Sendable, Hashable {
    public struct Address: Sendable, Hashable {
        public var type: String
        public var address: String
    }

    public var meta: ObjectMeta
    public var podCIDRs: [CIDR]
    public var addresses: [Address]

    public var name: String { meta.name }

    /// The node's InternalIP addresses that parse as IPs (hostnames are skipped).
    public var internalIPs: [IPAddress] {
        addresses.filter { $0.type == "InternalIP" }.compactMap { IPAddress($0.address) }
    }

    init(_ fields: Fields) throws {
        meta = try ObjectMeta(fields, namespaced: false)
        let spec = try fields.fields("spec") ?? Fields([:], path: "spec")
        var cidrs: [CIDR] = []
        if let list = try spec.list("podCIDRs") {
            for item in list {
                guard case .string(let text) = item.value else { throw FieldError(item.path, "expected a string") }
                cidrs.append(try parseCIDR(text, at: item.path))
            }
        }
        if cidrs.isEmpty, let text = try spec.string("podCIDR"), !text.isEmpty {
            cidrs.append(try parseCIDR(text, at: spec.child("podCIDR")))
        }
        podCIDRs = cidrs
        let status = try fields.fields("status") ?? Fields([:], path: "status")
        addresses = try (status.objects("addresses") ?? []).map {
            Address(type: try $0.string("type") ?? "", address: try $0.string("address") ?? "")
        }
    }
}
