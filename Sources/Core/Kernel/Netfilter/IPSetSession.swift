import CIPSet
import Foundation
import KubeModel
import Planning

/// The kernel's ipsets through libipset, one command at a time in `ipset restore` syntax. libipset
/// keeps process-global state and is not thread-safe: every call is serialised on one lock.
public final class IPSetSession: @unchecked Sendable {
    public struct Failure: Error, CustomStringConvertible {
        public var command: String
        public var message: String
        public var description: String { "ipset \(command): \(message)" }
    }

    private final class Collector {
        var output = ""
        var errors: [String] = []
    }

    private static let lock = NSLock()
    private let collector = Collector()
    private let bridge: UnsafeMutablePointer<kr_ipset_bridge>
    private let handle: OpaquePointer

    public init() throws {
        let bridge = UnsafeMutablePointer<kr_ipset_bridge>.allocate(capacity: 1)
        bridge.initialize(
            to: kr_ipset_bridge(
                sink: { ctx, kind, text in
                    let collector = Unmanaged<Collector>.fromOpaque(ctx!).takeUnretainedValue()
                    let message = text.map { String(cString: $0) } ?? ""
                    if kind == 0 {
                        collector.output += message
                    } else if kind == 2 {
                        collector.errors.append(message.trimmingCharacters(in: .whitespacesAndNewlines))
                    }
                }, ctx: Unmanaged.passUnretained(collector).toOpaque()))
        guard let h = Self.lock.withLock({ kr_ipset_open(bridge) }) else {
            bridge.deallocate()
            throw Failure(command: "init", message: "libipset could not be initialised")
        }
        self.bridge = bridge
        handle = h
    }

    deinit {
        _ = Self.lock.withLock { ipset_fini(handle) }
        bridge.deallocate()
    }

    /// Runs one command (`create X hash:ip family inet -exist`, `add X 10.0.0.1`, `swap A B`, `save`),
    /// returning its output. libipset's return codes are unreliable, so an error message is the failure.
    @discardableResult
    public func run(_ command: String) throws -> String {
        try Self.lock.withLock {
            collector.output = ""
            collector.errors = []
            // Sticky session settings: the output mode is set for every command.
            _ = kr_ipset_output_save(handle)
            var line = Array(command.utf8CString)
            let rc = line.withUnsafeMutableBufferPointer { ipset_parse_line(handle, $0.baseAddress) }
            if !collector.errors.isEmpty || rc < 0 {
                throw Failure(
                    command: command,
                    message: collector.errors.joined(separator: "; ").isEmpty
                        ? "failed (\(rc))" : collector.errors.joined(separator: "; "))
            }
            return collector.output
        }
    }

    /// Runs many commands, one per line in `ipset restore` syntax, in one pass: far fewer netlink
    /// round trips than one `run` per command. Stops at the first error, which names its line.
    public func restore(_ script: String) throws {
        guard !script.isEmpty else { return }
        try Self.lock.withLock {
            collector.output = ""
            collector.errors = []
            _ = kr_ipset_output_save(handle)
            let rc = script.utf8CString.withUnsafeBufferPointer {
                kr_ipset_restore(handle, $0.baseAddress, $0.count - 1)
            }
            if !collector.errors.isEmpty || rc < 0 {
                let lines = script.split(separator: "\n", maxSplits: 1)
                throw Failure(
                    command: "restore (\(script.utf8.count) bytes, starting \"\(lines.first ?? "")\")",
                    message: collector.errors.joined(separator: "; ").isEmpty
                        ? "failed (\(rc))" : collector.errors.joined(separator: "; "))
            }
        }
    }

    /// Every set on the node whose name has one of the prefixes, with its members, read from `save`
    /// (`IPSetListing`: members as values, one the reader cannot parse as `.unparsed`).
    public func list(prefixes: [String]) throws -> [IPSetSpec] {
        IPSetListing.sets(try run("save"), prefixes: prefixes)
    }
}
