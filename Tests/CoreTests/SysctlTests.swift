import Foundation
import Testing

@testable import Kernel

/// `--proc-sys-net-path`: the agent's `net.` sysctls go to the host's /proc/sys/net mounted elsewhere (the
/// restricted DaemonSet's /host/proc/sys/net); the other settings stay under /proc/sys. Written here into a
/// directory standing in for the mount, through the backends the controllers use.
@Suite struct SysctlTests {
    @Test func netSettingsLiveUnderTheGivenPath() {
        #expect(Sysctl.path("net.ipv4.ip_forward") == "/proc/sys/net/ipv4/ip_forward")
        #expect(
            Sysctl.path("net.ipv4.conf.all.arp_ignore", procSysNet: "/host/proc/sys/net")
                == "/host/proc/sys/net/ipv4/conf/all/arp_ignore")
        #expect(Sysctl.path("kernel.osrelease", procSysNet: "/host/proc/sys/net") == "/proc/sys/kernel/osrelease")
    }

    @Test func theBackendsWriteUnderTheGivenPath() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("kr-sysctl-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/ipv4/vs", withIntermediateDirectories: true)
        try "0\n".write(toFile: root + "/ipv4/vs/conntrack", atomically: true, encoding: .utf8)
        try "1\n".write(toFile: root + "/ipv4/ip_forward", atomically: true, encoding: .utf8)
        let backends = KernelBackends.real(procSysNet: root)
        try backends.sysctl("net.ipv4.vs.conntrack", "1")
        try backends.sysctl("net.ipv4.ip_forward", "1")
        #expect(Sysctl.read("net.ipv4.vs.conntrack", procSysNet: root) == "1")
        #expect(
            try String(contentsOfFile: root + "/ipv4/ip_forward", encoding: .utf8) == "1\n", "already set: untouched")
        // A setting the mount lacks is an error naming the file, never a write elsewhere.
        let missing = #expect(throws: SysctlFailure.self) { try backends.sysctl("net.ipv4.vs.expire_nodest_conn", "1") }
        #expect(missing?.description.contains(root + "/ipv4/vs/expire_nodest_conn") == true)
    }
}
