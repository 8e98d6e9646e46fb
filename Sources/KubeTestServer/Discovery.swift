import KubeAPI
import KubeModel

/// The discovery documents kubectl reads before anything else.
enum Discovery {
    struct Entry {
        var resource: APIResource
        var singular: String
        var shortNames: [String]
        var subresources: [String] = []
    }

    static let entries: [Entry] = [
        Entry(resource: .namespaces, singular: "namespace", shortNames: ["ns"], subresources: ["status"]),
        Entry(resource: .pods, singular: "pod", shortNames: ["po"], subresources: ["status"]),
        Entry(resource: .services, singular: "service", shortNames: ["svc"], subresources: ["status"]),
        Entry(resource: .nodes, singular: "node", shortNames: ["no"], subresources: ["status"]),
        Entry(resource: .endpointSlices, singular: "endpointslice", shortNames: []),
        Entry(resource: .networkPolicies, singular: "networkpolicy", shortNames: ["netpol"]),
        // What deploy/ applies, stored as they come (not validated): kube-router's DaemonSet and its RBAC.
        Entry(resource: daemonSets, singular: "daemonset", shortNames: ["ds"], subresources: ["status"]),
        Entry(resource: serviceAccounts, singular: "serviceaccount", shortNames: ["sa"]),
        Entry(resource: configMaps, singular: "configmap", shortNames: ["cm"]),
        Entry(resource: clusterRoles, singular: "clusterrole", shortNames: []),
        Entry(resource: clusterRoleBindings, singular: "clusterrolebinding", shortNames: []),
    ]

    static let daemonSets = APIResource(
        kind: "DaemonSet", group: "apps", version: "v1", plural: "daemonsets", namespaced: true)
    static let serviceAccounts = APIResource(
        kind: "ServiceAccount", group: "", version: "v1", plural: "serviceaccounts", namespaced: true)
    static let configMaps = APIResource(
        kind: "ConfigMap", group: "", version: "v1", plural: "configmaps", namespaced: true)
    static let clusterRoles = APIResource(
        kind: "ClusterRole", group: "rbac.authorization.k8s.io", version: "v1", plural: "clusterroles",
        namespaced: false)
    static let clusterRoleBindings = APIResource(
        kind: "ClusterRoleBinding", group: "rbac.authorization.k8s.io", version: "v1",
        plural: "clusterrolebindings", namespaced: false)

    /// Every resource the server serves.
    static let served: [APIResource] = entries.map(\.resource)

    static let verbs: JSONValue = .array(
        ["create", "delete", "get", "list", "patch", "update", "watch"].map(JSONValue.string))

    static var groupVersions: [(group: String, version: String)] {
        var seen: [(String, String)] = []
        for e in entries where !seen.contains(where: { $0 == (e.resource.group, e.resource.version) }) {
            seen.append((e.resource.group, e.resource.version))
        }
        return seen
    }

    static let version: JSONValue = .object([
        "major": "1", "minor": "32", "gitVersion": "v1.32.0-kube-router-test", "gitCommit": "0000000",
        "gitTreeState": "clean", "buildDate": "2026-01-01T00:00:00Z", "goVersion": "n/a", "compiler": "swift",
        "platform": "linux/amd64",
    ])

    static let api: JSONValue = .object([
        "kind": "APIVersions", "versions": .array(["v1"]),
        "serverAddressByClientCIDRs": .array([.object(["clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"])]),
    ])

    static var apis: JSONValue {
        let groups = groupVersions.filter { !$0.group.isEmpty }.map { gv -> JSONValue in
            let version: JSONValue = .object([
                "groupVersion": .string("\(gv.group)/\(gv.version)"), "version": .string(gv.version),
            ])
            return .object(["name": .string(gv.group), "versions": .array([version]), "preferredVersion": version])
        }
        return .object(["kind": "APIGroupList", "apiVersion": "v1", "groups": .array(groups)])
    }

    /// `/api/v1` or `/apis/GROUP/VERSION`, or nil for a group version we do not serve.
    static func resourceList(group: String, version: String) -> JSONValue? {
        let matching = entries.filter { $0.resource.group == group && $0.resource.version == version }
        guard !matching.isEmpty else { return nil }
        var resources: [JSONValue] = []
        for e in matching {
            var r: [String: JSONValue] = [
                "name": .string(e.resource.plural), "singularName": .string(e.singular),
                "namespaced": .bool(e.resource.namespaced), "kind": .string(e.resource.kind), "verbs": verbs,
            ]
            if !e.shortNames.isEmpty { r["shortNames"] = .array(e.shortNames.map(JSONValue.string)) }
            // `kubectl get all` expands the "all" category.
            if e.resource == .pods || e.resource == .services { r["categories"] = .array(["all"]) }
            resources.append(.object(r))
            for sub in e.subresources {
                resources.append(
                    .object([
                        "name": .string("\(e.resource.plural)/\(sub)"), "singularName": "",
                        "namespaced": .bool(e.resource.namespaced), "kind": .string(e.resource.kind),
                        "verbs": .array(["get", "patch", "update"]),
                    ]))
            }
        }
        let gv = group.isEmpty ? version : "\(group)/\(version)"
        return .object([
            "kind": "APIResourceList", "apiVersion": "v1", "groupVersion": .string(gv), "resources": .array(resources),
        ])
    }

    // MARK: - OpenAPI v3

    /// kubectl reads OpenAPI v3 only to learn that PATCH takes `fieldValidation`; with that it leaves
    /// validation to the server (ours validates with the project's decoders) and needs no schemas.
    static var openAPIRoot: JSONValue {
        var paths: [String: JSONValue] = [:]
        for gv in groupVersions {
            let path = gv.group.isEmpty ? "api/\(gv.version)" : "apis/\(gv.group)/\(gv.version)"
            paths[path] = .object(["serverRelativeURL": .string("/openapi/v3/\(path)?hash=kr1")])
        }
        return .object(["paths": .object(paths)])
    }

    static func openAPI(group: String, version: String) -> JSONValue? {
        let matching = entries.filter { $0.resource.group == group && $0.resource.version == version }
        guard !matching.isEmpty else { return nil }
        var paths: [String: JSONValue] = [:]
        for e in matching {
            let r = e.resource
            let gvk: JSONValue = .object([
                "group": .string(r.group), "version": .string(r.version), "kind": .string(r.kind),
            ])
            let patch: JSONValue = .object([
                "x-kubernetes-group-version-kind": gvk,
                "parameters": .array([
                    .object(["name": "fieldValidation", "in": "query", "schema": .object(["type": "string"])])
                ]),
                "responses": .object(["200": .object(["description": "OK"])]),
            ])
            let path =
                r.namespaced
                ? "/\(r.base.dropFirst())/namespaces/{namespace}/\(r.plural)/{name}"
                : "/\(r.base.dropFirst())/\(r.plural)/{name}"
            paths[path] = .object(["patch": patch])
        }
        if group.isEmpty && version == "v1" {
            // `kind: List` files are checked against v1/List before kubectl splits them into items.
            let gvk: JSONValue = .object(["group": "", "version": "v1", "kind": "List"])
            paths["/api/v1/lists/{name}"] = .object([
                "patch": .object([
                    "x-kubernetes-group-version-kind": gvk,
                    "parameters": .array([
                        .object(["name": "fieldValidation", "in": "query", "schema": .object(["type": "string"])])
                    ]),
                    "responses": .object(["200": .object(["description": "OK"])]),
                ])
            ])
        }
        return .object([
            "openapi": "3.0.0", "info": .object(["title": "Kubernetes", "version": "v1.32.0"]),
            "paths": .object(paths), "components": .object(["schemas": .object([:])]),
        ])
    }
}
