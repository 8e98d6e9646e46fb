import Foundation
import KubeModel
import Planning
import Synchronization

/// Runs programs to completion: the one place that spawns them (modprobe, iptables-nft-save; the tests'
/// tools). Both output pipes are drained at once, so neither can fill and block the child.
public enum Subprocess {
    public struct Result: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
    }

    public static func run(
        _ executable: String, _ arguments: [String], environment: [String: String] = [:],
        input: String? = nil
    ) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let inPipe = input.map { _ in Pipe() }
        process.standardInput = inPipe ?? FileHandle.nullDevice
        try process.run()
        let errData = Locked(Data())
        let drained = DispatchSemaphore(value: 0)
        Thread {
            errData.set(err.fileHandleForReading.readDataToEndOfFile())
            drained.signal()
        }.start()
        if let inPipe, let input {
            let writer = inPipe.fileHandleForWriting
            Thread {
                try? writer.write(contentsOf: Data(input.utf8))
                try? writer.close()
            }.start()
        }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        drained.wait()
        return Result(
            status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
            stderr: String(decoding: errData.get(), as: UTF8.self))
    }
}
