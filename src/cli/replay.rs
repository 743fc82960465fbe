//! `rdpdiag replay` and `rdpdiag watch`: captures (or a live interface) through the replay driver, each
//! connection printed as it completes, attempts of several tries after their connections, then the
//! summary.

use std::io::Write;
use std::process::ExitCode;

use rdpdiag::replay::flows::FlowOptions;
use rdpdiag::replay::{replay_source, Control, ReplayError, ReplayOptions, Source};
use rdpdiag::report::attempts::{Attempt, Attempts};
use rdpdiag::report::{
    exit, write_attempt_json, write_attempt_text, write_connection_json, write_connection_text,
    ConnectionReport, Summary,
};

use super::output::{self, ReportSettings, Stdout};
use super::{fail, CaptureArgs, ReportArgs};

pub(super) fn options(
    c: &CaptureArgs,
    r: &ReportArgs,
    duration: Option<std::time::Duration>,
    count: Option<u64>,
) -> ReplayOptions {
    ReplayOptions {
        filter: c.filter.clone(),
        flows: FlowOptions {
            ports: c.ports.clone(),
            max_flows: c.max_flows,
            max_rdp_flows: c.max_rdp_flows,
            max_buffered_bytes: c.max_flow_bytes,
            ..FlowOptions::default()
        },
        warn_days: r.warn_days,
        duration,
        max_connections: count,
        control: Control::default(),
    }
}

/// Checks a BPF filter once, before anything is read, on an Ethernet link (the usual one; a filter
/// that only a file's other link type rejects is still reported for that file).
fn check_filter(filter: &str) -> Result<(), String> {
    let dead = pcap::Capture::dead(pcap::Linktype::ETHERNET).map_err(|e| e.to_string())?;
    dead.compile(filter, true).map(|_| ()).map_err(|e| {
        let text = e.to_string();
        text.strip_prefix("libpcap error: ")
            .unwrap_or(&text)
            .to_string()
    })
}

pub(super) fn run_replay(
    sources: Vec<Source>,
    mut opts: ReplayOptions,
    settings: &ReportSettings,
) -> ExitCode {
    if let Some(filter) = &opts.filter {
        if let Err(e) = check_filter(filter) {
            return fail(&format!("--filter \"{filter}\""), e);
        }
    }
    let live = sources.iter().any(|s| matches!(s, Source::Live(_)));
    let filter_words = opts
        .filter
        .as_ref()
        .map(|f| format!(", filter \"{f}\""))
        .unwrap_or_default();
    opts.control = Control::new().on_live_start(move |s| {
        eprintln!(
            "listening on {}, link-type {} ({}){filter_words}",
            s.interface, s.link_name, s.link_description
        );
    });
    let control = opts.control.clone();
    output::catch_interrupt(move || control.stop());

    let mut summary = Summary::default();
    let mut junit = settings.junit(if live {
        "rdpdiag watch"
    } else {
        "rdpdiag replay"
    });
    let mut out = Stdout::new(&settings.style);
    let mut attempts = Attempts::new();
    let mut write_error = None;
    for source in &sources {
        if let Source::File(path) = source {
            if path != "-" {
                if let Some(why) = output::unreadable_file(path) {
                    let e = format!("{path}: {why}");
                    let _ = out.flush();
                    eprintln!("rdpdiag: {e}");
                    if let Some(j) = junit.as_mut() {
                        j.add_error(path, &why);
                    }
                    summary.errors.push(e);
                    continue;
                }
            }
        }
        let (mut seen, mut judged) = (0u64, 0u64);
        let mut sink = |r: ConnectionReport| {
            seen += 1;
            judged += u64::from(r.diagnosis.outcome != rdpdiag::diagnose::Outcome::Incomplete);
            summary.add(&r, settings.expect.as_ref());
            if let Some(j) = junit.as_mut() {
                j.add_connection(&r, settings.expect.as_ref());
            }
            let done = attempts.add(&r);
            let written = write_connection(&r, settings, &mut out)
                .and_then(|()| write_attempts(done, &mut summary, settings, &mut out));
            if let Err(e) = written {
                write_error.get_or_insert(e);
                return false;
            }
            // Nobody reads a live capture's output any more: stop. A file goes on to its end, so the
            // exit code counts every connection.
            !(live && out.closed)
        };
        let (stats, error) = replay_source(source, &opts, &mut sink);
        // What the source held when nothing was found, and what the snapshot length cut.
        let verdict = stats.verdict(seen, judged);
        summary.notes.extend(
            stats
                .notes
                .iter()
                .chain(&verdict.notes)
                .map(|n| format!("{}: {n}", source.name())),
        );
        if let Some(e) = error {
            let e = error_words(source, e);
            let _ = out.flush();
            eprintln!("rdpdiag: {e}");
            if let Some(j) = junit.as_mut() {
                j.add_error(source.name(), &e);
            }
            summary.errors.push(e);
        }
        if write_error.is_some() || output::interrupted() || (live && out.closed) {
            break;
        }
    }
    summary.interrupted = output::interrupted();
    if summary.connections == 0 {
        if let Some(expect) = &settings.expect {
            // Nothing analysed matches no expectation.
            summary
                .expect_mismatches
                .get_or_insert_with(Vec::new)
                .push(format!(
                    "no connection was analysed (expected {})",
                    expect.words()
                ));
        }
    }
    if attempts.limit_hits > 0 {
        summary.notes.push(format!(
            "more than {} attempts open at once: tries were grouped only within each batch of them",
            rdpdiag::report::attempts::MAX_OPEN_ATTEMPTS
        ));
    }
    let written = write_attempts(attempts.finish(), &mut summary, settings, &mut out)
        .and_then(|()| settings.write_summary(&summary, &mut out))
        .and_then(|()| out.flush());
    if let Some(e) = write_error.or(written.err()) {
        return fail("standard output", output::io_error_words(&e));
    }
    if let Err(e) = settings.write_junit(junit.as_ref()) {
        eprintln!("rdpdiag: {e}");
        return ExitCode::from(exit::TROUBLE.max(summary.exit_code()));
    }
    ExitCode::from(summary.exit_code())
}

fn write_connection(
    r: &ConnectionReport,
    settings: &ReportSettings,
    out: &mut Stdout,
) -> std::io::Result<()> {
    match (settings.json, settings.quiet) {
        (_, true) => Ok(()),
        (true, false) => write_connection_json(r, out),
        (false, false) => write_connection_text(r, &settings.style, out),
    }
}

fn write_attempts(
    done: Vec<Attempt>,
    summary: &mut Summary,
    settings: &ReportSettings,
    out: &mut Stdout,
) -> std::io::Result<()> {
    for a in &done {
        summary.add_attempt(a);
        match (settings.json, settings.quiet) {
            (_, true) => {}
            (true, false) => write_attempt_json(a, out)?,
            (false, false) => write_attempt_text(a, &settings.style, out)?,
        }
    }
    Ok(())
}

/// A replay error as one line: the source's name once, then libpcap's reason in plain words.
fn error_words(source: &Source, e: ReplayError) -> String {
    match e {
        ReplayError::Open {
            source_name,
            message,
        } => {
            let path = match source {
                Source::File(p) | Source::Live(p) => p.as_str(),
            };
            format!(
                "{source_name}: {}",
                output::open_error_words(path, &message)
            )
        }
        other => other.to_string(),
    }
}
