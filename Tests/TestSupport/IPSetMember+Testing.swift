import KubeModel
import Planning

/// Members written briefly in tests: `.ip("10.0.0.1")`, `.cidr("10.0.0.0/8")`,
/// `.cidr("10.0.2.0/24", nomatch: true)`, `.ipPort("10.0.0.1", .tcp, 8080)`. The text must be valid.
extension IPSetMember {
    public static func ip(_ text: String) -> IPSetMember { .address(IPAddress(text)!) }
    public static func cidr(_ text: String, nomatch: Bool = false) -> IPSetMember {
        .net(CIDR(text)!, nomatch: nomatch)
    }
    public static func ipPort(_ text: String, _ proto: PortProtocol, _ port: UInt16) -> IPSetMember {
        .addressPort(IPAddress(text)!, proto, port: port)
    }
}
