import Foundation
import Testing

@testable import KubeModel

@Suite struct JSONParserTests {
    @Test func parsesEveryKindOfValue() throws {
        let text =
            #"{"s":"a\"b\\c\/\n\u00e9\ud83d\ude00","i":-12,"d":1.5e3,"t":true,"f":false,"n":null,"#
            + #""a":[1,[],{}],"o":{"k":"v"}}"#
        let v = try JSONValue.parseJSON(Data(text.utf8))
        #expect(v["s"] == .string("a\"b\\c/\né😀"))
        #expect(v["i"] == .int(-12) && v["d"] == .double(1500) && v["t"] == .bool(true) && v["f"] == .bool(false))
        #expect(v["n"] == .null)
        #expect(v["a"] == .array([.int(1), .array([]), .object([:])]))
        #expect(v["o"]?["k"] == .string("v"))
    }

    @Test func agreesWithFoundationsDecoder() throws {
        let text =
            #"[{"metadata":{"name":"x","labels":{"a":"b"}},"spec":{"ports":[{"port":80,"endPort":90}]},"w":0.25}]"#
        let ours = try JSONValue.parseJSON(Data(text.utf8))
        let foundations = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
        #expect(ours == foundations)
    }

    @Test(arguments: ["", "{", "[1,]", "{\"a\" 1}", "tru", "\"abc", "01x", "{\"a\":1}}", "\"\\ud800\"", "[\"\u{01}\"]"])
    func rejectsInvalidJSON(_ text: String) {
        #expect(throws: (any Error).self) { try JSONValue.parseJSON(Data(text.utf8)) }
    }
}
