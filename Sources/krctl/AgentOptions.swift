import ArgumentParser
import Foundation
import Kernel
import KubeModel

/// Options shared by the commands that read the agent's state on this node (bgp, ipvs).
struct AgentOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The agent's state directory: its control socket and status files.", valueName: "path"))
    var stateDir = "/var/run/kube-router"

    @OptionGroup var format: OutputOptions

    @Option(
        help: ArgumentHelp(
            "How long to wait for the agent's answer, as a Go duration (kubectl's flag). (default: 30s)",
            valueName: "duration"),
        transform: DurationArgument.parse)
    var requestTimeout = DurationArgument(seconds: 30)

    func ask<T: Decodable>(_ command: String, as type: T.Type) throws -> T {
        let reply: Data
        do {
            reply = try ControlSocket.ask(
                path: stateDir + "/" + ControlSocket.fileName, command,
                timeout: requestTimeout.seconds)
        } catch {
            throw CommandFailure("\(error)")
        }
        do {
            return try JSONDecoder().decode(T.self, from: reply)
        } catch {
            throw CommandFailure(
                "the agent's answer to \"\(command)\" is not what this krctl reads (versions differ?): \(error)")
        }
    }
}
