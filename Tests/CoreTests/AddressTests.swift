import Testing

@testable import KubeModel

@Suite struct AddressTests {
    @Test func parsesAndPrintsIPv4() throws {
        let ip = try #require(IPAddress("10.1.2.3"))
        #expect(ip.family == .ipv4)
        #expect(ip.description == "10.1.2.3")
    }

    @Test func parsesAndPrintsIPv6Canonically() throws {
        let ip = try #require(IPAddress("fd00:0:0::0001"))
        #expect(ip.family == .ipv6)
        #expect(ip.description == "fd00::1")
    }

    @Test(arguments: ["", "10.1.2", "10.1.2.256", "1.2.3.4.5", "fd00::1::2", "hello", "10.0.0.1/8", " 10.0.0.1"])
    func rejectsInvalidAddresses(_ text: String) {
        #expect(IPAddress(text) == nil)
    }

    @Test func cidrClearsHostBitsAndContains() throws {
        let cidr = try #require(CIDR("10.1.2.3/16"))
        #expect(cidr.description == "10.1.0.0/16")
        #expect(cidr.contains(IPAddress("10.1.255.255")!))
        #expect(!cidr.contains(IPAddress("10.2.0.0")!))
        #expect(!cidr.contains(IPAddress("::ffff:10.1.0.1")!), "families never mix")
    }

    @Test func ipv6CidrAcrossTheWordBoundary() throws {
        let cidr = try #require(CIDR("fd00:1:2:3:8000::/65"))
        #expect(cidr.contains(IPAddress("fd00:1:2:3:ffff::1")!))
        #expect(!cidr.contains(IPAddress("fd00:1:2:3:7fff::1")!))
        #expect(try #require(CIDR("::/0")).contains(IPAddress("2001:db8::1")!))
        #expect(try #require(CIDR("0.0.0.0/0")).contains(IPAddress("8.8.8.8")!))
    }

    @Test(arguments: ["10.0.0.0", "10.0.0.0/33", "fd00::/129", "10.0.0.0/-1", "10.0.0.0/08", "x/8", "10.0.0.0/"])
    func rejectsInvalidCIDRs(_ text: String) {
        #expect(CIDR(text) == nil)
    }

    @Test func cidrContainsCIDR() throws {
        let outer = try #require(CIDR("10.0.0.0/8"))
        #expect(outer.contains(CIDR("10.5.0.0/16")!))
        #expect(!outer.contains(CIDR("0.0.0.0/0")!))
    }
}
