import Foundation
import TestSupport
import Testing

@testable import Kernel
@testable import KubeModel
@testable import Planning

/// The route table's pipelined changes in a network namespace: more changes than one window, each answered as
/// its single call would be (an add where another protocol has the destination: RouteExists; a delete of
/// nothing: RouteNotFound), and the kernel holding exactly what succeeded.
@Suite(.serialized, .enabled(if: BGPLab.available, "needs root (scripts/setup)"))
struct RouteTableKernelTests {
    @Test func pipelinedChangesAreAnsweredOneByOne() throws {
        let lab = try BGPLab()
        try lab.addNode("s", ip: "10.99.0.10", podCIDR: "10.244.10.0/24", asn: 64512)
        let node = lab.ns("s")
        try lab.sh("ip -n \(node) route add 10.200.0.0/24 via 10.99.0.1 proto static")
        let proto = RouteTable.kubeRouterProtocol
        func route(_ i: Int, via gateway: String = "10.99.0.1") -> KernelRoute {
            KernelRoute(
                destination: CIDR(
                    network: IPAddress(v4: UInt32(10 << 24 | 201 << 16) + UInt32(i) << 8), prefixLength: 24),
                gateways: [IPAddress(gateway)!], proto: proto)
        }
        let count = RouteTable.window * 3 + 7
        var changes = (0..<count).map { RouteChange.add(route($0)) }
        let taken = KernelRoute(destination: CIDR("10.200.0.0/24")!, gateways: [IPAddress("10.99.0.2")!], proto: proto)
        changes.append(.add(taken))
        changes.append(.delete(route(count + 5)))
        changes.append(.replace(route(3, via: "10.99.0.2")))
        changes.append(.delete(route(4)))
        let alone = route(count + 9)
        let alone2 = route(count + 10)
        // On a table that has read the kernel and added a route first, as the speaker's has.
        let results = try NetworkNamespace.run(node) { [changes, alone, alone2] in
            let table = try RouteTable()
            _ = try table.routes(family: .ipv4, proto: nil)
            try table.create(alone)
            let results = table.apply(changes)
            // The table's other calls still work after it (their sequence numbers are their own).
            try table.create(alone2)
            _ = try table.routes(family: .ipv4, proto: nil)
            return results
        }
        #expect(results.count == changes.count)
        #expect(results.prefix(count).allSatisfy { $0 == nil }, "\(results.compactMap { $0 }.prefix(3))")
        #expect(results[count] is RouteExists, "another protocol's destination: \(String(describing: results[count]))")
        #expect(results[count + 1] is RouteNotFound)
        #expect(results[count + 2] == nil && results[count + 3] == nil)
        let ours = try NetworkNamespace.run(node) { try RouteTable().routes(family: .ipv4, proto: proto) }
        #expect(ours.count == count + 1, "all added but the one deleted, and the two added alone")
        #expect(ours.first { $0.destination == route(3).destination }?.gateways == [IPAddress("10.99.0.2")!])
        #expect(!ours.contains { $0.destination == route(4).destination })
        let (_, statics) = Kernel.shell("ip -n \(node) route show proto static")
        #expect(statics.contains("10.200.0.0/24 via 10.99.0.1"), "the other protocol's route stays: \(statics)")
    }
}
