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
    /// Explain disconnect codes: `0x904 0x7`, `2308`, `ERRINFO_...`, NTSTATUS, RDP_NEG failures, TLS alerts,
    /// Windows event ids, or the sentence the client showed ("error code 0x904, extended error code 0x7").
    Explain {
        /// The codes, or the text around them.
        #[arg(required = true)]
        codes: Vec<String>,
        /// JSON Lines: one object per explanation.
        #[arg(long)]
        json: bool,
    },
}

pub fn run() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Decode { hex, layer } => run_decode(&hex, layer),
        Command::Explain { codes, json } => run_explain(&codes, json),
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

fn run_explain(codes: &[String], json: bool) -> ExitCode {
    let joined = codes.join(" ");
    let explanations = rdpdiag::explain::explain(&joined);
    // With several single-word codes, name each one that means nothing on its own.
    let unknown: Vec<&str> =
        if codes.len() > 1 && codes.iter().all(|c| !c.contains(char::is_whitespace)) {
            codes
                .iter()
                .map(String::as_str)
                .filter(|c| rdpdiag::explain::explain(c).is_empty())
                .collect()
        } else if explanations.is_empty() {
            vec![joined.as_str()]
        } else {
            Vec::new()
        };
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let written = if json {
        explanations.iter().try_for_each(|e| {
            serde_json::to_writer(&mut out, e).map_err(io::Error::other)?;
            out.write_all(b"\n")
        })
    } else if explanations.is_empty() {
        Ok(())
    } else {
        rdpdiag::explain::write_text(&explanations, &mut out)
    };
    if let Err(e) = written.and_then(|()| out.flush()) {
        if e.kind() != io::ErrorKind::BrokenPipe {
            return fail("explain: standard output", e);
        }
    }
    for u in &unknown {
        eprintln!("rdpdiag: explain: unknown code '{u}': not a disconnect reason, extended reason, errorInfo, RDP_NEG failure, NTSTATUS, TLS alert or Windows event id that rdpdiag knows");
    }
    if unknown.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
