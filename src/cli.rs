//! Command line: raw arguments become a validated command once, then a driver runs it.
//! Exit codes: 0 all good, 1 a problem was found in what was examined, 2 rdpdiag could not do the job.

use std::io::{self, IsTerminal, Read, Write};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use rdpdiag::decode::{decode, Layer, Verdict};
use rdpdiag::hexinput::parse_hex_input;

#[derive(Parser)]
#[command(
    name = "rdpdiag",
    version,
    about = "Tells where and why an RDP connection fails to set up its secure channel"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Decode RDP connection-setup bytes pasted from Wireshark or tcpdump (hex stream or hex dump).
    Decode {
        /// Hex bytes; several arguments are joined. Without any, hex is read from standard input.
        hex: Vec<String>,
        /// Where to start parsing.
        #[arg(long = "as", value_enum, default_value = "auto")]
        layer: Layer,
    },
}

pub fn run() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Decode { hex, layer } => run_decode(&hex, layer),
    }
}

fn fail(what: &str, why: impl std::fmt::Display) -> ExitCode {
    eprintln!("rdpdiag: {what}: {why}");
    ExitCode::from(2)
}

fn run_decode(args: &[String], layer: Layer) -> ExitCode {
    let (source, text) = if args.is_empty() {
        if io::stdin().is_terminal() {
            eprintln!("rdpdiag: decode: reading hex from standard input (end with Ctrl-D)");
        }
        let mut text = String::new();
        if let Err(e) = io::stdin().read_to_string(&mut text) {
            return fail("decode: standard input", e);
        }
        ("standard input", text)
    } else {
        ("arguments", args.join(" "))
    };
    let bytes = match parse_hex_input(&text) {
        Ok(b) => b,
        Err(e) => return fail(&format!("decode: {source}"), e),
    };
    let stdout = io::stdout();
    let mut out = stdout.lock();
    match decode(&bytes, layer, &mut out).and_then(|v| out.flush().map(|()| v)) {
        Ok(Verdict::Clean) => ExitCode::SUCCESS,
        Ok(Verdict::Problems) => ExitCode::from(1),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => fail("decode: standard output", e),
    }
}
