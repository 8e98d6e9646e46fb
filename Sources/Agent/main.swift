KubeRouter.main(normalizedArguments(Array(CommandLine.arguments.dropFirst()), booleans: KubeRouter.booleanFlags))
