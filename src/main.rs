#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    rdpdiag_cli::run()
}

#[path = "cli.rs"]
mod rdpdiag_cli;
