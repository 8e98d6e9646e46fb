import Foundation
import Yams

/// `-o` of every krctl command, as kubectl spells it.
public enum OutputFormat: String, Sendable, CaseIterable {
    case text, json, yaml
}
