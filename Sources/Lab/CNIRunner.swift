import Foundation
import KubeModel

/// Runs a node's CNI network configuration for a pod, as the container runtime does (libcni's conflist
/// semantics): the plugins of the first `.conflist` in the node's /etc/cni/net.d, in order for ADD with
/// each one's result passed to the next as `prevResult`, in reverse for DEL. Plugins run in the node's
/// network namespace with the node's /var/lib/cni (host-local's leases).
struct CNIRunner {
    let layout: LabLayout
    let node: String
    let mountPoints: HostMountPoints

    var confDir: String { "\(layout.nodeRoot(node))/etc/cni/net.d" }
    var binDir: String { "\(layout.nodeRoot(node))/opt/cni/bin" }

    /// The network configuration the node's runtime would use, or nil while there is none (the agent has
    /// not written it yet: the kubelet says "network plugin not ready").
    func configuration() -> (file: String, list: JSONValue)? {
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: confDir)) ?? [])
            .filter { $0.hasSuffix(".conflist") }.sorted()
        for file in files {
            let path = "\(confDir)/\(file)"
            if let data = FileManager.default.contents(atPath: path), let list = try? JSONValue.parseJSON(data),
                list["plugins"]?.arrayValue?.isEmpty == false
            {
                return (path, list)
            }
        }
        return nil
    }

    /// ADD: the pod's addresses (CIDR notation) from the last plugin's result.
    func add(containerID: String, netns: String, resultFile: String) throws -> [String] {
        guard let (file, list) = configuration() else {
            throw LabError("network plugin not ready: no .conflist in the node's /etc/cni/net.d yet")
        }
        var previous: JSONValue?
        for plugin in list["plugins"]?.arrayValue ?? [] {
            let output = try invoke(
                "ADD", plugin: plugin, list: list, previous: previous, containerID: containerID, netns: netns,
                file: file)
            previous = output
        }
        guard let result = previous else { throw LabError("\(file) lists no plugins") }
        try result.jsonData().write(to: URL(fileURLWithPath: resultFile))
        return (result["ips"]?.arrayValue ?? []).compactMap { $0["address"]?.stringValue }
    }

    /// DEL, in reverse order; errors are collected, not stopping the rest (a half-made network still goes).
    func delete(containerID: String, netns: String, resultFile: String) -> [String] {
        guard let (file, list) = configuration() else { return [] }
        let previous = FileManager.default.contents(atPath: resultFile).flatMap { try? JSONValue.parseJSON($0) }
        var errors: [String] = []
        for plugin in (list["plugins"]?.arrayValue ?? []).reversed() {
            do {
                _ = try invoke(
                    "DEL", plugin: plugin, list: list, previous: previous, containerID: containerID, netns: netns,
                    file: file)
            } catch {
                errors.append("\(error)")
            }
        }
        return errors
    }

    private func invoke(
        _ command: String, plugin: JSONValue, list: JSONValue, previous: JSONValue?, containerID: String,
        netns: String, file: String
    ) throws -> JSONValue? {
        guard let type = plugin["type"]?.stringValue, !type.contains("/") else {
            throw LabError("\(file): a plugin without a valid type")
        }
        let binary = "\(binDir)/\(type)"
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw LabError("CNI plugin \(type) is not in the node's /opt/cni/bin (\(binary))")
        }
        var config = plugin
        config["cniVersion"] = list["cniVersion"] ?? "0.3.1"
        config["name"] = list["name"] ?? "lab"
        if let previous { config["prevResult"] = previous }
        if let capabilities = plugin["capabilities"]?.objectValue, capabilities["portMappings"] == .bool(true) {
            config["runtimeConfig"] = .object(["portMappings": .array([])])
        }
        let leases = "\(layout.nodeRoot(node))/var/lib/cni"
        try FileManager.default.createDirectory(atPath: leases, withIntermediateDirectories: true)
        try mountPoints.ensure("/var/lib/cni", isFile: false)
        let mounts = [Mount(source: leases, target: "/var/lib/cni", readOnly: false)]
        let script = mounts.shellPrefix + "exec \(Shell.quote(binary))"
        let result = try Shell.run(
            "/usr/sbin/ip", ["netns", "exec", layout.nodeNetns(node), "/bin/sh", "-c", script],
            environment: [
                "CNI_COMMAND": command, "CNI_CONTAINERID": containerID, "CNI_NETNS": "/var/run/netns/\(netns)",
                "CNI_IFNAME": "eth0", "CNI_PATH": binDir,
            ],
            input: String(decoding: config.jsonData(), as: UTF8.self), check: false)
        guard result.status == 0 else {
            let answer = (try? JSONValue.parseJSON(Data(result.stdout.utf8)))?["msg"]?.stringValue
            throw LabError("CNI \(command) \(type): \(answer ?? result.stderr + result.stdout)")
        }
        let text = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? nil : try JSONValue.parseJSON(Data(text.utf8))
    }
}
