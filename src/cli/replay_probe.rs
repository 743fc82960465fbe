//! `rdpdiag replay --as-probe`: a capture written by `probe --capture`, judged as the probe judged it —
//! the connections carrying the probe's cookie grouped by server into targets, each target judged by the
//! same rules ([`rdpdiag::report::build::ProbeRuns`]). Other connections are reported one by one as usual.

use std::io::{self, Write};
use std::process::ExitCode;

use rdpdiag::replay::{replay_source, ReplayOptions, Source};
use rdpdiag::report::build::ProbeRuns;
use rdpdiag::report::target::{write_target_json, write_target_text, TargetReport};
use rdpdiag::report::{write_connection_json, write_connection_text, ConnectionReport, Summary};

use super::output::{self, ReportSettings, Stdout};
use super::ReportArgs;

fn show_target(
    t: &TargetReport,
    s: &ReportSettings,
    summary: &mut Summary,
    out: &mut dyn Write,
) -> io::Result<()> {
    summary.add_target(t, s.expect.as_ref());
    match (s.json, s.quiet) {
        (_, true) => Ok(()),
        (true, false) => write_target_json(t, out),
        (false, false) => write_target_text(t, &s.style, out),
    }
}

fn show_connection(
    r: &ConnectionReport,
    s: &ReportSettings,
    summary: &mut Summary,
    out: &mut dyn Write,
) -> io::Result<()> {
    summary.add(r, s.expect.as_ref());
    match (s.json, s.quiet) {
        (_, true) => Ok(()),
        (true, false) => write_connection_json(r, out),
        (false, false) => write_connection_text(r, &s.style, out),
    }
}

pub(super) fn run(sources: &[Source], opts: ReplayOptions, args: &ReportArgs) -> ExitCode {
    let settings = ReportSettings::new(args);
    let mut summary = Summary {
        targets: Some(0),
        ..Summary::default()
    };
    let mut out = Stdout::new(&settings.style);
    let mut runs = ProbeRuns::new(opts.warn_days);
    let mut written: io::Result<()> = Ok(());
    for source in sources {
        let mut sink = |r: ConnectionReport| {
            let shown = match runs.add(r) {
                Ok(judged) => judged
                    .iter()
                    .try_for_each(|t| show_target(t, &settings, &mut summary, &mut out)),
                Err(r) => show_connection(&r, &settings, &mut summary, &mut out),
            };
            if written.is_ok() {
                written = shown;
            }
            written.is_ok()
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
            summary.errors.push(e.to_string());
        }
    }
    summary.notes.extend(runs.notes.iter().cloned());
    for t in runs.finish() {
        if written.is_ok() {
            written = show_target(&t, &settings, &mut summary, &mut out);
        }
    }
    let written = written
        .and_then(|()| settings.write_summary(&summary, &mut out))
        .and_then(|()| out.flush());
    match written {
        // A reader that went away (`| head`) does not turn a failure into a success.
        Err(_) if out.closed => ExitCode::from(summary.exit_code()),
        Err(e) => super::fail("standard output", output::io_error_words(&e)),
        Ok(()) => ExitCode::from(summary.exit_code()),
    }
}
