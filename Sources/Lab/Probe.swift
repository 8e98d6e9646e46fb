import Foundation
import KubeModel

/// A container probe as the pod spec gives it (httpGet, tcpSocket or exec), with the kubelet's timing
/// defaults, run inside the pod's network namespace.
struct Probe: Sendable {
    enum Action: Sendable {
        case httpGet(host: String, port: Int, path: String, scheme: String)
        case tcpSocket(host: String, port: Int)
        case exec([String])
    }

    var action: Action
    var initialDelay: Double
    var period: Double
    var timeout: Double
    var successThreshold: Int
    var failureThreshold: Int

    /// nil when the spec has no probe or one of a kind the lab cannot run (it then counts as passing).
    init?(_ spec: JSONValue?, podIP: String, ports: [String: Int]) {
        guard let spec else { return nil }
        func port(_ value: JSONValue?) -> Int? {
            if let number = value?.intValue { return number }
            return value?.stringValue.flatMap { ports[$0] }
        }
        if let get = spec["httpGet"], let number = port(get["port"]) {
            action = .httpGet(
                host: get["host"]?.stringValue ?? podIP, port: number, path: get["path"]?.stringValue ?? "/",
                scheme: (get["scheme"]?.stringValue ?? "HTTP").lowercased())
        } else if let tcp = spec["tcpSocket"], let number = port(tcp["port"]) {
            action = .tcpSocket(host: tcp["host"]?.stringValue ?? podIP, port: number)
        } else if let command = spec["exec"]?["command"]?.arrayValue?.compactMap(\.stringValue), !command.isEmpty {
            action = .exec(command)
        } else {
            return nil
        }
        initialDelay = Double(spec["initialDelaySeconds"]?.intValue ?? 0)
        period = Double(spec["periodSeconds"]?.intValue ?? 10)
        timeout = Double(spec["timeoutSeconds"]?.intValue ?? 1)
        successThreshold = spec["successThreshold"]?.intValue ?? 1
        failureThreshold = spec["failureThreshold"]?.intValue ?? 3
    }

    /// Runs the probe once in `netns`; true when it passes.
    func check(netns: String) -> Bool {
        let timeoutText = String(format: "%.1f", timeout)
        let command: [String]
        switch action {
        case .httpGet(let host, let port, let path, let scheme):
            let address = host.contains(":") ? "[\(host)]" : host
            // 200-399 passes, as the kubelet counts it.
            command = [
                "curl", "-k", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", timeoutText,
                "\(scheme)://\(address):\(port)\(path)",
            ]
            guard let result = try? Shell.run("/usr/sbin/ip", ["netns", "exec", netns] + command, check: false),
                let code = Int(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
            else { return false }
            return (200..<400).contains(code)
        case .tcpSocket(let host, let port):
            command = ["timeout", timeoutText, "bash", "-c", "exec 3<>/dev/tcp/\(host)/\(port)"]
        case .exec(let argv):
            command = ["timeout", timeoutText] + argv
        }
        let result = try? Shell.run("/usr/sbin/ip", ["netns", "exec", netns] + command, check: false)
        return result?.status == 0
    }
}
