#![forbid(unsafe_code)]

mod cli;
mod probe_cli;

fn main() -> std::process::ExitCode {
    cli::run()
}
