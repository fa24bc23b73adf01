//! The `kgsim` binary: parse the command line, run it, map the outcome to an exit code.

/// jemalloc rather than the system allocator: glibc raises its mmap threshold after the
/// first large block is freed, so the answers of a merchant padding `resultMsg` to 900 KB
/// land in per-thread arenas that keep them once freed — a 70–130 MB peak where no more than
/// 20 MB is ever live. jemalloc reuses what was freed (bench/RESULTS.md §4).
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> std::process::ExitCode {
    kgsim::cli::main()
}
