import Foundation
import KubeModel

/// The server's request handling for the fuzzer (`FuzzTarget.http`): bytes become up to sixteen requests, run in
/// order against a fresh store, each as a request line `METHOD URI`, header lines `Name: value`, an empty line
/// and the body; requests are separated by a line `===`. The user is `admin` (who may do everything) unless a
/// `User:` header names another, whom the (empty) RBAC rules then judge. Only the answer's status comes back:
/// whatever the bytes, the server must answer, never trap.
public enum RequestFuzzing {
    public static func handle(_ bytes: [UInt8]) async -> [Int] {
        guard let store = try? APIStore(statePath: nil, historyLimit: 64, gracefulPodDeletion: true) else { return [] }
        var router = Router(store: store, testEndpoints: false, forbidden: ["nobody"])
        router.rbacSuperusers = ["admin"]
        let text = String(decoding: bytes, as: UTF8.self)
        var codes: [Int] = []
        for part in text.components(separatedBy: "\n===\n").prefix(16) {
            guard let request = request(part) else { continue }
            switch await router.handle(request) {
            case .json(let code, _), .text(let code, _), .raw(let code, _, _): codes.append(code)
            case .watch: codes.append(200)
            }
        }
        return codes
    }

    static func request(_ text: String) -> APIRequest? {
        let (head, body) =
            text.range(of: "\n\n").map { (String(text[..<$0.lowerBound]), String(text[$0.upperBound...])) }
            ?? (text, "")
        var lines = head.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard !lines.isEmpty else { return nil }
        let first = lines.removeFirst().split(separator: " ", maxSplits: 1).map(String.init)
        guard first.count == 2 else { return nil }
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(
                in: .whitespaces)
        }
        let (path, query) = HTTPServer.split(first[1])
        var request = APIRequest(
            method: first[0], path: path, query: query, contentType: headers["content-type"] ?? "application/json",
            body: Data(body.utf8), user: headers["user"] ?? "admin")
        request.accept = headers["accept"] ?? ""
        return request
    }
}
