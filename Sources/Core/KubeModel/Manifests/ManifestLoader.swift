import Foundation

/// Reads YAML and JSON manifests from files and folders (recursively, in name order), as
/// `kubectl apply -f` would take them.
public struct ManifestLoader: Sendable {
    public static let extensions: Set<String> = ["yaml", "yml", "json"]

    public init() {}

    /// Every manifest file under `paths`; a path that does not exist is an error.
    public func files(in paths: [String]) throws -> [String] {
        var result: [String] = []
        let fm = FileManager.default
        for path in paths {
            var isDirectory: ObjCBool = false
            guard fm.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw ManifestLoadError(errors: [
                    ObjectError(source: path, object: "", field: FieldError("", "no such file or directory"))
                ])
            }
            if !isDirectory.boolValue {
                result.append(path)
                continue
            }
            guard let walker = fm.enumerator(atPath: path) else { continue }
            var found: [String] = []
            for case let relative as String in walker {
                let ext = (relative as NSString).pathExtension.lowercased()
                guard Self.extensions.contains(ext) else { continue }
                found.append((path as NSString).appendingPathComponent(relative))
            }
            result.append(contentsOf: found.sorted())
        }
        return result
    }

    /// Reads every object of every file. Bad objects are collected in `errors`; the others are kept.
    /// An object defined twice (same kind, namespace and name) is a warning; the later definition is
    /// used, as `kubectl apply` would leave it.
    public func read(paths: [String]) throws -> ObjectReader {
        var reader = ObjectReader(checksUnknownFields: true)
        var definedIn: [String: (index: Int, source: String)] = [:]
        for file in try files(in: paths) {
            var fileReader = ObjectReader(checksUnknownFields: true)
            read(file: file, into: &fileReader)
            for object in fileReader.objects {
                let id = "\(object.kind) \(object.key)"
                if let earlier = definedIn[id] {
                    reader.warnings.append(
                        ObjectError(
                            source: file, object: id,
                            field: FieldError(
                                "", "also defined in \(earlier.source); this later definition is used")))
                    reader.objects[earlier.index] = object
                    definedIn[id] = (earlier.index, file)
                } else {
                    definedIn[id] = (reader.objects.count, file)
                    reader.objects.append(object)
                }
            }
            reader.errors += fileReader.errors
            reader.warnings += fileReader.warnings
            reader.skippedKinds.merge(fileReader.skippedKinds, uniquingKeysWith: +)
        }
        return reader
    }

    func read(file: String, into reader: inout ObjectReader) {
        let size = (try? FileManager.default.attributesOfItem(atPath: file)[.size] as? Int) ?? 0
        guard size <= JSONValue.maxDocumentBytes else {
            reader.errors.append(
                ObjectError(
                    source: file, object: "",
                    field: FieldError(
                        "", "the file is \(size) bytes, more than the \(JSONValue.maxDocumentBytes >> 20) MiB read")))
            return
        }
        guard let data = FileManager.default.contents(atPath: file) else {
            reader.errors.append(ObjectError(source: file, object: "", field: FieldError("", "cannot read the file")))
            return
        }
        let json = file.lowercased().hasSuffix(".json")
        do {
            if json {
                reader.read(try JSONValue.parseJSON(data), source: file)
            } else {
                let documents = try JSONValue.parseYAMLDocuments(String(decoding: data, as: UTF8.self))
                for (i, document) in documents.enumerated() {
                    reader.read(document, source: documents.count > 1 ? "\(file) (document \(i + 1))" : file)
                }
            }
        } catch {
            reader.errors.append(
                ObjectError(
                    source: file, object: "",
                    field: FieldError(
                        "", "not valid \(json ? "JSON" : "YAML"): \(error)")))
        }
    }
}

/// One or more objects could not be read. Carries every error so that all can be fixed in one go.
public struct ManifestLoadError: Error, Sendable, CustomStringConvertible {
    public var errors: [ObjectError]
    public var description: String { errors.map(\.description).joined(separator: "\n") }
}
