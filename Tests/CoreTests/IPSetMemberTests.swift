import Foundation
import KubeModel
import TestSupport
import Testing

@testable import Kernel
@testable import Planning

/// Members as values: the text ipset is given, the kernel's listing read back, and equality by value.
@Suite struct IPSetMemberTests {
    func listed(_ text: String, _ type: IPSetSpec.SetType, _ family: IPAddress.Family = .ipv4) -> IPSetMember {
        IPSetListing.member(text, type: type, family: family)
    }

    @Test func restoreTextIsIpsetSyntax() {
        #expect(IPSetMember.ip("10.0.0.1").restoreText == "10.0.0.1")
        #expect(IPSetMember.ip("fd00:0:0:0:0:0:0:1").restoreText == "fd00::1")
        #expect(IPSetMember.cidr("10.0.0.0/8").restoreText == "10.0.0.0/8")
        #expect(IPSetMember.cidr("192.0.2.7/32").restoreText == "192.0.2.7/32", "as planned: the kernel takes both")
        #expect(IPSetMember.cidr("10.0.2.0/24", nomatch: true).restoreText == "10.0.2.0/24 nomatch")
        #expect(IPSetMember.cidr("fd00::b/128", nomatch: true).restoreText == "fd00::b/128 nomatch")
        #expect(IPSetMember.ipPort("10.0.0.1", .tcp, 8080).restoreText == "10.0.0.1,tcp:8080")
        #expect(IPSetMember.ipPort("fd00::1", .udp, 53).restoreText == "fd00::1,udp:53")
        #expect(IPSetMember.ipPort("10.0.0.1", .sctp, 9).description == "10.0.0.1,sctp:9")
        #expect(IPSetMember.unparsed("10.0.0.1 timeout 0").restoreText == "10.0.0.1 timeout 0")
    }

    @Test func encodedAsText() throws {
        let data = try JSONEncoder().encode([IPSetMember.ip("10.0.0.1"), .cidr("10.0.2.0/24", nomatch: true)])
        #expect(String(decoding: data, as: UTF8.self) == #"["10.0.0.1","10.0.2.0\/24 nomatch"]"#)
    }

    @Test func theListingIsReadAsValues() {
        #expect(listed("10.0.0.1", .hashIP) == .ip("10.0.0.1"))
        #expect(listed("fd00::1", .hashIP, .ipv6) == .ip("fd00:0000::0001"))
        #expect(listed("10.0.0.0/8", .hashNet) == .cidr("10.0.0.0/8"))
        #expect(listed("10.0.2.0/24 nomatch", .hashNet) == .cidr("10.0.2.0/24", nomatch: true))
        #expect(listed("10.0.0.1,tcp:8080", .hashIPPort) == .ipPort("10.0.0.1", .tcp, 8080))
        #expect(listed("10.0.0.2,sctp:9", .hashIPPort) == .ipPort("10.0.0.2", .sctp, 9))
        #expect(listed("fd00::1,udp:53", .hashIPPort, .ipv6) == .ipPort("fd00::1", .udp, 53))
        #expect(listed("10.0.0.4,tcp:0", .hashIPPort) == .ipPort("10.0.0.4", .tcp, 0))
    }

    /// The kernel holds a host prefix of hash:net as the address and prints it bare; IPv6 in any spelling
    /// is one address. Read back, each is the member that was planned.
    @Test func notationIsNormalisedAsTheKernelDoes() {
        #expect(listed("10.0.0.1", .hashNet) == .cidr("10.0.0.1/32"))
        #expect(listed("10.0.0.1/32", .hashNet) == .cidr("10.0.0.1/32"))
        #expect(listed("fd00::b nomatch", .hashNet, .ipv6) == .cidr("fd00::b/128", nomatch: true))
        #expect(listed("fd00:0:0:0::b/128 nomatch", .hashNet, .ipv6) == .cidr("fd00::b/128", nomatch: true))
        #expect(listed("FD00::1", .hashIP, .ipv6) == .ip("fd00::1"))
        #expect(listed("10.0.0.1", .hashNet) != .cidr("10.0.0.1/32", nomatch: true), "nomatch is part of the member")
        #expect(listed("10.0.0.1", .hashNet) != .ip("10.0.0.1"), "a net is not an address of hash:ip")
    }

    @Test func whatTheReaderCannotParseIsKeptAsText() {
        let unreadable: [(String, IPSetSpec.SetType, IPAddress.Family)] = [
            ("10.0.0.1 timeout 300", .hashIP, .ipv4),
            ("10.0.0.1 comment \"x\"", .hashIP, .ipv4),
            ("10.0.0.0/30", .hashIP, .ipv4),
            ("fd00::1", .hashIP, .ipv4),
            ("10.0.0.1", .hashIP, .ipv6),
            ("10.0.0.0/33", .hashNet, .ipv4),
            ("10.0.0.0/8 nomatch extra", .hashNet, .ipv4),
            ("10.0.0.0/8 packets 0", .hashNet, .ipv4),
            ("10.0.0.3,icmp:echo-request", .hashIPPort, .ipv4),
            ("10.0.0.2,udplite:9", .hashIPPort, .ipv4),
            ("10.0.0.1,80", .hashIPPort, .ipv4),
            ("10.0.0.1,tcp:65536", .hashIPPort, .ipv4),
            ("10.0.0.1,tcp:080", .hashIPPort, .ipv4),
            ("10.0.0.1,TCP:80", .hashIPPort, .ipv4),
            ("", .hashIP, .ipv4),
        ]
        for (text, type, family) in unreadable {
            #expect(listed(text, type, family) == .unparsed(text), "\(text) in \(type.rawValue) \(family)")
        }
        #expect(IPSetMember.unparsed("10.0.0.1").isUnparsed && !IPSetMember.ip("10.0.0.1").isUnparsed)
    }

    @Test func aSaveListingIsReadIntoSets() {
        let save = """
            create KUBE-SRC-A hash:ip family inet hashsize 1024 maxelem 65536 bucketsize 12 initval 0x1
            add KUBE-SRC-A 10.0.0.2
            add KUBE-SRC-A 10.0.0.1
            create other hash:ip family inet hashsize 1024 maxelem 65536
            add other 192.0.2.1
            create KUBE-DST-6 hash:net family inet6 hashsize 1024 maxelem 65536 bucketsize 12 initval 0x2
            add KUBE-DST-6 fd00::/64
            add KUBE-DST-6 fd00::b nomatch
            create KUBE-DST-P hash:ip,port family inet hashsize 1024 maxelem 65536 bucketsize 12 initval 0x3
            add KUBE-DST-P 10.0.0.1,tcp:8080
            add KUBE-DST-P 10.0.0.9 timeout 5

            """
        let sets = IPSetListing.sets(save, prefixes: ["KUBE-SRC-", "KUBE-DST-"])
        #expect(sets.map(\.name) == ["KUBE-SRC-A", "KUBE-DST-6", "KUBE-DST-P"], "others' sets are not read")
        #expect(
            sets[0].type == .hashIP && sets[0].family == .ipv4 && sets[0].members == [.ip("10.0.0.2"), .ip("10.0.0.1")])
        #expect(
            sets[1].type == .hashNet && sets[1].family == .ipv6
                && sets[1].members == [.cidr("fd00::/64"), .cidr("fd00::b/128", nomatch: true)])
        #expect(
            sets[2].type == .hashIPPort
                && sets[2].members == [.ipPort("10.0.0.1", .tcp, 8080), .unparsed("10.0.0.9 timeout 5")])
    }

    @Test func theDiffComparesValuesNotText() {
        let planned = IPSetSpec(
            name: "KUBE-DST-B", type: .hashNet,
            members: [.cidr("10.0.0.0/16"), .cidr("10.0.2.0/24", nomatch: true), .cidr("192.0.2.7/32")], comment: "")
        let kernel = IPSetListing.sets(
            """
            create KUBE-DST-B hash:net family inet hashsize 1024 maxelem 65536
            add KUBE-DST-B 192.0.2.7
            add KUBE-DST-B 10.0.2.0/24 nomatch
            add KUBE-DST-B 10.0.0.0/16
            """, prefixes: ["KUBE-DST-"])
        #expect(IPSetDiff.changes(desired: [planned], actual: kernel, temporaryPrefix: "KR-TMP-").isEmpty)
        // The same prefix without nomatch is another member: refilled.
        var other = kernel
        other[0].members[1] = .cidr("10.0.2.0/24")
        #expect(IPSetDiff.changes(desired: [planned], actual: other, temporaryPrefix: "KR-TMP-").count == 1)
        // Every planned member and one unreadable more: refilled, not taken for right.
        var unreadable = kernel
        unreadable[0].members.append(.unparsed("10.9.9.9 timeout 1"))
        #expect(!IPSetDiff.sameMembers(planned, unreadable[0]))
        #expect(IPSetDiff.changes(desired: [planned], actual: unreadable, temporaryPrefix: "KR-TMP-").count == 1)
        // The restore text is the planned text, byte for byte.
        #expect(
            IPSetDiff.restoreScript([.create(planned)])
                == """
                create KUBE-DST-B hash:net family inet -exist
                add KUBE-DST-B 10.0.0.0/16 -exist
                add KUBE-DST-B 10.0.2.0/24 nomatch -exist
                add KUBE-DST-B 192.0.2.7/32 -exist

                """)
    }

    /// Drift names an unreadable member as stale, by its text, and a walk finds hash:net members by
    /// containment (the most specific prefix decides; nomatch excludes).
    @Test func driftAndWalkWorkOnValues() throws {
        let set = IPSetSpec(
            name: "KUBE-SRC-N", type: .hashNet,
            members: [.cidr("10.0.0.0/16"), .cidr("10.0.2.0/24", nomatch: true), .cidr("10.0.2.7/32")], comment: "x")
        let plan = FirewallPlan(
            family: .ipv4, sets: [set], chains: [],
            hooks: [Rule(chain: "INPUT", sets: [.init(name: set.name, flags: ["src"])], target: .accept, comment: "")])
        let walk = FirewallWalk(plan: plan)
        func verdict(_ source: String) -> Bool {
            let packet = FirewallWalk.Packet(
                source: IPAddress(source)!, destination: IPAddress("10.1.0.1")!, proto: .tcp, port: 80)
            return walk.walk(packet, builtin: "INPUT").setLookups.first?.matched == true
        }
        #expect(verdict("10.0.1.1"))
        #expect(!verdict("10.0.2.1"), "nomatch excludes")
        #expect(verdict("10.0.2.7"), "a more specific prefix inside the nomatch one")
        #expect(!verdict("10.1.0.1"))

        var observed = ObservedFirewall(plan)
        observed.sets[0].members =
            IPSetListing.sets(
                """
                create KUBE-SRC-N hash:net family inet
                add KUBE-SRC-N 10.0.0.0/16
                add KUBE-SRC-N 10.0.2.0/24 nomatch
                add KUBE-SRC-N 10.0.2.7
                add KUBE-SRC-N 10.0.3.0/24 timeout 9
                """, prefixes: ["KUBE-"]
            )[0].members
        let findings = FirewallDrift.compare(plan, observed)
        #expect(findings.map(\.kind) == [.staleMember] && findings.first?.item == "10.0.3.0/24 timeout 9")
    }
}
