import BenchSupport
import Foundation
import Kernel
import KubeModel
import Planning
import Speaker

// kr-bgp-bench: one peer announces 100,000 prefixes (default) to our BGP speaker and to BIRD 2 at the
// same time, in network namespaces: the time until every prefix is in each receiver's kernel, and
// the memory each needs, printed side by side with their ratio. Then it withdraws them all (time until each
// kernel holds none), and 100 peers announce 100 prefixes each (time until all 10,000 are in).
//
// Usage (root, bird2 installed): swift build -c release && .build/release/kr-bgp-bench [prefixes] [-o json]

let prefixCount = CommandLine.arguments.dropFirst().compactMap { Int($0) }.first ?? 100_000
let report = BenchReport()
guard getuid() == 0 else {
    FileHandle.standardError.write(Data("kr-bgp-bench: needs root (network namespaces, routes)\n".utf8))
    exit(1)
}
let clock = ContinuousClock()
let id = String(getpid())
let bridge = "kbb\(id)br"
let work = FileManager.default.temporaryDirectory.appendingPathComponent("kr-bgp-bench-\(id)").path
@Sendable func ns(_ n: String) -> String { "kbb\(id)\(n)" }
func sh(_ command: String) { _ = try? shell("/bin/sh", ["-c", command]) }

// The lab: feeder f (10.99.0.100), our speaker s (10.99.0.10), BIRD a (10.99.0.1) on one bridge.
try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
sh("ip netns add \(bridge); ip -n \(bridge) link add br0 type bridge; ip -n \(bridge) link set br0 up")
for (node, address) in [("f", "10.99.0.100"), ("s", "10.99.0.10"), ("a", "10.99.0.1")] {
    sh("ip netns add \(ns(node)); ip -n \(ns(node)) link set lo up")
    sh(
        "ip -n \(bridge) link add v\(id)\(node) type veth peer name eth0 netns \(ns(node)); "
            + "ip -n \(bridge) link set v\(id)\(node) master br0 up"
    )
    sh("ip -n \(ns(node)) addr add \(address)/24 dev eth0; ip -n \(ns(node)) link set eth0 up")
}
defer {
    for node in ["f", "s", "a"] { sh("ip netns pids \(ns(node)) | xargs -r kill -9; ip netns del \(ns(node))") }
    sh("ip netns del \(bridge)")
    try? FileManager.default.removeItem(atPath: work)
}

// BIRD: one eBGP session to the feeder, everything it learns exported to the kernel.
let birdConf = """
    log "\(work)/bird.log" { warning, error };
    router id 10.99.0.1;
    protocol device { scan time 10; }
    protocol kernel { ipv4 { import none; export all; }; }
    protocol bgp feed { local 10.99.0.1 as 65001; neighbor 10.99.0.100 as 65100; direct; passive on;
      hold time 90; connect retry time 1; ipv4 { import all; export none; }; }
    """
try birdConf.write(toFile: "\(work)/bird.conf", atomically: true, encoding: .utf8)
sh(
    "bash -c 'for f in /proc/$$/fd/*; do n=${f##*/}; if [ \"$n\" -gt 2 ]; then eval \"exec $n>&-\"; fi; done; "
        + "exec ip netns exec \(ns("a")) bird -c \(work)/bird.conf -s \(work)/bird.ctl -P \(work)/bird.pid'"
)

// Our speaker, in-process: its threads are started from a thread inside namespace s, so they run there.
let speaker = try NetworkNamespace.run(ns("s")) { () -> BGPSpeaker in
    let speaker = try BGPSpeaker(
        config: BGPSpeaker.Config(
            asn: 65010, routerID: IPAddress("10.99.0.10")!, holdTime: 90, connectRetry: 1,
            maxPrefixes: prefixCount + 1))
    try speaker.start()
    speaker.setPeers([BGPPeerConfig(address: IPAddress("10.99.0.100")!, asn: 65100, passive: true)])
    return speaker
}

// The feeder: connects to both receivers, then sends the same UPDATEs to each from its own thread.
func prefix(_ i: Int) -> CIDR { CIDR(network: IPAddress(v4: UInt32(20 << 24) + UInt32(i) << 8), prefixLength: 24) }
let updates: [BGPMessage] = {
    var attributes = BGPPathAttributes()
    attributes.origin = .igp
    attributes.asPath = [.init(.sequence, [65100])]
    attributes.nextHop = IPAddress("10.99.0.100")
    return stride(from: 0, to: prefixCount, by: 900).map { start in
        .update(BGPUpdate(attributes: attributes, nlri: (start..<min(start + 900, prefixCount)).map(prefix)))
    }
}()
let birdVersion = String(
    decoding: (try? shell("/bin/sh", ["-c", "/usr/sbin/bird --version 2>&1"]).1) ?? Data(), as: UTF8.self)
report.say(
    "kr-bgp-bench: \(prefixCount) prefixes in \(updates.count) UPDATEs, to our speaker and to "
        + "\(birdVersion.trimmingCharacters(in: .whitespacesAndNewlines))"
)

/// A process parked in each receiver's namespace: its `/proc/PID/net/fib_triestat` is that namespace's routing
/// trie, read without starting a program. (Counting with `ip route show | wc -l` every 50 ms took 0.3-0.8 s of CPU
/// per count at 100,000 routes, on the same two cores as the receivers it timed.)
let parked: [String: Int32] = Dictionary(
    uniqueKeysWithValues: ["s", "a"].map { node in
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/ip")
        p.arguments = ["netns", "exec", ns(node), "sleep", "100000"]
        try? p.run()
        return (node, p.processIdentifier)
    })

/// The IPv4 prefixes in a namespace's main table, from the kernel's trie statistics (an O(1) read for us; the
/// kernel counts without formatting a line per route).
@Sendable func mainTablePrefixes(_ node: String) -> Int? {
    guard let pid = parked[node],
        let text = try? String(contentsOfFile: "/proc/\(pid)/net/fib_triestat", encoding: .utf8),
        let main = text.range(of: "Main:")
    else { return nil }
    let line = text[main.upperBound...].split(separator: "\n").first { $0.contains("Prefixes:") } ?? ""
    return Int(line.split(separator: ":").last?.trimmingCharacters(in: .whitespaces) ?? "")
}

/// The main table's prefixes before any route is learned (the connected subnet): counts are taken above these.
var connected: [String: Int] = [:]
for node in ["s", "a"] {
    // The parked process enters the namespace a moment after it starts.
    for _ in 0..<100 where connected[node] == nil {
        let ownNamespace = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/net")
        let its = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(parked[node] ?? 0)/ns/net")
        if let its, its != ownNamespace, let n = mainTablePrefixes(node) { connected[node] = n }
        if connected[node] == nil { Thread.sleep(forTimeInterval: 0.02) }
    }
}
let baselines = connected

// The speaker's growth is measured from here: the feed below is the benchmark's, not the speaker's.
let baseline = residentMiB()
let (feederStart, feedSessions) = try NetworkNamespace.run(ns("f")) {
    [updates] () -> (ContinuousClock.Instant, [BGPTransport]) in
    var sessions: [(BGPTransport, String)] = []
    for (address, name) in [("10.99.0.10", "ours"), ("10.99.0.1", "BIRD")] {
        var connected: BGPTransport?
        for _ in 0..<50 where connected == nil {
            connected = try? BGPTransport.connect(
                to: IPAddress(address)!, port: 179, from: nil, password: nil, timeout: 1)
            if connected == nil { Thread.sleep(forTimeInterval: 0.1) }
        }
        guard let transport = connected else { throw RouterConfigError("cannot connect to \(name) at \(address)") }
        let open = BGPOpen(
            asn: 65100, holdTime: 90, identifier: 0x0A63_0064,
            capabilities: [.multiprotocol(afi: 1, safi: 1), .fourOctetAS(65100)])
        try transport.send(.open(open), options: .init())
        guard case .open = try transport.receive(timeout: 5, options: .init()) else {
            throw RouterConfigError("\(name): no OPEN")
        }
        try transport.send(.keepalive, options: .init())
        _ = try transport.receive(timeout: 5, options: .init())  // its KEEPALIVE
        sessions.append((transport, name))
    }
    let start = clock.now
    let established = sessions
    for (transport, _) in established {
        Thread { for update in updates { try? transport.send(update, options: .init()) } }.start()
    }
    // Keep the sessions: the transports live in these threads' closures; keepalives are not needed
    // within the 90 s hold time of the benchmark.
    Thread {
        let keep = established
        while true {
            Thread.sleep(forTimeInterval: 30)
            for (t, _) in keep { try? t.send(.keepalive, options: .init()) }
        }
    }.start()
    return (start, established.map(\.0))
}

/// Polls a namespace's routing table until the number of learned routes satisfies `done`: milliseconds since
/// `start`, nil after `timeout`.
@Sendable func waitForRoutes(
    _ node: String, since start: ContinuousClock.Instant, timeout: Double, _ done: @Sendable (Int) -> Bool
) -> Double? {
    let deadline = Date(timeIntervalSinceNow: timeout)
    while Date() < deadline {
        if let n = mainTablePrefixes(node), done(n - (baselines[node] ?? 0)) { return milliseconds(clock.now - start) }
        Thread.sleep(forTimeInterval: 0.01)
    }
    return nil
}

/// Both receivers watched at once, each from its own thread: (ours, BIRD) in milliseconds since `start`.
func watchBoth(since start: ContinuousClock.Instant, _ done: @escaping @Sendable (Int) -> Bool) -> (Double?, Double?) {
    final class Result: @unchecked Sendable { var value: Double? }
    let ours = Result()
    let bird = Result()
    let group = DispatchGroup()
    for (node, result) in [("s", ours), ("a", bird)] {
        group.enter()
        Thread {
            result.value = waitForRoutes(node, since: start, timeout: 120, done)
            group.leave()
        }.start()
    }
    group.wait()
    return (ours.value, bird.value)
}

let (oursTime, birdTime) = watchBoth(since: feederStart) { $0 >= prefixCount }
let oursMemory = residentMiB() - baseline
let birdPid =
    (try? String(contentsOfFile: "\(work)/bird.pid", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
    ?? ""
let birdStatus = (try? String(contentsOfFile: "/proc/\(birdPid)/status", encoding: .utf8)) ?? ""
let birdMemory =
    (Double(
        birdStatus.split(separator: "\n").first { $0.hasPrefix("VmRSS:") }?.split(separator: " ").dropFirst().first
            ?? "0") ?? 0) / 1024
func format(_ ms: Double?) -> String { ms.map { String(format: "%.0f ms", $0) } ?? "not all within 120 s" }
report.say(
    "ours: all \(prefixCount) prefixes in the kernel after \(format(oursTime)); "
        + "speaker memory \(String(format: "%.0f", oursMemory)) MiB (process growth)"
)
report.say(
    "BIRD: all \(prefixCount) prefixes in the kernel after \(format(birdTime)); "
        + "memory \(String(format: "%.0f", birdMemory)) MiB"
)
if let oursTime, let birdTime {
    report.say("ratio, time to kernel (ours / BIRD): \(String(format: "%.2f", oursTime / birdTime))")
}
if birdMemory > 0 { report.say("ratio, memory (ours / BIRD): \(String(format: "%.2f", oursMemory / birdMemory))") }
// 2. Withdraw-all: the feeder withdraws every prefix from both; until each kernel holds none.
let withdrawals: [BGPMessage] = stride(from: 0, to: prefixCount, by: 900).map { start in
    .update(BGPUpdate(withdrawn: (start..<min(start + 900, prefixCount)).map(prefix)))
}
let withdrawStart = clock.now
for transport in feedSessions {
    Thread { for message in withdrawals { try? transport.send(message, options: .init()) } }.start()
}
let (oursWithdraw, birdWithdraw) = watchBoth(since: withdrawStart) { $0 == 0 }
report.say(
    "withdraw-all: every prefix gone from the kernel after \(format(oursWithdraw)) (ours), "
        + "\(format(birdWithdraw)) (BIRD)"
        + (oursWithdraw.flatMap { o in birdWithdraw.map { String(format: "; ratio %.2f", o / $0) } } ?? ""))

// 3. Many peers: 100 feeder sessions (one address each), 100 prefixes each, to both receivers at once.
let peerCount = 100
let perPeer = 100
let peerAddresses = (1...peerCount).map { "10.99.0.\(100 + $0)" }
for address in peerAddresses { sh("ip -n \(ns("f")) addr add \(address)/24 dev eth0") }
var manyConf = birdConf
for (i, address) in peerAddresses.enumerated() {
    manyConf +=
        "\nprotocol bgp p\(i) { local 10.99.0.1 as 65001; neighbor \(address) as 65100; direct; passive on; "
        + "hold time 90; ipv4 { import all; export none; }; }"
}
try manyConf.write(toFile: "\(work)/bird.conf", atomically: true, encoding: .utf8)
sh("birdc -s \(work)/bird.ctl configure > /dev/null")
// From namespace s, as at the start: the sessions' threads must run there.
try NetworkNamespace.run(ns("s")) {
    speaker.setPeers(
        [BGPPeerConfig(address: IPAddress("10.99.0.100")!, asn: 65100, passive: true)]
            + peerAddresses.map { BGPPeerConfig(address: IPAddress($0)!, asn: 65100, passive: true) })
}
let manyStart = try NetworkNamespace.run(ns("f")) { () -> ContinuousClock.Instant in
    var sessions: [(BGPTransport, BGPMessage)] = []
    for (i, address) in peerAddresses.enumerated() {
        var attributes = BGPPathAttributes()
        attributes.origin = .igp
        attributes.asPath = [.init(.sequence, [65100])]
        attributes.nextHop = IPAddress(address)
        let nlri = (0..<perPeer).map {
            CIDR(network: IPAddress(v4: UInt32(30 << 24) + UInt32(i * perPeer + $0) << 8), prefixLength: 24)
        }
        for receiver in ["10.99.0.10", "10.99.0.1"] {
            var connected: BGPTransport?
            for _ in 0..<50 where connected == nil {
                connected = try? BGPTransport.connect(
                    to: IPAddress(receiver)!, port: 179, from: IPAddress(address), password: nil, timeout: 1)
                if connected == nil { Thread.sleep(forTimeInterval: 0.1) }
            }
            guard let transport = connected else { throw RouterConfigError("\(address) cannot connect to \(receiver)") }
            let open = BGPOpen(
                asn: 65100, holdTime: 90, identifier: UInt32(truncatingIfNeeded: IPAddress(address)!.low),
                capabilities: [.multiprotocol(afi: 1, safi: 1), .fourOctetAS(65100)])
            try transport.send(.open(open), options: .init())
            guard case .open = try transport.receive(timeout: 5, options: .init()) else {
                throw RouterConfigError("\(receiver): no OPEN for \(address)")
            }
            try transport.send(.keepalive, options: .init())
            _ = try transport.receive(timeout: 5, options: .init())
            sessions.append((transport, .update(BGPUpdate(attributes: attributes, nlri: nlri))))
        }
    }
    let start = clock.now
    for (transport, update) in sessions { try transport.send(update, options: .init()) }
    let keep = sessions.map(\.0)
    Thread {
        while true {
            Thread.sleep(forTimeInterval: 30)
            for t in keep { try? t.send(.keepalive, options: .init()) }
        }
    }.start()
    return start
}
let (oursMany, birdMany) = watchBoth(since: manyStart) { $0 >= peerCount * perPeer }
report.say(
    "\(peerCount) peers x \(perPeer) prefixes: all in the kernel after \(format(oursMany)) (ours), "
        + "\(format(birdMany)) (BIRD)"
        + (oursMany.flatMap { o in birdMany.map { String(format: "; ratio %.2f", o / $0) } } ?? ""))

report.record("prefixes", prefixCount)
report.record("withdrawOursMs", oursWithdraw)
report.record("withdrawBirdMs", birdWithdraw)
if let oursWithdraw, let birdWithdraw { report.record("withdrawRatio", oursWithdraw / birdWithdraw) }
report.record("manyPeers", peerCount)
report.record("manyPeersPrefixesEach", perPeer)
report.record("manyPeersOursMs", oursMany)
report.record("manyPeersBirdMs", birdMany)
if let oursMany, let birdMany { report.record("manyPeersRatio", oursMany / birdMany) }
report.record("oursMs", oursTime)
report.record("birdMs", birdTime)
report.record("oursMemoryMiB", oursMemory)
report.record("birdMemoryMiB", birdMemory)
if let oursTime, let birdTime { report.record("timeRatio", oursTime / birdTime) }
if birdMemory > 0 { report.record("memoryRatio", oursMemory / birdMemory) }
report.finish()
speaker.stop()
