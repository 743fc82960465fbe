//! Command line: raw arguments become a validated command once (clap, plus the checks clap cannot make),
//! then a driver runs it and its result becomes an exit code (`rdpdiag::report::exit`, README "Exit
//! codes"): 0 all good, 1 a problem was found in what was examined, 2 rdpdiag could not do the job,
//! 130 interrupted. One module per command; `output` holds what they share (colour, standard output,
//! Ctrl-C).

use std::process::ExitCode;

mod codes;
mod output;
mod probe;
mod replay;
mod replay_probe;
mod serve;
mod shell;

use clap::{Args, Parser, Subcommand, ValueEnum};

use rdpdiag::decode::Layer;
use rdpdiag::report::{exit, Expectation};

/// The exit codes, for `--help` and the manual page (the README's table says the same).
pub(crate) const EXIT_CODES: &str = "Exit codes: 0 every connection or target reached a secure channel \
(or every verdict matched --expect); 1 a failure was diagnosed, a setup did not finish (incomplete), \
--expect did not match, or nothing was found to judge; 2 rdpdiag could not do the job (bad arguments, \
an unreadable file, no network); 130 interrupted by Ctrl-C, after the summary of what was seen.";

#[derive(Parser)]
#[command(
    name = "rdpdiag",
    version,
    about = "Tells where and why an RDP connection fails to set up its secure channel",
    after_help = EXIT_CODES
)]
pub(crate) struct Cli {
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
        /// Capture files; `-` for standard input (`tcpdump -w - | rdpdiag replay -`), at most once.
        #[arg(required = true, value_hint = clap::ValueHint::FilePath)]
        files: Vec<String>,
        /// A capture written by `probe --capture`: judge each probed server as the probe did (one target
        /// report per server, from the connections carrying the probe's cookie).
        #[arg(long)]
        as_probe: bool,
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
        /// Stop after this many connections (at least 1; without it, watch runs until --for or Ctrl-C).
        #[arg(long, value_name = "N", value_parser = at_least::<1>)]
        count: Option<usize>,
        #[command(flatten)]
        capture: CaptureArgs,
        #[command(flatten)]
        report: ReportArgs,
    },
    /// Probe live hosts: every question a failing RDP client would ask, and the cause it would hit.
    Probe {
        /// `host`, `host:port`, `[v6]:port`, a CIDR range (`10.0.0.0/28`, `10.0.0.0/28:3390`), or nmap's
        /// octet ranges and lists (`10.0.0.1-20`, `10.0.0-1.1-5`, `10.0.0.1,5`, `10.0.0.*`).
        targets: Vec<String>,
        /// Read more targets from a file (one per line, `#` comments); `-` reads standard input as it
        /// comes (`zmap -p 3389 -o - | rdpdiag probe --targets-file - --json`).
        #[arg(long, value_name = "FILE", value_hint = clap::ValueHint::FilePath)]
        targets_file: Option<String>,
        /// Never probe these hosts: a comma-separated list of addresses, ranges, CIDR blocks or names.
        #[arg(long, value_name = "HOST[,HOST...]")]
        exclude: Vec<String>,
        /// Never probe the hosts listed in this file (as --exclude, one or more per line).
        #[arg(long, value_name = "FILE")]
        excludefile: Option<String>,
        /// At most this many new connections per second, across all targets.
        #[arg(long, value_name = "N")]
        rate: Option<f64>,
        /// Probe only shard K of N: the i-th target (from 0, ranges expanded) when i mod N = K-1.
        #[arg(long, value_name = "K/N")]
        shard: Option<String>,
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
        #[arg(long, value_name = "FILE", value_hint = clap::ValueHint::FilePath)]
        capture: Option<String>,
        #[command(flatten)]
        report: ReportArgs,
    },
    /// Export probe results to Prometheus: `GET /probe?target=host[:port]` runs one probe (blackbox_exporter's
    /// multi-target pattern); `GET /metrics` the exporter's own counters.
    Serve(serve::ServeArgs),
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
    /// Print a shell completion script (`rdpdiag completions bash > /etc/bash_completion.d/rdpdiag`).
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff): `rdpdiag man | man -l -`, or save it as rdpdiag.1.
    Man,
}

/// What to read and how much to hold.
#[derive(Args)]
struct CaptureArgs {
    /// A BPF filter applied before anything else, e.g. `host 10.0.0.9` (checked once, before reading).
    #[arg(long, value_name = "BPF")]
    filter: Option<String>,
    /// Also treat this server port as RDP (content is recognised on any port; 3389 always counts).
    #[arg(long = "port", value_name = "PORT")]
    ports: Vec<u16>,
    /// The most flows tracked at once (at least 16).
    #[arg(long, value_name = "N", default_value_t = rdpdiag::replay::flows::MAX_FLOWS,
          value_parser = at_least::<16>)]
    max_flows: usize,
    /// The most RDP connections being set up at once (at least 1).
    #[arg(long, value_name = "N", default_value_t = rdpdiag::replay::flows::MAX_RDP_FLOWS,
          value_parser = at_least::<1>)]
    max_rdp_flows: usize,
    /// Out-of-order bytes held per direction of a connection (at least 4096).
    #[arg(long, value_name = "BYTES", default_value_t = rdpdiag::replay::reasm::MAX_BUFFERED_BYTES,
          value_parser = at_least::<4096>)]
    max_flow_bytes: usize,
}

/// How results are shown and judged.
#[derive(Args)]
struct ReportArgs {
    /// JSON Lines (schema rdpdiag/1): one object per connection (probe: per target, with its connections), then a summary.
    #[arg(long)]
    json: bool,
    /// Colour the text output (auto: on a terminal, unless NO_COLOR, CLICOLOR=0 or TERM=dumb; CLICOLOR_FORCE forces it).
    #[arg(long, value_enum, default_value = "auto")]
    color: ColorChoice,
    /// Print every timeline entry of each connection.
    #[arg(long)]
    timeline: bool,
    /// For CI: exit 0 when every connection's verdict (first failure finding, `healthy` or `incomplete`)
    /// is one of these cause ids.
    #[arg(long, value_name = "ID[,ID...]", value_parser = parse_expect)]
    expect: Option<Expectation>,
    /// Also write a JUnit XML report here (one test case per connection or target), for CI servers.
    #[arg(long, value_name = "FILE", value_hint = clap::ValueHint::FilePath)]
    junit: Option<String>,
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

/// A count no smaller than `MIN`: smaller limits would be raised in silence, and limits are never silent.
fn at_least<const MIN: usize>(s: &str) -> Result<usize, String> {
    let n: usize = s.parse().map_err(|e| format!("{e}"))?;
    if n < MIN {
        return Err(format!("the smallest value is {MIN}"));
    }
    Ok(n)
}

fn parse_expect(s: &str) -> Result<Expectation, String> {
    Expectation::parse_known(s).map_err(|e| e.to_string())
}

pub fn run() -> ExitCode {
    let cli = Cli::parse();
    let report = match &cli.command {
        Command::Replay { report, .. }
        | Command::Watch { report, .. }
        | Command::Probe { report, .. } => Some(report),
        _ => None,
    };
    if let Some(junit) = report.and_then(|r| r.junit.as_deref()) {
        if std::path::Path::new(junit).is_dir() {
            return fail(&format!("--junit {junit}"), "is a directory");
        }
    }
    match cli.command {
        Command::Decode { hex, layer } => codes::run_decode(&hex, layer),
        Command::Explain { codes, json } => codes::run_explain(&codes, json),
        Command::Completions { shell } => shell::completions(shell),
        Command::Man => shell::man(),
        Command::Serve(args) => serve::run_serve(args),
        Command::Probe {
            targets,
            targets_file,
            exclude,
            excludefile,
            rate,
            shard,
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
            let (list, run_opts) = match probe_targets(
                &targets,
                targets_file.as_deref(),
                &exclude,
                excludefile.as_deref(),
                rate,
                shard.as_deref(),
                force,
            ) {
                Ok(v) => v,
                Err(e) => return fail("probe", e),
            };
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
            if concurrency == Some(0) {
                return fail("probe: --concurrency", "the smallest value is 1");
            }
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
            if let (Some(junit), Some(cap)) = (&report.junit, &capture) {
                if output::same_file(junit, cap) {
                    return fail("probe: --junit", "is the --capture file");
                }
            }
            probe::run_probe(
                list,
                opts,
                run_opts,
                capture,
                &output::ReportSettings::new(&report),
            )
        }
        Command::Replay {
            files,
            as_probe,
            capture,
            report,
        } => {
            let stdin_reads = files.iter().filter(|f| *f == "-").count();
            if stdin_reads > 1 {
                return fail("replay", "standard input (-) can be read only once");
            }
            if stdin_reads == 1 && std::io::IsTerminal::is_terminal(&std::io::stdin()) {
                return fail(
                    "replay: -",
                    "standard input is a terminal: pipe a capture into it (tcpdump -w - | rdpdiag replay -)",
                );
            }
            if let Some(junit) = &report.junit {
                if let Some(f) = files.iter().find(|f| output::same_file(junit, f)) {
                    return fail("replay: --junit", format!("{f} is a capture to read"));
                }
            }
            let sources: Vec<rdpdiag::replay::Source> = files
                .into_iter()
                .map(rdpdiag::replay::Source::File)
                .collect();
            if as_probe {
                let opts = replay::options(&capture, &report, None, None);
                return replay_probe::run(&sources, opts, &report);
            }
            replay::run_replay(
                sources,
                replay::options(&capture, &report, None, None),
                &output::ReportSettings::new(&report),
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
                Some(Ok(d)) if d.is_zero() => {
                    return fail("watch: --for", "must be a positive number of seconds")
                }
                other => other.and_then(Result::ok),
            };
            let count = count.map(|c| u64::try_from(c).unwrap_or(u64::MAX));
            let mut opts = replay::options(&capture, &report, duration, count);
            // Live: a stalled setup is reported after 30 s of silence, not 5 minutes.
            opts.flows.idle_timeout_us = 30_000_000;
            replay::run_replay(
                vec![rdpdiag::replay::Source::Live(interface)],
                opts,
                &output::ReportSettings::new(&report),
            )
        }
    }
}

/// The probe's targets, as a stream (command-line targets parsed first: a bad one is a usage error
/// before anything runs), and how the run is paced and filtered.
fn probe_targets(
    targets: &[String],
    targets_file: Option<&str>,
    exclude: &[String],
    excludefile: Option<&str>,
    rate: Option<f64>,
    shard: Option<&str>,
    force: bool,
) -> Result<
    (
        rdpdiag::probe::target::TargetStream,
        rdpdiag::probe::RunOptions,
    ),
    String,
> {
    use rdpdiag::probe::target::{parse_spec, Exclusions, Shard, TargetStream};
    let specs = targets
        .iter()
        .map(|t| parse_spec(t, force))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    use std::io;
    let lines: Option<(Box<dyn io::BufRead + Send>, String)> = match targets_file {
        None => None,
        Some("-") => Some((
            Box::new(io::BufReader::new(io::stdin())),
            "standard input".to_string(),
        )),
        Some(file) => {
            let f = std::fs::File::open(file).map_err(|e| format!("{file}: {e}"))?;
            Some((Box::new(io::BufReader::new(f)), file.to_string()))
        }
    };
    if specs.is_empty() && lines.is_none() {
        return Err("no targets: give host[:port] arguments or --targets-file".to_string());
    }
    let mut excluded = Exclusions::default();
    for list in exclude {
        excluded
            .add_list(list)
            .map_err(|e| format!("--exclude: {e}"))?;
    }
    if let Some(file) = excludefile {
        let text =
            std::fs::read_to_string(file).map_err(|e| format!("--excludefile {file}: {e}"))?;
        excluded
            .add_file(file, &text)
            .map_err(|e| format!("--excludefile: {e}"))?;
    }
    if let Some(r) = rate {
        if !(r.is_finite() && r > 0.0) {
            return Err(format!(
                "--rate {r}: expected a positive number of connections per second"
            ));
        }
    }
    let shard = shard
        .map(Shard::parse)
        .transpose()
        .map_err(|e| e.to_string())?;
    let stream = TargetStream::new(specs, lines, force)
        .with_shard(shard)
        .with_exclusions(excluded.clone());
    Ok((
        stream,
        rdpdiag::probe::RunOptions {
            rate,
            exclude: std::sync::Arc::new(excluded),
        },
    ))
}

/// One line on standard error, `rdpdiag: WHAT: WHY`, and exit 2: rdpdiag could not do the job. Both
/// parts may hold what the user or a file gave (a target line, a file name): control characters escaped.
fn fail(what: &str, why: impl std::fmt::Display) -> ExitCode {
    let esc = rdpdiag::report::escape::escape_control;
    eprintln!("rdpdiag: {}: {}", esc(what), esc(&why.to_string()));
    ExitCode::from(exit::TROUBLE)
}
