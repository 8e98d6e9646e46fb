import Kernel

#if canImport(Glibc)
import Glibc
#endif

// SIGTERM and SIGINT go to one thread of ours (StopSignals), whatever mask a parent passed on; a reader that
// goes away (a control-socket client, a closed pipe on stdout) must never end the agent.
StopSignals.install()
Memory.configureForLongRunning()
signal(SIGPIPE, SIG_IGN)

KubeRouter.main(normalizedArguments(Array(CommandLine.arguments.dropFirst()), booleans: KubeRouter.booleanFlags))
