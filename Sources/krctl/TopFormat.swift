import ArgumentParser

/// `krctl top -o`: a table per pane, one JSON document, or a JSON line per snapshot.
enum TopFormat: String, ExpressibleByArgument, CaseIterable {
    case table, json, jsonl
}
