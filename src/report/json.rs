//! JSON Lines, schema `rdpdiag/1`: one object per connection, then one summary object. Fields are added,
//! never renamed silently (ARCHITECTURE.md invariant 6).

use std::io::{self, Write};

use serde::Serialize;

use super::{outcome_name, ConnectionReport, Summary};
use crate::diagnose::Finding;
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
    outcome: &'static str,
    stage_reached: Stage,
    verdict: &'static str,
    findings: &'a [Finding],
    timeline: &'a [Entry],
    #[serde(skip_serializing_if = "is_zero")]
    dropped_entries: u64,
    client_bytes: u64,
    server_bytes: u64,
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
            outcome: outcome_name(r.diagnosis.outcome),
            stage_reached: r.diagnosis.stage_reached,
            verdict: r.diagnosis.verdict_id(),
            findings: &r.diagnosis.findings,
            timeline: &r.observation.timeline.entries,
            dropped_entries: r.observation.dropped_entries,
            client_bytes: r.observation.client_bytes,
            server_bytes: r.observation.server_bytes,
        }
    }
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
