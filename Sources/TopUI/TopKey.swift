/// A key press as the dashboard reads it, whatever the terminal library: the state machine is driven by
/// these values, so tests press keys without a terminal.
public enum TopKey: Sendable, Equatable {
    case character(Character)
    case up, down, left, right, pageUp, pageDown, home, end
    case enter, escape, tab, backTab, backspace
    /// The terminal changed size: nothing to change in the state, the next frame is drawn at the new size.
    case resize
}
