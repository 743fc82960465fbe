//! Diagnosis: rules as data. One cause catalogue ([`causes`]): every cause with its typed id (the
//! stable kebab-case strings of JSON, tests and `--expect`), stage, words, the Windows codes it explains,
//! its lookalikes, the symptoms it explains and its rank, beside the rule's pure check over the
//! timeline. [`diagnose`] runs every check, then turns symptoms into evidence of the causes that explain
//! them: the verdict is the deepest cause the evidence supports (see [`causes`] for the rank order).
//! `docs/causes.md` is rendered from the same table ([`render_catalogue`]).

pub mod causes;
pub mod facts;
mod render;
pub mod rules;
pub mod standard_security;
pub mod target;

pub use causes::{Cause, CauseId, CauseStage, UnknownCause};
pub use render::render_catalogue;

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
    pub id: CauseId,
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
    pub lookalikes: Vec<CauseId>,
    /// Where it broke: the symptom this cause explains (the client hung up after the certificate), when
    /// there was one. The symptom's evidence is part of this finding's evidence too.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub symptom: Option<Symptom>,
}

/// A symptom explained by a finding's cause: what happened, at which stage and where.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Symptom {
    pub id: CauseId,
    /// The stage of the connection it happened in.
    pub stage: Stage,
    /// What happened, e.g. "the client ended the connection 1.6 ms after the server's Finished".
    pub text: String,
    pub evidence: Vec<Evidence>,
}

/// A connection's verdict: the cause of its failure, or how it ended without one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Verdict {
    /// The first failure finding's cause.
    Cause(CauseId),
    /// The secure channel was set up and nothing failed.
    Healthy,
    /// The observation ended mid-setup with nothing conclusive.
    Incomplete,
}

impl Verdict {
    /// The stable string: a cause id, `healthy` or `incomplete`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Verdict::Cause(id) => id.as_str(),
            Verdict::Healthy => "healthy",
            Verdict::Incomplete => "incomplete",
        }
    }

    /// The cause, when the verdict is one.
    pub const fn cause(self) -> Option<CauseId> {
        match self {
            Verdict::Cause(id) => Some(id),
            _ => None,
        }
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Verdict {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl std::str::FromStr for Verdict {
    type Err = UnknownCause;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            t if t.eq_ignore_ascii_case("healthy") => Ok(Verdict::Healthy),
            t if t.eq_ignore_ascii_case("incomplete") => Ok(Verdict::Incomplete),
            t => t.parse().map(Verdict::Cause),
        }
    }
}

impl PartialEq<CauseId> for Verdict {
    fn eq(&self, other: &CauseId) -> bool {
        *self == Verdict::Cause(*other)
    }
}

impl PartialEq<Verdict> for CauseId {
    fn eq(&self, other: &Verdict) -> bool {
        Verdict::Cause(*self) == *other
    }
}

impl PartialEq<str> for Verdict {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Verdict {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
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
    /// The verdict `--expect` compares: the first failure finding's cause, [`Verdict::Healthy`] for an
    /// established connection with none, [`Verdict::Incomplete`] otherwise.
    pub fn verdict_id(&self) -> Verdict {
        match self.findings.first() {
            Some(f) if f.severity == Severity::Failure => Verdict::Cause(f.id),
            _ if self.outcome == Outcome::Established => Verdict::Healthy,
            _ => Verdict::Incomplete,
        }
    }
}

/// One rule that fired, before symptoms and causes are put together.
struct Fired {
    cause: &'static Cause,
    hit: rules::Hit,
}

/// Runs every rule over the observation, then makes each symptom the evidence of the causes that
/// explain it.
pub fn diagnose(obs: &Observation, ctx: &Context) -> Diagnosis {
    let facts = Facts::new(&obs.timeline, ctx);
    let fired: Vec<Fired> = causes::all()
        .filter_map(|cause| {
            let hit = (cause.check)(&facts)?;
            Some(Fired { cause, hit })
        })
        .collect();
    let evidence_of = |hit: &rules::Hit| -> Vec<Evidence> {
        hit.evidence
            .iter()
            .filter_map(|(entry, text)| {
                let e = obs.timeline.get(*entry)?;
                Some(Evidence {
                    entry: *entry,
                    t_us: e.t_us,
                    packet: e.packet,
                    dir: e.dir,
                    text: text.clone(),
                })
            })
            .collect()
    };
    let finding = |f: &Fired, severity: Severity, confidence: Confidence| -> Finding {
        let title = match &f.hit.detail {
            Some(detail) => format!("{}: {detail}", f.cause.title),
            None => f.cause.title.to_string(),
        };
        Finding {
            id: f.cause.id,
            confidence,
            severity,
            title,
            // Advice on a connection that worked explains no disconnect.
            explains: if severity == Severity::Failure {
                f.cause.explains.to_vec()
            } else {
                Vec::new()
            },
            evidence: evidence_of(&f.hit),
            remedy: f.cause.remedy,
            host_checks: f.cause.host_checks.to_vec(),
            lookalikes: f.cause.lookalikes.to_vec(),
            symptom: None,
        }
    };
    let severity_of = |f: &Fired| f.hit.severity.unwrap_or(f.cause.severity);
    // Symptoms that failed, and the causes that hold and explain each, in the order a client checks.
    let mut explained: Vec<(usize, Vec<usize>)> = Vec::new();
    for (s, symptom) in fired.iter().enumerate() {
        if severity_of(symptom) != Severity::Failure {
            continue;
        }
        let mut by: Vec<usize> = fired
            .iter()
            .enumerate()
            .filter(|(_, f)| f.cause.symptoms.contains(&symptom.cause.id))
            .map(|(i, _)| i)
            .collect();
        if by.is_empty() {
            continue;
        }
        // A cause the client's alert names comes first, then the order a client checks.
        let alert = client_alert(obs, &symptom.hit);
        by.sort_by_key(|i| match fired.get(*i) {
            Some(f) => (
                !alert.is_some_and(|a| f.cause.named_by_alerts.contains(&a)),
                f.cause.rank,
            ),
            None => (true, u8::MAX),
        });
        explained.push((s, by));
    }
    // Each finding with its cause's rank, for the order below.
    let mut ranked: Vec<(u8, Finding)> = Vec::new();
    for (i, f) in fired.iter().enumerate() {
        if explained.iter().any(|(s, _)| *s == i) {
            // A symptom with a cause: it lives on as that cause's evidence.
            continue;
        }
        let explaining = explained.iter().find_map(|(s, by)| {
            let place = by.iter().position(|b| *b == i)?;
            Some((fired.get(*s)?, place))
        });
        let Some((symptom, place)) = explaining else {
            ranked.push((f.cause.rank, finding(f, severity_of(f), f.hit.confidence)));
            continue;
        };
        let named = client_alert(obs, &symptom.hit)
            .is_some_and(|alert| f.cause.named_by_alerts.contains(&alert));
        // The first explanation is the verdict: likely, or what its own rule says when it is a
        // failure by itself, certain when the client's alert names it; the others only possible.
        let confidence = if place > 0 {
            Confidence::Possible
        } else if named {
            Confidence::Certain
        } else if severity_of(f) == Severity::Failure {
            f.hit.confidence
        } else {
            Confidence::Likely
        };
        // A symptom only possible makes its explanation no surer.
        let confidence = confidence.max(symptom.hit.confidence);
        let mut out = finding(f, Severity::Failure, confidence);
        let symptom_evidence = evidence_of(&symptom.hit);
        let mut text = symptom
            .hit
            .detail
            .clone()
            .unwrap_or_else(|| symptom.cause.title.to_string());
        // How long after seeing the certificate the client left.
        let hang_up = symptom_evidence.iter().max_by_key(|e| e.entry);
        if let (CauseStage::Certificate, Some(seen), Some(left)) =
            (f.cause.stage, out.evidence.first(), hang_up)
        {
            if seen.entry < left.entry {
                let gap = duration_text(left.t_us.saturating_sub(seen.t_us));
                text = format!("{text} ({gap} after the certificate arrived)");
            }
        }
        out.title = format!("{}; {text}", out.title);
        for e in &symptom_evidence {
            if !out.evidence.iter().any(|o| o.entry == e.entry) {
                out.evidence.push(e.clone());
            }
        }
        out.evidence.sort_by_key(|e| e.entry);
        // Where: the stage of the symptom's last entry (the hang-up).
        let stage = symptom_evidence
            .iter()
            .map(|e| e.entry)
            .max()
            .and_then(|i| obs.timeline.get(i))
            .map_or(obs.stage_reached, |e| e.stage);
        out.symptom = Some(Symptom {
            id: symptom.cause.id,
            stage,
            text,
            evidence: symptom_evidence,
        });
        ranked.push((f.cause.rank, out));
    }
    // Bytes missing from the capture before a failure's evidence: what they said is unknown, so the
    // failure cannot be certain, nor even likely (the missing bytes may have been the answer).
    let first_gap = obs
        .timeline
        .find(|e| matches!(e.event, crate::session::Event::CaptureGap { .. }))
        .map(|(i, _)| i);
    if let Some(gap) = first_gap {
        for (_, f) in ranked
            .iter_mut()
            .filter(|(_, f)| f.severity == Severity::Failure)
        {
            if f.evidence.iter().any(|e| e.entry > gap) {
                f.confidence = Confidence::Possible;
                f.title
                    .push_str(" (bytes are missing from the capture before this: a capture gap)");
            }
        }
    }
    // Within one severity and confidence, the order a client checks (rank), then the table's order.
    ranked.sort_by_key(|(rank, f)| (f.severity, f.confidence, *rank));
    let findings: Vec<Finding> = ranked.into_iter().map(|(_, f)| f).collect();
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
        .filter(|f| {
            f.id.cause()
                .is_some_and(|c| c.stage == CauseStage::Certificate)
        })
        .collect()
}

/// The description of the fatal TLS alert the client sent as it hung up, among a symptom's evidence.
fn client_alert(obs: &Observation, symptom: &rules::Hit) -> Option<u8> {
    symptom.evidence.iter().find_map(|(entry, _)| {
        match (&obs.timeline.get(*entry)?.event, obs.timeline.get(*entry)?.dir) {
            (
                crate::session::Event::TlsAlert {
                    fatal: true,
                    description,
                    ..
                },
                Some(Direction::ClientToServer),
            ) => Some(*description),
            _ => None,
        }
    })
}
