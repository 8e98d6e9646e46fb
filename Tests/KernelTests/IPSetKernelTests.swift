import Foundation
import TestSupport
import Testing

@testable import Kernel
@testable import Planning

/// Whether the kernel tests can run here: root, and the ipset command answering.
enum Kernel {
    static let available: Bool = geteuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/sbin/ipset")
    static let reason = "needs root and ipset (run scripts/setup, then the tests as root)"

    @discardableResult
    static func shell(_ command: String) -> (Int32, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", command]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try? p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}

@Suite(.serialized, .enabled(if: Kernel.available, Comment(rawValue: Kernel.reason)))
struct IPSetKernelTests {
    /// Unique per run so that a crashed run leaves nothing that collides.
    let tag = String(UInt32.random(in: 0...UInt32.max), radix: 16, uppercase: true)

    func spec(_ name: String, _ type: IPSetSpec.SetType, _ members: [IPSetMember]) -> IPSetSpec {
        IPSetSpec(name: "KUBE-SRC-T\(tag)\(name)", type: type, members: members, comment: "test")
    }

    @Test func createSwapAndRemove() throws {
        let sync = IPSetSync(session: try IPSetSession())
        let pods = spec("P", .hashIP, [.ip("10.0.0.1"), .ip("10.0.0.2")])
        let block = spec(
            "B", .hashNet, [.cidr("10.0.0.0/16"), .cidr("10.0.2.0/24", nomatch: true), .cidr("192.0.2.7/32")])
        let named = spec("N", .hashIPPort, [.ipPort("10.0.0.1", .tcp, 8080), .ipPort("10.0.0.2", .udp, 53)])
        defer { _ = try? sync.removeStale(keeping: []) }

        let first = try sync.apply([pods, block, named])
        #expect(Set(first.created) == [pods.name, block.name, named.name])
        let listed = try sync.backend.list(prefixes: ["KUBE-SRC-T\(tag)"])
        // Read back as the same values: the kernel prints the host prefix bare, and the reader knows it.
        for set in [pods, block, named] {
            #expect(Set(listed.first { $0.name == set.name }?.members ?? []) == Set(set.members), "\(set.name)")
        }
        #expect(
            Kernel.shell("ipset save \(block.name)").1.contains("add \(block.name) 192.0.2.7\n"),
            "the kernel's own notation for the host prefix")
        // The kernel's own matching agrees with the plan's semantics (nomatch excludes).
        #expect(Kernel.shell("ipset test \(block.name) 10.0.1.1").0 == 0)
        #expect(Kernel.shell("ipset test \(block.name) 10.0.2.1").0 != 0)

        // Unchanged sets are left alone; a changed one is swapped in whole.
        let again = try sync.apply([pods, block, named])
        #expect(again.unchanged == 3 && again.swapped.isEmpty && again.created.isEmpty)
        var changed = pods
        changed.members = [.ip("10.0.0.3")]
        let swap = try sync.apply([changed, block, named])
        #expect(swap.swapped == [pods.name])
        #expect(try sync.backend.list(prefixes: [pods.name]).first?.members == [.ip("10.0.0.3")])
        #expect(try sync.backend.list(prefixes: ["KR-TMP-"]).isEmpty, "no temporary set is left behind")

        // An event sync (against what this process applied): a few moved members are added and deleted in
        // place; a set whose members all change is still swapped in whole.
        var big = pods
        big.members = (1...20).map { .ip("10.0.1.\($0)") }
        _ = try sync.apply([big, block, named], previous: [changed, block, named])
        var moved = big
        moved.members = big.members.dropFirst(2) + [.ip("10.0.2.1")]
        let inPlace = try sync.apply([moved, block, named], previous: [big, block, named])
        #expect(inPlace.updated == [pods.name] && inPlace.swapped.isEmpty && inPlace.unchanged == 2)
        #expect(Set(try sync.backend.list(prefixes: [pods.name]).first?.members ?? []) == Set(moved.members))
        #expect(
            Kernel.shell("ipset test \(pods.name) 10.0.1.1").0 != 0
                && Kernel.shell("ipset test \(pods.name) 10.0.2.1").0 == 0)

        // Stale sets go; sets of others are never touched.
        Kernel.shell("ipset create OTHER-\(tag) hash:ip -exist")
        defer { Kernel.shell("ipset destroy OTHER-\(tag)") }
        let removed = try sync.removeStale(keeping: [pods.name])
        #expect(Set(removed) == [block.name, named.name])
        #expect(Kernel.shell("ipset list -n").1.contains("OTHER-\(tag)"))
    }

    @Test func ipv6Sets() throws {
        let sync = IPSetSync(session: try IPSetSession())
        var set = spec(
            "6", .hashNet, [.cidr("fd00::/64"), .cidr("fd00::b/128", nomatch: true), .cidr("2001:db8::/32")])
        set.family = .ipv6
        defer { _ = try? sync.removeStale(keeping: []) }
        _ = try sync.apply([set])
        #expect(Kernel.shell("ipset test \(set.name) fd00::1").0 == 0)
        #expect(Kernel.shell("ipset test \(set.name) fd00::b").0 != 0)
        #expect(try sync.apply([set]).unchanged == 1, "members read back compare equal")
        var ports = spec("6P", .hashIPPort, [.ipPort("fd00:0:0::1", .tcp, 80), .ipPort("fd00::2", .sctp, 9)])
        ports.family = .ipv6
        _ = try sync.apply([set, ports])
        #expect(try sync.apply([set, ports]).unchanged == 2, "IPv6 read back in canonical form is the same member")
    }

    /// A member the reader cannot parse (here one with a timeout, from a set someone made with options
    /// we never use) is not taken for a planned one: the set is refilled, and then it is right.
    @Test func anUnreadableMemberMakesTheSetRefilled() throws {
        let sync = IPSetSync(session: try IPSetSession())
        let set = spec("U", .hashIP, [.ip("10.0.0.1")])
        defer { _ = try? sync.removeStale(keeping: []) }
        #expect(Kernel.shell("ipset create \(set.name) hash:ip timeout 0 && ipset add \(set.name) 10.0.0.1").0 == 0)
        let listed = try sync.backend.list(prefixes: [set.name]).first?.members
        #expect(listed == [.unparsed("10.0.0.1 timeout 0")])
        #expect(try sync.apply([set]).swapped == [set.name])
        #expect(try sync.backend.list(prefixes: [set.name]).first?.members == [.ip("10.0.0.1")])
        #expect(try sync.apply([set]).unchanged == 1)
    }

    @Test func errorsAreReportedNotFatal() throws {
        let session = try IPSetSession()
        let error = try #require(throws: IPSetSession.Failure.self) {
            try session.run("add KUBE-SRC-NOSUCHSET\(tag) 10.0.0.1")
        }
        #expect(error.message.contains("does not exist") || error.message.contains("exist"), "\(error)")
        #expect(throws: IPSetSession.Failure.self) { try session.run("create KUBE-SRC-BAD\(tag) hash:nonsense") }
        // The session is still usable after errors.
        #expect(try session.list(prefixes: ["KUBE-SRC-NOSUCHSET"]).isEmpty)
    }
}
