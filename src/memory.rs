//! Giving freed heap back to the system. glibc keeps freed memory in its
//! arenas for reuse; after the big, short-lived allocations of a discovery
//! or of the store's rollup and prune, that left serve's RSS hundreds of
//! MiB above what it uses (`examples/bench_rss_soak.sh`: 1.13 GiB held
//! until a re-discovery's trim brought it to 0.73 GiB).

/// Returns the free memory at the top of glibc's heaps and in its arenas
/// to the system (a no-op elsewhere).
pub fn release_freed() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim takes no pointers; it only walks glibc's own free lists.
    unsafe {
        libc::malloc_trim(0);
    }
}
