import Foundation
import TestSupport
import Testing

@testable import KubeAPI

@Suite struct KubeconfigTests {
    func write(_ text: String, name: String = "config") throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kr-kc-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    let sample = """
        apiVersion: v1
        kind: Config
        current-context: dev
        clusters:
        - name: c1
          cluster: {server: "https://10.0.0.1:6443/",
                    certificate-authority-data: \(Data("CA PEM".utf8).base64EncodedString())}
        - name: c2
          cluster: {server: "https://example:443", insecure-skip-tls-verify: true}
        users:
        - name: u1
          user: {client-certificate-data: \(Data("CERT".utf8).base64EncodedString()), client-key: keys/u1.key}
        - name: u2
          user: {token: abc}
        - name: u3
          user: {tokenFile: token.txt}
        contexts:
        - name: dev
          context: {cluster: c1, user: u1, namespace: team-a}
        - name: prod
          context: {cluster: c2, user: u2}
        - name: file-token
          context: {cluster: c2, user: u3}
        - name: broken
          context: {cluster: nope, user: u2}
        """

    @Test func currentContextWithDataAndRelativeFiles() throws {
        let path = try write(sample)
        let dir = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: "\(dir)/keys", withIntermediateDirectories: true)
        try "KEY".write(toFile: "\(dir)/keys/u1.key", atomically: true, encoding: .utf8)
        let config = try KubeConfig.load(paths: [path], context: nil)
        #expect(config.server == "https://10.0.0.1:6443", "a trailing slash is dropped")
        #expect(config.certificateAuthority == Data("CA PEM".utf8))
        #expect(config.clientCertificate == Data("CERT".utf8))
        #expect(config.clientKey == Data("KEY".utf8), "relative paths are relative to the kubeconfig's folder")
        #expect(config.namespace == "team-a" && config.user == "u1" && config.context == "dev")
    }

    @Test func explicitContextTokenAndInsecure() throws {
        let config = try KubeConfig.load(paths: [try write(sample)], context: "prod")
        #expect(config.insecureSkipTLSVerify && config.currentToken() == "abc" && config.namespace == "default")
    }

    @Test func tokenFileIsReadAtUse() throws {
        let path = try write(sample)
        let tokenPath = ((path as NSString).deletingLastPathComponent as NSString).appendingPathComponent("token.txt")
        try "first\n".write(toFile: tokenPath, atomically: true, encoding: .utf8)
        let config = try KubeConfig.load(paths: [path], context: "file-token")
        #expect(config.currentToken() == "first")
        try "rotated".write(toFile: tokenPath, atomically: true, encoding: .utf8)
        #expect(config.currentToken() == "rotated", "a rotated service-account token is picked up")
    }

    @Test func clearErrors() throws {
        let path = try write(sample)
        let missing = try #require(throws: KubeConfigError.self) { try KubeConfig.load(paths: [path], context: "nope") }
        #expect(
            missing.description.contains("context \"nope\" not found")
                && missing.description.contains("broken, dev, file-token, prod"))
        let broken = try #require(throws: KubeConfigError.self) {
            try KubeConfig.load(paths: [path], context: "broken")
        }
        #expect(broken.description.contains("names cluster \"nope\""))
        #expect(throws: KubeConfigError.self) { try KubeConfig.load(paths: ["/nonexistent"], context: nil) }
    }

    @Test func kubeconfigListFirstDefinitionWins() throws {
        let first = try write(
            """
            current-context: a
            contexts: [{name: a, context: {cluster: shared, user: u}}]
            clusters: [{name: shared, cluster: {server: "https://first"}}]
            """)
        let second = try write(
            """
            current-context: b
            clusters: [{name: shared, cluster: {server: "https://second"}}]
            users: [{name: u, user: {token: t}}]
            """)
        let config = try KubeConfig.resolve(
            kubeconfig: nil, context: nil, environment: ["KUBECONFIG": "\(first):\(second)", "HOME": "/nonexistent"])
        #expect(config.server == "https://first" && config.context == "a" && config.currentToken() == "t")
    }

    @Test func inClusterConfiguration() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kr-sa-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try "sa-token".write(toFile: "\(dir)/token", atomically: true, encoding: .utf8)
        try "CA".write(toFile: "\(dir)/ca.crt", atomically: true, encoding: .utf8)
        try "kube-system".write(toFile: "\(dir)/namespace", atomically: true, encoding: .utf8)
        let env = ["KUBERNETES_SERVICE_HOST": "fd00::1", "KUBERNETES_SERVICE_PORT": "443", "HOME": "/nonexistent"]
        let config = try KubeConfig.resolve(
            kubeconfig: nil, context: nil, environment: env, serviceAccountDirectory: dir)
        #expect(config.server == "https://[fd00::1]:443")
        #expect(config.currentToken() == "sa-token" && config.certificateAuthority == Data("CA".utf8))
        #expect(config.namespace == "kube-system")
        #expect(throws: KubeConfigError.self) {
            try KubeConfig.resolve(kubeconfig: nil, context: nil, environment: ["HOME": "/nonexistent"])
        }
    }
}
