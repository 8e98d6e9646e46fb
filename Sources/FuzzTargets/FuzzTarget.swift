import Foundation
import KubeModel
import Planning
import TestServer

/// What the fuzzer feeds bytes to: the parsers that take input from outside the process (a BGP peer, the API
/// server, a manifest file, a logged packet). Each target must never trap, whatever the bytes; where a parser's
/// output can be checked against itself (what we encode, we decode), a failed check traps, so the fuzzer
/// reports it. `kr-fuzz` (built with `-sanitize=fuzzer,address`, see `scripts/fuzz`) runs them under
/// libFuzzer; the test suite runs every committed input (`Fuzz/corpus`, `Fuzz/regressions`) through them.
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// A BGP message, as a peer sends it: decoded with and without 4-octet AS numbers; a decoded message is
    /// encoded again and must decode.
    case bgp
    /// An API server's JSON: the parser, then the objects read from it (lists included), as the informers and
    /// `--manifests` read them.
    case json
    /// A manifest file's YAML documents, then the objects read from them.
    case yaml
    /// A packet as NFLOG hands it over: its IPv4 or IPv6 header and ports (the drops reader).
    case packet
    /// kube-test-server's request handling: requests (line, headers, body) against a fresh store.
    case http

    public var summary: String {
        switch self {
        case .bgp: "BGPMessage.decode and encode"
        case .json: "JSONValue.parseJSON and ObjectReader"
        case .yaml: "JSONValue.parseYAMLDocuments and ObjectReader"
        case .packet: "PacketHeader (NFLOG payloads)"
        case .http: "kube-test-server's Router and APIStore (RequestFuzzing)"
        }
    }

    public func run(_ bytes: [UInt8]) {
        switch self {
        case .bgp:
            _ = try? BGPMessage.frameLength(bytes[...])
            for options in [BGPMessage.Options(fourOctetAS: true), BGPMessage.Options(fourOctetAS: false)] {
                guard let message = try? BGPMessage.decode(bytes, options: options) else { continue }
                let encoded = message.encode(options: options)
                guard encoded.count <= BGPMessage.maximumLength else { continue }
                do {
                    _ = try BGPMessage.decode(encoded, options: options)
                } catch {
                    fatalError("a decoded \(message.typeName) encodes to bytes that do not decode: \(error)")
                }
            }
        case .json:
            guard let value = try? JSONValue.parseJSON(Data(bytes)) else { return }
            var reader = ObjectReader(checksUnknownFields: true)
            reader.read(value, source: "fuzz")
            for object in reader.objects { _ = object.key }
        case .yaml:
            let text = String(decoding: bytes, as: UTF8.self)
            guard let documents = try? JSONValue.parseYAMLDocuments(text) else { return }
            var reader = ObjectReader(checksUnknownFields: true)
            for document in documents { reader.read(document, source: "fuzz") }
        case .packet:
            _ = PacketHeader(bytes)
        case .http:
            let done = DispatchSemaphore(value: 0)
            Task {
                _ = await RequestFuzzing.handle(bytes)
                done.signal()
            }
            done.wait()
        }
    }
}
