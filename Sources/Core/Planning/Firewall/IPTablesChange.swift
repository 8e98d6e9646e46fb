import KubeModel

/// One change to a table, as a value: what the diff decides and the executor applies before one commit.
public enum IPTablesChange: Sendable, Equatable {
    case createChain(String)
    /// The chain's rules replaced by these (flush, then append in order).
    case fill(chain: String, rules: [Rule])
    /// Our jumps in the owner's built-in chains replaced by these, placed as the owner needs.
    case placeHooks([Rule])
    case flush(String)
    case deleteChain(String)
}
