import Foundation
import TestSupport
import Testing

/// Every benchmark takes `-o json` and then prints one JSON object of its figures and nothing else; here the
/// one that needs no root (krbench), small.
@Suite struct BenchJSONTests {
    @Test func krbenchPrintsOneJSONObjectOfItsFigures() throws {
        let (status, out, err) = try run(builtExecutable("krbench").path, ["300", "10", "20", "-o", "json"])
        #expect(status == 0, "\(err)")
        let lines = out.split(separator: "\n")
        #expect(lines.count == 1, "only the JSON object: \(out)")
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data((lines.first ?? "").utf8)) as? [String: Any])
        #expect(object["pods"] as? Int == 300 && object["policies"] as? Int == 20)
        for key in ["loadMs", "indexMs", "queryMedianMs", "queryP99Ms", "coldQueryMs", "matrixMs"] {
            #expect((object[key] as? Double).map { $0 >= 0 } == true, "\(key) in \(object)")
        }
        // Without -o json: lines for a person, no JSON.
        let (_, text, _) = try run(builtExecutable("krbench").path, ["300", "10", "20"])
        #expect(text.contains("engine index build:") && !text.contains("{"))
    }
}
