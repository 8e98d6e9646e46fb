import Foundation
import Synchronization
import Testing

@testable import Agent

/// The health state machine: liveness (stall limit, worker gone), readiness (first full syncs, latching,
/// three failures, shutdown), and the answers' formats. No root, no network.
@Suite struct HealthStateTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    /// A monitor with one finished sync of `seconds`, ended at `t0`.
    func monitor(_ name: String, full: Bool = true, succeeded: Bool = true, seconds: Double = 1) -> SyncMonitor {
        let m = SyncMonitor(controller: name)
        let start = t0.addingTimeInterval(-seconds)
        m.begin(full: full, at: start)
        m.end(trigger: .initial, full: full, started: start, succeeded: succeeded, pendingSince: nil, at: t0)
        return m
    }

    func fail(_ m: SyncMonitor, _ reason: String, times: Int) {
        for _ in 0..<times {
            m.begin(full: true, at: t0)
            m.failed(reason)
            m.end(trigger: .retry, full: true, started: t0, succeeded: false, pendingSince: nil, at: t0)
        }
    }

    @Test func aSyncPastTheStallLimitFailsLiveness() {
        let m = monitor("firewall", seconds: 100)  // longest 100 s: the limit is max(600, 300) = 600 s
        m.begin(full: false, at: t0)
        let health = AgentHealth(monitors: [m]) { true }
        #expect(health.liveness(now: t0.addingTimeInterval(599)).ok)
        let stalled = health.liveness(now: t0.addingTimeInterval(601))
        #expect(!stalled.ok)
        #expect(stalled.failures.first?.message == "a sync has been running for 601 s, past the stall limit of 600 s")

        // A controller whose syncs are long gets a longer limit: 3 × its longest.
        let slow = monitor("router", seconds: 400)
        slow.begin(full: true, at: t0)
        #expect(AgentHealth(monitors: [slow]) { true }.liveness(now: t0.addingTimeInterval(1100)).ok)
        #expect(!AgentHealth(monitors: [slow]) { true }.liveness(now: t0.addingTimeInterval(1201)).ok)
    }

    @Test func failingSyncsAndAPILossNeverFailLiveness() {
        let m = monitor("firewall")
        fail(m, "iptables-restore: permission denied", times: 10)
        let health = AgentHealth(monitors: [m]) { false }
        #expect(health.liveness(now: t0).ok)
        #expect(!health.readiness(now: t0).ok)
    }

    @Test func aGoneWorkerFailsLiveness() {
        let m = monitor("service-proxy")
        m.workerEnded(stopped: false)
        let report = AgentHealth(monitors: [m]) { true }.liveness(now: t0)
        #expect(report.failures.map(\.message) == ["its worker thread is gone"])
        let stopped = monitor("router")
        stopped.workerEnded(stopped: true)
        #expect(AgentHealth(monitors: [stopped]) { true }.liveness(now: t0).ok)
    }

    @Test func readinessNeedsInformersAndAFullSyncOfEachControllerThenLatches() {
        let firewall = SyncMonitor(controller: "firewall")
        let router = SyncMonitor(controller: "router")
        let synced = Mutex(false)
        let listening = Mutex(false)
        let health = AgentHealth(monitors: [firewall, router]) { synced.withLock { $0 } }
        health.add(.init(name: "bgp", latching: true) { (listening.withLock { $0 }, "speaker") })
        var report = health.readiness(now: t0)
        #expect(Set(report.failures.map(\.name)) == ["informers", "firewall", "router", "bgp"])
        #expect(report.failures.first { $0.name == "firewall" }?.message == "waiting for the first full sync")
        synced.withLock { $0 = true }
        // An incremental success is not enough; a failure says why.
        firewall.begin(full: false, at: t0)
        firewall.end(trigger: .event, full: false, started: t0, succeeded: true, pendingSince: nil, at: t0)
        fail(router, "cannot start the BGP speaker: address in use", times: 1)
        report = health.readiness(now: t0)
        #expect(report.failures.first { $0.name == "firewall" }?.message == "waiting for the first full sync")
        #expect(
            report.failures.first { $0.name == "router" }?.message
                == "last sync failed: cannot start the BGP speaker: address in use")
        for m in [firewall, router] {
            m.begin(full: true, at: t0)
            m.end(trigger: .retry, full: true, started: t0, succeeded: true, pendingSince: nil, at: t0)
        }
        #expect(health.readiness(now: t0).failures.map(\.name) == ["bgp"])
        listening.withLock { $0 = true }
        #expect(health.readiness(now: t0).ok)

        // Latched: a relist (informers not synced) or the speaker restarting do not make it unready...
        synced.withLock { $0 = false }
        listening.withLock { $0 = false }
        #expect(health.readiness(now: t0).ok)
        // ... two failed syncs neither; the third does, with the cause; a success brings it back.
        fail(firewall, "ipset restore: set in use", times: 2)
        #expect(health.readiness(now: t0).ok)
        fail(firewall, "ipset restore: set in use", times: 1)
        report = health.readiness(now: t0)
        #expect(report.failures.map(\.message) == ["the last 3 syncs failed: ipset restore: set in use"])
        firewall.begin(full: true, at: t0)
        firewall.end(trigger: .retry, full: true, started: t0, succeeded: true, pendingSince: nil, at: t0)
        #expect(health.readiness(now: t0).ok)

        // SIGTERM: unready at once, and for good; liveness is unaffected.
        health.beginShutdown()
        #expect(health.readiness(now: t0).failures.map(\.message) == ["the agent is shutting down"])
        #expect(health.liveness(now: t0).ok)
    }

    @Test func persistentChecksKeepReadinessRedAfterLatching() {
        let m = monitor("firewall")
        let broken = Mutex(false)
        let health = AgentHealth(monitors: [m]) { true }
        health.add(.init(name: "node", latching: false) { (!broken.withLock { $0 }, "xt_set is not loaded") })
        #expect(health.readiness(now: t0).ok)
        broken.withLock { $0 = true }
        #expect(health.readiness(now: t0).failures.map(\.message) == ["xt_set is not loaded"])
    }

    @Test func answersAsKubernetesComponentsDo() {
        let report = AgentHealth.Report(
            ok: false,
            checks: [
                .init(name: "informers", ok: true, message: "ok"),
                .init(name: "firewall", ok: false, message: "last sync failed: x"),
            ])
        #expect(
            HealthEndpoints.text(report, name: "readyz", verbose: false)
                == "[-]firewall failed: last sync failed: x\nreadyz check failed\n")
        #expect(
            HealthEndpoints.text(report, name: "readyz", verbose: true)
                == "[+]informers ok\n[-]firewall failed: last sync failed: x\nreadyz check failed\n")
        let ok = AgentHealth.Report(ok: true, checks: [.init(name: "router", ok: true, message: "ok")])
        #expect(HealthEndpoints.text(ok, name: "livez", verbose: false) == "ok")
        #expect(HealthEndpoints.text(ok, name: "livez", verbose: true) == "[+]router ok\nlivez check passed\n")
        let request = HTTPEndpoints.Request(method: .GET, path: "/readyz", queryItems: [:], accept: "application/json")
        let json = HealthEndpoints.answer(report, name: "readyz", request)
        #expect(json.status == .serviceUnavailable && json.contentType == "application/json")
        #expect(
            String(decoding: json.body, as: UTF8.self)
                == #"{"checks":[{"message":"ok","name":"informers","ok":true},"#
                + #"{"message":"last sync failed: x","name":"firewall","ok":false}],"status":"failed"}"# + "\n")
    }
}

/// The worker records each sync in its monitor: why it ran, how long the oldest event waited, drift
/// repaired by a periodic sync; and it stops, waiting for the running sync within a deadline.
@Suite struct SyncWorkerMonitorTests {
    func waitFor(_ timeout: Double = 5, _ condition: () -> Bool) -> Bool {
        let deadline = Date(timeIntervalSinceNow: timeout)
        while Date() < deadline {
            if condition() { return true }
            usleep(5_000)
        }
        return condition()
    }

    @Test func triggersLatencyAndDrift() {
        let worker = SyncWorker(name: "test", period: 0.3, retry: 0.05)
        let calls = Mutex(0)
        worker.start(ready: { true }) { full in
            let n = calls.withLock {
                $0 += 1
                return $0
            }
            if n == 2 { return false }  // the second sync fails: the third is a retry
            if n >= 4 { worker.monitor.kernelChanged(1) }  // the periodic sync finds drift
            return true
        }
        defer { worker.stop() }
        #expect(waitFor { worker.monitor.snapshot.last?.trigger == .initial })
        worker.markDirty()
        #expect(waitFor { worker.monitor.snapshot.last?.trigger == .retry })
        #expect(worker.monitor.snapshot.last?.full == true)
        usleep(20_000)
        worker.markDirty()
        #expect(waitFor { worker.monitor.snapshot.last?.trigger == .event })
        #expect((worker.monitor.snapshot.last?.eventLatency ?? -1) >= 0)
        #expect(waitFor { worker.monitor.snapshot.last?.trigger == .periodic })
        #expect(worker.monitor.snapshot.last?.full == true)
        #expect(waitFor { worker.monitor.snapshot.driftRepairs >= 1 })
        #expect(worker.monitor.snapshot.consecutiveFailures == 0)
    }

    @Test func stopWaitsForTheRunningSyncUntilTheDeadline() {
        let worker = SyncWorker(name: "slow", period: 300)
        let release = Mutex(false)
        let started = Mutex(false)
        worker.start(ready: { true }) { _ in
            started.withLock { $0 = true }
            while !release.withLock({ $0 }) { usleep(1_000) }
            return true
        }
        #expect(waitFor { started.withLock { $0 } })
        #expect(worker.stop(waitingUntil: Date(timeIntervalSinceNow: 0.2)) == false, "still running")
        #expect(worker.monitor.snapshot.runningSince != nil)
        release.withLock { $0 = true }
        #expect(worker.stop(waitingUntil: Date(timeIntervalSinceNow: 5)))
        #expect(waitFor { worker.monitor.snapshot.stopped })
    }
}
