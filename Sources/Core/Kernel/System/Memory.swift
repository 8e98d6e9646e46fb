#if canImport(Glibc)
import Glibc
#endif

/// The allocator's settings for a long-running agent, and giving memory back after a large release (a
/// peer's full table withdrawn, a big `krctl bgp routes` answer): glibc's mallopt and malloc_trim(0),
/// looked up at run time.
public enum Memory {
    private typealias Trim = @convention(c) (Int) -> Int32
    private typealias Option = @convention(c) (Int32, Int32) -> Int32

    public static func trim() {
        #if canImport(Glibc)
        guard let symbol = dlsym(nil, "malloc_trim") else { return }
        _ = unsafeBitCast(symbol, to: Trim.self)(0)
        #endif
    }

    /// A fixed mmap threshold of 256 KiB (glibc's adapts upwards to 32 MiB after a large free, after which
    /// a full table's arrays and dictionaries come from the heap and stay there once freed): large blocks
    /// are mapped and go back to the system as soon as they are freed. At most 4 arenas: the agent runs many
    /// threads (one per BGP session), and memory freed in an arena of its own is held apart.
    public static func configureForLongRunning() {
        #if canImport(Glibc)
        guard let symbol = dlsym(nil, "mallopt") else { return }
        let mallopt = unsafeBitCast(symbol, to: Option.self)
        _ = mallopt(-3, 256 * 1024)  // M_MMAP_THRESHOLD
        _ = mallopt(-8, 4)  // M_ARENA_MAX
        #endif
    }
}
