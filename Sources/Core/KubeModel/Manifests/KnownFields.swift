/// The fields of the Kubernetes API for the parts of objects this project reads, so that a typo
/// (`podSelecter`, `ingres`) in a manifest is named instead of silently ignored. Where the project reads
/// a part only in passing (a pod's spec), the part is not checked.
enum KnownFields {
    indirect enum Schema: Sendable {
        /// Not checked.
        case any
        case object([String: Schema])
        case list(Schema)
    }

    static let metadata: Schema = .object([
        "name": .any, "generateName": .any, "namespace": .any, "selfLink": .any, "uid": .any, "resourceVersion": .any,
        "generation": .any, "creationTimestamp": .any, "deletionTimestamp": .any, "deletionGracePeriodSeconds": .any,
        "labels": .any, "annotations": .any, "ownerReferences": .any, "finalizers": .any, "managedFields": .any,
    ])

    static let labelSelector: Schema = .object([
        "matchLabels": .any,
        "matchExpressions": .list(.object(["key": .any, "operator": .any, "values": .any])),
    ])

    static let policyPeer: Schema = .object([
        "podSelector": labelSelector, "namespaceSelector": labelSelector,
        "ipBlock": .object(["cidr": .any, "except": .any]),
    ])

    static let policyPort: Schema = .object(["protocol": .any, "port": .any, "endPort": .any])

    static let networkPolicySpec: Schema = .object([
        "podSelector": labelSelector, "policyTypes": .any,
        "ingress": .list(.object(["from": .list(policyPeer), "ports": .list(policyPort)])),
        "egress": .list(.object(["to": .list(policyPeer), "ports": .list(policyPort)])),
    ])

    static let serviceSpec: Schema = .object([
        "allocateLoadBalancerNodePorts": .any, "clusterIP": .any, "clusterIPs": .any, "externalIPs": .any,
        "externalName": .any, "externalTrafficPolicy": .any, "healthCheckNodePort": .any,
        "internalTrafficPolicy": .any, "ipFamilies": .any, "ipFamilyPolicy": .any, "loadBalancerClass": .any,
        "loadBalancerIP": .any, "loadBalancerSourceRanges": .any,
        "ports": .list(
            .object([
                "appProtocol": .any, "name": .any, "nodePort": .any, "port": .any, "protocol": .any,
                "targetPort": .any,
            ])),
        "publishNotReadyAddresses": .any, "selector": .any, "sessionAffinity": .any, "sessionAffinityConfig": .any,
        "trafficDistribution": .any, "type": .any,
    ])

    static func schema(kind: String) -> Schema {
        var top: [String: Schema] = ["apiVersion": .any, "kind": .any, "metadata": metadata, "status": .any]
        switch kind {
        case "NetworkPolicy": top["spec"] = networkPolicySpec
        case "Service": top["spec"] = serviceSpec
        case "EndpointSlice":
            top["addressType"] = .any
            top["endpoints"] = .any
            top["ports"] = .any
        default: top["spec"] = .any
        }
        return .object(top)
    }

    /// The paths of the fields of `value` that the API does not define for `kind`.
    static func unknown(kind: String, _ value: JSONValue) -> [String] {
        var found: [String] = []
        check(value, schema(kind: kind), path: "", into: &found)
        return found
    }

    private static func check(_ value: JSONValue, _ schema: Schema, path: String, into found: inout [String]) {
        switch (schema, value) {
        case (.object(let fields), .object(let object)):
            for (key, child) in object.sorted(by: { $0.key < $1.key }) {
                let childPath = path.isEmpty ? key : "\(path).\(key)"
                guard let childSchema = fields[key] else {
                    found.append(childPath)
                    continue
                }
                check(child, childSchema, path: childPath, into: &found)
            }
        case (.list(let item), .array(let items)):
            for (i, child) in items.enumerated() { check(child, item, path: "\(path)[\(i)]", into: &found) }
        default:
            break
        }
    }

    /// A kind we read, spelled differently (`Networkpolicy`, `networkpolicy`, `NetworkPolicies`).
    static func nearMiss(_ kind: String) -> String? {
        let lower = kind.lowercased()
        return KubeObject.kinds.first { known in
            let k = known.lowercased()
            return k == lower || k + "s" == lower || (k.hasSuffix("y") && k.dropLast() + "ies" == lower)
                || editDistance(Array(k), Array(lower), limit: 2) <= 2 && k.count > 4
        }
    }

    static func editDistance(_ a: [Character], _ b: [Character], limit: Int) -> Int {
        if abs(a.count - b.count) > limit { return limit + 1 }
        var previous = Array(0...b.count)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in stride(from: 1, through: b.count, by: 1) {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}
