//! `rdpdiag probe`: runs the prober on a tokio runtime and prints each target as it finishes.

use std::io::{self, Write};
use std::process::ExitCode;

use rdpdiag::probe::target::TargetStream;
use rdpdiag::probe::{run, ProbeOptions, Probed, RunOptions};
use rdpdiag::report::target::{write_target_json, write_target_text};
use rdpdiag::report::{write_summary_json, write_summary_text, Expectation, Style, Summary};

/// How results are shown and judged.
pub struct ReportSettings {
    pub json: bool,
    pub quiet: bool,
    pub style: Style,
    pub expect: Option<Expectation>,
}

pub fn run_probe(
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
        Err(e) => {
            eprintln!("rdpdiag: probe: cannot start the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let mut capture_out = match capture
        .as_deref()
        .map(rdpdiag::probe::capture_file::open_probe_capture)
    {
        Some(Ok(w)) => Some(w),
        Some(Err(e)) => {
            eprintln!(
                "rdpdiag: probe: --capture {}: {e}",
                capture.unwrap_or_default()
            );
            return ExitCode::from(2);
        }
        None => None,
    };
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let mut summary = Summary::default();
    // Many targets on a terminal: progress on standard error, results on standard output.
    let progress = {
        use std::io::IsTerminal;
        // Counted only for a terminal (a range of millions takes a moment to count).
        let known = if io::stderr().is_terminal() {
            targets.known_len().unwrap_or(0)
        } else {
            0
        };
        (known > 8).then(|| {
            let bar = indicatif::ProgressBar::new(known);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "probing [{bar:40}] {pos}/{len} targets, eta {eta}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            bar
        })
    };
    let mut failed_write = None;
    // Targets that could not be parsed or resolved: one error line each, never a diagnosis.
    let mut unusable = 0u64;
    let mut probed_any = false;
    runtime.block_on(run(targets, opts, run_opts, |result| {
        let probed: Probed = match result {
            Ok(p) => p,
            Err(e) => {
                unusable += 1;
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
        let verdict = probed.report.verdict;
        summary.add_target(verdict, settings.expect.as_ref(), &probed.report.target);
        if let (Some(w), Some(addr)) = (capture_out.as_mut(), probed.address) {
            if let Err(e) = w.write_probe(addr, &probed.captures) {
                failed_write.get_or_insert(format!("--capture: {e}"));
            }
        }
        if settings.quiet {
            return;
        }
        let written = if settings.json {
            write_target_json(&probed.report, &mut out)
        } else {
            write_target_text(&probed.report, &settings.style, &mut out)
        };
        if let Err(e) = written {
            failed_write.get_or_insert(format!("standard output: {e}"));
        }
    }));
    // Nothing probed, only errors: the error lines say it all.
    let written = if unusable > 0 && !probed_any {
        Ok(())
    } else if settings.json {
        write_summary_json(&summary, &mut out)
    } else {
        write_summary_text(&summary, &settings.style, &mut out)
    };
    let _ = written.and_then(|()| out.flush());
    if let Some(w) = capture_out {
        if let Err(e) = w.finish() {
            failed_write.get_or_insert(format!("--capture: {e}"));
        }
    }
    if let Some(e) = failed_write {
        eprintln!("rdpdiag: probe: {e}");
        return ExitCode::from(2);
    }
    if unusable > 0 {
        // rdpdiag could not do all of the job: exit 2, after probing what it could.
        return ExitCode::from(2);
    }
    ExitCode::from(summary.exit_code())
}
