import ArgumentParser
import CCurl
import CNcurses
import Kernel

struct Version: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the version of krctl and the C libraries it links.")

    func run() throws {
        print("krctl \(Krctl.version)")
        let libraries =
            KernelLibraries.versions + [
                ("libcurl", String(cString: kr_curl_version())), ("ncursesw", String(cString: kr_curses_version())),
            ]
        for library in libraries {
            print("\(library.name) \(library.version)")
        }
    }
}
