import KubeModel

/// One cell of a connectivity matrix.
public struct MatrixCell: Sendable, Encodable, Equatable {
    public var from: String
    public var to: String
    /// The destination port; for a named query port, its number on `to` (0 when `to` does not declare it).
    public var port: Int
    public var `protocol`: PortProtocol
    /// The query's port name, when the port was given by name.
    public var portName: String?
    public var verdict: PolicyExplanation.Verdict
}

/// The truth table of every ordered pair of distinct pods, for each port.
public struct PolicyMatrix: Sendable, Encodable {
    public var pods: [String]
    public var ports: [String]
    public var cells: [MatrixCell]

    /// The cell for a pair and port, by index into `pods` and `ports` (nil on the diagonal).
    public func cell(from: Int, to: Int, port: Int) -> MatrixCell? {
        guard from != to else { return nil }
        let n = pods.count
        // Cells are stored port-major, then row, then column, skipping the diagonal.
        let row = from * (n - 1) + (to > from ? to - 1 : to)
        return cells[port * n * (n - 1) + row]
    }

    private enum CodingKeys: String, CodingKey { case pods, ports, cells }
}
