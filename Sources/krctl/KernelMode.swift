import ArgumentParser

/// `--kernel` of explain-policy and trace service: when to compare with this node's kernel.
enum KernelMode: String, ExpressibleByArgument, CaseIterable {
    case auto, always, never
}
