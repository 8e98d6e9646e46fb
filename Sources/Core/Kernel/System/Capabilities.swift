import Foundation
import KubeModel
import Planning

#if canImport(Glibc)
import Glibc
#endif

public enum Capabilities {
    /// CAP_NET_ADMIN (12): iptables, ipsets, IPVS, routes and links all need it.
    public static let netAdmin = 12

    /// Whether this process has `capability` in its effective set (from /proc/self/status).
    public static func effective(_ capability: Int) -> Bool {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = text.split(separator: "\n").first(where: { $0.hasPrefix("CapEff:") }),
            let mask = UInt64(line.dropFirst("CapEff:".count).trimmingCharacters(in: .whitespaces), radix: 16)
        else { return geteuid() == 0 }
        return mask & (1 << UInt64(capability)) != 0
    }
}
