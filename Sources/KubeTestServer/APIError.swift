import KubeAPI
import KubeModel

/// An API failure, answered as a `Status` object the way kube-apiserver does.
struct APIError: Error, Sendable {
    var code: Int
    var reason: String
    var message: String
    var kind: String = ""
    var name: String = ""

    static func notFound(_ resource: APIResource, _ name: String) -> APIError {
        APIError(
            code: 404, reason: "NotFound", message: "\(resource) \"\(name)\" not found", kind: resource.plural,
            name: name)
    }

    static func namespaceNotFound(_ namespace: String) -> APIError {
        APIError(
            code: 404, reason: "NotFound", message: "namespaces \"\(namespace)\" not found", kind: "namespaces",
            name: namespace)
    }

    static func alreadyExists(_ resource: APIResource, _ name: String) -> APIError {
        APIError(
            code: 409, reason: "AlreadyExists", message: "\(resource) \"\(name)\" already exists",
            kind: resource.plural, name: name)
    }

    static func conflict(_ resource: APIResource, _ name: String) -> APIError {
        APIError(
            code: 409, reason: "Conflict",
            message:
                "Operation cannot be fulfilled on \(resource) \"\(name)\": the object has been modified; "
                + "please apply your changes to the latest version and try again",
            kind: resource.plural, name: name)
    }

    static func badRequest(_ message: String) -> APIError {
        APIError(code: 400, reason: "BadRequest", message: message)
    }

    static func invalid(_ resource: APIResource, _ name: String, _ detail: String) -> APIError {
        APIError(
            code: 422, reason: "Invalid", message: "\(resource.kind) \"\(name)\" is invalid: \(detail)",
            kind: resource.kind, name: name)
    }

    static func gone(_ message: String) -> APIError { APIError(code: 410, reason: "Expired", message: message) }

    var status: JSONValue {
        var details: [String: JSONValue] = [:]
        if !name.isEmpty { details["name"] = .string(name) }
        if !kind.isEmpty { details["kind"] = .string(kind) }
        return .object([
            "kind": "Status", "apiVersion": "v1", "metadata": .object([:]), "status": "Failure",
            "message": .string(message), "reason": .string(reason), "details": .object(details),
            "code": .int(Int64(code)),
        ])
    }
}
