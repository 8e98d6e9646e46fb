import ArgumentParser
import Foundation
import KubeModel
import NIOSSL
import TestServer

/// A Kubernetes API server for tests and the local lab: the six resources kube-router reads and the kinds
/// its manifests create (DaemonSet, ServiceAccount, ConfigMap, ClusterRole, ClusterRoleBinding), with
/// list/watch/create/update/patch/delete, discovery for kubectl, TLS with client certificates and
/// bearer tokens, authorization by RBAC (`--rbac`), and fault hooks (`--test-endpoints`).
@main
struct KubeTestServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kube-test-server",
        abstract:
            "A Kubernetes API server for tests and labs (namespaces, pods, services, endpointslices, nodes, "
            + "networkpolicies; daemonsets, serviceaccounts, configmaps, clusterroles, clusterrolebindings)."
    )

    @Option(help: "Address to listen on; port 0 picks a free port (the chosen one is printed).")
    var listen = "127.0.0.1:6443"

    @Option(help: "Server certificate (PEM). Without it the server speaks plain HTTP.")
    var tlsCert: String?

    @Option(help: "Server private key (PEM).")
    var tlsKey: String?

    @Option(help: "CA (PEM) that signs client certificates; their common name is the user.")
    var clientCA: String?

    @Option(help: "A bearer token and its user, TOKEN:USER (repeatable).")
    var token: [String] = []

    @Option(help: "A user whose every request is refused with 403 (repeatable).")
    var forbid: [String] = []

    @Option(
        help: ArgumentHelp(
            "A user refused one verb on one resource, USER:VERB:RESOURCE, e.g. bob:watch:networkpolicies "
                + "(repeatable; SelfSubjectAccessReviews answer the same)."))
    var deny: [String] = []

    @Flag(
        help: ArgumentHelp(
            "Authorize requests by the stored ClusterRoles and ClusterRoleBindings (RBAC), as a real cluster does: "
                + "a request no rule allows gets 403 (--superuser users may do everything)."))
    var rbac = false

    @Option(help: "With --rbac, a user who may do everything, as system:masters (repeatable; default: admin).")
    var superuser: [String] = []

    @Flag(help: "Serve requests without credentials as user 'anonymous' instead of refusing them with 401.")
    var allowAnonymous = false

    @Option(help: "Keep the objects in this JSON file, so that they survive a restart.")
    var state: String?

    @Option(help: "Changes kept for watches to resume from; older versions get 410 Gone.")
    var history = 100_000

    @Option(help: "Seconds between BOOKMARK events on watches that ask for them.")
    var bookmarkInterval = 30.0

    @Flag(
        help: ArgumentHelp(
            "Delete pods bound to a node gracefully: DELETE sets deletionTimestamp and the node removes the pod "
                + "with gracePeriodSeconds=0 once its containers stopped (the lab's kubelet does)."))
    var gracefulPodDeletion = false

    @Option(
        help: ArgumentHelp(
            "An IPv4 CIDR: Services created without a cluster IP get the next free address of it, as "
                + "kube-apiserver allocates them (default: none, Services keep what they were given)."))
    var serviceClusterIPRange: String?

    @Flag(help: "Enable /_test/ hooks (compact, drop-watches, stall-watches, inject, touch).")
    var testEndpoints = false

    func run() async throws {
        let parts = listen.split(separator: ":")
        guard parts.count == 2, let port = Int(parts[1]) else { throw ValidationError("--listen takes HOST:PORT") }
        var tls: NIOSSLContext?
        if let tlsCert, let tlsKey {
            var configuration = TLSConfiguration.makeServerConfiguration(
                certificateChain: try NIOSSLCertificate.fromPEMFile(tlsCert).map { .certificate($0) },
                privateKey: .privateKey(try NIOSSLPrivateKey(file: tlsKey, format: .pem)))
            if let clientCA {
                configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(clientCA))
                configuration.certificateVerification = .optionalVerification
            }
            tls = try NIOSSLContext(configuration: configuration)
        }
        var tokens: [String: String] = [:]
        for entry in token {
            let kv = entry.split(separator: ":", maxSplits: 1).map(String.init)
            guard kv.count == 2 else { throw ValidationError("--token takes TOKEN:USER") }
            tokens[kv[0]] = kv[1]
        }
        var range: (base: UInt32, size: UInt32)?
        if let serviceClusterIPRange {
            let parts = serviceClusterIPRange.split(separator: "/")
            let octets = parts.first?.split(separator: ".").compactMap { UInt32($0) } ?? []
            guard parts.count == 2, octets.count == 4, octets.allSatisfy({ $0 < 256 }), let bits = UInt32(parts[1]),
                (8...30).contains(bits)
            else { throw ValidationError("--service-cluster-ip-range takes an IPv4 CIDR, e.g. 10.96.0.0/12") }
            let address = octets.reduce(0) { $0 << 8 | $1 }
            let mask = UInt32.max << (32 - bits)
            range = (address & mask, 1 << (32 - bits))
        }
        let store = try APIStore(
            statePath: state, historyLimit: history, gracefulPodDeletion: gracefulPodDeletion,
            serviceIPRange: range)
        var router = Router(store: store, testEndpoints: testEndpoints, forbidden: Set(forbid))
        if rbac { router.rbacSuperusers = Set(superuser.isEmpty ? ["admin"] : superuser) }
        for entry in deny {
            let parts = entry.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty }) else {
                throw ValidationError("--deny takes USER:VERB:RESOURCE")
            }
            router.denied.insert(Router.Denial(user: parts[0], verb: parts[1], resource: parts[2]))
        }
        let server = HTTPServer(
            router: router, store: store, auth: .init(tokens: tokens, required: !allowAnonymous),
            bookmarkInterval: bookmarkInterval)
        let scheme = tls == nil ? "http" : "https"
        try await server.run(host: String(parts[0]), port: port, tls: tls) { actual in
            // Tests wait for this line: it is printed once the socket accepts connections.
            FileHandle.standardOutput.write(Data("listening on \(scheme)://\(parts[0]):\(actual)\n".utf8))
        }
    }
}
