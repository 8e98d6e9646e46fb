import Foundation
import Synchronization

/// Mount points on the host for the paths containers mount (e.g. /etc/cni/net.d, /var/run/secrets/...):
/// a bind mount needs its target to exist, even though what is mounted there is seen only inside the
/// container's mount namespace. Those the lab had to create are recorded, so `down` removes them again.
final class HostMountPoints: Sendable {
    private let file: String
    private let created: Mutex<[String]>

    init(file: String) {
        self.file = file
        let recorded = (try? JSONDecoder().decode([String].self, from: Data(contentsOf: URL(fileURLWithPath: file))))
        created = Mutex(recorded ?? [])
    }

    /// Makes `path` (a folder, or an empty file) if it is missing, with its missing parents.
    func ensure(_ path: String, isFile: Bool) throws {
        let fm = FileManager.default
        try created.withLock { created in
            var isDirectory: ObjCBool = false
            if fm.fileExists(atPath: path, isDirectory: &isDirectory) {
                guard isDirectory.boolValue == isFile else { return }
                throw LabError("\(path) exists on the host but is not a \(isFile ? "file" : "folder")")
            }
            var missing: [String] = []
            var parent = (path as NSString).deletingLastPathComponent
            while !parent.isEmpty, parent != "/", !fm.fileExists(atPath: parent) {
                missing.insert(parent, at: 0)
                parent = (parent as NSString).deletingLastPathComponent
            }
            for folder in missing {
                try fm.createDirectory(atPath: folder, withIntermediateDirectories: false)
                created.append(folder)
            }
            if isFile {
                guard fm.createFile(atPath: path, contents: nil) else { throw LabError("cannot create \(path)") }
            } else {
                try fm.createDirectory(atPath: path, withIntermediateDirectories: false)
            }
            created.append(path)
            try JSONEncoder().encode(created).write(to: URL(fileURLWithPath: file))
        }
    }

    /// Removes what `ensure` made, deepest first, if it is still empty (never anything with content).
    static func removeRecorded(file: String) {
        guard let data = FileManager.default.contents(atPath: file),
            let paths = try? JSONDecoder().decode([String].self, from: data)
        else { return }
        for path in paths.reversed() {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { continue }
            if isDirectory.boolValue {
                _ = rmdir(path)
            } else if (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) == 0 {
                _ = unlink(path)
            }
        }
        _ = unlink(file)
    }
}
