import Foundation
import KubeAPI

/// kube-test-server for a benchmark: TLS with a fresh test PKI, started from a state file (so that it holds the
/// cluster at once), in a network namespace when one is given; with a kubeconfig file and a client config for
/// its admin user.
public final class BenchAPIServer {
    public let process = Process()
    public let port: String
    public let kubeconfig: String
    public let config: KubeConfig

    /// `root`: the repository (for scripts/make-test-pki); `bin`: where kube-test-server is; `work`: a directory
    /// for the PKI and the kubeconfig.
    public init(
        root: URL, bin: URL, work: URL, state: String, netns: String? = nil, arguments: [String] = []
    ) throws {
        let pki = work.appendingPathComponent("pki").path
        _ = try shell("/bin/bash", [root.appendingPathComponent("scripts/make-test-pki").path, pki])
        let server = [
            bin.appendingPathComponent("kube-test-server").path, "--listen", "127.0.0.1:0",
            "--tls-cert", "\(pki)/server.crt", "--tls-key", "\(pki)/server.key", "--client-ca", "\(pki)/ca.crt",
            "--state", state, "--test-endpoints",
        ]
        process.executableURL = URL(fileURLWithPath: netns == nil ? server[0] : "/usr/sbin/ip")
        process.arguments = (netns.map { ["netns", "exec", $0] + server } ?? Array(server.dropFirst())) + arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        // It prints `listening on https://127.0.0.1:PORT` once the socket accepts connections.
        var line = Data()
        while true {
            let byte = out.fileHandleForReading.readData(ofLength: 1)
            if byte.isEmpty || byte.first == UInt8(ascii: "\n") { break }
            line.append(byte)
        }
        port = String(decoding: line, as: UTF8.self).split(separator: ":").last.map(String.init) ?? ""
        kubeconfig = work.appendingPathComponent("kubeconfig").path
        try """
        apiVersion: v1
        kind: Config
        clusters: [{name: b, cluster: {server: "https://127.0.0.1:\(port)", certificate-authority: \(pki)/ca.crt}}]
        users: [{name: admin, user: {client-certificate: \(pki)/admin.crt, client-key: \(pki)/admin.key}}]
        contexts: [{name: b, context: {cluster: b, user: admin}}]
        current-context: b
        """.write(toFile: kubeconfig, atomically: true, encoding: .utf8)
        config = KubeConfig(
            server: "https://127.0.0.1:\(port)",
            certificateAuthority: FileManager.default.contents(atPath: "\(pki)/ca.crt"),
            clientCertificate: FileManager.default.contents(atPath: "\(pki)/admin.crt"),
            clientKey: FileManager.default.contents(atPath: "\(pki)/admin.key"), user: "admin", origin: "bench")
    }

    public func stop() {
        process.terminate()
        process.waitUntilExit()
    }
}
