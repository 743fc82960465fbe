//! Reports: one [`ConnectionReport`] per connection, rendered as human text (a stage ladder, then the
//! findings) or as JSON Lines (schema `rdpdiag/1`), then a summary. Renderers write to any `io::Write`.
//! `--expect` and the exit code are decided here, the same way for every driver.

pub mod attempts;
pub mod build;
pub mod escape;
mod json;
pub mod junit;
pub mod target;
mod text;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::diagnose::{Diagnosis, Outcome, Severity, UnknownCause, Verdict};
use crate::session::Observation;

pub use json::{
    write_attempt_json, write_connection_json, write_connection_json_value, write_summary_json,
    SCHEMA,
};
pub use text::{event_text, write_attempt_text, write_connection_text, write_summary_text, Style};

/// Every id a verdict can take: the catalogue's cause ids, then `healthy` and `incomplete`. `--expect`
/// accepts these and no others; this is the one place that lists them.
pub fn known_verdict_ids() -> Vec<&'static str> {
    let mut ids: Vec<&'static str> = crate::diagnose::CauseId::ALL
        .iter()
        .map(|c| c.as_str())
        .collect();
    ids.extend(["healthy", "incomplete"]);
    ids
}

/// Why an `--expect` list was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExpectError {
    #[error("no verdict id given (known ids: {})", known_verdict_ids().join(", "))]
    Empty,
    #[error("unknown verdict id '{id}' (known ids: {})", known_verdict_ids().join(", "))]
    Unknown { id: String },
}

/// One connection: where it came from, what was seen, what it means.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectionReport {
    /// The capture file or `probe`.
    pub source: String,
    /// `address:port`, when known.
    pub client: Option<String>,
    pub server: Option<String>,
    /// What this connection was for (a probe question), when there is one.
    pub label: Option<String>,
    /// Behind a SOCKS or HTTP CONNECT proxy (then `server`): the server the client asked it to reach.
    pub tunnel: Option<String>,
    pub observation: Observation,
    pub diagnosis: Diagnosis,
}

/// What `--expect` asks: every connection's verdict (first failure finding, or `healthy`) is one of these.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Expectation {
    pub ids: Vec<Verdict>,
}

impl Expectation {
    /// Parses `ID[,ID...]`: cause ids, `healthy`, `incomplete`; anything else is an error naming it.
    pub fn parse(list: &str) -> Result<Self, UnknownCause> {
        Ok(Self {
            ids: list
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::parse)
                .collect::<Result<_, _>>()?,
        })
    }

    /// Parses `ID[,ID...]` into verdicts ([`known_verdict_ids`]): an empty list or an unknown id is an
    /// error (a typo would otherwise be a mismatch on every connection).
    pub fn parse_known(list: &str) -> Result<Self, ExpectError> {
        let mut ids = Vec::new();
        for id in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            ids.push(
                id.parse::<Verdict>()
                    .map_err(|_| ExpectError::Unknown { id: id.to_string() })?,
            );
        }
        if ids.is_empty() {
            return Err(ExpectError::Empty);
        }
        Ok(Self { ids })
    }

    pub fn accepts(&self, report: &ConnectionReport) -> bool {
        self.ids.contains(&report.diagnosis.verdict_id())
    }

    /// The ids, as a user reads them: `a or b`.
    pub fn words(&self) -> String {
        self.ids
            .iter()
            .map(|v| v.as_str())
            .collect::<Vec<_>>()
            .join(" or ")
    }
}

/// Connections (or probed targets) counted by outcome and by verdict.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Summary {
    /// Connections analysed (replay, watch) or made (probe: every question's connection).
    pub connections: usize,
    /// Probe: targets probed; `by_outcome` and `by_verdict` then count targets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub targets: Option<usize>,
    pub by_outcome: BTreeMap<&'static str, usize>,
    pub by_verdict: BTreeMap<&'static str, usize>,
    /// Advisories counted by id, across connections.
    pub advisories: BTreeMap<&'static str, usize>,
    /// With `--expect`: the connections whose verdict was not expected, as `client -> server: verdict`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expect_mismatches: Option<Vec<String>>,
    /// Limits that were hit and other notes from the driver.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Attempts of several connections (replay, [`attempts`]), and of them those that ended established
    /// after a failed try.
    #[serde(skip_serializing_if = "is_zero")]
    pub attempts_with_retries: usize,
    #[serde(skip_serializing_if = "is_zero")]
    pub attempts_recovered: usize,
    /// What could not be read or done (`rdpdiag: ...` lines on standard error, without the prefix).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
    /// Stopped by Ctrl-C (SIGINT) before the end: what was seen until then.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub interrupted: bool,
}

/// Exit codes (README, "Exit codes").
pub mod exit {
    /// Every connection or target reached a secure channel, or every verdict matched `--expect`.
    pub const OK: u8 = 0;
    /// A failure was diagnosed, a setup was not seen to finish (`incomplete`), `--expect` did not match,
    /// or there was nothing to judge (no RDP connection).
    pub const PROBLEM: u8 = 1;
    /// rdpdiag could not do the job: bad arguments, an unreadable file, no network.
    pub const TROUBLE: u8 = 2;
    /// Interrupted (Ctrl-C), after the summary of what was seen: 128 + SIGINT, as shells report it.
    pub const INTERRUPTED: u8 = 130;
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl Summary {
    pub fn add(&mut self, report: &ConnectionReport, expect: Option<&Expectation>) {
        self.connections += 1;
        *self
            .by_outcome
            .entry(outcome_name(report.diagnosis.outcome))
            .or_default() += 1;
        *self
            .by_verdict
            .entry(report.diagnosis.verdict_id().as_str())
            .or_default() += 1;
        for f in report
            .diagnosis
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Advisory)
        {
            *self.advisories.entry(f.id.as_str()).or_default() += 1;
        }
        if let Some(expect) = expect {
            let mismatches = self.expect_mismatches.get_or_insert_with(Vec::new);
            if !expect.accepts(report) {
                mismatches.push(format!(
                    "{}: {} (expected {})",
                    connection_name(report),
                    report.diagnosis.verdict_id(),
                    expect.words()
                ));
            }
        }
    }

    /// Counts an attempt of several tries (its connections are counted one by one already).
    pub fn add_attempt(&mut self, attempt: &attempts::Attempt) {
        self.attempts_with_retries += 1;
        self.attempts_recovered += usize::from(attempt.recovered());
    }

    /// Counts a probed target by its verdict (`healthy` counts as established), and its connections.
    pub fn add_target(&mut self, t: &target::TargetReport, expect: Option<&Expectation>) {
        let (verdict, name) = (t.verdict, t.target.as_str());
        if let Some(e) = &t.error {
            // Could not be probed (the name did not resolve, no route from here, the questions ran past
            // --deadline): an error, never a verdict.
            self.targets.get_or_insert(0);
            self.errors.push(if e.starts_with(name) {
                e.clone()
            } else {
                format!("{name}: {e}")
            });
            return;
        }
        *self.targets.get_or_insert(0) += 1;
        self.connections += t.connections.len();
        let outcome = match verdict {
            Verdict::Healthy => "established",
            Verdict::Incomplete => "incomplete",
            Verdict::Cause(_) => "failed",
        };
        *self.by_outcome.entry(outcome).or_default() += 1;
        *self.by_verdict.entry(verdict.as_str()).or_default() += 1;
        if let Some(expect) = expect {
            let mismatches = self.expect_mismatches.get_or_insert_with(Vec::new);
            if !expect.ids.contains(&verdict) {
                mismatches.push(format!("{name}: {verdict} (expected {})", expect.words()));
            }
        }
    }

    /// What was judged: targets for a probe, connections otherwise.
    pub fn judged(&self) -> usize {
        self.targets.unwrap_or(self.connections)
    }

    /// The exit code ([`exit`], ARCHITECTURE.md): 130 when interrupted; 2 when something could not be
    /// read; 1 when nothing was judged; with `--expect`, 0 when every verdict was expected; without, 0 when
    /// every connection (target) was established, 1 otherwise (a failure, or an `incomplete` setup).
    pub fn exit_code(&self) -> u8 {
        if self.interrupted {
            return exit::INTERRUPTED;
        }
        if !self.errors.is_empty() {
            return exit::TROUBLE;
        }
        if self.judged() == 0 {
            return exit::PROBLEM;
        }
        let problem = match &self.expect_mismatches {
            Some(m) => !m.is_empty(),
            None => self
                .by_outcome
                .iter()
                .any(|(k, n)| *k != "established" && *n > 0),
        };
        if problem {
            exit::PROBLEM
        } else {
            exit::OK
        }
    }
}

pub const fn outcome_name(o: Outcome) -> &'static str {
    match o {
        Outcome::Established => "established",
        Outcome::Failed => "failed",
        Outcome::Incomplete => "incomplete",
    }
}

/// The server's port, from its `address:port` (`[v6]:port`).
pub fn server_port(r: &ConnectionReport) -> Option<u16> {
    port_of(r.server.as_deref()?)
}

/// The port of `address:port` or `[v6]:port`; none for a bare address.
pub fn port_of(endpoint: &str) -> Option<u16> {
    let (host, port) = endpoint.rsplit_once(':')?;
    if host.contains(':') && !host.ends_with(']') {
        return None; // a bare IPv6 address
    }
    port.parse().ok()
}

/// The catalogue's words name RDP's default port; on a server listening elsewhere, its own port is the
/// one to check (`netstat -ano | findstr :3390`, "allow TCP 3390").
pub fn for_port(text: &str, port: Option<u16>) -> std::borrow::Cow<'_, str> {
    match port {
        Some(p) if p != 3389 && text.contains("3389") => std::borrow::Cow::Owned(
            text.replace(":3389", &format!(":{p}"))
                .replace("TCP 3389", &format!("TCP {p}")),
        ),
        _ => std::borrow::Cow::Borrowed(text),
    }
}

/// [`for_port`] over the `remedy` and `host_checks` of serialized findings (a JSON array).
pub fn findings_for_port(findings: &mut serde_json::Value, port: Option<u16>) {
    let Some(list) = findings.as_array_mut() else {
        return;
    };
    for f in list {
        if let Some(remedy) = f.get_mut("remedy") {
            if let Some(text) = remedy.as_str() {
                *remedy = serde_json::Value::from(for_port(text, port).into_owned());
            }
        }
        if let Some(checks) = f.get_mut("host_checks").and_then(|c| c.as_array_mut()) {
            for c in checks {
                if let Some(text) = c.as_str() {
                    *c = serde_json::Value::from(for_port(text, port).into_owned());
                }
            }
        }
    }
}

/// `client -> server` (or the label, or the source).
pub fn connection_name(r: &ConnectionReport) -> String {
    match (&r.client, &r.server, &r.label) {
        (Some(c), Some(s), _) => format!("{c} -> {s}"),
        (None, Some(s), Some(_)) => s.clone(),
        (None, Some(s), None) => s.clone(),
        (_, None, Some(l)) => l.clone(),
        _ => r.source.clone(),
    }
}
