#![forbid(unsafe_code)]

mod cli;

/// mimalloc: the replay allocates and frees per packet and per connection on two threads, where glibc's
/// malloc cost its analysis thread a third of its time (benches/RESULTS-replay.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    cli::run()
}
