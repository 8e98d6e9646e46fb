import ArgumentParser

/// What `krctl top pod NS/NAME` and `krctl top service NS/NAME` focus on.
enum TopFocusKind: String, ExpressibleByArgument, CaseIterable {
    case pod, service
}
