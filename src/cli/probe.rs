//! `rdpdiag probe`: runs the prober on a tokio runtime and prints each target as it finishes; a progress
//! bar on standard error for many targets on a terminal, cleared before the summary.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use rdpdiag::probe::target::TargetStream;
use rdpdiag::probe::{run, ProbeOptions, Probed, RunOptions};
use rdpdiag::report::target::{write_target_json, write_target_text};
use rdpdiag::report::{exit, Summary};

use super::output::{self, ReportSettings, Stdout};

/// Without a terminal, targets are counted up front (for the interrupt's "N of M" note) only when the
/// ranges hold at most this many addresses.
const KNOWN_WITHOUT_TERMINAL: u64 = 65_536;

/// How often the probe looks whether Ctrl-C was pressed.
const INTERRUPT_POLL: Duration = Duration::from_millis(50);

pub(super) fn run_probe(
    targets: TargetStream,
    opts: ProbeOptions,
    run_opts: RunOptions,
    capture: Option<String>,
    settings: &ReportSettings,
) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => return super::fail("probe", format!("cannot start the runtime: {e}")),
    };
    let mut capture_out = match capture
        .as_deref()
        .map(rdpdiag::probe::capture_file::open_probe_capture)
    {
        Some(Ok(w)) => Some(w),
        Some(Err(e)) => {
            return super::fail(
                &format!("probe: --capture {}", capture.unwrap_or_default()),
                e,
            )
        }
        None => None,
    };
    output::catch_interrupt(|| {});
    // Known when the targets came from arguments, not when they stream from a file or standard input;
    // a range of millions is counted only for a terminal's progress bar (it takes a moment to count).
    let known = if output::stderr_is_terminal() {
        targets.known_len()
    } else {
        targets.known_len_up_to(KNOWN_WITHOUT_TERMINAL)
    };
    let mut out = Stdout::new(&settings.style);
    let mut summary = Summary {
        targets: Some(0),
        ..Summary::default()
    };
    let mut junit = settings.junit("rdpdiag probe");
    // Many targets on a terminal: progress on standard error, results on standard output.
    let progress = (known.unwrap_or(0) > 8 && output::stderr_is_terminal()).then(|| {
        let bar = indicatif::ProgressBar::new(known.unwrap_or(0));
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "probing [{bar:40}] {pos}/{len} targets, eta {eta}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    let mut failed_write = None;
    // Targets that could not be parsed or resolved: one error line each, never a diagnosis.
    let mut unusable = 0u64;
    let mut probed_any = false;
    let mut sink = |result: Result<Probed, rdpdiag::probe::target::TargetError>| {
        let probed: Probed = match result {
            Ok(p) => p,
            Err(e) => {
                unusable += 1;
                // A target line from a file or standard input is the user's text: shown escaped.
                let e = rdpdiag::report::escape::escape_control(&e.to_string()).into_owned();
                match &progress {
                    Some(bar) => bar.suspend(|| eprintln!("rdpdiag: probe: {e}")),
                    None => eprintln!("rdpdiag: probe: {e}"),
                }
                return;
            }
        };
        probed_any = true;
        if let Some(bar) = &progress {
            bar.inc(1);
        }
        summary.add_target(&probed.report, settings.expect.as_ref());
        if let Some(j) = junit.as_mut() {
            j.add_target(&probed.report, settings.expect.as_ref());
        }
        if let (Some(w), Some(addr)) = (capture_out.as_mut(), probed.address) {
            if let Err(e) = w.write_probe(addr, &probed.captures) {
                failed_write.get_or_insert(format!("--capture: {e}"));
            }
        }
        if let Some(e) = &probed.report.error {
            let line = match summary.errors.last() {
                Some(last) => format!("rdpdiag: probe: {last}"),
                None => format!("rdpdiag: probe: {}: {e}", probed.report.target),
            };
            let line = rdpdiag::report::escape::escape_control(&line).into_owned();
            match &progress {
                Some(bar) => bar.suspend(|| eprintln!("{line}")),
                None => eprintln!("{line}"),
            }
            return;
        }
        if settings.quiet {
            return;
        }
        let mut write = || {
            if settings.json {
                write_target_json(&probed.report, &mut out)
            } else {
                write_target_text(&probed.report, &settings.style, &mut out)
            }
            .and_then(|()| out.flush())
        };
        // The bar steps aside while a result is printed on the same terminal.
        let written = match &progress {
            Some(bar) => bar.suspend(write),
            None => write(),
        };
        if let Err(e) = written {
            failed_write.get_or_insert(format!("standard output: {}", output::io_error_words(&e)));
        }
    };
    runtime.block_on(async {
        tokio::select! {
            () = run(targets, opts, run_opts, &mut sink) => {}
            () = async {
                while !output::interrupted() {
                    tokio::time::sleep(INTERRUPT_POLL).await;
                }
            } => {}
        }
    });
    // Targets still running when Ctrl-C came are dropped (their connections closed) with the runtime.
    runtime.shutdown_background();
    if let Some(bar) = &progress {
        bar.finish_and_clear();
    }
    summary.interrupted = output::interrupted();
    if summary.interrupted {
        let of = known.map_or_else(String::new, |n| format!(" of {n}"));
        summary.notes.push(format!(
            "{}{of} targets probed before the interrupt",
            summary.judged()
        ));
    }
    // Nothing probed, only errors: the error lines say it all.
    let written = if unusable > 0 && !probed_any {
        Ok(())
    } else {
        settings.write_summary(&summary, &mut out)
    };
    if let Err(e) = written.and_then(|()| out.flush()) {
        failed_write.get_or_insert(format!("standard output: {}", output::io_error_words(&e)));
    }
    if let Some(w) = capture_out {
        if let Err(e) = w.finish() {
            failed_write.get_or_insert(format!("--capture: {e}"));
        }
    }
    if let Err(e) = settings.write_junit(junit.as_ref()) {
        failed_write.get_or_insert(e);
    }
    if let Some(e) = failed_write {
        eprintln!("rdpdiag: probe: {e}");
        return ExitCode::from(exit::TROUBLE.max(summary.exit_code()));
    }
    if unusable > 0 {
        // rdpdiag could not do all of the job: exit 2, after probing what it could.
        return ExitCode::from(exit::TROUBLE.max(summary.exit_code()));
    }
    ExitCode::from(summary.exit_code())
}
