//! Command line: raw arguments become a validated command once, then a driver runs it.
//! Exit codes: 0 all good, 1 a problem was found in what was examined, 2 rdpdiag could not do the job.

use std::io::{self, IsTerminal, Read, Write};
use std::process::ExitCode;

mod probe;

use clap::{Args, Parser, Subcommand, ValueEnum};

use rdpdiag::decode::hexinput::parse_hex_input;
use rdpdiag::decode::{decode, Layer, Verdict};
use rdpdiag::replay::flows::FlowOptions;
use rdpdiag::replay::{replay_source, ReplayOptions, Source};
use rdpdiag::report::attempts::{Attempt, Attempts};
use rdpdiag::report::{
    write_attempt_json, write_attempt_text, write_connection_json, write_connection_text,
    write_summary_json, write_summary_text, ConnectionReport, Expectation, Style, Summary,
};

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
    /// Analyse captures (pcap, pcapng; `-` reads standard input): every RDP connection, where it broke and why.
    Replay {
        /// Capture files; `-` for standard input (`tcpdump -w - | rdpdiag replay -`).
        #[arg(required = true)]
        files: Vec<String>,
        #[command(flatten)]
        capture: CaptureArgs,
        #[command(flatten)]
        report: ReportArgs,
    },
    /// Watch a live interface and report each RDP connection as it completes (needs capture rights).
    Watch {
        /// The interface, e.g. `eth0` or `lo`.
        #[arg(short = 'i', long = "interface")]
        interface: String,
        /// Stop after this many seconds.
        #[arg(long = "for", value_name = "SECONDS")]
        duration: Option<f64>,
        /// Stop after this many connections.
        #[arg(long, value_name = "N")]
        count: Option<u64>,
        #[command(flatten)]
        capture: CaptureArgs,
        #[command(flatten)]
        report: ReportArgs,
    },
    /// Probe live hosts: every question a failing RDP client would ask, and the cause it would hit.
    Probe {
        /// `host`, `host:port`, `[v6]:port`, or a CIDR range (`10.0.0.0/28`, `10.0.0.0/28:3390`).
        targets: Vec<String>,
        /// Read more targets from a file (one per line, `#` comments).
        #[arg(long, value_name = "FILE")]
        targets_file: Option<String>,
        /// Allow ranges of more than 256 addresses.
        #[arg(long)]
        force: bool,
        /// Targets probed at once (default: up to 256, fewer when the open-file limit is low; each
        /// target holds up to 4 connections).
        #[arg(long, value_name = "N")]
        concurrency: Option<usize>,
        /// TCP connect timeout, seconds.
        #[arg(long, value_name = "SECONDS", default_value_t = 3.0)]
        connect_timeout: f64,
        /// Timeout of each step (an awaited answer), seconds.
        #[arg(long, value_name = "SECONDS", default_value_t = 5.0)]
        timeout: f64,
        /// All questions to one target within this many seconds.
        #[arg(long, value_name = "SECONDS", default_value_t = 30.0)]
        deadline: f64,
        /// The name to send as SNI and to check the certificate against.
        #[arg(long, value_name = "NAME")]
        sni: Option<String>,
        /// Only the default client's path (no per-protocol offers, no TLS version enumeration).
        #[arg(long)]
        quick: bool,
        /// Also enumerate cipher suites: one connection per suite (TLS 1.3 suites with a TLS 1.3 hello,
        /// the others with a TLS 1.2 hello).
        #[arg(long)]
        ciphers: bool,
        /// Write the probe's own traffic to this pcap (built from the bytes; no capture rights needed;
        /// an existing file is not overwritten).
        #[arg(long, value_name = "FILE")]
        capture: Option<String>,
        #[command(flatten)]
        report: ReportArgs,
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

/// What to read and how much to hold.
#[derive(Args)]
struct CaptureArgs {
    /// A BPF filter applied before anything else, e.g. `host 10.0.0.9`.
    #[arg(long, value_name = "BPF")]
    filter: Option<String>,
    /// Also treat this server port as RDP (content is recognised on any port; 3389 always counts).
    #[arg(long = "port", value_name = "PORT")]
    ports: Vec<u16>,
    /// The most flows tracked at once.
    #[arg(long, value_name = "N", default_value_t = rdpdiag::replay::flows::MAX_FLOWS)]
    max_flows: usize,
    /// The most RDP connections being set up at once.
    #[arg(long, value_name = "N", default_value_t = rdpdiag::replay::flows::MAX_RDP_FLOWS)]
    max_rdp_flows: usize,
    /// Out-of-order bytes held per direction of a connection.
    #[arg(long, value_name = "BYTES", default_value_t = rdpdiag::replay::reasm::MAX_BUFFERED_BYTES)]
    max_flow_bytes: usize,
}

/// How results are shown and judged.
#[derive(Args)]
struct ReportArgs {
    /// JSON Lines (schema rdpdiag/1): one object per connection (probe: per target, with its connections), then a summary.
    #[arg(long)]
    json: bool,
    /// Colour the text output.
    #[arg(long, value_enum, default_value = "auto")]
    color: ColorChoice,
    /// Print every timeline entry of each connection.
    #[arg(long)]
    timeline: bool,
    /// For CI: exit 0 when every connection's verdict (first failure finding, or `healthy`) is one of these.
    #[arg(long, value_name = "ID[,ID...]")]
    expect: Option<String>,
    /// Certificates expiring within this many days get an advisory.
    #[arg(long, value_name = "DAYS", default_value_t = 30)]
    warn_days: i64,
    /// Print only the summary (and mismatches), not each connection.
    #[arg(long, short = 'q')]
    quiet: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum ColorChoice {
    Auto,
    Always,
    Never,
}

pub fn run() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Decode { hex, layer } => run_decode(&hex, layer),
        Command::Explain { codes, json } => run_explain(&codes, json),
        Command::Probe {
            targets,
            targets_file,
            force,
            concurrency,
            connect_timeout,
            timeout,
            deadline,
            sni,
            quick,
            ciphers,
            capture,
            report,
        } => {
            let mut list = Vec::new();
            for t in &targets {
                match rdpdiag::probe::target::parse_target(t, force) {
                    Ok(mut ts) => list.append(&mut ts),
                    Err(e) => return fail("probe", e),
                }
            }
            if let Some(file) = &targets_file {
                let text = match std::fs::read_to_string(file) {
                    Ok(t) => t,
                    Err(e) => return fail(&format!("probe: {file}"), e),
                };
                match rdpdiag::probe::target::parse_targets_file(&text, force) {
                    Ok(mut ts) => list.append(&mut ts),
                    Err((line, e)) => return fail(&format!("probe: {file}: line {line}"), e),
                }
            }
            if list.is_empty() {
                return fail(
                    "probe",
                    "no targets: give host[:port] arguments or --targets-file",
                );
            }
            let secs = |v: f64| {
                std::time::Duration::try_from_secs_f64(v)
                    .ok()
                    .filter(|d| !d.is_zero())
            };
            let (Some(connect_timeout), Some(step_timeout), Some(deadline)) =
                (secs(connect_timeout), secs(timeout), secs(deadline))
            else {
                return fail("probe", "timeouts must be positive numbers of seconds");
            };
            let opts = rdpdiag::probe::ProbeOptions {
                concurrency: concurrency.unwrap_or_else(rdpdiag::probe::auto_concurrency),
                connect_timeout,
                step_timeout,
                deadline,
                sni,
                warn_days: report.warn_days,
                quick,
                ciphers,
                ..Default::default()
            };
            probe::run_probe(list, opts, capture, &report_settings(&report))
        }
        Command::Replay {
            files,
            capture,
            report,
        } => {
            let sources: Vec<Source> = files.into_iter().map(Source::File).collect();
            run_replay(
                &sources,
                replay_options(&capture, &report, None, None),
                &report,
            )
        }
        Command::Watch {
            interface,
            duration,
            count,
            capture,
            report,
        } => {
            let duration = match duration.map(std::time::Duration::try_from_secs_f64) {
                Some(Err(e)) => return fail("watch: --for", e),
                other => other.and_then(Result::ok),
            };
            let mut opts = replay_options(&capture, &report, duration, count);
            // Live: a stalled setup is reported after 30 s of silence, not 5 minutes.
            opts.flows.idle_timeout_us = 30_000_000;
            run_replay(&[Source::Live(interface)], opts, &report)
        }
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
        let u = rdpdiag::report::escape::escape_control(u);
        eprintln!("rdpdiag: explain: unknown code '{u}': not a disconnect reason, extended reason, errorInfo, RDP_NEG failure, NTSTATUS, TLS alert or Windows event id that rdpdiag knows");
    }
    if unknown.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// The report settings a driver needs, from the shared flags.
fn report_settings(args: &ReportArgs) -> probe::ReportSettings {
    probe::ReportSettings {
        json: args.json,
        quiet: args.quiet,
        style: Style {
            color: match args.color {
                ColorChoice::Always => true,
                ColorChoice::Never => false,
                ColorChoice::Auto => {
                    io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
                }
            },
            timeline: args.timeline,
        },
        expect: args.expect.as_deref().map(Expectation::parse),
    }
}

fn replay_options(
    c: &CaptureArgs,
    r: &ReportArgs,
    duration: Option<std::time::Duration>,
    count: Option<u64>,
) -> ReplayOptions {
    ReplayOptions {
        filter: c.filter.clone(),
        flows: FlowOptions {
            ports: c.ports.clone(),
            max_flows: c.max_flows.max(16),
            max_rdp_flows: c.max_rdp_flows.max(1),
            max_buffered_bytes: c.max_flow_bytes.max(4096),
            ..FlowOptions::default()
        },
        warn_days: r.warn_days,
        duration,
        max_connections: count,
    }
}

fn run_replay(sources: &[Source], opts: ReplayOptions, args: &ReportArgs) -> ExitCode {
    let style = Style {
        color: match args.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
            }
        },
        timeline: args.timeline,
    };
    let expect = args.expect.as_deref().map(Expectation::parse);
    let mut summary = Summary::default();
    let mut failed = false;
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let mut broken_pipe = false;
    let mut attempts = Attempts::new();
    let write_attempts = |done: Vec<Attempt>, summary: &mut Summary, out: &mut dyn Write| {
        let mut written = Ok(());
        for a in &done {
            summary.add_attempt(a);
            written = written.and_then(|()| match (args.json, args.quiet) {
                (_, true) => Ok(()),
                (true, false) => write_attempt_json(a, out),
                (false, false) => write_attempt_text(a, &style, out),
            });
        }
        written
    };
    for source in sources {
        let mut sink = |r: ConnectionReport| {
            summary.add(&r, expect.as_ref());
            let written = match (args.json, args.quiet) {
                (_, true) => Ok(()),
                (true, false) => write_connection_json(&r, &mut out),
                (false, false) => write_connection_text(&r, &style, &mut out),
            }
            .and_then(|()| write_attempts(attempts.add(&r), &mut summary, &mut out));
            if written.is_err() {
                broken_pipe = true;
            }
            !broken_pipe
        };
        let (stats, error) = replay_source(source, &opts, &mut sink);
        summary.notes.extend(
            stats
                .notes
                .iter()
                .map(|n| format!("{}: {n}", source.name())),
        );
        if let Some(e) = error {
            let _ = out.flush();
            eprintln!("rdpdiag: {e}");
            failed = true;
        }
        if broken_pipe {
            return ExitCode::SUCCESS;
        }
    }
    if attempts.limit_hits > 0 {
        summary.notes.push(format!(
            "more than {} attempts open at once: tries were grouped only within each batch of them",
            rdpdiag::report::attempts::MAX_OPEN_ATTEMPTS
        ));
    }
    let written = write_attempts(attempts.finish(), &mut summary, &mut out).and_then(|()| {
        if args.json {
            write_summary_json(&summary, &mut out)
        } else {
            write_summary_text(&summary, &style, &mut out)
        }
    });
    if let Err(e) = written.and_then(|()| out.flush()) {
        if e.kind() != io::ErrorKind::BrokenPipe {
            return fail("standard output", e);
        }
    }
    if failed {
        ExitCode::from(2)
    } else {
        ExitCode::from(summary.exit_code())
    }
}
