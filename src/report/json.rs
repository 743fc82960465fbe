//! JSON Lines, schema `rdpdiag/1`: one object per connection, then one summary object. Fields are added,
//! never renamed silently (ARCHITECTURE.md invariant 6).

use std::io::{self, Write};

use serde::Serialize;

use super::attempts::Attempt;
use super::{outcome_name, ConnectionReport, Summary};
use crate::diagnose::{Finding, Verdict};
use crate::session::{Entry, Stage};

/// The schema id every object carries.
pub const SCHEMA: &str = "rdpdiag/1";

#[derive(Serialize)]
struct ConnectionJson<'a> {
    schema: &'static str,
    kind: &'static str,
    source: &'a str,
    client: Option<&'a str>,
    server: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    label: Option<&'a str>,
    /// The server reached through the proxy that `server` is.
    #[serde(skip_serializing_if = "Option::is_none")]
    tunnelled_server: Option<&'a str>,
    outcome: &'static str,
    stage_reached: Stage,
    verdict: Verdict,
    findings: Findings<'a>,
    timeline: &'a [Entry],
    #[serde(skip_serializing_if = "is_zero")]
    dropped_entries: u64,
    client_bytes: u64,
    server_bytes: u64,
}

/// The findings as the diagnosis made them, or with the checks naming the server's own port.
#[derive(Serialize)]
#[serde(untagged)]
enum Findings<'a> {
    AsMade(&'a [Finding]),
    ForPort(serde_json::Value),
}

fn findings_json(r: &ConnectionReport) -> Findings<'_> {
    let port = super::server_port(r);
    let findings = &r.diagnosis.findings;
    let differs = findings.iter().any(|f| {
        f.host_checks
            .iter()
            .chain(std::iter::once(&f.remedy))
            .any(|t| matches!(super::for_port(t, port), std::borrow::Cow::Owned(_)))
    });
    if !differs {
        return Findings::AsMade(findings);
    }
    match serde_json::to_value(findings) {
        Ok(mut v) => {
            super::findings_for_port(&mut v, port);
            Findings::ForPort(v)
        }
        Err(_) => Findings::AsMade(findings),
    }
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

#[derive(Serialize)]
struct SummaryJson<'a> {
    schema: &'static str,
    kind: &'static str,
    #[serde(flatten)]
    summary: &'a Summary,
}

fn line(out: &mut dyn Write, value: &impl Serialize) -> io::Result<()> {
    serde_json::to_writer(&mut *out, value).map_err(io::Error::other)?;
    out.write_all(b"\n")
}

/// A connection as a JSON value (for embedding in a target object).
pub fn write_connection_json_value(r: &ConnectionReport) -> io::Result<serde_json::Value> {
    serde_json::to_value(connection_json(r)).map_err(io::Error::other)
}

pub fn write_connection_json(r: &ConnectionReport, out: &mut dyn Write) -> io::Result<()> {
    line(out, &connection_json(r))
}

fn connection_json(r: &ConnectionReport) -> ConnectionJson<'_> {
    {
        ConnectionJson {
            schema: SCHEMA,
            kind: "connection",
            source: &r.source,
            client: r.client.as_deref(),
            server: r.server.as_deref(),
            label: r.label.as_deref(),
            tunnelled_server: r.tunnel.as_deref(),
            outcome: outcome_name(r.diagnosis.outcome),
            stage_reached: r.diagnosis.stage_reached,
            verdict: r.diagnosis.verdict_id(),
            findings: findings_json(r),
            timeline: &r.observation.timeline.entries,
            dropped_entries: r.observation.dropped_entries,
            client_bytes: r.observation.client_bytes,
            server_bytes: r.observation.server_bytes,
        }
    }
}

#[derive(Serialize)]
struct AttemptJson<'a> {
    schema: &'static str,
    kind: &'static str,
    source: &'a str,
    /// The client's address; each try has its own port.
    client: &'a str,
    server: &'a str,
    outcome: &'static str,
    verdict: Verdict,
    recovered: bool,
    span_us: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    fallback: Option<String>,
    tries: Vec<TryJson<'a>>,
}

#[derive(Serialize)]
struct TryJson<'a> {
    client: &'a str,
    /// Microseconds after the attempt's first try started.
    t_us: i64,
    duration_us: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    requested: Option<&'a str>,
    outcome: &'static str,
    verdict: Verdict,
}

/// An attempt of several tries (replay): one object of kind `attempt`, after its connections.
pub fn write_attempt_json(a: &Attempt, out: &mut dyn Write) -> io::Result<()> {
    let start = a.tries.first().map_or(0, |t| t.start_us);
    line(
        out,
        &AttemptJson {
            schema: SCHEMA,
            kind: "attempt",
            source: &a.source,
            client: &a.client,
            server: &a.server,
            outcome: outcome_name(a.outcome()),
            verdict: a.verdict(),
            recovered: a.recovered(),
            span_us: a.span_us(),
            fallback: a.fallback(),
            tries: a
                .tries
                .iter()
                .map(|t| TryJson {
                    client: &t.client,
                    t_us: t.start_us.saturating_sub(start),
                    duration_us: t.end_us.saturating_sub(t.start_us),
                    requested: t.requested.as_deref(),
                    outcome: outcome_name(t.outcome),
                    verdict: t.verdict,
                })
                .collect(),
        },
    )
}

pub fn write_summary_json(s: &Summary, out: &mut dyn Write) -> io::Result<()> {
    line(
        out,
        &SummaryJson {
            schema: SCHEMA,
            kind: "summary",
            summary: s,
        },
    )
}
