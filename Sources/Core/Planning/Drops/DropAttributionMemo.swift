import Foundation
import KubeModel

/// `DropAttribution` once per flow: packets alike in everything attribution reads (the log prefix, the
/// addresses, the protocol, the destination port, the original destination) get the first one's `Drop`, with
/// their own time and bridge port. A denied flow logs packet after packet; each attribution explains the flow
/// through the policy engine and walks the kernel's rules, which at thousands of rules costs milliseconds.
/// Pure: a new `DropAttribution` (the cluster or the kernel changed) means a new memo.
public struct DropAttributionMemo: Sendable {
    struct Key: Hashable {
        var prefix: String
        var source: IPAddress
        var destination: IPAddress
        var protocolNumber: UInt8
        var destinationPort: Int?
        var original: IPAddress?
        var originalPort: Int?

        init?(_ packet: LoggedPacket) {
            guard let header = packet.header else { return nil }
            prefix = packet.prefix
            source = header.source
            destination = header.destination
            protocolNumber = header.protocolNumber
            destinationPort = header.destinationPort
            original = packet.original?.address
            originalPort = packet.original?.port
        }
    }

    public let attribution: DropAttribution
    /// Flows remembered; past it the memo starts again (a scan of many ports cannot grow it without bound).
    public let limit: Int
    private var drops: [Key: Drop] = [:]
    private var suggestions: [Key: DropSuggestion?] = [:]
    /// Packets answered from the memo, and packets attributed.
    public private(set) var hits = 0
    public private(set) var misses = 0

    public init(_ attribution: DropAttribution, limit: Int = 4_096) {
        self.attribution = attribution
        self.limit = limit
    }

    /// `DropAttribution.attribute`, with the packet's own time and bridge port.
    public mutating func attribute(_ packet: LoggedPacket) -> Drop {
        guard let key = Key(packet) else { return attribution.attribute(packet) }
        var drop: Drop
        if let known = drops[key] {
            hits += 1
            drop = known
        } else {
            misses += 1
            drop = attribution.attribute(packet)
            if drops.count >= limit { drops.removeAll(keepingCapacity: true) }
            drops[key] = drop
        }
        drop.time = packet.time
        drop.interface = packet.bridgePortIn
        return drop
    }

    /// `DropAttribution.suggestion`, once per flow.
    public mutating func suggestion(_ packet: LoggedPacket) -> DropSuggestion? {
        guard let key = Key(packet) else { return attribution.suggestion(packet) }
        if let known = suggestions[key] { return known }
        let suggestion = attribution.suggestion(packet)
        if suggestions.count >= limit { suggestions.removeAll(keepingCapacity: true) }
        suggestions[key] = .some(suggestion)
        return suggestion
    }
}
