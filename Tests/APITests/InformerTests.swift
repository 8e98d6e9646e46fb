import Foundation
import TestSupport
import Testing

@testable import KubeAPI
@testable import KubeModel

/// Reflectors and informers against the test API server: convergence, restarts, 410s, dropped and
/// stalled watches, malformed objects, TLS and authentication failures.
@Suite(.serialized) struct InformerTests {
    func fastOptions(stall: Int = 20) -> Reflector.Options {
        var o = Reflector.Options()
        o.watchTimeout = 30...40
        o.stallSeconds = stall
        o.initialBackoff = 0.05
        o.maxBackoff = 0.5
        return o
    }

    func pods(_ informers: Informers) -> Set<String> {
        informers.store(.pods)!.keys()
    }

    /// Pod informers against `server`, started and synced; stopped by the caller.
    func podInformers(_ server: TestAPIServer, stall: Int = 20) -> (KubeClient, EventLog, Informers) {
        let client = KubeClient(config: server.config())
        let log = EventLog()
        let informers = Informers(
            client: client, resources: [.pods], options: fastOptions(stall: stall), handler: log.handler)
        informers.start()
        #expect(informers.waitForSync(timeout: 20))
        return (client, log, informers)
    }

    @Test func paginatedListReturnsEverything() throws {
        let server = try TestAPIServer()
        let client = KubeClient(config: server.config())
        for i in 0..<25 {
            _ = try client.create(
                .pods, namespace: "default", object: podJSON("default", "p\(i)", ip: "10.0.0.\(i + 1)"))
        }
        var pages = 0
        let list = try client.list(.pods, limit: 10) { _ in pages += 1 }
        #expect(pages == 3)
        #expect(list.items.count == 25)
        #expect(Set(list.items.compactMap { $0["metadata"]?["name"]?.stringValue }).count == 25)
    }

    @Test func informersConvergeToTheServer() throws {
        let server = try TestAPIServer()
        let client = KubeClient(config: server.config())
        _ = try client.create(
            .namespaces, namespace: nil,
            object: .object(["metadata": .object(["name": "shop", "labels": .object(["team": "a"])])]))
        _ = try client.create(.pods, namespace: "shop", object: podJSON("shop", "before", ip: "10.0.0.1"))
        let log = EventLog()
        let informers = Informers(client: client, options: fastOptions(), handler: log.handler)
        informers.start()
        defer { informers.stop() }
        #expect(informers.waitForSync(timeout: 20))
        #expect(pods(informers) == ["shop/before"])
        #expect(log.all.contains { if case .synced(.pods) = $0 { true } else { false } })

        // Changes after the sync arrive through the watch: create, update (label), delete.
        _ = try client.create(
            .pods, namespace: "shop", object: podJSON("shop", "after", ip: "10.0.0.2", labels: ["v": "1"]))
        _ = try client.patch(
            .pods, namespace: "shop", name: "after",
            mergePatch: .object(["metadata": .object(["labels": .object(["v": "2"])])]))
        try client.delete(.pods, namespace: "shop", name: "before")
        #expect(
            log.wait {
                pods(informers) == ["shop/after"]
                    && (informers.store(.pods)!.get("shop/after").map { $0.meta.labels["v"] == "2" } ?? false)
            })
        #expect(log.all.contains { if case .deleted(let o) = $0 { o.key == "shop/before" } else { false } })
        #expect(
            log.all.contains {
                if case .updated(let old, let new) = $0 {
                    old.meta.labels["v"] == "1" && new.meta.labels["v"] == "2"
                } else {
                    false
                }
            })

        // The indexes follow.
        #expect(informers.store(.pods)!.pod(ip: IPAddress("10.0.0.2")!)?.name == "after")
        #expect(informers.store(.pods)!.pods(onNode: "node-a").map(\.name) == ["after"])
        #expect(informers.snapshot().namespaces["shop"]?.labels["team"] == "a")
    }

    @Test func fieldSelectorLimitsPodsToOneNode() throws {
        let server = try TestAPIServer()
        let client = KubeClient(config: server.config())
        _ = try client.create(
            .pods, namespace: "default", object: podJSON("default", "mine", ip: "10.0.0.1", node: "node-a"))
        _ = try client.create(
            .pods, namespace: "default", object: podJSON("default", "theirs", ip: "10.0.0.2", node: "node-b"))
        let log = EventLog()
        let informers = Informers(
            client: client, resources: [.pods], options: fastOptions(),
            podFieldSelector: "spec.nodeName=node-a", handler: log.handler)
        informers.start()
        defer { informers.stop() }
        #expect(informers.waitForSync(timeout: 20))
        _ = try client.create(
            .pods, namespace: "default", object: podJSON("default", "mine-2", ip: "10.0.0.3", node: "node-a"))
        _ = try client.create(
            .pods, namespace: "default", object: podJSON("default", "theirs-2", ip: "10.0.0.4", node: "node-b"))
        #expect(log.wait { pods(informers).contains("default/mine-2") })
        #expect(pods(informers) == ["default/mine", "default/mine-2"])
    }

    @Test func survivesAServerRestart() throws {
        let server = try TestAPIServer()
        let (client, log, informers) = podInformers(server)
        defer { informers.stop() }
        _ = try client.create(.pods, namespace: "default", object: podJSON("default", "a", ip: "10.0.0.1"))
        #expect(log.wait { pods(informers) == ["default/a"] })
        try server.restart()
        _ = try client.create(.pods, namespace: "default", object: podJSON("default", "b", ip: "10.0.0.2"))
        #expect(log.wait { pods(informers) == ["default/a", "default/b"] }, "problems: \(log.problems)")
        #expect(
            log.problems.contains { $0.contains("dropped") || $0.contains("connect") },
            "the outage was reported: \(log.problems)")
    }

    @Test func relistAfter410DeliversMissedDeletes() throws {
        let server = try TestAPIServer()
        let client = KubeClient(config: server.config())
        for name in ["a", "b"] {
            _ = try client.create(
                .pods, namespace: "default", object: podJSON("default", name, ip: "10.0.0.\(name == "a" ? 1 : 2)"))
        }
        let log = EventLog()
        let informers = Informers(client: client, resources: [.pods], options: fastOptions(), handler: log.handler)
        informers.start()
        defer { informers.stop() }
        #expect(informers.waitForSync(timeout: 20))
        let reflector = informers.reflectors[.pods]!
        try server.awaitWatch(.pods)
        // The informer misses a delete (its watch is silent), then the history is compacted away.
        try server.hook("stall-watches")
        try client.delete(.pods, namespace: "default", name: "a")
        _ = try client.create(.pods, namespace: "default", object: podJSON("default", "c", ip: "10.0.0.3"))
        try server.hook("compact")
        try server.hook("drop-watches")
        #expect(log.wait { pods(informers) == ["default/b", "default/c"] }, "problems: \(log.problems)")
        #expect(
            log.all.contains { if case .deleted(let o) = $0 { o.key == "default/a" } else { false } },
            "the delete is delivered from the relist diff")
        #expect(reflector.listCount == 2)
        #expect(log.problems.contains { $0.contains("410") })
    }

    @Test func droppedWatchResumesWithoutRelisting() throws {
        let server = try TestAPIServer()
        let (client, log, informers) = podInformers(server)
        defer { informers.stop() }
        let reflector = informers.reflectors[.pods]!
        try server.awaitWatch(.pods)
        try server.hook("drop-watches")
        _ = try client.create(.pods, namespace: "default", object: podJSON("default", "late", ip: "10.0.0.9"))
        #expect(log.wait { pods(informers) == ["default/late"] })
        #expect(reflector.listCount == 1, "resumed from the last resourceVersion, not relisted")
        #expect(reflector.watchCount >= 2)
    }

    @Test func stalledWatchIsDetectedAndResumed() throws {
        // No bookmarks (interval longer than the test), so a silent watch is indistinguishable from a dead one.
        let server = try TestAPIServer(arguments: ["--bookmark-interval", "600"])
        let (client, log, informers) = podInformers(server, stall: 2)
        defer { informers.stop() }
        let reflector = informers.reflectors[.pods]!
        try server.awaitWatch(.pods)
        try server.hook("stall-watches")
        _ = try client.create(.pods, namespace: "default", object: podJSON("default", "during-stall", ip: "10.0.0.5"))
        #expect(log.wait(timeout: 30) { pods(informers) == ["default/during-stall"] }, "problems: \(log.problems)")
        #expect(reflector.watchCount >= 2)
    }

    @Test func bookmarksAdvanceTheResourceVersion() throws {
        let server = try TestAPIServer(arguments: ["--bookmark-interval", "0.2"])
        let client = KubeClient(config: server.config())
        let log = EventLog()
        let informers = Informers(
            client: client, resources: [.pods, .namespaces], options: fastOptions(), handler: log.handler)
        informers.start()
        defer { informers.stop() }
        #expect(informers.waitForSync(timeout: 20))
        let before = Int(informers.reflectors[.pods]!.resourceVersion) ?? 0
        // A change to another resource moves the global version; the pods watch learns it from a bookmark.
        _ = try client.create(
            .namespaces, namespace: nil, object: .object(["metadata": .object(["name": "elsewhere"])]))
        #expect(log.wait { (Int(informers.reflectors[.pods]!.resourceVersion) ?? 0) > before })
    }

    @Test func malformedObjectsAreReportedAndSkipped() throws {
        let server = try TestAPIServer()
        let client = KubeClient(config: server.config())
        _ = try client.create(.pods, namespace: "default", object: podJSON("default", "good", ip: "10.0.0.1"))
        try server.hook(
            "inject/api/v1/namespaces/default/pods", body: podJSON("default", "bad-in-list", ip: "10.0.0.300"))
        let log = EventLog()
        let informers = Informers(client: client, resources: [.pods], options: fastOptions(), handler: log.handler)
        informers.start()
        defer { informers.stop() }
        #expect(informers.waitForSync(timeout: 20))
        #expect(pods(informers) == ["default/good"])
        #expect(
            log.problems.contains { $0.contains("Pod default/bad-in-list") && $0.contains("status.podIP") },
            "\(log.problems)")
        try server.hook(
            "inject/api/v1/namespaces/default/pods", body: podJSON("default", "bad-in-watch", ip: "not-an-ip"))
        _ = try client.create(.pods, namespace: "default", object: podJSON("default", "good-after", ip: "10.0.0.2"))
        #expect(log.wait { pods(informers) == ["default/good", "default/good-after"] })
        #expect(log.problems.contains { $0.contains("Pod default/bad-in-watch") }, "\(log.problems)")
    }

    /// Fail closed: a malformed version of an object keeps its last good version in the store, on a watch
    /// event and through a relist after 410 alike, and stays named as rejected until it is fixed.
    @Test func malformedUpdateKeepsTheLastGoodVersionThroughARelist() throws {
        let server = try TestAPIServer()
        _ = try KubeClient(config: server.config()).create(
            .pods, namespace: "default",
            object: podJSON("default", "p", ip: "10.0.0.1"))
        let (client, log, informers) = podInformers(server)
        defer { informers.stop() }
        let reflector = try #require(informers.reflectors[.pods])
        func podIP() -> String? {
            if case .pod(let pod)? = informers.store(.pods)?.get("default/p") {
                pod.ips.first?.description
            } else {
                nil
            }
        }
        try server.awaitWatch(.pods)
        try server.hook("inject/api/v1/namespaces/default/pods", body: podJSON("default", "p", ip: "not-an-ip"))
        #expect(log.wait { informers.rejectedObjects.map(\.key) == ["default/p"] })
        #expect(podIP() == "10.0.0.1", "the last good version stays after a watch event")
        #expect(informers.rejectedObjects.first?.keptLastGood == true)
        // The history is compacted away: the informer relists and must keep the last good version again.
        try server.hook("stall-watches")
        _ = try client.create(.pods, namespace: "default", object: podJSON("default", "q", ip: "10.0.0.2"))
        try server.hook("compact")
        try server.hook("drop-watches")
        #expect(
            log.wait { reflector.listCount == 2 && pods(informers) == ["default/p", "default/q"] }, "\(log.problems)")
        #expect(podIP() == "10.0.0.1", "the relist kept the last good version")
        #expect(informers.rejectedObjects.map(\.object) == ["Pod default/p"])
        #expect(!log.all.contains { if case .deleted(let o) = $0 { o.key == "default/p" } else { false } })
        #expect(log.rejections.count == 1, "a rejection is reported once, not at every relist: \(log.rejections)")
        // A good version ends the rejection; a delete removes the object.
        _ = try client.patch(
            .pods, namespace: "default", name: "p",
            mergePatch: .object(["status": .object(["podIP": "10.0.0.3"])]),
            subresource: "status")
        #expect(log.wait { podIP() == "10.0.0.3" && informers.rejectedObjects.isEmpty })
    }

    /// One 20 MB watch event is read in time linear in its size (it took minutes, quadratic, with the
    /// reflector blind meanwhile), and the informer goes on with later events.
    @Test func aLargeWatchEventIsReadInLinearTime() throws {
        let server = try TestAPIServer()
        let (client, log, informers) = podInformers(server)
        defer { informers.stop() }
        try server.awaitWatch(.pods)
        var pod = podJSON("default", "big", ip: "10.0.0.1")
        pod["metadata"]?["annotations"] = .object(["blob": .string(String(repeating: "x", count: 20 << 20))])
        func residentMiB() -> Double {
            let fields = (try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8))?.split(separator: " ") ?? []
            return fields.count > 1 ? (Double(fields[1]) ?? 0) * Double(sysconf(Int32(_SC_PAGESIZE))) / 1_048_576 : 0
        }
        let before = residentMiB()
        let clock = ContinuousClock()
        let start = clock.now
        _ = try client.create(.pods, namespace: "default", object: pod)
        #expect(log.wait(timeout: 120) { pods(informers).contains("default/big") }, "\(log.problems)")
        let elapsed = clock.now - start
        let grown = residentMiB() - before
        print("a 20 MB watch event: in the store after \(elapsed); the test process grew by \(Int(grown)) MiB")
        #expect(elapsed < .seconds(60), "a 20 MB event took \(elapsed)")
        // The test process holds the request it sent and the informer's copies: a few times 20 MB, not the
        // gigabytes a buffer copied per chunk would reach.
        #expect(grown < 600, "resident memory grew by \(grown) MiB")
        _ = try client.create(.pods, namespace: "default", object: podJSON("default", "after", ip: "10.0.0.2"))
        #expect(log.wait { pods(informers).contains("default/after") })
    }

    @Test func wrongCertificateAuthorityIsAClearError() throws {
        let server = try TestAPIServer()
        let client = KubeClient(config: server.config(certificateAuthority: TestPKI.data("other-ca.crt")))
        let error = try #require(throws: KubeAPIError.self) { try client.list(.pods) }
        guard case .tls(let message) = error else {
            Issue.record("expected a TLS error, got \(error)")
            return
        }
        #expect(
            message.contains("certificate is not trusted") && message.contains("certificate-authority"), "\(message)")
    }

    @Test func credentialsAreChecked() throws {
        let server = try TestAPIServer()
        #expect(try KubeClient(config: server.config(token: "s3cret")).list(.pods).items.isEmpty)
        let wrong = try #require(throws: KubeAPIError.self) {
            try KubeClient(config: server.config(token: "wrong")).list(.pods)
        }
        #expect(wrong.statusCode == 401)
        #expect(
            wrong.description.contains("Unauthorized (401)") && wrong.description.contains("token-user"), "\(wrong)")
        let none = KubeConfig(server: server.url, certificateAuthority: TestPKI.data("ca.crt"), user: "nobody")
        #expect(throws: KubeAPIError.self) { try KubeClient(config: none).list(.pods) }
        let forbidden = try #require(throws: KubeAPIError.self) {
            try KubeClient(config: server.config(token: "ro-token")).list(.pods)
        }
        #expect(forbidden.statusCode == 403 && forbidden.description.contains("may not list pods"), "\(forbidden)")
    }

    @Test func connectionRefusedIsAClearError() throws {
        let server = try TestAPIServer()
        let config = server.config()
        server.stop()
        let error = try #require(throws: KubeAPIError.self) { try KubeClient(config: config).list(.pods) }
        #expect(error.description.contains("cannot connect to the API server"), "\(error)")
    }

    @Test func serverValidatesWithTheProjectsDecoders() throws {
        let server = try TestAPIServer()
        let client = KubeClient(config: server.config())
        let bad: JSONValue = .object([
            "metadata": .object(["name": "bad", "namespace": "default"]),
            "spec": .object([
                "podSelector": .object([:]),
                "ingress": .array([.object(["ports": .array([.object(["port": .int(80), "endPort": .int(10)])])])]),
            ]),
        ])
        let error = try #require(throws: KubeAPIError.self) {
            try client.create(.networkPolicies, namespace: "default", object: bad)
        }
        #expect(error.statusCode == 422 && error.description.contains("spec.ingress[0].ports[0].endPort"), "\(error)")
    }

    @Test func podStatusIsASubresource() throws {
        let server = try TestAPIServer()
        let client = KubeClient(config: server.config())
        var pod = try client.create(.pods, namespace: "default", object: podJSON("default", "p", ip: "10.0.0.1"))
        // A write to the pod itself keeps the stored status...
        pod["status"]?["podIP"] = "10.0.0.99"
        pod["metadata"]?["labels"] = .object(["changed": "yes"])
        let updated = try client.update(.pods, namespace: "default", name: "p", object: pod)
        #expect(updated["status"]?["podIP"]?.stringValue == "10.0.0.1")
        #expect(updated["metadata"]?["labels"]?["changed"]?.stringValue == "yes")
        // ...and the status subresource changes only the status.
        var status = updated
        status["status"]?["podIP"] = "10.0.0.2"
        status["metadata"]?["labels"] = .object([:])
        let patched = try client.update(.pods, namespace: "default", name: "p", object: status, subresource: "status")
        #expect(patched["status"]?["podIP"]?.stringValue == "10.0.0.2")
        #expect(patched["metadata"]?["labels"]?["changed"]?.stringValue == "yes")
        // A stale resourceVersion is a conflict.
        let conflict = try #require(throws: KubeAPIError.self) {
            try client.update(.pods, namespace: "default", name: "p", object: pod)
        }
        #expect(conflict.statusCode == 409)
    }
}
