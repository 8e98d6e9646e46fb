import Foundation
import FuzzTargets

/// `kr-fuzz TARGET FILE...` runs each file through the target once (a crash reproduced without the
/// sanitizers). Built by `scripts/fuzz` with `-sanitize=fuzzer,address -DKR_FUZZ`, it is libFuzzer's driver
/// instead: `KR_FUZZ_TARGET=bgp kr-fuzz [libFuzzer options] [CORPUS...]`.
@main struct Fuzz {
    static func main() {
        #if KR_FUZZ
        _ = selected
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv, fuzzOne))
        #else
        replay(Array(CommandLine.arguments.dropFirst()))
        #endif
    }

    static func replay(_ arguments: [String]) {
        guard let name = arguments.first, let target = FuzzTarget(rawValue: name) else {
            let all = FuzzTarget.allCases.map { "  \($0.rawValue): \($0.summary)" }.joined(separator: "\n")
            print("usage: kr-fuzz TARGET FILE...\n\nTargets:\n\(all)\n\nTo fuzz: scripts/fuzz (libFuzzer).")
            exit(arguments.isEmpty ? 0 : 1)
        }
        for file in arguments.dropFirst() {
            guard let data = FileManager.default.contents(atPath: file) else {
                FileHandle.standardError.write(Data("kr-fuzz: cannot read \(file)\n".utf8))
                exit(1)
            }
            target.run(Array(data))
            print("\(file): ok")
        }
    }
}

#if KR_FUZZ
/// The target libFuzzer drives: `KR_FUZZ_TARGET` (bgp, json, yaml, packet, http).
private let selected: FuzzTarget = {
    let name = ProcessInfo.processInfo.environment["KR_FUZZ_TARGET"] ?? ""
    guard let target = FuzzTarget(rawValue: name) else {
        let all = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
        FileHandle.standardError.write(Data("kr-fuzz: set KR_FUZZ_TARGET to one of: \(all)\n".utf8))
        exit(1)
    }
    return target
}()

/// libFuzzer's entry when the program has its own `main` (compiler-rt's FuzzerInterface.h).
@_silgen_name("LLVMFuzzerRunDriver")
private func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

private func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    selected.run(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
    return 0
}
#endif
