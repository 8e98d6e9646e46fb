import ArgumentParser
import Foundation
import TestSupport
import Testing

@testable import Agent
@testable import KubeAPI
@testable import KubeModel
@testable import Planning

/// deploy/: the committed manifest is the base's kustomize output; every variant passes strict schema
/// validation for Kubernetes 1.32 (kubernetes-validate); the DaemonSet is what a node agent needs and its
/// arguments parse as the agent's flags; every ClusterRole grants exactly what the agent reads with the
/// controllers that variant enables (DoctorCatalog, which the agent's informers come from), nothing more.
@Suite struct DeployManifestTests {
    static let deploy = repositoryRoot.appendingPathComponent("deploy").path
    static let variants = ["base", "overlays/restricted", "overlays/replace-kube-proxy"]

    /// A tool on the PATH (scripts/setup installs both); a test that needs a missing one fails saying so.
    static func tool(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        let directories = path.split(separator: ":").map(String.init) + ["/usr/local/bin", "/usr/bin"]
        return directories.map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    struct Missing: Error, CustomStringConvertible { var description: String }

    static func render(_ variant: String) throws -> String {
        guard let kubectl = tool("kubectl") else { throw Missing(description: "kubectl is missing: run scripts/setup") }
        let (status, out, err) = try run(kubectl, ["kustomize", "\(deploy)/\(variant)"])
        guard status == 0 else { throw Missing(description: "kubectl kustomize \(variant): \(err)") }
        return out
    }

    /// The rendered objects of a variant, by kind.
    struct Rendered {
        var objects: [JSONValue]
        func one(_ kind: String) throws -> JSONValue {
            let found = objects.filter { $0["kind"]?.stringValue == kind }
            try #require(found.count == 1, "one \(kind)")
            return found[0]
        }
        var daemonSet: JSONValue { get throws { try one("DaemonSet") } }
        var container: JSONValue {
            get throws { try #require(try daemonSet["spec"]?["template"]?["spec"]?["containers"]?.arrayValue?.first) }
        }
        /// The container's arguments, parsed as kube-router parses them (unknown or invalid flags throw).
        var agent: KubeRouter {
            get throws {
                let args = try container["args"]?.arrayValue?.compactMap(\.stringValue) ?? []
                return try KubeRouter.parse(normalizedArguments(args, booleans: KubeRouter.booleanFlags))
            }
        }
    }

    static func rendered(_ variant: String) throws -> Rendered {
        Rendered(objects: try JSONValue.parseYAMLDocuments(render(variant)))
    }

    @Test func theCommittedManifestIsTheBase() throws {
        let committed = try String(contentsOfFile: "\(Self.deploy)/kube-router.yaml", encoding: .utf8)
        #expect(
            try Self.render("base") == committed,
            "deploy/kube-router.yaml is not `kubectl kustomize deploy/base`: regenerate it")
    }

    @Test(arguments: variants) func strictSchemaValidation(_ variant: String) throws {
        guard let validate = Self.tool("kubernetes-validate") else {
            Issue.record("kubernetes-validate is missing: run scripts/setup")
            return
        }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("kr-\(UUID().uuidString).yaml").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        let text = try Self.render(variant)
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        let (status, out, err) = try run(validate, ["--strict", "-k", "1.32.0", file])
        #expect(status == 0, "\(out)\(err)")
        #expect(out.components(separatedBy: "passed for resource").count - 1 == 5, "five objects checked: \(out)")
        // The check can fail: a misspelt field of the DaemonSet is an error.
        try text.replacingOccurrences(of: "minReadySeconds:", with: "minReadySecond:")
            .write(toFile: file, atomically: true, encoding: .utf8)
        let (bad, badOut, badErr) = try run(validate, ["--strict", "-k", "1.32.0", file])
        #expect(bad != 0 && (badOut + badErr).contains("minReadySecond"), "\(badOut)\(badErr)")
    }

    @Test(arguments: variants) func theDaemonSetIsANodeAgent(_ variant: String) throws {
        let r = try Self.rendered(variant)
        let ds = try r.daemonSet
        let spec = try #require(ds["spec"])
        let pod = try #require(spec["template"]?["spec"])
        let container = try r.container
        let agent = try r.agent
        #expect(ds["metadata"]?["namespace"] == "kube-system")
        #expect(pod["hostNetwork"] == .bool(true))
        #expect(pod["priorityClassName"] == "system-node-critical")
        let tolerations = pod["tolerations"]?.arrayValue ?? []
        #expect(tolerations.contains { $0["operator"] == "Exists" && $0["key"] == nil }, "every taint is tolerated")
        #expect(spec["updateStrategy"]?["type"] == "RollingUpdate")
        #expect(spec["updateStrategy"]?["rollingUpdate"]?["maxUnavailable"]?.intValue == 1)
        #expect((spec["minReadySeconds"]?.intValue ?? 0) > 0)
        let grace = try #require(pod["terminationGracePeriodSeconds"]?.intValue)
        #expect(
            Double(grace) > GoDuration.seconds(agent.shutdownTimeout) ?? .infinity, "grace above --shutdown-timeout")
        // In-cluster: the service account's token, no kubeconfig; the node's name from the downward API.
        #expect(agent.kubeconfig == nil && agent.master == nil && agent.hostnameOverride == nil)
        #expect(pod["automountServiceAccountToken"] != .bool(false))
        let account = try r.one("ServiceAccount")
        #expect(pod["serviceAccountName"] == account["metadata"]?["name"])
        let env = container["env"]?.arrayValue ?? []
        #expect(
            env.contains { $0["name"] == "NODE_NAME" && $0["valueFrom"]?["fieldRef"]?["fieldPath"] == "spec.nodeName" })
        // Probes on the health endpoints, on loopback.
        #expect(agent.healthAddr == "127.0.0.1")
        for (probe, path) in [("startupProbe", "/livez"), ("livenessProbe", "/livez"), ("readinessProbe", "/readyz")] {
            let get = container[probe]?["httpGet"]
            #expect(get?["host"] == "127.0.0.1" && get?["path"] == .string(path), "\(probe)")
            #expect(get?["port"]?.intValue == agent.healthPort, "\(probe) on --health-port")
        }
        // Metrics: a port and the scrape annotations that name it.
        let annotations = spec["template"]?["metadata"]?["annotations"]
        #expect(agent.metricsPort != 0)
        #expect(annotations?["prometheus.io/scrape"] == "true")
        #expect(annotations?["prometheus.io/port"] == .string(String(agent.metricsPort)))
        #expect(annotations?["prometheus.io/path"] == .string(agent.metricsPath))
        #expect(container["ports"]?.arrayValue?.contains { $0["containerPort"]?.intValue == agent.metricsPort } == true)
        // Host paths: modules, the xtables lock (a file), CNI configuration and plugins, the state directory.
        let volumes = pod["volumes"]?.arrayValue ?? []
        func hostPath(mountedAt path: String, in container: JSONValue) -> JSONValue? {
            guard let mount = container["volumeMounts"]?.arrayValue?.first(where: { $0["mountPath"] == .string(path) })
            else { return nil }
            return volumes.first { $0["name"] == mount["name"] }?["hostPath"]
        }
        #expect(hostPath(mountedAt: "/lib/modules", in: container)?["path"] == "/lib/modules")
        #expect(hostPath(mountedAt: "/run/xtables.lock", in: container)?["type"] == "FileOrCreate")
        let cniDirectory = (agent.cniConfFile as NSString).deletingLastPathComponent
        #expect(agent.enableCni && hostPath(mountedAt: cniDirectory, in: container)?["path"] == "/etc/cni/net.d")
        #expect(hostPath(mountedAt: "/opt/cni/bin", in: container)?["path"] == "/opt/cni/bin")
        #expect(hostPath(mountedAt: agent.stateDir, in: container)?["path"] == .string(agent.stateDir))
        let initContainer = try #require(pod["initContainers"]?.arrayValue?.first)
        #expect(hostPath(mountedAt: "/host/opt/cni/bin", in: initContainer)?["path"] == "/opt/cni/bin")
        // The CNI template comes from the ConfigMap, and the agent fills its host-local IPAM.
        let template = try #require(agent.cniConfTemplate)
        let configMap = try r.one("ConfigMap")
        let key = (template as NSString).lastPathComponent
        let text = try #require(configMap["data"]?[key]?.stringValue, "the ConfigMap has \(key)")
        let filled = RouterController.cniConfig(
            template: try JSONValue.parseJSON(Data(text.utf8)), podCIDRs: [try #require(CIDR("10.244.1.0/24"))])
        #expect(filled.contains("\"ranges\":[[{\"subnet\":\"10.244.1.0/24\"}]]"), "\(filled)")
        let templateMount = container["volumeMounts"]?.arrayValue?.first {
            $0["mountPath"] == .string((template as NSString).deletingLastPathComponent)
        }
        #expect(
            volumes.first { $0["name"] == templateMount?["name"] }?["configMap"]?["name"]
                == configMap["metadata"]?["name"])
        // Requests and a memory limit.
        #expect(
            container["resources"]?["requests"]?["cpu"] != nil && container["resources"]?["requests"]?["memory"] != nil)
        #expect(container["resources"]?["limits"]?["memory"] != nil)
        // Privileged, or (restricted) exactly the capabilities, with the host's /proc/sys/net for sysctls.
        let security = container["securityContext"]
        if variant == "overlays/restricted" {
            #expect(security?["privileged"] != .bool(true))
            #expect(security?["capabilities"]?["add"] == .array(["NET_ADMIN", "NET_RAW", "NET_BIND_SERVICE"]))
            #expect(security?["capabilities"]?["drop"] == .array(["ALL"]))
            #expect(agent.procSysNetPath != "/proc/sys/net")
            #expect(hostPath(mountedAt: agent.procSysNetPath, in: container)?["path"] == "/proc/sys/net")
            #expect(!(try render(variant)).contains("privileged: true"))
        } else {
            #expect(security?["privileged"] == .bool(true))
            #expect(agent.procSysNetPath == "/proc/sys/net")
        }
        #expect(agent.runServiceProxy == (variant == "overlays/replace-kube-proxy"))
    }

    func render(_ variant: String) throws -> String { try Self.render(variant) }

    /// The controllers a DaemonSet's arguments enable.
    static func enabled(_ agent: KubeRouter) -> Set<DoctorController> {
        var enabled = Set<DoctorController>()
        if agent.runFirewall { enabled.insert(.firewall) }
        if agent.runServiceProxy { enabled.insert(.serviceProxy) }
        if agent.runRouter { enabled.insert(.router) }
        return enabled
    }

    @Test(arguments: variants) func theRoleGrantsExactlyWhatTheAgentReads(_ variant: String) throws {
        let r = try Self.rendered(variant)
        let enabled = Self.enabled(try r.agent)
        // What the agent does: its informers list and watch, its node checks ask access reviews.
        let informers = KubeRouter.informerResources(for: enabled).flatMap { resource in
            ["list", "watch"].map { AccessReview.Request(verb: $0, group: resource.group, resource: resource.plural) }
        }
        let used = Set(informers + [DoctorCatalog.accessReviewCreation])
        #expect(used == Set(DoctorCatalog.agentAccess(for: enabled)), "the informers follow the catalog")
        if enabled.contains(.firewall) {
            #expect(APIResource.forPolicy.allSatisfy { p in informers.contains { $0.resource == p.plural } })
        }
        // What the role grants, rule by rule (no wildcards).
        let role = try r.one("ClusterRole")
        var granted: [AccessReview.Request] = []
        for rule in role["rules"]?.arrayValue ?? [] {
            #expect(rule["resourceNames"] == nil && rule["nonResourceURLs"] == nil)
            for group in rule["apiGroups"]?.arrayValue ?? [] {
                for resource in rule["resources"]?.arrayValue ?? [] {
                    for verb in rule["verbs"]?.arrayValue ?? [] {
                        granted.append(
                            AccessReview.Request(
                                verb: verb.stringValue ?? "", group: group.stringValue ?? "",
                                resource: resource.stringValue ?? ""))
                    }
                }
            }
        }
        #expect(!granted.contains { $0.verb == "*" || $0.group == "*" || $0.resource == "*" })
        #expect(
            Set(granted) == used,
            "granted, unused: \(Set(granted).subtracting(used)); used, not granted: \(used.subtracting(Set(granted)))")
        #expect(granted.count == Set(granted).count, "no rule repeats another")
        // Bound to the DaemonSet's service account.
        let binding = try r.one("ClusterRoleBinding")
        let account = try r.one("ServiceAccount")
        #expect(
            binding["roleRef"]?["name"] == role["metadata"]?["name"] && binding["roleRef"]?["kind"] == "ClusterRole")
        #expect(
            binding["subjects"]
                == .array([
                    .object([
                        "kind": "ServiceAccount", "name": try #require(account["metadata"]?["name"]),
                        "namespace": try #require(account["metadata"]?["namespace"]),
                    ])
                ]))
    }
}
