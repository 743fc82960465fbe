//! Reports: one [`ConnectionReport`] per connection, rendered as human text (a stage ladder, then the
//! findings) or as JSON Lines (schema `rdpdiag/1`), then a summary. Renderers write to any `io::Write`.
//! `--expect` and the exit code are decided here, the same way for every driver.

pub mod attempts;
pub mod escape;
mod json;
pub mod target;
mod text;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::diagnose::{Diagnosis, Outcome, Severity};
use crate::session::Observation;

pub use json::{
    write_attempt_json, write_connection_json, write_connection_json_value, write_summary_json,
    SCHEMA,
};
pub use text::{write_attempt_text, write_connection_text, write_summary_text, Style};

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
    pub observation: Observation,
    pub diagnosis: Diagnosis,
}

/// What `--expect` asks: every connection's verdict (first failure finding, or `healthy`) is one of these.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Expectation {
    pub ids: Vec<String>,
}

impl Expectation {
    /// Parses `ID[,ID...]`.
    pub fn parse(list: &str) -> Self {
        Self {
            ids: list
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
        }
    }

    pub fn accepts(&self, report: &ConnectionReport) -> bool {
        let verdict = report.diagnosis.verdict_id();
        self.ids.iter().any(|id| id == verdict)
    }
}

/// Connections counted by outcome and by verdict.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Summary {
    pub connections: usize,
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
            .entry(report.diagnosis.verdict_id())
            .or_default() += 1;
        for f in report
            .diagnosis
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Advisory)
        {
            *self.advisories.entry(f.id).or_default() += 1;
        }
        if let Some(expect) = expect {
            let mismatches = self.expect_mismatches.get_or_insert_with(Vec::new);
            if !expect.accepts(report) {
                mismatches.push(format!(
                    "{}: {} (expected {})",
                    connection_name(report),
                    report.diagnosis.verdict_id(),
                    expect.ids.join(" or ")
                ));
            }
        }
    }

    /// Counts an attempt of several tries (its connections are counted one by one already).
    pub fn add_attempt(&mut self, attempt: &attempts::Attempt) {
        self.attempts_with_retries += 1;
        self.attempts_recovered += usize::from(attempt.recovered());
    }

    /// Counts a probed target by its verdict (`healthy` counts as established).
    pub fn add_target(&mut self, verdict: &'static str, expect: Option<&Expectation>, name: &str) {
        self.connections += 1;
        let outcome = match verdict {
            "healthy" => "established",
            "incomplete" => "incomplete",
            _ => "failed",
        };
        *self.by_outcome.entry(outcome).or_default() += 1;
        *self.by_verdict.entry(verdict).or_default() += 1;
        if let Some(expect) = expect {
            let mismatches = self.expect_mismatches.get_or_insert_with(Vec::new);
            if !expect.ids.iter().any(|id| id == verdict) {
                mismatches.push(format!(
                    "{name}: {verdict} (expected {})",
                    expect.ids.join(" or ")
                ));
            }
        }
    }

    /// The exit code (ARCHITECTURE.md): with `--expect`, 0 when every verdict was expected; without,
    /// 0 when every connection was established, 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        match &self.expect_mismatches {
            Some(m) => u8::from(!m.is_empty()),
            None => u8::from(
                self.by_outcome
                    .iter()
                    .any(|(k, n)| *k != "established" && *n > 0),
            ),
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
