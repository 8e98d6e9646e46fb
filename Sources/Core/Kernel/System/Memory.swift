#if canImport(Glibc)
import Glibc
#endif

/// Gives the memory the allocator keeps after a large release (a peer's full table withdrawn, a big
/// `krctl bgp routes` answer) back to the system: glibc's malloc_trim(0), looked up at run time.
public enum Memory {
    private typealias Trim = @convention(c) (Int) -> Int32

    public static func trim() {
        #if canImport(Glibc)
        guard let symbol = dlsym(nil, "malloc_trim") else { return }
        _ = unsafeBitCast(symbol, to: Trim.self)(0)
        #endif
    }
}
