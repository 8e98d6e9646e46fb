import Foundation
import NIOHTTP1

/// `/livez`, `/healthz` (the same, as upstream kube-router names it) and `/readyz`, as Kubernetes' own
/// components answer them: `ok` or the failed checks; `?verbose` lists every check
/// (`[+]firewall ok`, `[-]router failed: ...`); `Accept: application/json` gives the same as JSON.
enum HealthEndpoints {
    struct JSONReport: Codable, Equatable {
        var status: String
        var checks: [AgentHealth.Check]
    }

    static func routes(_ health: AgentHealth) -> [HTTPEndpoints.Route] {
        let live: @Sendable (HTTPEndpoints.Request) -> HTTPEndpoints.Response = { request in
            answer(health.liveness(), name: "livez", request)
        }
        return [
            .init(path: "/livez", slow: false, handle: live),
            .init(path: "/healthz", slow: false, handle: live),
            .init(path: "/readyz", slow: false) { request in answer(health.readiness(), name: "readyz", request) },
        ]
    }

    static func answer(
        _ report: AgentHealth.Report, name: String, _ request: HTTPEndpoints.Request
    ) -> HTTPEndpoints.Response {
        let status: HTTPResponseStatus = report.ok ? .ok : .serviceUnavailable
        if request.accept.contains("application/json") {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let body = JSONReport(status: report.ok ? "ok" : "failed", checks: report.checks)
            let data = (try? encoder.encode(body)) ?? Data()
            return HTTPEndpoints.Response(status: status, contentType: "application/json", body: Array(data) + [10])
        }
        return .text(status, text(report, name: name, verbose: request.queryItems["verbose"] != nil))
    }

    /// Kubernetes' format: `ok`, or one line per check (all with `verbose`, else the failed ones) and a
    /// last line saying whether the check passed.
    static func text(_ report: AgentHealth.Report, name: String, verbose: Bool) -> String {
        if report.ok && !verbose { return "ok" }
        var lines: [String] = []
        for check in report.checks where verbose || !check.ok {
            lines.append(check.ok ? "[+]\(check.name) ok" : "[-]\(check.name) failed: \(check.message)")
        }
        lines.append("\(name) check \(report.ok ? "passed" : "failed")")
        return lines.joined(separator: "\n") + "\n"
    }
}
