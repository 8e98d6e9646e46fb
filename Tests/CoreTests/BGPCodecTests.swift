import Foundation
import Testing

@testable import KubeModel
@testable import Planning

/// The BGP codec on messages captured from BIRD 2, FRR 8, GoBGP 3 and ExaBGP 5 (Tests/CoreTests/Fixtures/bgp),
/// on hand-made malformed messages (each with the NOTIFICATION or RFC 7606 handling it calls for),
/// and on random mutations of the captures (never a crash).
@Suite struct BGPCodecTests {
    struct Capture: CustomStringConvertible {
        var sender: String, kind: String, receiver: String, bytes: [UInt8], file: String
        var description: String { "\(file): \(sender) \(kind) → \(receiver)" }
    }

    static let captures: [Capture] = {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/bgp")
        var all: [Capture] = []
        for file in ["ibgp.txt", "ebgp-as4-md5.txt"] {
            let text = (try? String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)) ?? ""
            for line in text.split(separator: "\n") where !line.hasPrefix("#") {
                let f = line.split(separator: " ")
                guard f.count == 4 else { continue }
                all.append(
                    Capture(
                        sender: String(f[0]), kind: String(f[1]), receiver: String(f[2]), bytes: hex(f[3]), file: file))
            }
        }
        return all
    }()

    static func hex(_ text: some StringProtocol) -> [UInt8] {
        var out: [UInt8] = []
        var it = text.makeIterator()
        while let a = it.next(), let b = it.next() { out.append(UInt8(String([a, b]), radix: 16)!) }
        return out
    }

    @Test func everyCaptureDecodesAndRoundTrips() throws {
        #expect(Self.captures.count >= 45)
        for capture in Self.captures {
            let message = try BGPMessage.decode(capture.bytes)
            let expected = capture.kind == "update-eor" ? "update" : capture.kind
            #expect(message.typeName.lowercased() == expected, "\(capture)")
            if case .update(let u) = message {
                #expect(u.isEndOfRIB == (capture.kind == "update-eor"), "\(capture)")
                #expect(u.treatAsWithdraw == nil && u.discarded.isEmpty, "\(capture): \(u)")
            }
            // What we encode decodes to the same message.
            #expect(try BGPMessage.decode(message.encode()) == message, "\(capture)")
        }
    }

    @Test func opensOfEachDaemon() throws {
        func open(_ sender: String, _ receiver: String, _ file: String = "ibgp.txt") throws -> BGPOpen {
            let capture = try #require(
                Self.captures.first {
                    $0.sender == sender && $0.kind == "open" && $0.receiver == receiver && $0.file == file
                })
            guard case .open(let o) = try BGPMessage.decode(capture.bytes) else { throw BGPError(0, 0, "not an OPEN") }
            return o
        }
        let bird = try open("bird", "frr")
        #expect(bird.asn == 64512 && bird.holdTime == 3 && bird.identifier == 0x0A63_0001)
        #expect(bird.multiprotocol.map(\.afi) == [1] && bird.supportsRouteRefresh && bird.supportsFourOctetAS)
        #expect(bird.gracefulRestart?.restartTime == 120 && bird.gracefulRestart?.restarting == false)
        // FRR: one parameter per capability, and capabilities we do not know (kept, ignored).
        let frr = try open("frr", "bird")
        #expect(
            frr.asn == 64512 && frr.gracefulRestart?.restarting == true && frr.gracefulRestart?.notification == true)
        let unknown = Set(frr.capabilities.compactMap { if case .unknown(let code, _) = $0 { code } else { nil } })
        #expect(unknown.isSuperset(of: [6, 69, 73, 128]), "\(frr.capabilities)")
        // eBGP with 4-octet ASNs: My AS is AS_TRANS, the real AS is in the capability.
        let ebgp = try open("bird", "sut", "ebgp-as4-md5.txt")
        #expect(ebgp.myAS == 23456 && ebgp.asn == 4_200_000_001)
    }

    @Test func updatesOfEachDaemon() throws {
        let bird = try #require(
            Self.captures.first { $0.sender == "bird" && $0.kind == "update" && $0.file == "ibgp.txt" })
        guard case .update(let u) = try BGPMessage.decode(bird.bytes) else {
            Issue.record("not an UPDATE")
            return
        }
        #expect(u.nlri == [CIDR("10.244.1.0/24")!] && u.attributes.origin == .igp && u.attributes.asPath == [])
        #expect(u.attributes.nextHop == IPAddress("10.99.0.1") && u.attributes.localPref == 100)
        // FRR: AS_PATH with the extended-length flag, and MED 0.
        let frr = try #require(
            Self.captures.first { $0.sender == "frr" && $0.kind == "update" && $0.file == "ibgp.txt" })
        guard case .update(let f) = try BGPMessage.decode(frr.bytes) else {
            Issue.record("not an UPDATE")
            return
        }
        #expect(frr.bytes.contains(0x50) && f.attributes.med == 0 && f.attributes.asPath == [])
        // eBGP: 4-octet ASNs in AS_SEQUENCE.
        let paths = Self.captures.filter {
            $0.file == "ebgp-as4-md5.txt" && $0.kind == "update" && $0.receiver == "sut"
        }.compactMap { c -> [UInt32]? in
            guard case .update(let u) = try? BGPMessage.decode(c.bytes), !u.nlri.isEmpty else { return nil }
            return u.attributes.asns
        }
        #expect(paths.contains { $0.first.map { $0 > 4_200_000_000 } == true }, "\(paths)")
    }

    @Test func notificationsAreNamed() throws {
        let cease = try #require(Self.captures.first { $0.sender == "bird" && $0.kind == "notification" })
        guard case .notification(let n) = try BGPMessage.decode(cease.bytes) else {
            Issue.record("not a NOTIFICATION")
            return
        }
        #expect(n.code == 6 && n.description.hasPrefix("Cease / Administrative Shutdown (6/2)"), "\(n)")
    }

    // MARK: Malformed input

    static func message(_ type: UInt8, _ body: [UInt8], length: Int? = nil) -> [UInt8] {
        let total = length ?? 19 + body.count
        return [UInt8](repeating: 0xFF, count: 16) + [UInt8(total >> 8), UInt8(total & 0xFF), type] + body
    }

    static func update(attributes: [UInt8], nlri: [UInt8] = [24, 10, 244, 1], withdrawn: [UInt8] = []) -> [UInt8] {
        message(
            2,
            [UInt8(withdrawn.count >> 8), UInt8(withdrawn.count & 0xFF)] + withdrawn
                + [UInt8(attributes.count >> 8), UInt8(attributes.count & 0xFF)] + attributes + nlri)
    }

    static let origin: [UInt8] = [0x40, 1, 1, 0]
    static let emptyPath: [UInt8] = [0x40, 2, 0]
    static let nextHop: [UInt8] = [0x40, 3, 4, 10, 99, 0, 1]
    static let openBody: [UInt8] = [4, 0xFC, 0x00, 0, 3, 10, 99, 0, 1, 0]

    /// Each malformed message and the NOTIFICATION (code, subcode) it must get.
    static let fatal: [(String, [UInt8], UInt8, UInt8)] = [
        ("marker not all ones", [0xFE] + message(4, []).dropFirst(), 1, 1),
        ("length under 19", message(4, [], length: 18), 1, 2),
        ("KEEPALIVE with a body", message(4, [0]), 1, 2),
        ("unknown type", message(9, []), 1, 3),
        ("OPEN version 3", message(1, [3] + openBody.dropFirst()), 2, 1),
        ("OPEN hold time 2", message(1, [4, 0xFC, 0, 0, 2, 10, 99, 0, 1, 0]), 2, 6),
        ("OPEN identifier 0", message(1, [4, 0xFC, 0, 0, 3, 0, 0, 0, 0, 0]), 2, 3),
        ("OPEN parameters overrun", message(1, [4, 0xFC, 0, 0, 3, 10, 99, 0, 1, 4, 2, 6, 65, 4]), 2, 0),
        ("OPEN unsupported parameter", message(1, [4, 0xFC, 0, 0, 3, 10, 99, 0, 1, 3, 1, 1, 0]), 2, 4),
        ("UPDATE withdrawn overrun", message(2, [0, 9, 0, 0]), 3, 1),
        (
            "UPDATE prefix length 33", update(attributes: origin + emptyPath + nextHop, nlri: [33, 10, 0, 0, 0, 0]), 3,
            10
        ),
        ("UPDATE NLRI truncated", update(attributes: origin + emptyPath + nextHop, nlri: [24, 10, 244]), 3, 10),
        ("unknown well-known attribute", update(attributes: origin + emptyPath + nextHop + [0x40, 99, 0]), 3, 2),
        ("MP_UNREACH twice", update(attributes: [0x80, 15, 3, 0, 2, 1, 0x80, 15, 3, 0, 2, 1], nlri: []), 3, 1),
        (
            "MP_REACH next hop of 3 bytes",
            update(attributes: origin + emptyPath + [0x80, 14, 8, 0, 2, 1, 3, 1, 2, 3, 0], nlri: []), 3, 9
        ),
    ]

    @Test(arguments: fatal.indices)
    func malformedMessagesGetTheirNotification(_ index: Int) {
        let (name, bytes, code, subcode) = Self.fatal[index]
        do {
            _ = try BGPMessage.decode(bytes)
            Issue.record("\(name): decoded")
        } catch {
            #expect(error.code == code && error.subcode == subcode, "\(name): \(error)")
        }
    }

    /// RFC 7606: errors in attributes that only affect these routes withdraw them; the session stays.
    static let withdrawing: [(String, [UInt8])] = [
        ("ORIGIN value 3", update(attributes: [0x40, 1, 1, 3] + emptyPath + nextHop)),
        ("ORIGIN of 2 bytes", update(attributes: [0x40, 1, 2, 0, 0] + emptyPath + nextHop)),
        ("AS_PATH segment overrun", update(attributes: origin + [0x40, 2, 6, 2, 2, 0, 0, 0xFC, 0] + nextHop)),
        ("AS_PATH segment type 7", update(attributes: origin + [0x40, 2, 6, 7, 1, 0, 0, 0xFC, 0] + nextHop)),
        ("NEXT_HOP of 5 bytes", update(attributes: origin + emptyPath + [0x40, 3, 5, 10, 99, 0, 1, 0])),
        ("MED of 3 bytes", update(attributes: origin + emptyPath + nextHop + [0x80, 4, 3, 0, 0, 0])),
        ("COMMUNITIES of 6 bytes", update(attributes: origin + emptyPath + nextHop + [0xC0, 8, 6, 0, 0, 0, 0, 0, 0])),
        ("NEXT_HOP missing", update(attributes: origin + emptyPath)),
        ("attribute overruns the list", update(attributes: origin + emptyPath + nextHop + [0x40, 5, 9, 0])),
    ]

    @Test(arguments: withdrawing.indices)
    func attributeErrorsWithdrawTheRoutes(_ index: Int) throws {
        let (name, bytes) = Self.withdrawing[index]
        guard case .update(let u) = try BGPMessage.decode(bytes) else {
            Issue.record("\(name): not an UPDATE")
            return
        }
        #expect(u.treatAsWithdraw != nil, "\(name)")
        #expect(u.allWithdrawn.contains(CIDR("10.244.1.0/24")!), "\(name)")
    }

    @Test func harmlessErrorsDiscardTheAttribute() throws {
        let duplicate = Self.update(
            attributes: Self.origin + Self.emptyPath + Self.nextHop + [0x40, 1, 1, 2] + [0x40, 6, 1, 0])
        guard case .update(let u) = try BGPMessage.decode(duplicate) else {
            Issue.record("not an UPDATE")
            return
        }
        #expect(u.treatAsWithdraw == nil && u.attributes.origin == .igp && !u.attributes.atomicAggregate)
        #expect(u.discarded == ["duplicate attribute 1", "malformed ATOMIC_AGGREGATE"])
        // Unknown optional transitive attributes are kept and passed on marked partial.
        let transitive = Self.update(attributes: Self.origin + Self.emptyPath + Self.nextHop + [0xC0, 200, 2, 7, 7])
        guard case .update(let t) = try BGPMessage.decode(transitive) else {
            Issue.record("not an UPDATE")
            return
        }
        #expect(t.attributes.unknown == [.init(flags: 0xC0, type: 200, value: [7, 7])])
        #expect(BGPMessage.update(t).encode().suffix(9).prefix(5) == [0xE0, 200, 2, 7, 7])
    }

    @Test func ipv6AndTwoOctetPaths() throws {
        var update = BGPUpdate()
        update.attributes.origin = .igp
        update.attributes.asPath = [.init(.sequence, [4_200_000_001, 65001])]
        update.attributes.mpReach = .init(
            afi: 2, safi: 1, nextHops: [IPAddress("2001:db8::1")!, IPAddress("fe80::1")!],
            nlri: [CIDR("fd00:244:1::/64")!])
        let bytes = BGPMessage.update(update).encode()
        #expect(try BGPMessage.decode(bytes) == .update(update))
        #expect(try BGPMessage.decode(BGPMessage.update(.endOfRIB(afi: 2)).encode()) == .update(.endOfRIB(afi: 2)))
        // A peer without 4-octet AS: AS_TRANS stands in for the large AS in AS_PATH, and AS4_PATH (RFC 6793)
        // brings it back; without AS4_PATH the path is AS_TRANS's.
        let old = BGPMessage.Options(fourOctetAS: false)
        guard case .update(let u) = try BGPMessage.decode(BGPMessage.update(update).encode(options: old), options: old)
        else {
            Issue.record("an UPDATE encoded for a 2-octet peer does not decode as an UPDATE")
            return
        }
        #expect(u.attributes.asns == [4_200_000_001, 65001])
        var bare = u
        bare.attributes.asPath = [.init(.sequence, [23456, 65001])]
        let twoOctetOnly = BGPMessage.update(bare).encode(options: old)
        guard case .update(let v) = try BGPMessage.decode(twoOctetOnly, options: old) else {
            Issue.record("a 2-octet UPDATE does not decode as an UPDATE")
            return
        }
        #expect(v.attributes.asns == [23456, 65001])
    }

    /// Random damage to every capture: decoding throws or returns, never traps, and what it returns encodes.
    @Test func mutationsNeverCrash() {
        var rng = SystemRandomNumberGenerator()
        var decoded = 0
        var rejected = 0
        for capture in Self.captures {
            for _ in 0..<400 {
                var bytes = capture.bytes
                switch Int.random(in: 0..<4, using: &rng) {
                case 0: bytes[Int.random(in: 16..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
                case 1: bytes = Array(bytes.prefix(Int.random(in: 0..<bytes.count, using: &rng)))
                case 2:
                    for _ in 0..<4 {
                        bytes[Int.random(in: 19..<max(20, bytes.count), using: &rng) % bytes.count] ^= 0xFF
                    }
                default:
                    bytes += (0..<Int.random(in: 1...8, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng)
                    }
                }
                // Keep the length field honest half the time, so that the body parsers are reached.
                if bytes.count >= 19, Bool.random(using: &rng) {
                    bytes[16] = UInt8(bytes.count >> 8)
                    bytes[17] = UInt8(bytes.count & 0xFF)
                }
                do {
                    let message = try BGPMessage.decode(bytes)
                    _ = message.encode()
                    decoded += 1
                } catch {
                    rejected += 1
                }
            }
        }
        #expect(decoded > 0 && rejected > 0)
    }
}
