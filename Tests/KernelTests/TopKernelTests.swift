import Foundation
import TestSupport
import Testing

@testable import Kernel
@testable import KubeAPI
@testable import KubeModel
@testable import Planning

/// `krctl top` on the lab's node with the agent enforcing: its batch JSON names the agent's node and
/// controllers, the pod's REJECT counter (equal to the kernel's, its rate over the real elapsed time) and the
/// denied flow, attributed to the right pod and policy.
@Suite(
    .serialized,
    .enabled(
        if: Kernel.available && FileManager.default.isExecutableFile(atPath: "/usr/bin/python3"),
        Comment(rawValue: Kernel.reason + " and /usr/bin/python3")))
struct TopKernelTests {
    static func number(_ value: JSONValue?) -> Double? {
        switch value {
        case .int(let i)?: Double(i)
        case .double(let d)?: d
        default: nil
        }
    }

    @Test func batchJSONShowsTheAgentAndADeniedFlow() throws {
        let fixture = try DeniedFlowFixture(stateName: "kr-top")
        defer { fixture.agent.stop() }
        let (lab, kubeconfig, stateDir) = (fixture.lab, fixture.kubeconfig, fixture.stateDir)
        let (api, db) = (lab.pods[1], lab.pods[2])
        let drops = DropsTrafficTests()

        let recording = stateDir + "-top.jsonl"
        defer { unlink(recording) }
        let top = try DropsTrafficTests.Background([
            "netns", "exec", lab.node, builtExecutable("krctl").path, "top", "--iterations", "2", "-o", "jsonl",
            "--interval", "3s", "--kubeconfig", kubeconfig, "--state-dir", stateDir, "--no-doctor",
            "--record", recording,
        ])
        #expect(drops.waitBound(lab, top), "krctl top binds the NFLOG group")
        #expect(try lab.who(from: db.netns, api.ip, 9000, count: 1) == ["refused"])
        drops.send(udp: 10, from: db, to: api.ip, port: 53)
        let result = top.finish()
        #expect(result.status == 0, "\(result.out)\(result.err)")
        let snapshots = result.out.split(separator: "\n").compactMap { try? JSONValue.parseJSON(Data($0.utf8)) }
        #expect(snapshots.count == 2, "\(result.out)")
        guard let first = snapshots.first, let last = snapshots.last else { return }
        // The recording holds what was printed, and the baseline before it.
        let recorded = (try? String(contentsOfFile: recording, encoding: .utf8)) ?? ""
        #expect(recorded.split(separator: "\n").count == 3 && recorded.hasSuffix(result.out), "\(recorded)")
        if let keep = ProcessInfo.processInfo.environment["KR_TOP_RECORD"] {
            try? recorded.write(toFile: keep, atomically: true, encoding: .utf8)  // the README's screens
        }
        #expect(last["apiVersion"]?.stringValue == "krctl/v1" && last["kind"]?.stringValue == "TopSnapshot")
        #expect(last["node"]?.stringValue == "node-1", "the agent's node")
        let controllers = last["controllers"]?.arrayValue ?? []
        #expect(
            controllers.contains { $0["name"]?.stringValue == "firewall" && ($0["syncs"]?.intValue ?? 0) >= 1 },
            "\(result.out)")
        #expect(last["agent"]?["ready"] == .bool(true), "the health endpoint answered: \(result.out)")

        func apiIngress(_ snapshot: JSONValue) -> JSONValue? {
            snapshot["pods"]?.arrayValue?.first {
                $0["pod"]?.stringValue == "shop/api" && $0["direction"]?.stringValue == "ingress"
                    && $0["family"]?.stringValue == "IPv4"
            }
        }
        let row = try #require(apiIngress(last), "\(result.out)")
        let refused = row["refused"]?.intValue ?? 0
        #expect(refused >= 11, "\(row)")
        #expect(row["policies"]?.arrayValue?.compactMap(\.stringValue) == ["shop/api"])
        // The rate is the counter's growth over the real time between the two snapshots.
        let before = apiIngress(first)?["refused"]?.intValue ?? 0
        let elapsed = Self.number(last["elapsed"]) ?? 0
        let rate = Self.number(row["refusedPerSecond"]) ?? -1
        #expect(elapsed > 2.5 && abs(rate - Double(refused - before) / elapsed) < 0.001, "\(row) \(elapsed)")
        // ... and the counter is the kernel's REJECT rule's (no packet since).
        let chain = row["chain"]?.stringValue ?? "?"
        let save = Kernel.shell("ip netns exec \(lab.node) iptables-legacy-save -c -t filter").1
        let rule = save.split(separator: "\n").first { $0.contains("-A \(chain) ") && $0.contains("-j REJECT") }
        let kernel = rule.flatMap { $0.dropFirst().split(separator: ":").first.flatMap { Int($0) } }
        #expect(kernel == refused, "\(rule ?? "no REJECT rule in \(chain)")")

        let samples = last["drops"]?.arrayValue ?? []
        let denied = samples.first { $0["protocol"]?.stringValue == "TCP" && $0["port"]?.intValue == 9000 }
        #expect(denied?["from"]?.stringValue == "shop/db" && denied?["pod"]?.stringValue == "shop/api", "\(samples)")
        #expect(denied?["policies"]?.arrayValue?.compactMap(\.stringValue) == ["shop/api"])
        #expect(denied?["kernelAgrees"] == .bool(true))
    }
}
