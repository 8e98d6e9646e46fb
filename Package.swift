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
        .library(name: "Core", targets: ["Core"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        // Only the API test server (a lab and test tool) uses NIO.
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.30.0"),
    ],
    targets: [
        .systemLibrary(name: "CNetlink", pkgConfig: "libnl-genl-3.0",
                       providers: [.apt(["libnl-3-dev", "libnl-route-3-dev", "libnl-genl-3-dev"])]),
        .systemLibrary(name: "CIPSet", pkgConfig: "libipset", providers: [.apt(["libipset-dev"])]),
        .systemLibrary(name: "CIPTables", pkgConfig: "libiptc", providers: [.apt(["libiptc-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CNcurses", pkgConfig: "ncursesw", providers: [.apt(["libncursesw5-dev"])]),
        .target(
            name: "Core",
            dependencies: [
                .product(name: "Yams", package: "Yams"),
                "CNetlink", "CIPSet", "CIPTables", "CCurl", "CNcurses",
            ]
        ),
        .executableTarget(
            name: "Agent",
            dependencies: [
                "Core", .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "krctl",
            dependencies: ["Core", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        // Benchmarks share a synthetic cluster generator and measuring helpers.
        .target(name: "BenchSupport", dependencies: ["Core"]),
        .executableTarget(
            name: "PolicyBench",
            dependencies: ["Core", "BenchSupport"]
        ),
        .executableTarget(
            name: "KubeTestServer",
            dependencies: [
                "Core",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        .executableTarget(
            name: "APIBench",
            dependencies: ["Core", "BenchSupport"]
        ),
        .executableTarget(
            name: "FirewallBench",
            dependencies: ["Core", "BenchSupport"]
        ),
        .executableTarget(
            name: "BGPBench",
            dependencies: ["Core", "BenchSupport"]
        ),
        .executableTarget(
            name: "IPVSBench",
            dependencies: ["Core", "BenchSupport"]
        ),
        // Fixtures are read from the source tree (BGP messages captured from BIRD, FRR, GoBGP, ExaBGP).
        .testTarget(name: "CoreTests", dependencies: ["Core", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "CLITests", dependencies: ["Core", "TestSupport", "krctl", "Agent"]),
        // Helpers the integration suites share: the API test server process, a test PKI, subprocesses.
        .target(name: "TestSupport", dependencies: ["Core"], path: "Tests/TestSupport"),
        .testTarget(name: "APITests", dependencies: ["Core", "TestSupport", "KubeTestServer", "krctl"]),
        // Needs root and the kernel's netfilter; its suites say so and are skipped elsewhere.
        .testTarget(name: "KernelTests", dependencies: ["Core", "TestSupport", "KubeTestServer", "Agent", "krctl"]),
    ],
    swiftLanguageModes: [.v6]
)
