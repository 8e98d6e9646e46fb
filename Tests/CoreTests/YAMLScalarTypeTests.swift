import Testing
import Yams

@testable import KubeModel

/// The plain scalars' types, matched by hand, against Yams' default resolver (its regular expressions).
@Suite struct YAMLScalarTypeTests {
    func reference(_ text: String) -> Yams.Tag.Name {
        let name = Resolver.default.resolveTag(of: Node.scalar(.init(text)))
        return [.bool, .int, .float, .null].contains(name) ? name : .str
    }

    @Test func typesAsYamsDefaultResolverDoes() {
        let alphabet = Array("0123456789_.:+-eEoxXbBaAcfFinINfFnNyYsSrRuUlL~ ")
        var generator = SystemRandomNumberGenerator()
        var texts = [
            "", "~", "null", "NULL", "yes", "Off", "0", "-0", "+12", "0b101", "0o17", "017", "08", "0x1F", "1_000",
            "1:30", "1:3:59", "1:60", "190:20:30", "1.5", "1.", ".5", ".5e+3", ".5e3", "1e5", "1.5E-3", "-.inf",
            "+.INF", ".nan", "-.nan", "1:30.5", "1:30.", "0:30", "3.14_15", "1__", "+", "-", ".", "0x", "0b", "0o",
            "e5", "1e", "1e+", "12:", "00:1", "true1", "yes ",
        ]
        for _ in 0..<100_000 {
            texts.append(
                String(
                    (0..<Int.random(in: 1...7, using: &generator)).map { _ in
                        alphabet.randomElement(using: &generator)!
                    }))
        }
        for text in texts {
            #expect(YAMLScalarType.of(text) == reference(text), "\(text)")
        }
    }

    @Test func documentsKeepTheirTypes() throws {
        let docs = try JSONValue.parseYAMLDocuments(
            "a: 5\nb: \"5\"\nc: yes\nd: ~\ne: 1.5\nf: !!str 7\ng: 1:30\nh: 0x10\ni: text\n")
        #expect(
            docs == [
                .object([
                    "a": .int(5), "b": .string("5"), "c": .bool(true), "d": .null, "e": .double(1.5),
                    "f": .string("7"), "g": .string("1:30"), "h": .int(16), "i": .string("text"),
                ])
            ])
    }
}
