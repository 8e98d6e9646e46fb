import Foundation
import Kernel

#if canImport(Glibc)
import Glibc
#endif

/// The agent's stop path. SIGTERM and SIGINT are blocked in the main thread before any other thread
/// exists (so every thread inherits the mask, Foundation's own included) and taken by one thread with
/// `sigwait`: the first runs the stop action the agent registered (readiness fails, syncs end, sessions
/// close) on a thread of its own, then the process exits with status 0; a second signal meanwhile exits at
/// once (status 1). Nothing is undone: the kernel keeps the rules, so a restart opens no window.
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
            let name = received == SIGTERM ? "SIGTERM" : "SIGINT"
            guard let stop = action.get() else { exitNow(0) }
            FileHandle.standardError.write(
                Data("kube-router: \(name): stopping (a second signal exits at once)\n".utf8))
            let stopping = Thread {
                stop()
                exitNow(0)
            }
            stopping.name = "stopping"
            stopping.start()
            sigwait(&set, &received)
            FileHandle.standardError.write(Data("kube-router: second signal: exiting now\n".utf8))
            Glibc._exit(1)
        }
        waiter.name = "signals"
        waiter.start()
    }

    /// Ends the process from whichever thread stops it, without `exit`'s handlers: they would run while
    /// other threads still use what they tear down (curl, the C libraries' globals), and two threads
    /// calling `exit` at once is undefined. Standard I/O is flushed first; the kernel state stays.
    static func exitNow(_ status: Int32) -> Never {
        fflush(nil)
        Glibc._exit(status)
    }

    /// What to do on SIGTERM or SIGINT before exiting.
    static func onStop(_ stop: @escaping @Sendable () -> Void) { action.set(stop) }
}
