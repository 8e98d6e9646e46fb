import KubeModel

/// RBAC as kube-apiserver's authorizer applies it, over the stored ClusterRoles and ClusterRoleBindings
/// (`--rbac`): a request is allowed when a binding names the user (a `User`, a `ServiceAccount` as
/// `system:serviceaccount:NAMESPACE:NAME`, or the group `system:authenticated`) and its role has a rule
/// with the request's API group, resource (or `resource/subresource`) and verb (`*` matching any, and
/// `resourceNames` limiting a rule to named objects). Roles and RoleBindings are not read.
struct RBACAuthorizer: Sendable {
    struct Request: Sendable {
        var user: String
        var verb: String
        var group: String
        /// `pods`, or `pods/status` for a subresource.
        var resource: String
        var name: String?
    }

    /// ClusterRoles by name.
    var roles: [String: JSONValue]
    var bindings: [JSONValue]

    func allows(_ request: Request) -> Bool {
        bindings.contains { binding in
            guard binding["roleRef"]?["kind"]?.stringValue == "ClusterRole",
                let roleName = binding["roleRef"]?["name"]?.stringValue, let role = roles[roleName],
                binding["subjects"]?.arrayValue?.contains(where: { Self.names($0, request.user) }) == true
            else { return false }
            return role["rules"]?.arrayValue?.contains { Self.rule($0, allows: request) } == true
        }
    }

    static func names(_ subject: JSONValue, _ user: String) -> Bool {
        let name = subject["name"]?.stringValue ?? ""
        switch subject["kind"]?.stringValue {
        case "User": return name == user
        case "ServiceAccount":
            return user == "system:serviceaccount:\(subject["namespace"]?.stringValue ?? ""):\(name)"
        case "Group": return name == "system:authenticated"
        default: return false
        }
    }

    static func rule(_ rule: JSONValue, allows request: Request) -> Bool {
        func has(_ field: String, _ value: String) -> Bool {
            rule[field]?.arrayValue?.contains { $0.stringValue == value || $0.stringValue == "*" } == true
        }
        guard has("apiGroups", request.group), has("resources", request.resource), has("verbs", request.verb)
        else { return false }
        if let names = rule["resourceNames"]?.arrayValue, !names.isEmpty {
            guard let name = request.name else { return false }
            return names.contains { $0.stringValue == name }
        }
        return true
    }
}
