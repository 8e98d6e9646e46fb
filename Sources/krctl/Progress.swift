import Foundation
import KubeModel

/// Progress of long operations on a terminal's stderr (one line, rewritten); warnings always.
final class Progress: @unchecked Sendable {
    private let tty = isatty(2) == 1
    private let lock = NSLock()
    private var shown = false

    func update(_ text: String) {
        guard tty else { return }
        lock.withLock {
            FileHandle.standardError.write(Data("\r\u{1B}[K\(text)".utf8))
            shown = true
        }
    }

    func warn(_ text: String) {
        lock.withLock {
            if shown {
                FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
                shown = false
            }
            FileHandle.standardError.write(Data("warning: \(Terminal.escapingControlCharacters(text))\n".utf8))
        }
    }

    deinit {
        if shown { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }
}
