// swift-tools-version:6.0
import PackageDescription

// C libraries are reached through system-library targets: a module map plus a shim header
// of `static inline` wrappers for what Swift cannot import (variadics, macros).
// `scripts/setup` installs their Debian -dev packages.
let package = Package(
    name: "kube-router",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "kube-router", targets: ["Agent"]),
        .executable(name: "krctl", targets: ["krctl"]),
        .executable(name: "krbench", targets: ["PolicyBench"]),
        .executable(name: "kube-test-server", targets: ["KubeTestServer"]),
        .executable(name: "kr-api-bench", targets: ["APIBench"]),
        .executable(name: "kr-firewall-bench", targets: ["FirewallBench"]),
        .executable(name: "kr-bgp-bench", targets: ["BGPBench"]),
        .executable(name: "kr-ipvs-bench", targets: ["IPVSBench"]),
        .executable(name: "kr-drops-bench", targets: ["DropsBench"]),
        .executable(name: "kr-top-bench", targets: ["TopBench"]),
        .executable(name: "kr-lab", targets: ["Lab"]),
        .executable(name: "kr-fuzz", targets: ["Fuzz"]),
        .executable(name: "kr-agent-bench", targets: ["AgentBench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        // The agent's health and metrics endpoints and the API test server (a lab and test tool) use NIO.
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.30.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CNetlink", pkgConfig: "libnl-genl-3.0",
            providers: [.apt(["libnl-3-dev", "libnl-route-3-dev", "libnl-genl-3-dev", "libnl-nf-3-dev"])]),
        .systemLibrary(name: "CIPSet", pkgConfig: "libipset", providers: [.apt(["libipset-dev"])]),
        .systemLibrary(name: "CIPTables", pkgConfig: "libiptc", providers: [.apt(["libiptc-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CNcurses", pkgConfig: "ncursesw", providers: [.apt(["libncursesw5-dev"])]),
        // The shared modules, each a folder of Sources/Core; their dependencies show the rules (ARCHITECTURE.md).
        // The Kubernetes model and manifests: no C.
        .target(
            name: "KubeModel", dependencies: [.product(name: "Yams", package: "Yams")], path: "Sources/Core/KubeModel"),
        // The API client: libcurl.
        .target(name: "KubeAPI", dependencies: ["KubeModel", "CCurl"], path: "Sources/Core/KubeAPI"),
        // Planners, explainers, diffs, the BGP codec and RIB: no C, no I/O, no threads.
        .target(name: "Planning", dependencies: ["KubeModel"], path: "Sources/Core/Planning"),
        // The only code that reads or writes the kernel: libiptc, libipset, libnl.
        .target(
            name: "Kernel", dependencies: ["KubeModel", "Planning", "CNetlink", "CIPSet", "CIPTables"],
            path: "Sources/Core/Kernel"),
        // The BGP speaker: sessions, transport, the route sync.
        .target(name: "Speaker", dependencies: ["KubeModel", "Planning", "Kernel"], path: "Sources/Core/Speaker"),
        .executableTarget(
            name: "Agent",
            dependencies: [
                "KubeModel", "KubeAPI", "Planning", "Kernel", "Speaker",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        // krctl top's snapshots, model, key state machine and renderer: pure (no C, no terminal), tested as such.
        .target(name: "TopUI", dependencies: ["KubeModel", "Planning"]),
        .executableTarget(
            name: "krctl",
            dependencies: [
                "KubeModel", "KubeAPI", "Planning", "Kernel", "Speaker", "CCurl", "CNcurses", "TopUI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Benchmarks share a synthetic cluster generator and measuring helpers.
        .target(name: "BenchSupport", dependencies: ["KubeModel", "KubeAPI", "Planning", "Kernel"]),
        .executableTarget(
            name: "PolicyBench",
            dependencies: ["KubeModel", "Planning", "BenchSupport"]
        ),
        // kube-test-server: the server (a library, so that its request handling can be fuzzed) and its command.
        .target(
            name: "TestServer",
            dependencies: [
                "KubeModel", "KubeAPI",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            path: "Sources/KubeTestServer"
        ),
        .executableTarget(
            name: "KubeTestServer",
            dependencies: [
                "TestServer", "KubeModel",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            path: "Sources/KubeTestServerMain"
        ),
        // The lab (scripts/lab): a cluster on one machine, nodes in network namespaces, an emulated kubelet.
        .executableTarget(
            name: "Lab",
            dependencies: [
                "KubeModel", "KubeAPI", "Kernel", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "APIBench",
            dependencies: ["KubeModel", "KubeAPI", "BenchSupport"]
        ),
        .executableTarget(
            name: "FirewallBench",
            dependencies: ["KubeModel", "Planning", "Kernel", "BenchSupport"]
        ),
        .executableTarget(
            name: "BGPBench",
            dependencies: ["KubeModel", "Planning", "Kernel", "Speaker", "BenchSupport"]
        ),
        .executableTarget(
            name: "DropsBench",
            dependencies: ["KubeModel", "Planning", "Kernel", "BenchSupport"]
        ),
        .executableTarget(
            name: "TopBench",
            dependencies: ["KubeModel", "Planning", "Kernel", "TopUI", "BenchSupport"]
        ),
        .executableTarget(
            name: "IPVSBench",
            dependencies: ["KubeModel", "KubeAPI", "Planning", "Kernel", "BenchSupport"]
        ),
        .executableTarget(
            name: "AgentBench", dependencies: ["KubeModel", "KubeAPI", "Planning", "Kernel", "BenchSupport"]),
        // The parsers of outside input as fuzz targets (libFuzzer through scripts/fuzz; replayed by CoreTests).
        .target(name: "FuzzTargets", dependencies: ["KubeModel", "Planning", "TestServer"]),
        .executableTarget(name: "Fuzz", dependencies: ["FuzzTargets"]),
        // Fixtures are read from the source tree (BGP messages captured from BIRD, FRR, GoBGP, ExaBGP).
        .testTarget(
            name: "CoreTests",
            dependencies: [
                "KubeModel", "KubeAPI", "Planning", "Kernel", "Speaker", "TestSupport", "TopUI", "FuzzTargets",
                "TestServer", "BenchSupport",
            ],
            exclude: ["Fixtures"]),
        .testTarget(
            name: "CLITests",
            dependencies: [
                "KubeModel", "KubeAPI", "Planning", "Kernel", "Speaker", "TestSupport", "krctl", "Agent", "Lab",
            ]),
        // The agent's controllers against the kernel fakes and a fake cluster: no root.
        .testTarget(
            name: "AgentTests",
            dependencies: [
                "KubeModel", "KubeAPI", "Planning", "Kernel", "TestSupport", "Agent",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        // Helpers the integration suites share: the API test server process, a test PKI, subprocesses.
        .target(
            name: "TestSupport", dependencies: ["KubeModel", "KubeAPI", "Planning", "Kernel", "TopUI"],
            path: "Tests/TestSupport"
        ),
        .testTarget(
            name: "APITests", dependencies: ["KubeModel", "KubeAPI", "TestSupport", "KubeTestServer", "krctl"]),
        // Needs root and the kernel's netfilter; its suites say so and are skipped elsewhere.
        .testTarget(
            name: "KernelTests",
            dependencies: [
                "KubeModel", "KubeAPI", "Planning", "Kernel", "Speaker", "TestSupport", "KubeTestServer", "Agent",
                "krctl",
            ]),
    ],
    swiftLanguageModes: [.v6]
)
