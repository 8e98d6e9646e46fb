import Testing

@testable import KubeModel
@testable import Planning

/// Reads YAML manifests from a string, failing the test on any invalid object.
func objects(_ yaml: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> [KubeObject] {
    var reader = ObjectReader()
    for document in try JSONValue.parseYAMLDocuments(yaml) { reader.read(document, source: "test.yaml") }
    #expect(reader.errors.isEmpty, "\(reader.errors)", sourceLocation: sourceLocation)
    return reader.objects
}

/// The errors reading `yaml` produces.
func errors(_ yaml: String) throws -> [ObjectError] {
    var reader = ObjectReader()
    for document in try JSONValue.parseYAMLDocuments(yaml) { reader.read(document, source: "bad.yaml") }
    return reader.errors
}

/// A pod manifest in one line of flow YAML.
func pod(
    _ key: String, _ ip: String, _ labels: [String: String] = [:], ports: String = "[]",
    node: String = "node-a", extra: String = ""
) -> String {
    let parts = key.split(separator: "/")
    let labelText = labels.map { "\($0.key): \"\($0.value)\"" }.joined(separator: ", ")
    return """
        ---
        apiVersion: v1
        kind: Pod
        metadata: {namespace: \(parts[0]), name: \(parts[1]), labels: {\(labelText)}}
        spec: {nodeName: \(node), containers: [{name: c, ports: \(ports)}]\(extra)}
        status: {phase: Running, podIP: "\(ip)"}

        """
}

func namespace(_ name: String, _ labels: [String: String] = [:]) -> String {
    let labelText = labels.map { "\($0.key): \"\($0.value)\"" }.joined(separator: ", ")
    return "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: \(name), labels: {\(labelText)}}\n"
}

/// A NetworkPolicy with `spec` given as YAML (indented under `spec:`).
func policy(_ key: String, _ spec: String) -> String {
    let parts = key.split(separator: "/")
    let body = spec.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }.joined(separator: "\n")
    return
        "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
        + "metadata: {namespace: \(parts[0]), name: \(parts[1])}\nspec:\n\(body)\n"
}

/// A tiny test harness over the engine: `verdict("a/x", "b/y", "80/TCP")`.
struct Cluster {
    let engine: PolicyEngine

    init(_ manifests: String..., defaultDeny: Bool = false) throws {
        engine = PolicyEngine(ClusterSnapshot(try objects(manifests.joined())), defaultDeny: defaultDeny)
    }

    init(_ manifests: [String], defaultDeny: Bool = false) throws {
        engine = PolicyEngine(ClusterSnapshot(try objects(manifests.joined())), defaultDeny: defaultDeny)
    }

    func explain(_ from: String, _ to: String, _ port: String) throws -> PolicyExplanation {
        let src = try engine.resolve(EndpointReference(from)!)
        let dst = try engine.resolve(EndpointReference(to)!)
        let (s, d) = try engine.pair(from: src, to: dst)
        let query = PortQuery(port)!
        let number = try engine.resolvePort(query, on: d)
        let explanation = engine.explain(from: s, to: d, port: number, proto: query.proto)
        // The fast path used by matrices and the firewall must always agree with the explanation.
        #expect(engine.allows(from: s, to: d, port: number, proto: query.proto) == (explanation.verdict == .allow))
        return explanation
    }

    func allowed(_ from: String, _ to: String, _ port: String) throws -> Bool {
        try explain(from, to, port).verdict == .allow
    }
}
