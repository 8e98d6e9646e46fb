import Foundation
import KubeModel

/// Where and how to reach the API server: one context of a kubeconfig, or the pod's service account.
public struct KubeConfig: Sendable {
    public var server: String
    public var certificateAuthority: Data?
    public var insecureSkipTLSVerify: Bool
    public var clientCertificate: Data?
    public var clientKey: Data?
    public var token: String?
    /// Read before each connection, as service-account tokens are rotated on disk.
    public var tokenFile: String?
    /// The user entry's name (or the service account), for error messages.
    public var user: String
    public var context: String
    /// The context's namespace, `default` when it names none.
    public var namespace: String
    /// Where this came from, for messages: `kubeconfig /root/.kube/config, context kind-a`.
    public var origin: String

    public init(
        server: String, certificateAuthority: Data? = nil, insecureSkipTLSVerify: Bool = false,
        clientCertificate: Data? = nil, clientKey: Data? = nil, token: String? = nil, tokenFile: String? = nil,
        user: String = "", context: String = "", namespace: String = "default", origin: String = ""
    ) {
        self.server = server
        self.certificateAuthority = certificateAuthority
        self.insecureSkipTLSVerify = insecureSkipTLSVerify
        self.clientCertificate = clientCertificate
        self.clientKey = clientKey
        self.token = token
        self.tokenFile = tokenFile
        self.user = user
        self.context = context
        self.namespace = namespace
        self.origin = origin
    }

    /// The bearer token to send now: `token`, else the current content of `tokenFile`.
    public func currentToken() -> String? {
        if let token, !token.isEmpty { return token }
        guard let tokenFile, let data = FileManager.default.contents(atPath: tokenFile) else { return nil }
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? nil : text
    }

    /// Why `tokenFile` gives no token (missing, unreadable or empty), when it is the only credential.
    public func tokenFileProblem() -> String? {
        guard token?.isEmpty ?? true, let tokenFile else { return nil }
        let reason: String
        if !FileManager.default.fileExists(atPath: tokenFile) {
            reason = "does not exist"
        } else if let data = FileManager.default.contents(atPath: tokenFile) {
            guard String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                return nil
            }
            reason = "is empty"
        } else {
            reason = "cannot be read"
        }
        return "the token file \(tokenFile) of user \"\(user)\" (\(origin)) \(reason)"
    }

    /// What an operator should know before the first request: credentials that may travel in clear, or a
    /// server whose identity is not checked.
    public var securityWarnings: [String] {
        var warnings: [String] = []
        if server.lowercased().hasPrefix("http://") {
            warnings.append(
                "the API server \(server) is reached over plain http: "
                    + "requests\(currentToken() != nil ? " and the bearer token" : "") travel unencrypted (use https)"
            )
        }
        if insecureSkipTLSVerify {
            warnings.append(
                "insecure-skip-tls-verify is set for \(server) (\(origin)): "
                    + "the API server's certificate is not checked, so anyone on the path can impersonate it"
            )
        }
        return warnings
    }

    /// kubectl's order: an explicit path, then `KUBECONFIG` (colon-separated, first definition wins), then
    /// `~/.kube/config`; failing all, the in-cluster service account when running in a pod.
    public static func resolve(
        kubeconfig: String?, context: String?,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        serviceAccountDirectory: String = "/var/run/secrets/kubernetes.io/serviceaccount"
    ) throws -> KubeConfig {
        if let kubeconfig { return try load(paths: [kubeconfig], context: context) }
        if let list = environment["KUBECONFIG"], !list.isEmpty {
            let paths = list.split(separator: ":").map(String.init).filter {
                FileManager.default.fileExists(atPath: $0)
            }
            if !paths.isEmpty { return try load(paths: paths, context: context) }
        }
        let home = environment["HOME"] ?? NSHomeDirectory()
        let defaultPath = "\(home)/.kube/config"
        if FileManager.default.fileExists(atPath: defaultPath) {
            return try load(paths: [defaultPath], context: context)
        }
        if environment["KUBERNETES_SERVICE_HOST"] != nil {
            return try inCluster(environment: environment, serviceAccountDirectory: serviceAccountDirectory)
        }
        throw KubeConfigError(
            "no kubeconfig found: give --kubeconfig PATH, set KUBECONFIG, create ~/.kube/config, or run in a pod")
    }

    /// The in-cluster configuration: `KUBERNETES_SERVICE_HOST/PORT` and the mounted service account.
    public static func inCluster(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        serviceAccountDirectory: String = "/var/run/secrets/kubernetes.io/serviceaccount"
    ) throws -> KubeConfig {
        guard let host = environment["KUBERNETES_SERVICE_HOST"], let port = environment["KUBERNETES_SERVICE_PORT"]
        else {
            throw KubeConfigError(
                "not running in a pod: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set")
        }
        let tokenPath = "\(serviceAccountDirectory)/token"
        guard FileManager.default.fileExists(atPath: tokenPath) else {
            throw KubeConfigError("in-cluster configuration: no service account token at \(tokenPath)")
        }
        let hostPart = host.contains(":") ? "[\(host)]" : host
        let namespace =
            FileManager.default.contents(atPath: "\(serviceAccountDirectory)/namespace")
            .map { String(decoding: $0, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) } ?? "default"
        return KubeConfig(
            server: "https://\(hostPart):\(port)",
            certificateAuthority: FileManager.default.contents(atPath: "\(serviceAccountDirectory)/ca.crt"),
            tokenFile: tokenPath, user: "service account (\(namespace))", context: "in-cluster",
            namespace: namespace, origin: "in-cluster service account")
    }

    /// Reads kubeconfig files; for every named entry the first file that defines it wins, as in kubectl.
    public static func load(paths: [String], context requested: String?) throws -> KubeConfig {
        var clusters: [String: (Fields, String)] = [:]
        var users: [String: (Fields, String)] = [:]
        var contexts: [String: Fields] = [:]
        var current: String?
        for path in paths {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw KubeConfigError("cannot read kubeconfig \(path)")
            }
            let directory = (path as NSString).deletingLastPathComponent
            do {
                guard let document = try JSONValue.parseYAMLDocuments(String(decoding: data, as: UTF8.self)).first
                else { continue }
                let root = try Fields(document, path: "")
                if current == nil, let c = try root.string("current-context"), !c.isEmpty { current = c }
                for entry in try root.objects("clusters") ?? [] {
                    let name = try entry.string("name") ?? ""
                    if clusters[name] == nil, let cluster = try entry.fields("cluster") {
                        clusters[name] = (cluster, directory)
                    }
                }
                for entry in try root.objects("users") ?? [] {
                    let name = try entry.string("name") ?? ""
                    if users[name] == nil, let user = try entry.fields("user") { users[name] = (user, directory) }
                }
                for entry in try root.objects("contexts") ?? [] {
                    let name = try entry.string("name") ?? ""
                    if contexts[name] == nil, let context = try entry.fields("context") { contexts[name] = context }
                }
            } catch let error as FieldError {
                throw KubeConfigError("kubeconfig \(path): \(error)")
            } catch {
                throw KubeConfigError("kubeconfig \(path) is not valid YAML: \(error)")
            }
        }
        let files = paths.joined(separator: ":")
        guard let contextName = requested ?? current else {
            throw KubeConfigError(
                "kubeconfig \(files) has no current-context: give --context "
                    + "(contexts: \(contexts.keys.sorted().joined(separator: ", ")))"
            )
        }
        guard let context = contexts[contextName] else {
            throw KubeConfigError(
                "context \"\(contextName)\" not found in kubeconfig \(files) "
                    + "(contexts: \(contexts.keys.sorted().joined(separator: ", ")))"
            )
        }
        do {
            let clusterName = try context.string("cluster") ?? ""
            guard let (cluster, clusterDir) = clusters[clusterName] else {
                throw KubeConfigError(
                    "context \"\(contextName)\" names cluster \"\(clusterName)\", "
                        + "which kubeconfig \(files) does not define"
                )
            }
            let userName = try context.string("user") ?? ""
            let (user, userDir) = users[userName] ?? (Fields([:], path: "user"), clusterDir)
            guard let server = try cluster.string("server"), !server.isEmpty else {
                throw KubeConfigError("cluster \"\(clusterName)\" in kubeconfig \(files) has no server")
            }
            return KubeConfig(
                server: server.hasSuffix("/") ? String(server.dropLast()) : server,
                certificateAuthority: try pem(
                    cluster, data: "certificate-authority-data", file: "certificate-authority", relativeTo: clusterDir),
                insecureSkipTLSVerify: try cluster.bool("insecure-skip-tls-verify") ?? false,
                clientCertificate: try pem(
                    user, data: "client-certificate-data", file: "client-certificate", relativeTo: userDir),
                clientKey: try pem(user, data: "client-key-data", file: "client-key", relativeTo: userDir),
                token: try user.string("token"),
                tokenFile: try user.string("tokenFile").map { absolute($0, relativeTo: userDir) },
                user: userName, context: contextName,
                namespace: (try context.string("namespace")).flatMap { $0.isEmpty ? nil : $0 } ?? "default",
                origin: "kubeconfig \(files), context \(contextName)")
        } catch let error as FieldError {
            throw KubeConfigError("kubeconfig \(files): \(error)")
        }
    }

    private static func pem(
        _ fields: Fields, data key: String, file fileKey: String, relativeTo directory: String
    ) throws -> Data? {
        if let text = try fields.string(key), !text.isEmpty {
            guard let data = Data(base64Encoded: text, options: .ignoreUnknownCharacters) else {
                throw FieldError(fields.child(key), "is not valid base64")
            }
            return data
        }
        guard let path = try fields.string(fileKey), !path.isEmpty else { return nil }
        let full = absolute(path, relativeTo: directory)
        guard let data = FileManager.default.contents(atPath: full) else {
            throw FieldError(fields.child(fileKey), "cannot read \(full)")
        }
        return data
    }

    private static func absolute(_ path: String, relativeTo directory: String) -> String {
        path.hasPrefix("/") ? path : (directory as NSString).appendingPathComponent(path)
    }
}

public struct KubeConfigError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
