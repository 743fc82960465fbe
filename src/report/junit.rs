//! JUnit XML (`--junit FILE`) for CI servers (Jenkins, GitLab): one test suite per run, one test case
//! per connection (replay, watch) or per target (probe), named `client -> server` or by the target. A
//! failed verdict, an `incomplete` one, or an `--expect` mismatch is a `<failure>` whose message is the
//! verdict finding's title and whose body is its evidence; a source that could not be read is an
//! `<error>` case. The elements and attributes are those CI servers read (`tests/junit/junit.xsd`, checked
//! in `tests/cli.rs`).
//!
//! Names and messages carry wire strings (cookies, certificate subjects): everything is escaped, and the
//! characters XML 1.0 cannot hold at all (most control characters) are written as `\u{..}`.

use std::fmt::Write as _;
use std::io::{self, Write};

use super::target::TargetReport;
use super::{connection_name, for_port, server_port, ConnectionReport, Expectation};
use crate::diagnose::{Finding, Outcome, Severity, Verdict};

/// One test case.
#[derive(Debug, Clone, PartialEq)]
struct Case {
    name: String,
    classname: String,
    /// Seconds.
    time: f64,
    outcome: CaseOutcome,
}

#[derive(Debug, Clone, PartialEq)]
enum CaseOutcome {
    Passed,
    Failure { message: String, body: String },
    Error { message: String },
}

/// The test cases of one run, written as one `<testsuites>` document at the end.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Junit {
    suite: String,
    cases: Vec<Case>,
}

impl Junit {
    /// `suite` names the run, e.g. `rdpdiag replay`.
    pub fn new(suite: &str) -> Self {
        Self {
            suite: suite.to_string(),
            cases: Vec::new(),
        }
    }

    /// A connection: passed when established (or, with `--expect`, when its verdict is expected).
    pub fn add_connection(&mut self, r: &ConnectionReport, expect: Option<&Expectation>) {
        let d = &r.diagnosis;
        let verdict = d.verdict_id();
        let passed = match expect {
            Some(e) => e.accepts(r),
            None => d.outcome == Outcome::Established,
        };
        let time = r
            .observation
            .timeline
            .entries
            .last()
            .map_or(0.0, |e| e.t_us.max(0) as f64 / 1e6);
        let outcome = if passed {
            CaseOutcome::Passed
        } else {
            let finding = d.findings.iter().find(|f| f.severity == Severity::Failure);
            let title = match finding {
                Some(f) => f.title.clone(),
                None if d.outcome == Outcome::Established => {
                    "established: the secure channel was set up".to_string()
                }
                None => format!(
                    "incomplete: the observation ended at {} before the setup finished",
                    d.stage_reached.label()
                ),
            };
            let mut body = String::new();
            if let Some(f) = finding {
                write_evidence(f, server_port(r), &mut body);
            }
            CaseOutcome::Failure {
                message: with_expectation(verdict, &title, expect),
                body,
            }
        };
        self.cases.push(Case {
            name: connection_name(r),
            classname: r.source.clone(),
            time,
            outcome,
        });
    }

    /// A probed target: passed when `healthy` (or, with `--expect`, when its verdict is expected).
    pub fn add_target(&mut self, t: &TargetReport, expect: Option<&Expectation>) {
        let passed = match expect {
            Some(e) => e.ids.contains(&t.verdict),
            None => t.verdict == Verdict::Healthy,
        };
        let time = t
            .connections
            .iter()
            .filter_map(|c| c.observation.timeline.entries.last())
            .map(|e| e.t_us.max(0) as f64 / 1e6)
            .fold(0.0, f64::max);
        let outcome = match (&t.error, passed) {
            // Could not be probed (see `Summary::add_target`).
            (Some(e), _) => CaseOutcome::Error { message: e.clone() },
            (None, true) => CaseOutcome::Passed,
            (None, false) => {
                let finding = t.findings.iter().find(|f| f.severity == Severity::Failure);
                let title = finding.map_or_else(
                    || {
                        format!(
                            "{}: no failure found, the probe could not follow the setup to its end",
                            t.verdict
                        )
                    },
                    |f| f.title.clone(),
                );
                let mut body = String::new();
                if let Some(f) = finding {
                    let port = t.address.as_deref().and_then(super::port_of);
                    write_evidence(f, port, &mut body);
                }
                CaseOutcome::Failure {
                    message: with_expectation(t.verdict, &title, expect),
                    body,
                }
            }
        };
        self.cases.push(Case {
            name: t.target.clone(),
            classname: "probe".to_string(),
            time,
            outcome,
        });
    }

    /// A source that could not be read (or a target that could not be probed): an `<error>` case.
    pub fn add_error(&mut self, name: &str, message: &str) {
        self.cases.push(Case {
            name: name.to_string(),
            classname: "error".to_string(),
            time: 0.0,
            outcome: CaseOutcome::Error {
                message: message.to_string(),
            },
        });
    }

    pub fn write(&self, out: &mut dyn Write) -> io::Result<()> {
        let count =
            |f: fn(&CaseOutcome) -> bool| self.cases.iter().filter(|c| f(&c.outcome)).count();
        let failures = count(|o| matches!(o, CaseOutcome::Failure { .. }));
        let errors = count(|o| matches!(o, CaseOutcome::Error { .. }));
        let time: f64 = self.cases.iter().map(|c| c.time).sum();
        let n = self.cases.len();
        let suite = xml(&self.suite);
        writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
        writeln!(
            out,
            r#"<testsuites name="{suite}" tests="{n}" failures="{failures}" errors="{errors}" time="{time:.3}">"#
        )?;
        writeln!(
            out,
            r#"  <testsuite name="{suite}" tests="{n}" failures="{failures}" errors="{errors}" skipped="0" time="{time:.3}">"#
        )?;
        for c in &self.cases {
            let head = format!(
                r#"    <testcase name="{}" classname="{}" time="{:.3}""#,
                xml(&c.name),
                xml(&c.classname),
                c.time
            );
            match &c.outcome {
                CaseOutcome::Passed => writeln!(out, "{head}/>")?,
                CaseOutcome::Failure { message, body } => {
                    writeln!(out, "{head}>")?;
                    writeln!(
                        out,
                        r#"      <failure message="{}" type="rdpdiag">{}</failure>"#,
                        xml(message),
                        xml(body)
                    )?;
                    writeln!(out, "    </testcase>")?;
                }
                CaseOutcome::Error { message } => {
                    writeln!(out, "{head}>")?;
                    writeln!(
                        out,
                        r#"      <error message="{}" type="rdpdiag"/>"#,
                        xml(message)
                    )?;
                    writeln!(out, "    </testcase>")?;
                }
            }
        }
        writeln!(out, "  </testsuite>")?;
        writeln!(out, "</testsuites>")
    }
}

/// `verdict: title`, and with `--expect` what was expected instead.
fn with_expectation(verdict: Verdict, title: &str, expect: Option<&Expectation>) -> String {
    match expect {
        Some(e) => format!("{verdict}: {title} (expected {})", e.words()),
        None => format!("{verdict}: {title}"),
    }
}

/// The evidence lines of a finding, then its fix and host checks (as the text report prints them).
fn write_evidence(f: &Finding, port: Option<u16>, body: &mut String) {
    for e in &f.evidence {
        let _ = writeln!(body, "{} {}", super::text::evidence_place(e), e.text);
    }
    let _ = writeln!(body, "fix: {}", for_port(f.remedy, port));
    for c in &f.host_checks {
        let _ = writeln!(body, "check: {}", for_port(c, port));
    }
}

/// Text escaped for an XML 1.0 attribute or element: the five entities, and the characters XML 1.0
/// forbids (controls other than tab, newline and carriage return, U+FFFE, U+FFFF) as `\u{..}`.
fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if c.is_control() || c == '\u{fffe}' || c == '\u{ffff}' => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_characters_xml_cannot_hold() {
        assert_eq!(
            xml("a<b>&\"c\"'d'\u{1}\u{1b}[31m\u{7f}\u{fffe}é\n"),
            "a&lt;b&gt;&amp;&quot;c&quot;&apos;d&apos;\\u{1}\\u{1b}[31m\\u{7f}\\u{fffe}é\n"
        );
    }

    #[test]
    fn counts_failures_and_errors() {
        let mut j = Junit::new("rdpdiag replay");
        j.add_error("missing.pcap", "no such file");
        let mut out = Vec::new();
        j.write(&mut out).unwrap_or_default();
        let text = String::from_utf8(out).unwrap_or_default();
        assert!(
            text.contains(r#"tests="1" failures="0" errors="1""#),
            "{text}"
        );
        assert!(
            text.contains(r#"<error message="no such file" type="rdpdiag"/>"#),
            "{text}"
        );
    }
}
