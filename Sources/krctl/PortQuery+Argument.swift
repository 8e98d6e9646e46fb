import ArgumentParser
import Planning

/// `--port` of explain-policy: `80`, `53/UDP`, or a container port's name resolved on the destination pod.
extension PortQuery: CommandArgument {
    static let expected =
        "NUMBER[/PROTOCOL] or NAME[/PROTOCOL]: a port number 1-65535 or a container port's name, "
        + "protocol TCP, UDP or SCTP"

    public init?(argument: String) { self.init(argument) }
}
