import Foundation
import KubeModel

/// One iptables backend's tables, as far as the node checks need them: each chain with its policy
/// (built-in chains) and how many rules it holds. Read from `iptables-save` output (either backend's),
/// or from libiptc.
public struct IPTablesSnapshot: Codable, Sendable, Equatable {
    public struct Chain: Codable, Sendable, Equatable {
        public var name: String
        /// `ACCEPT`/`DROP` for a built-in chain; nil for a user chain (or when unknown).
        public var policy: String?
        public var rules: Int
        public init(name: String, policy: String?, rules: Int) {
            self.name = name
            self.policy = policy
            self.rules = rules
        }
    }

    public struct Table: Codable, Sendable, Equatable {
        public var name: String
        public var chains: [Chain]
        public init(name: String, chains: [Chain]) {
            self.name = name
            self.chains = chains
        }
        public subscript(chain: String) -> Chain? { chains.first { $0.name == chain } }
    }

    public var tables: [Table]

    public init(tables: [Table]) { self.tables = tables }

    public subscript(table: String) -> Table? { tables.first { $0.name == table } }

    public var ruleCount: Int { tables.reduce(0) { $0 + $1.chains.reduce(0) { $0 + $1.rules } } }

    /// Every chain name, with its table (`filter/DOCKER`).
    public var chainNames: [(table: String, chain: String)] {
        tables.flatMap { t in t.chains.map { (t.name, $0.name) } }
    }

    /// Parses `iptables-save` output: `*table`, `:CHAIN POLICY [p:b]`, `-A CHAIN ...`, `COMMIT`; comments
    /// and anything else are skipped.
    public static func parse(save text: String) -> IPTablesSnapshot {
        var tables: [Table] = []
        var current: Table?
        func close() {
            if let current { tables.append(current) }
            current = nil
        }
        for raw in text.split(whereSeparator: \.isNewline) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("*") {
                close()
                current = Table(name: String(line.dropFirst()), chains: [])
            } else if line == "COMMIT" {
                close()
            } else if line.hasPrefix(":"), current != nil {
                let fields = line.dropFirst().split(separator: " ")
                guard let name = fields.first else { continue }
                let policy = fields.count > 1 && fields[1] != "-" ? String(fields[1]) : nil
                current?.chains.append(Chain(name: String(name), policy: policy, rules: 0))
            } else if line.hasPrefix("-A "), current != nil {
                let fields = line.split(separator: " ")
                guard fields.count > 1 else { continue }
                let name = String(fields[1])
                if let i = current?.chains.firstIndex(where: { $0.name == name }) {
                    current?.chains[i].rules += 1
                } else {
                    current?.chains.append(Chain(name: name, policy: nil, rules: 1))
                }
            }
        }
        close()
        return IPTablesSnapshot(tables: tables)
    }
}
