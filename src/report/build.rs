//! Observations to reports: the one way both drivers take. A driver hands over what it observed — each
//! connection's provenance and timeline, and for a probed target which question each connection asked —
//! and gets reports back. The judging is `diagnose` (per connection) and `diagnose::target` (per target);
//! drivers write no sentence about the protocol.

use std::collections::BTreeMap;

use super::target::{CipherAnswer, OfferAnswer, ServerInfo, TargetReport, VersionAnswer};
use super::ConnectionReport;
use crate::diagnose::target::{self as rules, Question};
use crate::diagnose::{certificate_findings, diagnose, Context, Diagnosis, Verdict};
use crate::session::{CertEntry, Event, Observation, Timestamp};

/// Where one connection's observation came from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Provenance {
    /// The capture file or `probe`.
    pub source: String,
    /// `address:port`, when known.
    pub client: Option<String>,
    pub server: Option<String>,
    /// What the connection was for (a probe question), when there is one.
    pub label: Option<String>,
    /// The server a proxy (SOCKS, HTTP CONNECT) was asked to reach, when the client went through one.
    pub tunnel: Option<String>,
}

/// One connection's report: its observation diagnosed.
pub fn connection(from: Provenance, observation: Observation, ctx: &Context) -> ConnectionReport {
    let diagnosis = diagnose(&observation, ctx);
    ConnectionReport {
        source: from.source,
        client: from.client,
        server: from.server,
        label: from.label,
        tunnel: from.tunnel,
        observation,
        diagnosis,
    }
}

/// What the probe learned inside the encrypted channel, which no capture of it can show.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InsideTls {
    /// The chain the TLS handshake delivered (TLS 1.3 encrypts it on the wire).
    pub chain: Vec<CertEntry>,
    /// Version and cipher suite as the TLS library negotiated them.
    pub tls: Option<(String, String)>,
    /// What the server's NTLM CHALLENGE (inside CredSSP) says about it.
    pub server_info: Option<ServerInfo>,
}

/// One question's connection, as the driver observed it.
#[derive(Debug, Clone)]
pub struct Asked {
    pub question: Question,
    /// The driver's own address on this connection.
    pub client: Option<String>,
    pub observation: Observation,
}

/// Everything a driver observed of one target.
#[derive(Debug, Clone)]
pub struct TargetObservations {
    /// The target as the user wrote it.
    pub target: String,
    /// The server's `address:port`.
    pub address: Option<String>,
    /// The name for SNI and certificate checks.
    pub name: String,
    /// `probe`, or the capture file.
    pub source: String,
    pub warn_days: i64,
    /// When certificates outside any timeline are judged (the probe's clock).
    pub now: Timestamp,
    /// Each question's connection, the default path first.
    pub asked: Vec<Asked>,
    pub inside: InsideTls,
}

/// The report of a target that could not be asked anything (resolution failed, the deadline passed).
pub fn unasked_target(
    target: &str,
    address: Option<String>,
    error: Option<String>,
) -> TargetReport {
    TargetReport {
        target: target.to_string(),
        address,
        name: None,
        verdict: crate::diagnose::Verdict::Incomplete,
        reached: None,
        error,
        protocols: Vec::new(),
        nla: "unknown",
        tls_versions: Vec::new(),
        ciphers: Vec::new(),
        tls: None,
        certificate: Vec::new(),
        server_info: None,
        findings: Vec::new(),
        connections: Vec::new(),
    }
}

/// A probed target's report: every question's connection diagnosed, then judged together.
pub fn target(obs: TargetObservations) -> TargetReport {
    let ctx = Context {
        server_name: Some(obs.name.clone()),
        warn_days: obs.warn_days,
    };
    let connections: Vec<(Question, ConnectionReport)> = obs
        .asked
        .into_iter()
        .map(|a| {
            let from = Provenance {
                source: obs.source.clone(),
                client: a.client,
                server: obs.address.clone(),
                label: Some(a.question.label()),
                tunnel: None,
            };
            (a.question, connection(from, a.observation, &ctx))
        })
        .collect();
    let head = TargetHead {
        target: obs.target,
        address: obs.address,
        name: obs.name,
        warn_days: obs.warn_days,
        now: obs.now,
    };
    judge(head, connections, obs.inside)
}

/// Who a target is, for [`judge`].
struct TargetHead {
    target: String,
    address: Option<String>,
    name: String,
    warn_days: i64,
    now: Timestamp,
}

/// Judges a target from its diagnosed connections (the default path first, if it was asked).
fn judge(
    head: TargetHead,
    connections: Vec<(Question, ConnectionReport)>,
    inside: InsideTls,
) -> TargetReport {
    let mut report = unasked_target(&head.target, head.address, None);
    report.name = Some(head.name.clone());
    let default = connections
        .iter()
        .find(|(q, _)| *q == Question::Default)
        .map(|(_, c)| c);
    let offers: Vec<(
        Option<crate::wire::rdp_neg::SecurityProtocols>,
        &Observation,
    )> = connections
        .iter()
        .filter_map(|(q, c)| match q {
            Question::Offer(r) => Some((*r, &c.observation)),
            _ => None,
        })
        .collect();
    for (q, c) in &connections {
        let obs = &c.observation;
        match q {
            Question::Default => {}
            Question::Offer(req) => report.protocols.push(OfferAnswer {
                offer: q.label(),
                requested: req.map(|r| r.0),
                answer: rules::offer_answer(obs, *req),
                selected: rules::selected(obs).map(|s| s.0),
            }),
            Question::Version(v) => report.tls_versions.push(VersionAnswer {
                version: v.to_string(),
                answer: rules::version_answer(obs, *v),
            }),
            Question::Cipher(v, suite) => report.ciphers.push(CipherAnswer {
                suite: suite.to_string(),
                version: v.to_string(),
                answer: rules::cipher_answer(obs, *suite),
            }),
        }
    }
    report.nla = rules::nla(&offers);
    report.server_info = inside.server_info;
    if let Some(default) = default {
        let obs = &default.observation;
        report.reached = rules::reached(obs);
        report.tls = rules::tls_handshake(obs).or(inside.tls);
        // The chain as the default handshake delivered it; where the wire hid it (TLS 1.3) and the driver
        // could not read it, as a TLS 1.2 hello of another question got it in the clear.
        report.certificate = if inside.chain.is_empty() {
            std::iter::once(obs)
                .chain(connections.iter().map(|(_, c)| &c.observation))
                .map(wire_chain)
                .find(|c| !c.is_empty())
                .unwrap_or_default()
        } else {
            inside.chain
        };
        let chain_findings =
            certificate_findings(&report.certificate, head.now, &head.name, head.warn_days);
        let (mut verdict, mut failures) = rules::verdict(obs, &default.diagnosis, report.reached);
        // A path that got through can still end at a certificate the default client blocks outright.
        if verdict == Verdict::Healthy {
            if let Some(f) = rules::refused_certificate(&report.certificate, &chain_findings) {
                verdict = Verdict::Cause(f.id);
                failures = vec![f];
            }
        }
        report.verdict = verdict;
        let others: Vec<&Diagnosis> = connections
            .iter()
            .filter(|(q, _)| *q != Question::Default)
            .map(|(_, c)| &c.diagnosis)
            .collect();
        report.findings = rules::findings(failures, &default.diagnosis, &others, chain_findings);
    }
    // The default path first, then the questions in the order given.
    let (first, rest): (Vec<_>, Vec<_>) = connections
        .into_iter()
        .partition(|(q, _)| *q == Question::Default);
    report.connections = first.into_iter().chain(rest).map(|(_, c)| c).collect();
    report
}

/// The chain a connection's wire carried (TLS 1.2 and earlier).
fn wire_chain(obs: &Observation) -> Vec<CertEntry> {
    obs.timeline
        .entries
        .iter()
        .find_map(|e| match &e.event {
            Event::TlsCertificate { chain, .. } => Some(chain.clone()),
            _ => None,
        })
        .unwrap_or_default()
}

/// Connections of probe runs buffered at most, across targets, before the oldest target is judged with
/// what it has (a probe asks at most a few dozen questions per target).
pub const MAX_PROBE_CONNECTIONS: usize = 4096;

/// A replay of `probe --capture`: the connections that carry the probe's cookie grouped by server, each
/// group judged as one target by the same rules as the live probe. The run's first connection to a server
/// is its default path; the others are named by what they sent (an offer, a version or a cipher hello).
#[derive(Debug, Default)]
pub struct ProbeRuns {
    warn_days: i64,
    groups: BTreeMap<String, Vec<ConnectionReport>>,
    buffered: usize,
    /// Limits that were hit.
    pub notes: Vec<String>,
}

impl ProbeRuns {
    pub fn new(warn_days: i64) -> Self {
        Self {
            warn_days,
            ..Self::default()
        }
    }

    /// Takes a probe connection (and may hand back a target judged early, when the bound is hit); hands
    /// any other connection back untouched.
    pub fn add(
        &mut self,
        report: ConnectionReport,
    ) -> Result<Vec<TargetReport>, Box<ConnectionReport>> {
        let is_probe = Question::of(&report.observation, false).is_some();
        let Some(server) = report.server.clone().filter(|_| is_probe) else {
            return Err(Box::new(report));
        };
        self.groups.entry(server).or_default().push(report);
        self.buffered += 1;
        if self.buffered <= MAX_PROBE_CONNECTIONS {
            return Ok(Vec::new());
        }
        let oldest = self
            .groups
            .iter()
            .min_by_key(|(_, g)| g.iter().map(start).min())
            .map(|(k, _)| k.clone());
        let Some(group) = oldest.and_then(|k| self.groups.remove(&k)) else {
            return Ok(Vec::new());
        };
        if self.notes.is_empty() {
            self.notes.push(format!(
                "more than {MAX_PROBE_CONNECTIONS} probe connections open at once: the oldest target was \
                 judged on the connections seen so far"
            ));
        }
        self.buffered = self.buffered.saturating_sub(group.len());
        Ok(self.group_reports(group))
    }

    /// Judges every target still open, in server order.
    pub fn finish(mut self) -> Vec<TargetReport> {
        std::mem::take(&mut self.groups)
            .into_values()
            .flat_map(|g| self.group_reports(g))
            .collect()
    }

    /// One server's probe connections, split into runs (a question asked again starts a new run, as a
    /// capture holding two runs one after the other has it), each judged as a target.
    fn group_reports(&self, mut group: Vec<ConnectionReport>) -> Vec<TargetReport> {
        group.sort_by_key(start);
        let mut runs: Vec<Vec<(Question, ConnectionReport)>> = Vec::new();
        for mut c in group {
            let in_run = runs.last().and_then(|run| {
                let q = Question::of(&c.observation, false)?;
                (!run.iter().any(|(seen, _)| *seen == q)).then_some(q)
            });
            let Some(q) = in_run.or_else(|| Question::of(&c.observation, true)) else {
                continue;
            };
            c.label = Some(q.label());
            match runs.last_mut() {
                Some(run) if q != Question::Default => run.push((q, c)),
                _ => runs.push(vec![(q, c)]),
            }
        }
        runs.into_iter()
            .filter_map(|run| self.run_report(run))
            .collect()
    }

    fn run_report(
        &self,
        mut connections: Vec<(Question, ConnectionReport)>,
    ) -> Option<TargetReport> {
        let (_, first) = connections.first()?;
        let address = first.server.clone();
        let name = first
            .observation
            .timeline
            .entries
            .iter()
            .find_map(|e| match &e.event {
                Event::TlsClientHello { sni: Some(s), .. } => Some(s.clone()),
                _ => None,
            })
            .or_else(|| {
                address
                    .as_deref()
                    .and_then(|a| a.parse::<std::net::SocketAddr>().ok())
                    .map(|a| a.ip().to_string())
            })
            .unwrap_or_default();
        let now = first
            .observation
            .timeline
            .entries
            .iter()
            .find(|e| matches!(e.event, Event::TlsCertificate { .. }))
            .or(first.observation.timeline.entries.last())
            .map_or(Timestamp(0), |e| e.at);
        // The probe's order: offers as it lists them, versions oldest first, ciphers as asked.
        connections.sort_by_key(|(q, _)| match q {
            Question::Default => (0, 0),
            Question::Offer(r) => (
                1,
                rules::OFFERS
                    .iter()
                    .position(|(_, o)| o == r)
                    .unwrap_or(usize::MAX),
            ),
            Question::Version(v) => (2, usize::from(v.0)),
            Question::Cipher(..) => (3, 0),
        });
        let head = TargetHead {
            target: address.clone().unwrap_or_default(),
            address,
            name,
            warn_days: self.warn_days,
            now,
        };
        Some(judge(head, connections, InsideTls::default()))
    }
}

/// When a connection started (its first timeline entry).
fn start(r: &ConnectionReport) -> Timestamp {
    r.observation
        .timeline
        .entries
        .first()
        .map_or(Timestamp(i64::MAX), |e| e.at)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::session::{Direction, Entry, Stage, Timeline};

    fn asked(cookie: &str, server: &str, at: i64, requested: Option<u32>) -> ConnectionReport {
        asked_hello(cookie, server, at, requested, None)
    }

    /// A probe connection; with `versions`, a ClientHello offering them follows the request.
    fn asked_hello(
        cookie: &str,
        server: &str,
        at: i64,
        requested: Option<u32>,
        versions: Option<Vec<u16>>,
    ) -> ConnectionReport {
        let entry = |event| Entry {
            t_us: 0,
            at: Timestamp(at),
            dir: Some(Direction::ClientToServer),
            packet: None,
            stage: Stage::X224Request,
            event,
        };
        let observation = Observation {
            timeline: Timeline {
                entries: vec![entry(Event::ConnectionRequest {
                    cookie: Some(cookie.to_string()),
                    routing_token: None,
                    requested_protocols: requested,
                    requested: String::new(),
                    neg_flags: None,
                    correlation_id: None,
                })]
                .into_iter()
                .chain(versions.map(|v| {
                    entry(Event::TlsClientHello {
                        record_version: 0x0301,
                        client_version: 0x0303,
                        supported_versions: v,
                        max_version: String::new(),
                        cipher_suites: vec![0x1301, 0x1302],
                        sni: None,
                        alpn: Vec::new(),
                    })
                }))
                .collect(),
            },
            ..Observation::default()
        };
        connection(
            Provenance {
                source: "test".to_string(),
                client: None,
                server: Some(server.to_string()),
                label: None,
                tunnel: None,
            },
            observation,
            &Context::default(),
        )
    }

    #[test]
    fn probe_connections_are_grouped_by_server_and_others_handed_back() {
        let mut runs = ProbeRuns::new(30);
        assert!(runs
            .add(asked("alice", "192.0.2.1:3389", 1, Some(11)))
            .is_err());
        for (server, at, req) in [
            ("192.0.2.2:3389", 5, Some(1)),
            ("192.0.2.2:3389", 1, Some(11)),
            ("192.0.2.3:3389", 2, Some(11)),
            ("192.0.2.2:3389", 6, None),
        ] {
            assert!(runs.add(asked(COOKIE, server, at, req)).unwrap().is_empty());
        }
        let targets = runs.finish();
        assert_eq!(targets.len(), 2);
        let t = &targets[0];
        assert_eq!(t.address.as_deref(), Some("192.0.2.2:3389"));
        // The earliest connection is the default path; the others are its offers, in the probe's order.
        assert_eq!(t.connections.len(), 3);
        assert_eq!(
            t.connections[0].label.as_deref(),
            Some(Question::Default.label().as_str())
        );
        let offers: Vec<&str> = t.protocols.iter().map(|p| p.offer.as_str()).collect();
        assert_eq!(offers, ["no RDP_NEG_REQ (legacy client)", "SSL only"]);
    }

    const COOKIE: &str = crate::diagnose::PROBE_COOKIE;

    #[test]
    fn two_runs_against_one_server_are_two_targets() {
        let mut runs = ProbeRuns::new(30);
        let server = "192.0.2.2:3389";
        let default = || Some(vec![0x0304, 0x0303]);
        let hello13 = || Some(vec![0x0304]);
        for (at, req, hello) in [
            // Run 1: the default path, two offers and a version hello.
            (1, Some(11), default()),
            (2, Some(1), None),
            (3, Some(11), None),
            (4, Some(11), hello13()),
            // Run 2 (quick): the default path only. Run 3: the default path and an offer.
            (10, Some(11), default()),
            (20, Some(11), default()),
            (21, Some(1), None),
        ] {
            assert!(runs
                .add(asked_hello(COOKIE, server, at, req, hello))
                .unwrap()
                .is_empty());
        }
        let targets = runs.finish();
        let sizes: Vec<usize> = targets.iter().map(|t| t.connections.len()).collect();
        assert_eq!(sizes, [4, 1, 2]);
        assert_eq!(targets[0].tls_versions.len(), 1);
        assert_eq!(targets[0].protocols.len(), 2);
    }

    #[test]
    fn buffered_probe_connections_are_bounded() {
        let mut runs = ProbeRuns::new(30);
        let mut early = Vec::new();
        // A thousand servers, each asked the default offer, then PROTOCOL_RDP, SSL, HYBRID, HYBRID_EX.
        let requests = [11, 0, 1, 2, 8];
        for n in 0..=MAX_PROBE_CONNECTIONS {
            let server = format!("10.0.{}.{}:3389", n % 1000 / 250, n % 250);
            let at = i64::try_from(n).unwrap();
            let req = requests[n / 1000];
            early.extend(runs.add(asked(COOKIE, &server, at, Some(req))).unwrap());
        }
        assert_eq!(
            early.len(),
            1,
            "the oldest target judged when the bound is hit"
        );
        assert_eq!(early[0].address.as_deref(), Some("10.0.0.0:3389"));
        assert_eq!(early[0].connections.len(), 5);
        assert_eq!(runs.notes.len(), 1);
        assert!(runs.buffered <= MAX_PROBE_CONNECTIONS);
        assert_eq!(runs.finish().len(), 999);
    }
}
