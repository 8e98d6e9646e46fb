import Foundation
import Kernel
import KubeModel
import Planning
import TestSupport
import Testing

@testable import Speaker

/// The speaker's kernel route sync (`RouteDiff` applied through a `RouteBackend`) against `FakeRoutes`:
/// UPDATEs go straight to the speaker's session delegate, and each sync is run by the test.
@Suite struct BGPRouteSyncTests {
    static let ours = NodeNetwork.kubeRouterProtocol
    static let peer = IPAddress("10.99.0.2")!

    func cidr(_ text: String) -> CIDR { CIDR(text)! }
    func route(_ prefix: String, via gateway: String, proto: UInt8 = ours) -> KernelRoute {
        KernelRoute(destination: CIDR(prefix)!, gateways: [IPAddress(gateway)!], proto: proto)
    }

    /// A speaker that is never started (no listener, no threads), one session object to feed it UPDATEs.
    func speaker(_ routes: FakeRoutes) throws -> (BGPSpeaker, BGPSession, Locked<[String]>) {
        let logged = Locked<[String]>([])
        let config = BGPSpeaker.Config(asn: 64512, routerID: IPAddress("10.99.0.1")!)
        let speaker = try BGPSpeaker(config: config, routes: routes) { line in logged.mutate { $0.append(line) } }
        let local = BGPSession.Local(asn: 64512, routerID: 1, holdTime: 90, connectRetry: 5, gracefulRestart: nil)
        let session = BGPSession(peer: BGPPeerConfig(address: Self.peer, asn: 64512), local: local, delegate: speaker)
        return (speaker, session, logged)
    }

    func announce(_ speaker: BGPSpeaker, _ session: BGPSession, _ prefixes: [String]) {
        var attributes = BGPPathAttributes()
        attributes.origin = .igp
        attributes.asPath = []
        attributes.localPref = 100
        attributes.nextHop = Self.peer
        let update = BGPUpdate(attributes: attributes, nlri: prefixes.compactMap { CIDR($0) })
        _ = speaker.session(session, received: update)
    }

    func withdraw(_ speaker: BGPSpeaker, _ session: BGPSession, _ prefixes: [String]) {
        _ = speaker.session(session, received: BGPUpdate(withdrawn: prefixes.compactMap { CIDR($0) }))
    }

    /// Routes a previous run left stay through the start-up deferral, unless this run takes them over; the
    /// deferral ends when every configured peer has sent End-of-RIB (here: no peer at all), then they go.
    @Test func routesAPreviousRunLeftStayUntilTheDeferralEnds() throws {
        let routes = FakeRoutes([
            route("10.244.7.0/24", via: "10.99.0.2"), route("10.244.8.0/24", via: "10.99.0.3"),
            route("192.0.2.0/24", via: "10.99.0.1", proto: 4),
        ])
        let (speaker, session, logged) = try speaker(routes)
        #expect(speaker.deferringLeftovers)
        #expect(speaker.syncRoutes())  // the first, full sync: nothing learned, yet nothing removed
        #expect(routes.all.count == 3)
        announce(speaker, session, ["10.244.7.0/24"])
        #expect(speaker.syncRoutes())
        withdraw(speaker, session, ["10.244.7.0/24"])
        #expect(speaker.syncRoutes())
        #expect(routes.route(cidr("10.244.7.0/24")) == nil, "taken over, then withdrawn: this run's to remove")
        #expect(routes.route(cidr("10.244.8.0/24")) != nil, "still deferred")
        speaker.setPeers([])  // no peer to wait for: the deferral ends at the next sync
        #expect(speaker.syncRoutes())
        #expect(!speaker.deferringLeftovers)
        #expect(routes.all.map(\.destination) == [cidr("192.0.2.0/24")], "another protocol's route stays")
        #expect(logged.get().contains { $0.contains("every peer sent End-of-RIB") }, "\(logged.get())")
    }

    @Test func theDiffReplacesWhatDiffersAndDeletesOnlyOurs() {
        let desired = [route("10.244.1.0/24", via: "10.99.0.2"), route("10.244.2.0/24", via: "10.99.0.3")]
        let actual = [
            route("10.244.1.0/24", via: "10.99.0.9"), route("10.244.3.0/24", via: "10.99.0.4"),
            route("192.0.2.0/24", via: "10.99.0.1", proto: 4),
        ]
        #expect(
            RouteDiff.changes(desired: desired, actual: actual) == [
                .delete(route("10.244.3.0/24", via: "10.99.0.4")),
                .add(route("10.244.2.0/24", via: "10.99.0.3")), .replace(route("10.244.1.0/24", via: "10.99.0.2")),
            ])
        #expect(RouteDiff.changes(desired: desired, actual: desired).isEmpty)
        #expect(RouteDiff.blocked(desired: desired, actual: actual).isEmpty)
    }

    @Test func theEventDiffEqualsTheFullDiffOfItsPrefixes() {
        var generator = SystemRandomNumberGenerator()
        let hops = ["10.99.0.2", "10.99.0.3", "10.99.0.4"].map { IPAddress($0)! }
        for _ in 0..<300 {
            let prefixes = (0..<20).map { CIDR(network: IPAddress(v4: UInt32(10 << 24 | $0 << 8)), prefixLength: 24) }
            var installed: [CIDR: IPAddress] = [:]
            var others: [CIDR: UInt8] = [:]
            var wanted: [(CIDR, IPAddress?)] = []
            for prefix in prefixes {
                if Bool.random(using: &generator) { installed[prefix] = hops.randomElement(using: &generator) }
                if Int.random(in: 0..<5, using: &generator) == 0 { others[prefix] = 4 }
                wanted.append((prefix, Bool.random(using: &generator) ? hops.randomElement(using: &generator) : nil))
            }
            let ours = NodeNetwork.kubeRouterProtocol
            let desired = wanted.compactMap { p, hop in
                hop.map { KernelRoute(destination: p, gateways: [$0], proto: ours) }
            }
            let actual =
                installed.map { KernelRoute(destination: $0.key, gateways: [$0.value], proto: ours) }
                + others.map { KernelRoute(destination: $0.key, gateways: [], proto: $0.value) }
            let event = RouteDiff.changes(wanted: wanted, installed: installed, others: others)
            #expect(Set(event.changes) == Set(RouteDiff.changes(desired: desired, actual: actual)))
            #expect(event.blocked == RouteDiff.blocked(desired: desired, actual: actual))
            // Deletions first, then additions, then replacements.
            let kinds = event.changes.map { change -> Int in
                switch change {
                case .delete: 0
                case .add: 1
                case .replace: 2
                }
            }
            #expect(kinds == kinds.sorted())
        }
    }

    @Test func theDiffLeavesAnotherProtocolsDestinationAlone() {
        let desired = [route("198.51.100.0/24", via: "10.99.0.2")]
        let statik = route("198.51.100.0/24", via: "10.99.0.1", proto: 4)
        #expect(RouteDiff.changes(desired: desired, actual: [statik]).isEmpty)
        #expect(RouteDiff.blocked(desired: desired, actual: [statik]) == [cidr("198.51.100.0/24"): 4])
        // Ours beside another protocol's (another metric): ours goes.
        let both = [statik, route("198.51.100.0/24", via: "10.99.0.2")]
        #expect(
            RouteDiff.changes(desired: desired, actual: both)
                == [.delete(route("198.51.100.0/24", via: "10.99.0.2"))])
    }

    @Test func aLearnedRouteIsInstalledAndAWithdrawDeletesIt() throws {
        let routes = FakeRoutes()
        let (speaker, session, _) = try speaker(routes)
        #expect(speaker.syncRoutes())  // the first sync is full: nothing to do
        announce(speaker, session, ["10.244.1.0/24", "10.244.2.0/24"])
        #expect(speaker.syncRoutes())
        #expect(routes.all == [route("10.244.1.0/24", via: "10.99.0.2"), route("10.244.2.0/24", via: "10.99.0.2")])
        #expect(routes.changeCount == 2)
        withdraw(speaker, session, ["10.244.1.0/24"])
        #expect(speaker.syncRoutes())
        #expect(routes.all == [route("10.244.2.0/24", via: "10.99.0.2")])
        #expect(routes.changeCount == 3)
        // Nothing changed: an event sync changes nothing.
        speaker.markRoutesDirty([cidr("10.244.2.0/24")])
        #expect(speaker.syncRoutes())
        #expect(routes.changeCount == 3)
        #expect(speaker.routeStatus().map(\.status) == [.ok])
    }

    @Test func aRouteDeletedBehindOurBackIsPutBackByTheFullSync() throws {
        let routes = FakeRoutes()
        let (speaker, session, _) = try speaker(routes)
        announce(speaker, session, ["10.244.1.0/24"])
        #expect(speaker.syncRoutes())
        routes.remove(cidr("10.244.1.0/24"))
        #expect(speaker.routeStatus().map(\.status) == [.missingInKernel])
        speaker.markRoutesDirty()  // a full comparison, as every 10 s
        #expect(speaker.syncRoutes())
        #expect(routes.all == [route("10.244.1.0/24", via: "10.99.0.2")])
        // Withdrawn after someone else removed it: the delete finds nothing (ENOENT), which is fine.
        routes.remove(cidr("10.244.1.0/24"))
        withdraw(speaker, session, ["10.244.1.0/24"])
        #expect(speaker.syncRoutes())
        #expect(routes.all.isEmpty)
    }

    @Test func routesOfOtherProtocolsAreUntouched() throws {
        let kernelRoute = route("10.99.0.0/24", via: "10.99.0.254", proto: 2)
        let bird = route("172.16.0.0/16", via: "10.99.0.5", proto: 12)
        let routes = FakeRoutes([kernelRoute, bird])
        let (speaker, session, _) = try speaker(routes)
        announce(speaker, session, ["10.244.1.0/24"])
        #expect(speaker.syncRoutes())
        speaker.markRoutesDirty()
        #expect(speaker.syncRoutes())
        withdraw(speaker, session, ["10.244.1.0/24"])
        #expect(speaker.syncRoutes())
        speaker.stop()
        #expect(routes.all == [kernelRoute, bird])
    }

    @Test func aStaticRouteIsNeverOverwrittenAndThePrefixIsReported() throws {
        let statik = route("198.51.100.0/24", via: "10.99.0.1", proto: 4)
        let routes = FakeRoutes([statik])
        let (speaker, session, logged) = try speaker(routes)
        #expect(speaker.syncRoutes())  // full: reads the static route
        announce(speaker, session, ["198.51.100.0/24", "10.244.1.0/24"])
        #expect(speaker.syncRoutes())  // an event sync
        speaker.markRoutesDirty()
        #expect(speaker.syncRoutes())  // and a full one
        #expect(routes.route(cidr("198.51.100.0/24")) == statik)
        #expect(routes.route(cidr("10.244.1.0/24")) == route("10.244.1.0/24", via: "10.99.0.2"))
        let status = try #require(speaker.routeStatus().first { $0.prefix == "198.51.100.0/24" })
        #expect(status.status == .kernelRouteOfAnotherProtocol)
        #expect(status.notInstalled == .kernelRouteOfAnotherProtocol)
        #expect(status.kernelProtocol == "static")
        #expect(!status.inKernel)
        // Logged once, however many syncs see it.
        #expect(logged.get().filter { $0.contains("not installing 198.51.100.0/24") }.count == 1)
        // The static route goes: ours goes in at the next full sync.
        routes.remove(cidr("198.51.100.0/24"))
        speaker.markRoutesDirty()
        #expect(speaker.syncRoutes())
        #expect(routes.route(cidr("198.51.100.0/24")) == route("198.51.100.0/24", via: "10.99.0.2"))
        #expect(speaker.routeStatus().first { $0.prefix == "198.51.100.0/24" }?.notInstalled == nil)
    }

    /// Between full syncs the speaker knows the kernel only from what it applied: a new route is added
    /// exclusively, so a static route put there since the last full sync is found, not overwritten.
    @Test func aStaticRouteAddedSinceTheLastFullSyncIsNotOverwrittenByAnUpdate() throws {
        let routes = FakeRoutes()
        let (speaker, session, logged) = try speaker(routes)
        #expect(speaker.syncRoutes())  // full: the table is empty
        let statik = route("198.51.100.0/24", via: "10.99.0.1", proto: 4)
        routes.add(statik)
        announce(speaker, session, ["198.51.100.0/24"])
        #expect(speaker.syncRoutes())  // an event sync
        #expect(routes.all == [statik])
        #expect(speaker.routeStatus().first?.notInstalled == .kernelRouteOfAnotherProtocol)
        // The peer announcing it again, and a full sync, leave it too.
        announce(speaker, session, ["198.51.100.0/24"])
        #expect(speaker.syncRoutes())
        speaker.markRoutesDirty()
        #expect(speaker.syncRoutes())
        #expect(routes.all == [statik])
        #expect(logged.get().filter { $0.contains("not installing 198.51.100.0/24") }.count == 1)
    }

    @Test func aStaticRouteAddedOverOursIsLeftAndOursIsNotPutBack() throws {
        let routes = FakeRoutes()
        let (speaker, session, _) = try speaker(routes)
        announce(speaker, session, ["198.51.100.0/24"])
        #expect(speaker.syncRoutes())
        // `ip route replace ... proto static` by an operator.
        let statik = route("198.51.100.0/24", via: "10.99.0.1", proto: 4)
        routes.add(statik)
        speaker.markRoutesDirty()
        #expect(speaker.syncRoutes())
        #expect(routes.all == [statik])
    }

    @Test func aFailedChangeAsksForAFullSync() throws {
        let routes = FakeRoutes()
        let (speaker, session, logged) = try speaker(routes)
        #expect(speaker.syncRoutes())
        routes.fail([cidr("10.244.1.0/24")])
        announce(speaker, session, ["10.244.1.0/24"])
        #expect(!speaker.syncRoutes())
        #expect(logged.get().contains { $0.contains("route sync failed") })
        routes.fail([])
        #expect(speaker.syncRoutes())
        #expect(routes.all == [route("10.244.1.0/24", via: "10.99.0.2")])
    }
}
