import Foundation
import KubeModel

/// The node checks of one run, in the order they were made, with what follows from them: the exit status
/// of `krctl doctor` and the failures that keep an enabled controller from being ready.
public struct DoctorReport: Codable, Sendable, Equatable {
    public var checks: [DoctorCheck]

    public init(checks: [DoctorCheck]) { self.checks = checks }

    /// 0 when nothing failed or warned, 1 with warnings, 2 with a failure (SKIP counts as neither).
    public var exitStatus: Int32 { Int32(checks.map(\.status.severity).max() ?? 0) }

    /// The failed checks that one of `enabled` needs: while any is left, the agent is not ready.
    public func blocking(_ enabled: Set<DoctorController>) -> [DoctorCheck] {
        checks.filter { $0.status == .fail && !enabled.isDisjoint(with: $0.controllers) }
    }

    /// How many checks have each status.
    public var counts: [DoctorCheck.Status: Int] {
        Dictionary(grouping: checks, by: \.status).mapValues(\.count)
    }

    public subscript(id: String) -> DoctorCheck? { checks.first { $0.id == id } }
}
