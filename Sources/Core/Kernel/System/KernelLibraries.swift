import CIPSet
import CIPTables
import CNetlink
import Foundation
import KubeModel
import Planning

/// Versions of the kernel libraries we link, for `krctl version` and as a link check in tests.
/// Nothing here touches the kernel.
public enum KernelLibraries {
    public static var versions: [(name: String, version: String)] {
        [
            ("libnl", String(cString: kr_nl_version()).replacingOccurrences(of: "libnl ", with: "")),
            ("libipset", kr_ipset_link_check() == 0 ? "linked" : "unavailable"),
            ("libiptc", String(cString: kr_iptc_strerror(0)).isEmpty ? "unavailable" : "linked"),
        ]
    }
}
