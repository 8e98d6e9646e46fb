import Foundation
import KubeAPI
import KubeModel

/// Maps URLs to the store, the way kube-apiserver lays out its paths.
public struct Router: Sendable {
    let store: APIStore
    let testEndpoints: Bool
    /// Users who may do nothing (to test 403 answers).
    let forbidden: Set<String>
    /// Single refusals: a user who may not do one verb on one resource (`--deny USER:VERB:RESOURCE`).
    public var denied: Set<Denial> = []
    /// `--rbac`: everyone but these users is authorized by the stored ClusterRoles and ClusterRoleBindings.
    public var rbacSuperusers: Set<String>? = nil

    /// One verb on one resource (plural) that one user may not do.
    public struct Denial: Hashable, Sendable {
        var user: String
        var verb: String
        var resource: String

        public init(user: String, verb: String, resource: String) {
            self.user = user
            self.verb = verb
            self.resource = resource
        }
    }

    public init(store: APIStore, testEndpoints: Bool, forbidden: Set<String>) {
        self.store = store
        self.testEndpoints = testEndpoints
        self.forbidden = forbidden
    }

    /// Whether `user` may do `verb` on `resource` (of API `group`; `name`: the object, for rules with
    /// `resourceNames`): the test server's whole authorization model, which SelfSubjectAccessReviews answer
    /// from too. `--forbid` and `--deny` refuse; with `--rbac` the stored RBAC rules must allow it.
    func allows(_ user: String, _ verb: String, group: String, _ resource: String, name: String? = nil) async -> Bool {
        let plural = String(resource.split(separator: "/").first ?? "")
        guard !forbidden.contains(user), !denied.contains(Denial(user: user, verb: verb, resource: plural)) else {
            return false
        }
        guard let rbacSuperusers, !rbacSuperusers.contains(user) else { return true }
        return await store.authorizer().allows(
            .init(user: user, verb: verb, group: group, resource: resource, name: name))
    }

    func handle(_ request: APIRequest) async -> APIReply {
        do {
            return try await route(request)
        } catch let error as APIError {
            return .json(error.code, error.status)
        } catch {
            return .json(500, APIError(code: 500, reason: "InternalError", message: "\(error)").status)
        }
    }

    private func route(_ r: APIRequest) async throws -> APIReply {
        let parts = r.path.split(separator: "/").map(String.init)
        switch parts.first {
        case "version": return .json(200, Discovery.version)
        case "healthz", "livez", "readyz": return .text(200, "ok")
        case "_test" where testEndpoints: return try await testHook(parts, r)
        case "openapi" where parts.count == 2 && parts[1] == "v3": return .json(200, Discovery.openAPIRoot)
        case "openapi" where parts.count == 2 && parts[1] == "v2":
            // An empty protobuf message is a valid, empty OpenAPI v2 document: kubectl then skips its
            // client-side schema checks (used for `kind: List` files) instead of failing on a 404.
            return .raw(200, contentType: "application/com.github.proto-openapi.spec.v2.v1.0+protobuf", Data())
        case "openapi" where parts.count >= 4 && parts[1] == "v3":
            let group = parts[2] == "api" ? "" : parts[3]
            let version = parts[2] == "api" ? parts[3] : (parts.count > 4 ? parts[4] : "")
            guard let document = Discovery.openAPI(group: group, version: version) else {
                throw APIError(
                    code: 404, reason: "NotFound", message: "the server could not find the requested resource")
            }
            return .json(200, document)
        case "api" where parts.count == 1: return .json(200, Discovery.api)
        case "apis" where parts.count == 1: return .json(200, Discovery.apis)
        case "apis" where r.method == "POST" && r.path == KubeClient.accessReviewPath:
            return try await accessReview(r)
        case "api", "apis": break
        default:
            throw APIError(code: 404, reason: "NotFound", message: "the server could not find the requested resource")
        }
        let core = parts[0] == "api"
        let group = core ? "" : (parts.count > 1 ? parts[1] : "")
        let versionIndex = core ? 1 : 2
        guard parts.count > versionIndex else {
            // /apis/GROUP: the group's versions.
            let gv = Discovery.groupVersions.first { $0.group == group }
            guard let gv else {
                throw APIError(
                    code: 404, reason: "NotFound", message: "the server could not find the requested resource")
            }
            let version: JSONValue = .object([
                "groupVersion": .string("\(group)/\(gv.version)"), "version": .string(gv.version),
            ])
            return .json(
                200,
                .object([
                    "kind": "APIGroup", "apiVersion": "v1", "name": .string(group),
                    "versions": .array([version]), "preferredVersion": version,
                ]))
        }
        let version = parts[versionIndex]
        var rest = Array(parts[(versionIndex + 1)...])
        if rest.isEmpty {
            guard let list = Discovery.resourceList(group: group, version: version) else {
                throw APIError(
                    code: 404, reason: "NotFound", message: "the server could not find the requested resource")
            }
            return .json(200, list)
        }
        if forbidden.contains(r.user) {
            throw APIError(
                code: 403, reason: "Forbidden",
                message:
                    "User \"\(r.user)\" cannot \(r.method.lowercased()) resource \"\(rest.last ?? "")\" "
                    + "in API group \"\(group)\""
            )
        }
        let resources = Discovery.served.filter { $0.group == group && $0.version == version }
        func resource(_ plural: String) throws -> APIResource {
            guard let found = resources.first(where: { $0.plural == plural }) else {
                throw APIError(
                    code: 404, reason: "NotFound", message: "the server could not find the requested resource")
            }
            return found
        }
        // /namespaces/NS/PLURAL[/NAME[/SUB]] for namespaced kinds; otherwise PLURAL[/NAME[/SUB]].
        var namespace: String?
        if rest.count >= 3, rest[0] == "namespaces",
            resources.contains(where: { $0.plural == rest[2] && $0.namespaced })
        {
            namespace = rest[1]
            rest.removeFirst(2)
        }
        let res = try resource(rest[0])
        let name = rest.count > 1 ? rest[1] : nil
        let subresource = rest.count > 2 ? rest[2] : nil
        let verb = Self.verb(
            method: r.method, named: name != nil, watch: r.query["watch"] == "1" || r.query["watch"] == "true")
        let checked = subresource.map { "\(res.plural)/\($0)" } ?? res.plural
        if !(await allows(r.user, verb, group: group, checked, name: name)) {
            let scope = namespace.map { "in the namespace \"\($0)\"" } ?? "at the cluster scope"
            throw APIError(
                code: 403, reason: "Forbidden",
                message:
                    "\(res.plural) is forbidden: User \"\(r.user)\" cannot \(verb) resource \"\(checked)\" "
                    + "in API group \"\(group)\" \(scope)"
            )
        }
        if let subresource, subresource != "status" {
            throw APIError(code: 404, reason: "NotFound", message: "the server could not find the requested resource")
        }
        switch (r.method, name) {
        case ("GET", nil):
            let filter = try ObjectFilter(
                namespace: namespace, labelSelector: r.query["labelSelector"], fieldSelector: r.query["fieldSelector"])
            if r.query["watch"] == "1" || r.query["watch"] == "true" {
                let timeout = r.query["timeoutSeconds"].flatMap(Int.init) ?? 1800
                return .watch(
                    resource: res, filter: filter, from: r.query["resourceVersion"], timeout: timeout,
                    bookmarks: r.query["allowWatchBookmarks"] == "true")
            }
            let list = try await store.list(
                res, filter: filter, limit: r.query["limit"].flatMap(Int.init), continueToken: r.query["continue"])
            if r.accept.contains("as=Table") {
                return .json(
                    200,
                    TablePrinter.table(
                        res, objects: list["items"]?.arrayValue ?? [], listMetadata: list["metadata"] ?? .object([:])))
            }
            return .json(200, list)
        case ("GET", let name?):
            let object = try await store.get(res, namespace: namespace, name: name)
            if r.accept.contains("as=Table") {
                return .json(200, TablePrinter.table(res, objects: [object], listMetadata: .object([:])))
            }
            return .json(200, object)
        case ("POST", nil):
            return .json(201, try await store.create(res, namespace: namespace, body: try body(r)))
        case ("PUT", let name?):
            return .json(
                200,
                try await store.update(
                    res, namespace: namespace, name: name, body: try body(r), subresource: subresource))
        case ("PATCH", let name?):
            let type = r.contentType.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
            return .json(
                200,
                try await store.patch(
                    res, namespace: namespace, name: name, patch: try body(r),
                    contentType: type, subresource: subresource))
        case ("DELETE", let name?):
            // DeleteOptions come in the query or in the body (kubectl sends a body).
            var grace = r.query["gracePeriodSeconds"].flatMap(Int.init)
            if grace == nil, !r.body.isEmpty, let options = try? JSONValue.parseJSON(r.body) {
                grace = options["gracePeriodSeconds"]?.intValue
            }
            return .json(
                200, try await store.delete(res, namespace: namespace, name: name, gracePeriodSeconds: grace))
        default:
            throw APIError(
                code: 405, reason: "MethodNotAllowed",
                message: "the server does not allow this method on the requested resource")
        }
    }

    /// The Kubernetes verb of a request (what RBAC rules name).
    static func verb(method: String, named: Bool, watch: Bool) -> String {
        switch method {
        case "GET": named ? "get" : (watch ? "watch" : "list")
        case "POST": "create"
        case "PUT": "update"
        case "PATCH": "patch"
        case "DELETE": "delete"
        default: method.lowercased()
        }
    }

    /// `POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews`: answers for the caller from the same
    /// rules every request is checked against (`--forbid`, `--deny`, `--rbac`); any authenticated user may
    /// ask, as kube-apiserver's `system:basic-user` role allows, except under `--rbac` without a rule for it.
    /// JSON bodies only: `kubectl auth can-i` sends protobuf, which this server does not read.
    private func accessReview(_ r: APIRequest) async throws -> APIReply {
        var review = try body(r)
        guard let attributes = review["spec"]?["resourceAttributes"], let verb = attributes["verb"]?.stringValue,
            let resource = attributes["resource"]?.stringValue
        else {
            throw APIError.badRequest("spec.resourceAttributes with verb and resource is required")
        }
        // Asking is itself a request: with --rbac it needs a rule granting `create selfsubjectaccessreviews`
        // (the ClusterRole system:basic-user grants it on a real cluster, which this server does not hold).
        if rbacSuperusers != nil,
            !(await allows(r.user, "create", group: "authorization.k8s.io", "selfsubjectaccessreviews"))
        {
            throw APIError(
                code: 403, reason: "Forbidden",
                message:
                    "selfsubjectaccessreviews.authorization.k8s.io is forbidden: User \"\(r.user)\" cannot create "
                    + "resource \"selfsubjectaccessreviews\" in API group \"authorization.k8s.io\" at the cluster scope"
            )
        }
        let group = attributes["group"]?.stringValue ?? ""
        let allowed = await allows(
            r.user, verb, group: group, resource, name: attributes["name"]?.stringValue)
        var status: [String: JSONValue] = ["allowed": .bool(allowed)]
        if !allowed {
            status["reason"] = .string("kube-test-server refuses \(verb) \(resource) to user \"\(r.user)\"")
        }
        review["status"] = .object(status)
        return .json(201, review)
    }

    private func body(_ r: APIRequest) throws -> JSONValue {
        do {
            if r.contentType.contains("yaml") {
                guard let doc = try JSONValue.parseYAMLDocuments(String(decoding: r.body, as: UTF8.self)).first else {
                    throw APIError.badRequest("empty body")
                }
                return doc
            }
            return try JSONValue.parseJSON(r.body)
        } catch let error as APIError {
            throw error
        } catch {
            throw APIError.badRequest("the request body is not valid JSON: \(error)")
        }
    }

    /// `/_test/compact`, `/_test/drop-watches`, `/_test/stall-watches`, `/_test/inject/<api path>`,
    /// `/_test/touch/<plural>?count=N`: faults and loads that a real server cannot be asked for.
    private func testHook(_ parts: [String], _ r: APIRequest) async throws -> APIReply {
        switch parts.count > 1 ? parts[1] : "" {
        case "await-watchers":
            guard let plural = r.query["resource"], let res = Discovery.served.first(where: { $0.plural == plural })
            else {
                throw APIError.badRequest("usage: /_test/await-watchers?resource=PLURAL&count=N")
            }
            let n = await store.awaitWatchers(res, count: r.query["count"].flatMap(Int.init) ?? 1, timeout: 20)
            return .json(200, .object(["watchers": .int(Int64(n))]))
        case "compact":
            await store.compact()
            return .json(200, .object(["compacted": .bool(true)]))
        case "drop-watches":
            return .json(200, .object(["dropped": .int(Int64(await store.dropWatches()))]))
        case "stall-watches":
            return .json(200, .object(["stalled": .int(Int64(await store.stallWatches()))]))
        case "touch":
            guard parts.count > 2, let res = Discovery.served.first(where: { $0.plural == parts[2] }) else {
                throw APIError.badRequest("usage: /_test/touch/PLURAL?count=N")
            }
            let n = await store.touch(res, count: r.query["count"].flatMap(Int.init) ?? 1)
            return .json(200, .object(["touched": .int(Int64(n))]))
        case "inject":
            // /_test/inject/api/v1/namespaces/NS/pods
            let apiParts = Array(parts.dropFirst(2))
            guard let plural = apiParts.last, let res = Discovery.served.first(where: { $0.plural == plural }) else {
                throw APIError.badRequest("usage: /_test/inject/<collection path>")
            }
            let ns =
                apiParts.count >= 3 && apiParts[apiParts.count - 3] == "namespaces" ? apiParts[apiParts.count - 2] : nil
            return .json(201, try await store.inject(res, namespace: ns, body: try body(r)))
        default:
            throw APIError(code: 404, reason: "NotFound", message: "unknown test hook")
        }
    }
}
