import KubeModel
import Planning

/// How the controllers reach the kernel: each opens what it needs per sync. `real` is the kernel;
/// tests hand the controllers fakes, so the sync logic runs without root.
public struct KernelBackends: Sendable {
    public var ipsets: @Sendable () throws -> any IPSetBackend
    public var iptables: IPTablesSync.Opener
    public var ipvs: @Sendable () throws -> any IPVSBackend
    public var links: @Sendable () throws -> any LinkBackend
    /// Sets a kernel setting (`net.ipv4.ip_forward`) to a value when it differs.
    public var sysctl: @Sendable (_ name: String, _ value: String) throws -> Void

    public init(
        ipsets: @escaping @Sendable () throws -> any IPSetBackend, iptables: @escaping IPTablesSync.Opener,
        ipvs: @escaping @Sendable () throws -> any IPVSBackend, links: @escaping @Sendable () throws -> any LinkBackend,
        sysctl: @escaping @Sendable (_ name: String, _ value: String) throws -> Void
    ) {
        self.ipsets = ipsets
        self.iptables = iptables
        self.ipvs = ipvs
        self.links = links
        self.sysctl = sysctl
    }

    public static let real = real(procSysNet: Sysctl.defaultProcSysNet)

    /// The kernel, with the `net.` sysctls written under `procSysNet` (`--proc-sys-net-path`).
    public static func real(procSysNet: String) -> KernelBackends {
        KernelBackends(
            ipsets: { try IPSetSession() }, iptables: IPTablesSync.kernel, ipvs: { try IPVSClient() },
            links: { try NetworkInterfaces() },
            sysctl: { try Sysctl.ensure($0, $1, procSysNet: procSysNet) })
    }
}
