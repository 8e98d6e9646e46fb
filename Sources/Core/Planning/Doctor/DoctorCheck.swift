import Foundation
import KubeModel

/// The agent's controllers, as far as a node check concerns them: a failing check keeps `/readyz` red
/// only while a controller that needs it is enabled.
public enum DoctorController: String, Codable, Sendable, CaseIterable, Comparable {
    case firewall
    case serviceProxy = "service-proxy"
    case router

    public static func < (a: Self, b: Self) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }

    /// How the operator knows it: the agent's flag.
    public var flag: String { "--run-\(rawValue)" }
}

/// One result of `krctl doctor` (and of the agent's periodic node checks): what was found, why it
/// matters, how to fix it, and the kube-router issue it prevents.
public struct DoctorCheck: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable, CaseIterable {
        /// Nothing to do.
        case ok = "OK"
        /// Works now, but a known way to break (or to be confused): worth fixing.
        case warn = "WARN"
        /// Something an enabled controller needs is missing: it cannot work as it should.
        case fail = "FAIL"
        /// Could not be evaluated here (a file absent, no API, not root), with the reason.
        case skip = "SKIP"

        /// FAIL above WARN above OK and SKIP: the worst status decides the exit code.
        public var severity: Int {
            switch self {
            case .fail: 2
            case .warn: 1
            case .ok, .skip: 0
            }
        }
    }

    /// Stable, kebab-case (`sysctl-ip_forward`, `module-xt_set`): what scripts and alerts key on.
    public var id: String
    public var status: Status
    /// What was found, and for a problem why it matters.
    public var message: String
    /// What to do; nil when nothing is to be done.
    public var fix: String?
    /// The kube-router issue (URL) this check prevents, when there is one.
    public var issue: String?
    /// The controllers that need this to be right (empty: the node's own business, such as pods' CNI).
    public var controllers: [DoctorController]

    public init(
        id: String, status: Status, message: String, fix: String? = nil, issue: String? = nil,
        controllers: [DoctorController] = []
    ) {
        self.id = id
        self.status = status
        self.message = message
        self.fix = status == .ok ? nil : fix
        self.issue = issue
        self.controllers = controllers.sorted()
    }
}
