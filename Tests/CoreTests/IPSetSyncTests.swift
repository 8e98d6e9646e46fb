import KubeModel
import TestSupport
import Testing

@testable import Kernel
@testable import Planning

/// The ipset sync's logic against in-memory sets: no root.
@Suite struct IPSetSyncTests {
    static func set(
        _ name: String, _ members: [IPSetMember], type: IPSetSpec.SetType = .hashIP, family: IPAddress.Family = .ipv4
    ) -> IPSetSpec {
        IPSetSpec(name: name, type: type, members: members, comment: "", family: family)
    }

    let plan = [
        set("KUBE-SRC-A", [.ip("10.0.0.1"), .ip("10.0.0.2")]),
        set("KUBE-DST-B", [.cidr("10.0.0.0/24"), .cidr("10.0.1.5/32")], type: .hashNet),
    ]

    @Test func createThenNothingThenASwapForAMemberChange() throws {
        let kernel = FakeIPSets()
        let sync = IPSetSync(backend: kernel)
        var report = try sync.apply(plan)
        #expect(report.created == ["KUBE-SRC-A", "KUBE-DST-B"] && kernel.passCount == 1)
        // The kernel prints a host prefix of hash:net bare: still the same set.
        kernel.set(listed: "KUBE-DST-B", type: .hashNet, members: ["10.0.1.5", "10.0.0.0/24"])
        report = try sync.apply(plan)
        #expect(report.unchanged == 2 && report.created.isEmpty && report.swapped.isEmpty && kernel.passCount == 1)
        var next = plan
        next[0].members = [.ip("10.0.0.1"), .ip("10.0.0.3")]
        // An event sync: one member in, one out, in place (no scratch set); a full sync swaps the set whole.
        report = try sync.apply(next, previous: plan)
        #expect(report.updated == ["KUBE-SRC-A"] && report.swapped.isEmpty && report.unchanged == 1)
        #expect(Set(kernel.all["KUBE-SRC-A"]?.members ?? []) == [.ip("10.0.0.1"), .ip("10.0.0.3")])
        var whole = next
        whole[0].members = [.ip("10.0.9.1"), .ip("10.0.9.2"), .ip("10.0.9.3")]
        report = try sync.apply(whole)
        #expect(report.swapped == ["KUBE-SRC-A"] && report.unchanged == 1)
        #expect(kernel.all["KUBE-SRC-A"]?.members == [.ip("10.0.9.1"), .ip("10.0.9.2"), .ip("10.0.9.3")])
        #expect(kernel.all.keys.allSatisfy { !$0.hasPrefix("KR-TMP-") }, "no scratch set is left")
    }

    @Test func fullSyncRepairsDriftAndStaleSetsGoOnlyWhenUnused() throws {
        let kernel = FakeIPSets()
        let sync = IPSetSync(backend: kernel)
        _ = try sync.apply(plan)
        kernel.set(Self.set("KUBE-SRC-A", [.ip("10.0.0.1")]))  // a member removed by hand
        kernel.set(Self.set("KUBE-SRC-OLD", [.ip("10.0.0.9")]))
        kernel.set(Self.set("other-set", [.ip("192.0.2.1")]))  // not ours
        #expect(try sync.apply(plan, previous: plan).swapped.isEmpty, "an event sync trusts what it applied")
        let report = try sync.apply(plan)
        #expect(
            report.swapped == ["KUBE-SRC-A"] && kernel.all["KUBE-SRC-A"]?.members == [.ip("10.0.0.1"), .ip("10.0.0.2")])
        kernel.referenced = ["KUBE-SRC-OLD"]
        #expect(throws: FakeIPSets.Failure.self) {
            try sync.removeStale(keeping: Set(plan.map(\.name)), among: report.before)
        }
        kernel.referenced = []
        #expect(try sync.removeStale(keeping: Set(plan.map(\.name))) == ["KUBE-SRC-OLD"])
        #expect(kernel.all["other-set"] != nil, "others' sets stay")
    }

    @Test func inPlaceUpdatesAreDeletesThenAdds() {
        let before = Self.set("KUBE-SRC-A", (1...10).map { .ip("10.0.0.\($0)") })
        var after = before
        after.members = Array(before.members.dropFirst()) + [.ip("10.0.1.1")]
        let changes = IPSetDiff.changes(desired: [after], actual: [before], temporaryPrefix: "KR-TMP-", inPlace: true)
        #expect(changes == [.update("KUBE-SRC-A", add: [.ip("10.0.1.1")], remove: [.ip("10.0.0.1")])])
        #expect(IPSetDiff.restoreScript(changes) == "del KUBE-SRC-A 10.0.0.1 -exist\nadd KUBE-SRC-A 10.0.1.1 -exist\n")
        #expect(
            IPSetDiff.changes(desired: [after], actual: [before], temporaryPrefix: "KR-TMP-").first?.name
                == "KUBE-SRC-A",
            "without inPlace (a full sync against the kernel's listing): a refill")
        var replaced = before
        replaced.members = (1...10).map { .ip("10.0.5.\($0)") }
        let many = IPSetDiff.changes(desired: [replaced], actual: [before], temporaryPrefix: "KR-TMP-", inPlace: true)
        if case .refill = many.first {} else { Issue.record("most members moved: a refill, got \(many)") }
    }

    @Test func aTypeChangeReplacesTheSetAndALeftoverScratchSetIsCleared() throws {
        let kernel = FakeIPSets()
        let sync = IPSetSync(backend: kernel)
        _ = try sync.apply(plan)
        let temporary = "KR-TMP-" + FirewallNames.hash("KUBE-SRC-A")
        kernel.set(listed: temporary, type: .hashIP, members: ["junk"])
        let changed = [Self.set("KUBE-SRC-A", [.cidr("10.0.0.0/8")], type: .hashNet), plan[1]]
        let changes = IPSetDiff.changes(
            desired: changed, actual: try kernel.list(prefixes: IPSetSync.ownedPrefixes),
            temporaryPrefix: "KR-TMP-")
        #expect(changes == [.refill(changed[0], temporary: temporary, sameType: false, temporaryExists: true)])
        _ = try sync.apply(changed)
        #expect(kernel.all["KUBE-SRC-A"]?.type == .hashNet && kernel.all[temporary] == nil)
        #expect(
            IPSetDiff.restoreScript(changes).hasPrefix(
                "destroy \(temporary)\ncreate \(temporary) hash:net family inet -exist\n"))
    }
}

/// A full sync reads the kernel's listing into members: notation alone never refills a set, and a member
/// the reader cannot parse never passes for a planned one.
@Suite struct IPSetListingSyncTests {
    @Test func aListingThatDiffersOnlyInNotationIsLeftAlone() throws {
        let kernel = FakeIPSets()
        let sync = IPSetSync(backend: kernel)
        let plan = [
            IPSetSyncTests.set("KUBE-SRC-6", [.ip("fd00::a"), .ip("fd00:0:0:0:0:0:0:b")], family: .ipv6),
            IPSetSyncTests.set(
                "KUBE-DST-N", [.cidr("fd00::/64"), .cidr("fd00::b/128", nomatch: true)], type: .hashNet,
                family: .ipv6),
            IPSetSyncTests.set(
                "KUBE-DST-P", [.ipPort("10.0.0.1", .tcp, 8080), .ipPort("10.0.0.2", .sctp, 9)], type: .hashIPPort),
        ]
        _ = try sync.apply(plan)
        // As the kernel lists them: canonical IPv6, a host prefix bare, another order.
        kernel.set(listed: "KUBE-SRC-6", type: .hashIP, family: .ipv6, members: ["fd00::b", "fd00::a"])
        kernel.set(listed: "KUBE-DST-N", type: .hashNet, family: .ipv6, members: ["fd00::b nomatch", "fd00::/64"])
        kernel.set(listed: "KUBE-DST-P", type: .hashIPPort, members: ["10.0.0.2,sctp:9", "10.0.0.1,tcp:8080"])
        let report = try sync.apply(plan)
        #expect(report.unchanged == 3 && report.swapped.isEmpty && kernel.passCount == 1, "\(report)")
    }

    @Test func aMemberTheReaderCannotParseMakesTheSetRefilled() throws {
        let kernel = FakeIPSets()
        let sync = IPSetSync(backend: kernel)
        let plan = [IPSetSyncTests.set("KUBE-SRC-A", [.ip("10.0.0.1")])]
        _ = try sync.apply(plan)
        // The planned member is there, and one more the reader cannot read: never "the same set".
        kernel.set(listed: "KUBE-SRC-A", type: .hashIP, members: ["10.0.0.1", "10.0.0.2 timeout 300"])
        #expect(kernel.all["KUBE-SRC-A"]?.members.last == .unparsed("10.0.0.2 timeout 300"))
        var report = try sync.apply(plan)
        #expect(report.swapped == ["KUBE-SRC-A"] && kernel.all["KUBE-SRC-A"]?.members == [.ip("10.0.0.1")])
        // Even a planned set that somehow holds the same text is refilled: unparsed is never right.
        let odd = [IPSetSyncTests.set("KUBE-SRC-A", [.unparsed("junk")])]
        kernel.set(listed: "KUBE-SRC-A", type: .hashIP, members: ["junk"])
        report = try sync.apply(odd)
        #expect(report.swapped == ["KUBE-SRC-A"])
    }
}
