import Foundation
import Kernel

#if canImport(Glibc)
import Glibc
#endif

/// The agent's stop path. SIGTERM and SIGINT are blocked in the main thread before any other thread
/// exists (so every thread inherits the mask, Foundation's own included) and taken by one thread with
/// `sigwait`: it runs the stop action the agent registered (stop the controllers and informers), then
/// the process exits with status 0. Nothing is undone: the kernel keeps the rules, so a restart opens
/// no window.
enum StopSignals {
    private static let action = Locked<(@Sendable () -> Void)?>(nil)

    /// Call first thing in `main`.
    static func install() {
        var signals = sigset_t()
        sigemptyset(&signals)
        sigaddset(&signals, SIGTERM)
        sigaddset(&signals, SIGINT)
        pthread_sigmask(SIG_BLOCK, &signals, nil)
        let waited = signals
        let waiter = Thread {
            var set = waited
            var received: Int32 = 0
            sigwait(&set, &received)
            if let stop = action.get() {
                FileHandle.standardError.write(
                    Data("kube-router: \(received == SIGTERM ? "SIGTERM" : "SIGINT"): stopping\n".utf8))
                stop()
            }
            Glibc.exit(0)
        }
        waiter.name = "signals"
        waiter.start()
    }

    /// What to do on SIGTERM or SIGINT before exiting.
    static func onStop(_ stop: @escaping @Sendable () -> Void) { action.set(stop) }
}
