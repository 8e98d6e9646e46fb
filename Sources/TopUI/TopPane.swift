/// The dashboard's panes, in the order of their keys `1`–`6`.
public enum TopPane: String, Sendable, CaseIterable, Codable {
    case overview, services, policy, drops, bgp, health

    public var title: String {
        switch self {
        case .overview: "Overview"
        case .services: "Services"
        case .policy: "Policy"
        case .drops: "Drops"
        case .bgp: "BGP"
        case .health: "Health"
        }
    }

    public var number: Int { (Self.allCases.firstIndex(of: self) ?? 0) + 1 }

    public var next: TopPane { Self.allCases[number % Self.allCases.count] }
    public var previous: TopPane { Self.allCases[(number + Self.allCases.count - 2) % Self.allCases.count] }
}
