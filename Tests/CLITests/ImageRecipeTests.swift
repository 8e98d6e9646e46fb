import Foundation
import TestSupport
import Testing

/// The image's recipe has one source of truth: `scripts/image` (mmdebstrap) and the `Dockerfile` (apt-get) both
/// install `deploy/image/packages.txt` and run `deploy/image/customize`. Building the image takes minutes and a
/// Debian mirror (`sudo scripts/image --check`); these checks are cheap and keep the two recipes from drifting.
@Suite struct ImageRecipeTests {
    static func file(_ path: String) throws -> String {
        try String(contentsOf: repositoryRoot.appendingPathComponent(path), encoding: .utf8)
    }

    /// The package names of `deploy/image/packages.txt`: one a line, `#` starts a comment.
    static func packages() throws -> [String] {
        try file("deploy/image/packages.txt").split(separator: "\n").compactMap { line in
            let name = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)[0]
                .trimmingCharacters(in: .whitespaces)
            return name.isEmpty ? nil : name
        }
    }

    /// The Debian runtime package of every library a `Sources/C*/module.modulemap` links.
    static let runtimePackage = [
        "curl": "libcurl4", "ipset": "libipset13", "ip4tc": "libip4tc2", "ip6tc": "libip6tc2",
        "ncursesw": "libncursesw6", "nl-3": "libnl-3-200", "nl-route-3": "libnl-route-3-200",
        "nl-genl-3": "libnl-genl-3-200", "nl-nf-3": "libnl-nf-3-200",
    ]

    /// The Dockerfile as logical lines: comments dropped, backslash continuations joined.
    static func dockerfileInstructions() throws -> [String] {
        let lines = try file("Dockerfile").split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("#") }
        var instructions: [String] = []
        var current = ""
        for line in lines {
            if line.hasSuffix("\\") {
                current += line.dropLast() + " "
            } else {
                current += line
                if !current.trimmingCharacters(in: .whitespaces).isEmpty { instructions.append(current) }
                current = ""
            }
        }
        return instructions
    }

    @Test func packageListIsWellFormed() throws {
        let names = try Self.packages()
        #expect(!names.isEmpty)
        let valid = /[a-z0-9][a-z0-9+.-]+/
        for name in names { #expect(name.wholeMatch(of: valid) != nil, "not a Debian package name: \(name)") }
        #expect(Set(names).count == names.count, "a package listed twice: \(names)")
    }

    @Test func everyLinkedLibraryHasItsPackage() throws {
        let names = Set(try Self.packages())
        let sources = repositoryRoot.appendingPathComponent("Sources")
        let modules = try FileManager.default.contentsOfDirectory(atPath: sources.path).filter { $0.hasPrefix("C") }
        var libraries: [String] = []
        for module in modules {
            let map = sources.appendingPathComponent("\(module)/module.modulemap")
            guard let text = try? String(contentsOf: map, encoding: .utf8) else { continue }
            libraries += text.matches(of: /link\s+"([^"]+)"/).map { String($0.output.1) }
        }
        #expect(libraries.count >= Self.runtimePackage.count, "\(libraries)")
        for library in libraries {
            guard let package = Self.runtimePackage[library] else {
                Issue.record(
                    "lib\(library) is linked: add its Debian runtime package to this table and to packages.txt")
                continue
            }
            #expect(names.contains(package), "lib\(library) is linked but \(package) is not in packages.txt")
        }
        // What the agent runs beside, the init container copies, and krctl top needs over kubectl exec.
        for tool in ["iptables", "ipset", "containernetworking-plugins", "ncurses-base", "ca-certificates"] {
            #expect(names.contains(tool), "\(tool) is not in deploy/image/packages.txt")
        }
    }

    @Test func dockerfileInstallsTheListAndNothingElse() throws {
        // The image is the last stage (an earlier one strips the binaries).
        let all = try Self.dockerfileInstructions()
        let instructions = Array(all.suffix(from: try #require(all.lastIndex { $0.hasPrefix("FROM ") })))
        #expect(instructions.first == "FROM debian:bookworm-slim", "\(instructions)")
        let text = instructions.joined(separator: "\n")
        #expect(text.contains("COPY deploy/image/packages.txt deploy/image/customize /tmp/image/"), "\(text)")
        #expect(text.contains("COPY deploy/image/dpkg.cfg /etc/dpkg/dpkg.cfg.d/"), "\(text)")
        #expect(text.contains("/tmp/image/packages.txt"), "\(text)")
        #expect(text.contains("/tmp/image/customize /"), "\(text)")
        // Every apt-get install takes its names from the list (through xargs): options only on its own line.
        let installs = text.matches(of: /apt-get install([^;&|\n]*)/).map { String($0.output.1) }
        #expect(installs.count == 1, "\(text)")
        for arguments in installs {
            let words = arguments.split(separator: " ")
            #expect(words.allSatisfy { $0.hasPrefix("-") }, "packages named in the Dockerfile: \(arguments)")
        }
        let entrypoints = instructions.filter { $0.hasPrefix("ENTRYPOINT") }
        #expect(entrypoints == [#"ENTRYPOINT ["/usr/local/bin/kube-router"]"#], "\(entrypoints)")
    }

    @Test func scriptInstallsTheSameList() throws {
        let script = try Self.file("scripts/image")
        #expect(script.contains("deploy/image/packages.txt"))
        #expect(script.contains(#"--include="$packages""#))
        #expect(script.contains(#"--dpkgopt="$repo/deploy/image/dpkg.cfg""#))
        #expect(script.contains("$repo/deploy/image/customize"))
        #expect(script.contains("--config.entrypoint /usr/local/bin/kube-router"))
        // Both recipes take the binaries from the same static release build.
        let dockerfile = try Self.file("Dockerfile")
        #expect(script.contains("bin=.build-static/release"))
        #expect(dockerfile.contains("COPY .build-static/release/kube-router .build-static/release/krctl"))
        #expect(script.contains("strip --strip-debug") && dockerfile.contains("strip --strip-debug"))
    }

    /// The engine sends only what .dockerignore lets through: every COPY source must be let in.
    @Test func dockerignoreLetsTheCopiedFilesIn() throws {
        let allowed = try Self.file(".dockerignore").split(separator: "\n").filter { $0.hasPrefix("!") }
            .map { String($0.dropFirst()) }
        let copies = try Self.dockerfileInstructions().filter { $0.hasPrefix("COPY ") && !$0.contains("--from=") }
        #expect(!copies.isEmpty)
        for copy in copies {
            for source in copy.split(separator: " ").dropFirst().dropLast() where !source.hasPrefix("--") {
                let letIn = allowed.contains { $0 == source || ($0.hasSuffix("/") && source.hasPrefix($0)) }
                #expect(letIn, "\(source) is copied by the Dockerfile but excluded by .dockerignore")
            }
        }
    }
}
