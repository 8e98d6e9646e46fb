import ArgumentParser
import Foundation
import Kernel
import KubeModel
import Planning

/// Where krctl meets the node it runs on: which node that is, the agent's status file, and the
/// kernel's firewall, read by the same code the agent syncs with.
struct NodeOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "The node krctl runs on (default: the agent's status file, then the host name).", valueName: "name"))
    var node: String?

    @Option(help: ArgumentHelp("The agent's state directory, where it records its syncs.", valueName: "path"))
    var stateDir = "/var/run/kube-router"

    /// The node as krctl sees it: its name, the agent's last status, and the kernel's firewall objects
    /// per family (IPv6 empty where the kernel has no ip6tables).
    struct Local {
        var name: String
        var status: FirewallStatus?
        var observed: [IPAddress.Family: ObservedFirewall]

        func observed(_ family: IPAddress.Family) -> ObservedFirewall {
            observed[family] ?? ObservedFirewall(chains: [:], hooks: [], sets: [])
        }
    }

    var status: FirewallStatus? { FirewallStatus.read(stateDir: stateDir) }

    /// Reads the kernel for a command that needs it: a failure is an error.
    func local() throws -> Local {
        do {
            return try read()
        } catch {
            throw CommandFailure("cannot read this node's firewall: \(error) (run krctl as root on the node)")
        }
    }

    /// The node when krctl runs on one of the agent's: nil when the kernel cannot be read or holds nothing
    /// of an agent (krctl run off the nodes).
    func agentLocal() -> Local? {
        guard let local = try? read(), local.status != nil || !local.observed.values.allSatisfy(\.isEmpty) else {
            return nil
        }
        return local
    }

    private func read() throws -> Local {
        let status = self.status
        var observed: [IPAddress.Family: ObservedFirewall] = [.ipv4: try ObservedFirewall.read(family: .ipv4)]
        observed[.ipv6] = try? ObservedFirewall.read(family: .ipv6)
        let name = node ?? status?.node ?? ProcessInfo.processInfo.hostName
        return Local(name: name, status: status, observed: observed)
    }
}
