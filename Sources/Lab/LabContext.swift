import Foundation
import KubeAPI
import KubeModel

/// What every part of the emulator shares: the lab's layout, the API client (as admin: the emulator is
/// kubelet and controllers at once), the service-account tokens the API server knows, where our binaries are.
struct LabContext: Sendable {
    let layout: LabLayout
    let client: KubeClient
    /// Service account (`system:serviceaccount:NS:NAME`) → its token.
    let tokens: [String: String]
    /// kube-router, krctl and kube-test-server: first on every container's PATH (they stand in for the image).
    let binDir: String
    let mountPoints: HostMountPoints

    var containerPath: String { "\(binDir):/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" }
    var caFile: String { "\(layout.pki)/ca.crt" }

    static func timestamp(_ date: Date = Date()) -> String {
        Timestamp.string(date)
    }

    static func date(_ text: String?) -> Date? {
        text.flatMap(Timestamp.date)
    }
}
