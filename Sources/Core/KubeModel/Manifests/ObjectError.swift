/// An object that could not be read: where it came from, which object, which field, and why.
public struct ObjectError: Error, Sendable, CustomStringConvertible {
    /// File path (with document number for multi-document YAML) or API URL.
    public var source: String
    /// `Kind namespace/name`, as far as it could be read.
    public var object: String
    public var field: FieldError

    public var description: String {
        [source, object, field.description].filter { !$0.isEmpty }.joined(separator: ": ")
    }
}
