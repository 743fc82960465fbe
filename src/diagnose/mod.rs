//! Diagnosis: rules as data. One ordered table of rules ([`rules::RULES`]), each with a stable cause id
//! from the cause catalogue (`../shared/knowledge/causes.md`; the ids are a contract for JSON, tests and
//! `--expect`), a pure check over the timeline that returns its evidence, a confidence, the Windows codes
//! it explains, the remedy, and the host-side checks for what the wire cannot decide.

pub mod facts;
pub mod rules;
pub mod target;

use serde::Serialize;

use crate::session::{Direction, Observation, Stage};
use facts::Facts;

/// The cookie (`Cookie: mstshash=rdpdiag`) every Connection Request of rdpdiag's prober carries. The
/// diagnosis recognises it, live or in a capture of the probe, so the prober's own deliberate closes are
/// not taken for a client rejecting the server.
pub const PROBE_COOKIE: &str = "rdpdiag";

/// A duration in microseconds as people read it: `12.3 ms`, or `12.3 s` from ten seconds on.
pub fn duration_text(us: i64) -> String {
    if us.abs() >= 10_000_000 {
        format!("{:.1} s", us as f64 / 1e6)
    } else {
        format!("{:.1} ms", us as f64 / 1e3)
    }
}

/// How sure a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Confidence {
    /// The wire shows it directly (a failure code, an alert, an expired date).
    Certain,
    /// The wire shows the classic signature of it, and other causes are rarer.
    Likely,
    /// The wire is consistent with it, among others; the host checks decide.
    Possible,
}

/// Whether a finding is why the connection failed, or advice about one that may work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Failure,
    Advisory,
}

/// How one connection ended up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The secure channel was set up.
    Established,
    /// Setup failed, and a finding says why.
    Failed,
    /// The observation ended mid-setup (capture end, or nothing conclusive).
    Incomplete,
}

/// One timeline entry that supports a finding, with a line of human words.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evidence {
    /// Index into the timeline.
    pub entry: usize,
    pub t_us: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub packet: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dir: Option<Direction>,
    pub text: String,
}

/// A cause found, with what shows it and what to do.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub id: &'static str,
    pub confidence: Confidence,
    pub severity: Severity,
    pub title: String,
    /// The Windows client codes this explains (as the client reports them).
    pub explains: Vec<&'static str>,
    pub evidence: Vec<Evidence>,
    pub remedy: &'static str,
    /// Checks on the hosts that separate this cause from others the wire cannot tell apart.
    pub host_checks: Vec<&'static str>,
    /// Other causes with the same wire signature, by id.
    pub lookalikes: Vec<&'static str>,
}

/// What the diagnosis knows besides the timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context {
    /// The name the client used for the server (SNI, else the address it connected to).
    pub server_name: Option<String>,
    /// Certificates expiring within this many days get an advisory.
    pub warn_days: i64,
}

impl Default for Context {
    fn default() -> Self {
        Self {
            server_name: None,
            warn_days: 30,
        }
    }
}

/// The verdict on one connection.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diagnosis {
    pub outcome: Outcome,
    pub stage_reached: Stage,
    /// Failures first, most certain first; then advisories.
    pub findings: Vec<Finding>,
}

impl Diagnosis {
    /// The id `--expect` compares: the first failure finding's, `healthy` for an established connection
    /// with none, `incomplete` otherwise.
    pub fn verdict_id(&self) -> &'static str {
        match self.findings.first() {
            Some(f) if f.severity == Severity::Failure => f.id,
            _ if self.outcome == Outcome::Established => "healthy",
            _ => "incomplete",
        }
    }
}

/// Runs every rule over the observation.
pub fn diagnose(obs: &Observation, ctx: &Context) -> Diagnosis {
    let facts = Facts::new(&obs.timeline, ctx);
    let mut findings: Vec<Finding> = rules::RULES
        .iter()
        .filter_map(|rule| {
            let hit = (rule.check)(&facts)?;
            let evidence = hit
                .evidence
                .into_iter()
                .filter_map(|(entry, text)| {
                    let e = obs.timeline.get(entry)?;
                    Some(Evidence {
                        entry,
                        t_us: e.t_us,
                        packet: e.packet,
                        dir: e.dir,
                        text,
                    })
                })
                .collect();
            let title = match hit.detail {
                Some(detail) => format!("{}: {detail}", rule.title),
                None => rule.title.to_string(),
            };
            let severity = hit.severity.unwrap_or(rule.severity);
            // Advice on a connection that worked explains no disconnect.
            let explains = if severity == Severity::Failure {
                rule.explains.to_vec()
            } else {
                Vec::new()
            };
            Some(Finding {
                id: rule.id,
                confidence: hit.confidence,
                severity,
                title,
                explains,
                evidence,
                remedy: rule.remedy,
                host_checks: rule.host_checks.to_vec(),
                lookalikes: rule.lookalikes.to_vec(),
            })
        })
        .collect();
    // Bytes missing from the capture before a failure's evidence: what they said is unknown, so the
    // failure cannot be certain, nor even likely (the missing bytes may have been the answer).
    let first_gap = obs
        .timeline
        .find(|e| matches!(e.event, crate::session::Event::CaptureGap { .. }))
        .map(|(i, _)| i);
    if let Some(gap) = first_gap {
        for f in findings
            .iter_mut()
            .filter(|f| f.severity == Severity::Failure)
        {
            if f.evidence.iter().any(|e| e.entry > gap) {
                f.confidence = Confidence::Possible;
                f.title
                    .push_str(" (bytes are missing from the capture before this: a capture gap)");
            }
        }
    }
    // A stable sort: within one severity and confidence, the table's order decides.
    findings.sort_by_key(|f| (f.severity, f.confidence));
    let outcome = if facts.established.is_some() {
        Outcome::Established
    } else if findings.iter().any(|f| f.severity == Severity::Failure) {
        Outcome::Failed
    } else {
        Outcome::Incomplete
    };
    Diagnosis {
        outcome,
        stage_reached: obs.stage_reached,
        findings,
    }
}

/// The certificate findings for a chain seen outside any timeline (the probe's TLS 1.3 handshake, where
/// the wire shows no certificate), judged by the same rules at `at` against `name`. Advisories only: no
/// connection failed because of them.
pub fn certificate_findings(
    chain: &[crate::session::CertEntry],
    at: crate::session::Timestamp,
    name: &str,
    warn_days: i64,
) -> Vec<Finding> {
    if chain.is_empty() {
        return Vec::new();
    }
    let entry = crate::session::Entry {
        t_us: 0,
        at,
        dir: Some(Direction::ServerToClient),
        packet: None,
        stage: Stage::TlsHandshake,
        event: crate::session::Event::TlsCertificate {
            source: crate::session::CertSource::Tls,
            chain: chain.to_vec(),
        },
    };
    let obs = Observation {
        timeline: crate::session::Timeline {
            entries: vec![entry],
        },
        ..Observation::default()
    };
    let ctx = Context {
        server_name: Some(name.to_string()),
        warn_days,
    };
    diagnose(&obs, &ctx)
        .findings
        .into_iter()
        .filter(|f| f.id.starts_with("cert-"))
        .collect()
}
