import Foundation
import FuzzTargets
import Testing

@testable import TestServer

/// Every committed fuzzing input through its target, in process and without the sanitizers: the seeds
/// `scripts/fuzz` starts from (the BGP captures, the example and deploy manifests, `Fuzz/corpus`) and the inputs
/// that once crashed a target (`Fuzz/regressions/<target>`). A target traps on a crash or a failed self-check.
@Suite struct FuzzRegressionTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static func files(_ directory: String, suffix: String = "") -> [URL] {
        let url = root.appendingPathComponent(directory)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []
        return names.filter { !$0.hasPrefix(".") && $0.hasSuffix(suffix) }.sorted().map {
            url.appendingPathComponent($0)
        }
    }

    static func inputs(_ target: FuzzTarget) -> [[UInt8]] {
        var inputs: [[UInt8]] = []
        switch target {
        case .bgp:
            for file in files("Tests/CoreTests/Fixtures/bgp", suffix: ".txt") {
                let text = (try? String(contentsOf: file, encoding: .utf8)) ?? ""
                for line in text.split(separator: "\n") where !line.hasPrefix("#") {
                    let fields = line.split(separator: " ")
                    if fields.count == 4 { inputs.append(BGPCodecTests.hex(fields[3])) }
                }
            }
        case .yaml:
            for directory in ["examples/cluster", "examples/lab", "deploy/base"] {
                inputs += files(directory, suffix: ".yaml").compactMap { try? Array(Data(contentsOf: $0)) }
            }
        case .json, .packet, .http:
            break
        }
        for directory in ["Fuzz/corpus/\(target.rawValue)", "Fuzz/regressions/\(target.rawValue)"] {
            inputs += files(directory).compactMap { try? Array(Data(contentsOf: $0)) }
        }
        return inputs
    }

    @Test(arguments: FuzzTarget.allCases)
    func everyCommittedInputRuns(_ target: FuzzTarget) {
        let inputs = Self.inputs(target)
        #expect(inputs.count >= 3, "\(target): the seeds are missing")
        for input in inputs { target.run(input) }
    }

    /// The request seeds reach the store: created, patched both ways, listed with selectors, watched, deleted.
    @Test func requestSeedsAreServed() async throws {
        let seed = try Data(contentsOf: Self.root.appendingPathComponent("Fuzz/corpus/http/create-patch-list.txt"))
        #expect(await RequestFuzzing.handle(Array(seed)) == [201, 201, 200, 200, 200, 200, 200])
        let rbac = try Data(contentsOf: Self.root.appendingPathComponent("Fuzz/corpus/http/rbac-and-discovery.txt"))
        let codes = await RequestFuzzing.handle(Array(rbac))
        #expect(codes.count == 9 && codes[6] == 200, "bob may list nodes once bound: \(codes)")
    }
}

/// kube-test-server writes times as the API does, now without a date formatter per object.
@Suite struct TestServerTimestampTests {
    @Test func timestampsAreRFC3339InUTC() throws {
        let text = APIStore.timestamp()
        let parsed = try #require(ISO8601DateFormatter().date(from: text), "\(text)")
        #expect(abs(parsed.timeIntervalSinceNow) < 5 && text.hasSuffix("Z") && text.count == 20)
    }
}

/// A query string's pairs as the test server reads them; one without a name once trapped it.
@Suite struct TestServerQueryTests {
    @Test func pairsWithoutANameAreSkipped() async {
        let codes = await RequestFuzzing.handle(Array("GET /api/v1/pods?=&limit=1&=x&watch\n".utf8))
        #expect(codes == [200])
    }
}
