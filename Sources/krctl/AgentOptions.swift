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
            "How long to wait for the agent's answer, as a Go duration (kubectl's flag).",
            valueName: "duration"))
    var requestTimeout = "30s"

    func validate() throws {
        guard let seconds = GoDuration.seconds(requestTimeout), seconds > 0 else {
            throw ValidationError(
                "invalid --request-timeout \"\(requestTimeout)\" (expected a Go duration such as 30s or 2m)")
        }
    }

    func ask<T: Decodable>(_ command: String, as type: T.Type) throws -> T {
        let reply: Data
        do {
            reply = try ControlSocket.ask(
                path: stateDir + "/" + ControlSocket.fileName, command,
                timeout: GoDuration.seconds(requestTimeout) ?? 30)
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
