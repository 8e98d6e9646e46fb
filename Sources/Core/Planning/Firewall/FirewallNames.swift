import KubeModel

/// Names of the kernel objects the firewall owns. They follow kube-router's (operators know them),
/// carry a stable hash of what they stand for, and fit the kernel's limits: 28 characters for a chain
/// (XT_EXTENSION_MAXNAMELEN - 1) and 31 for a set (IPSET_MAXNAMELEN - 1).
public enum FirewallNames {
    public static let inputChain = "KUBE-ROUTER-INPUT"
    public static let forwardChain = "KUBE-ROUTER-FORWARD"
    public static let outputChain = "KUBE-ROUTER-OUTPUT"
    /// The mark a policy chain sets when one of its rules allows the packet.
    public static let allowMark: UInt32 = 0x10000
    /// NFLOG group of denied packets (kube-router's).
    public static let logGroup = 100

    /// The NFLOG prefix of a pod chain's direction: `kube-router deny ingress KUBE-POD-FW-…`, 53 bytes (the
    /// kernel keeps 63). Unique per chain and direction, so that it is a key of `FirewallPlan.denials`.
    public static func logPrefix(chain: String, direction: NetworkPolicy.Direction) -> String {
        "kube-router deny \(direction.word) \(chain)"
    }

    /// `KUBE-POD-FW-<16 hex>` for a local pod.
    public static func podChain(_ podKey: String) -> String { podChainPrefix + hash(podKey) }
    public static let podChainPrefix = "KUBE-POD-FW-"

    /// `KUBE-NWPLCY-<16 hex>` for one direction of one policy.
    public static func policyChain(_ policyKey: String, _ direction: NetworkPolicy.Direction) -> String {
        "KUBE-NWPLCY-" + hash("\(policyKey)|\(direction.rawValue)")
    }

    /// `KUBE-SRC-…` (peers of an ingress rule), `KUBE-DST-…` (peers of an egress rule, or named-port
    /// targets), with a suffix telling the set's content.
    public static func set(_ prefix: String, _ identity: String, family: IPAddress.Family) -> String {
        // One hash per family: IPv4 and IPv6 sets are separate kernel objects.
        "\(prefix)-" + hash("\(identity)|\(family.rawValue)")
    }

    /// 64-bit FNV-1a, as 16 hex digits: stable across runs and machines.
    public static func hash(_ text: String) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            h ^= UInt64(byte)
            h &*= 0x0000_0100_0000_01B3
        }
        let hex = String(h, radix: 16, uppercase: true)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
