#if canImport(Glibc)
import Glibc
#endif

// A parent may have blocked SIGTERM/SIGINT (Foundation's Process passes its mask on): unblock them so
// that a stop request ends the agent. Nothing is cleaned up on exit: the rules stay enforced until the
// next agent takes over, so a restart opens no window.
var stopSignals = sigset_t()
sigemptyset(&stopSignals)
sigaddset(&stopSignals, SIGTERM)
sigaddset(&stopSignals, SIGINT)
pthread_sigmask(SIG_UNBLOCK, &stopSignals, nil)
signal(SIGTERM, SIG_DFL)
signal(SIGINT, SIG_DFL)
// A reader that goes away (a control-socket client, a closed pipe on stdout) must never end the agent.
signal(SIGPIPE, SIG_IGN)

KubeRouter.main(normalizedArguments(Array(CommandLine.arguments.dropFirst()), booleans: KubeRouter.booleanFlags))
