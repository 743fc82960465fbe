//! Target-level rules: what one probe run's connections to one server, taken together, say about it —
//! the answer to each security-protocol offer, each TLS version hello and each cipher hello, whether NLA
//! is supported or required, how far the default Windows client's path got without credentials, and the
//! verdict: what a default Windows client hits. Pure functions over observations (no I/O, no clock), so
//! a live probe and the replay of its `--capture` name the same facts.

use super::{CauseId, Confidence, Diagnosis, Finding, Severity, Verdict};
use crate::session::{CertEntry, ConnectError, Direction, Event, Observation, Stage};
use crate::wire::cert::PublicKeySummary;
use crate::wire::rdp_neg::SecurityProtocols;
use crate::wire::tls::{CipherSuite, ProtocolVersion};

/// The offer of a default Windows client (mstsc): SSL | HYBRID | HYBRID_EX.
pub const WINDOWS_DEFAULT_OFFER: SecurityProtocols = SecurityProtocols(0x0b);

/// The security-protocol offers the probe asks, one connection each: a label and what it requests
/// (`None`: no RDP_NEG_REQ at all, as a legacy client).
pub const OFFERS: &[(&str, Option<SecurityProtocols>)] = &[
    ("no RDP_NEG_REQ (legacy client)", None),
    ("PROTOCOL_RDP only", Some(SecurityProtocols::RDP)),
    ("SSL only", Some(SecurityProtocols::SSL)),
    ("HYBRID only", Some(SecurityProtocols::HYBRID)),
    ("HYBRID_EX only", Some(SecurityProtocols::HYBRID_EX)),
    ("RDSTLS only", Some(SecurityProtocols::RDSTLS)),
    ("RDSAAD only", Some(SecurityProtocols::RDSAAD)),
    (
        "Windows default SSL|HYBRID|HYBRID_EX",
        Some(WINDOWS_DEFAULT_OFFER),
    ),
];

/// What one connection of a probe run asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Question {
    /// The default Windows client's path: the default offer, followed through TLS and into CredSSP.
    Default,
    /// One security-protocol offer, answered and closed.
    Offer(Option<SecurityProtocols>),
    /// A ClientHello offering only this TLS version.
    Version(ProtocolVersion),
    /// A ClientHello offering only this cipher suite (in a hello of that version).
    Cipher(ProtocolVersion, CipherSuite),
}

impl Question {
    /// The connection's label in reports.
    pub fn label(&self) -> String {
        match self {
            Question::Default => {
                "default offer (SSL|HYBRID|HYBRID_EX), followed through TLS and CredSSP".to_string()
            }
            Question::Offer(requested) => OFFERS
                .iter()
                .find(|(_, r)| r == requested)
                .map_or_else(
                    || match requested {
                        Some(r) => format!("offer {r}"),
                        None => "no RDP_NEG_REQ".to_string(),
                    },
                    |(label, _)| (*label).to_string(),
                ),
            Question::Version(v) => format!("TLS version {v}"),
            Question::Cipher(_, suite) => format!("cipher suite {suite}"),
        }
    }

    /// What a connection of a probe run asked, read from its own wire: `None` when the connection does
    /// not carry the probe's cookie. The default path's ClientHello (from a TLS library) offers several
    /// versions, the probe's hand-built ones one each; when the server selects no TLS the default path
    /// cannot be told from the "Windows default" offer by its bytes: `first` says it is the run's first
    /// connection to the server (the probe asks the default path alone, before any other question).
    pub fn of(obs: &Observation, first: bool) -> Option<Question> {
        let requested = obs.timeline.entries.iter().find_map(|e| match &e.event {
            Event::ConnectionRequest {
                cookie: Some(c),
                requested_protocols,
                ..
            } if c == super::PROBE_COOKIE => Some(requested_protocols.map(SecurityProtocols)),
            _ => None,
        })?;
        if first {
            return Some(Question::Default);
        }
        let hello = obs.timeline.entries.iter().find_map(|e| match &e.event {
            Event::TlsClientHello {
                client_version,
                supported_versions,
                cipher_suites,
                ..
            } if e.dir == Some(Direction::ClientToServer) => Some((
                *client_version,
                supported_versions.as_slice(),
                cipher_suites.as_slice(),
            )),
            _ => None,
        });
        if let Some((_, [_, _, ..], _)) = hello {
            return Some(Question::Default);
        }
        let hello = hello.map(|(client_version, supported, suites)| {
            let version = supported.iter().copied().max().unwrap_or(client_version);
            (ProtocolVersion(version), suites)
        });
        Some(match hello {
            Some((v, [suite])) => Question::Cipher(v, CipherSuite(*suite)),
            Some((v, _)) => Question::Version(v),
            None => Question::Offer(requested),
        })
    }
}

/// What the server selected, from the timeline.
pub fn selected(obs: &Observation) -> Option<SecurityProtocols> {
    obs.timeline.entries.iter().find_map(|e| match e.event {
        Event::ConnectionConfirm {
            selected_protocol: Some(p),
            ..
        } => Some(SecurityProtocols(p)),
        _ => None,
    })
}

/// A question's end, in words, when no better answer was seen.
fn answer_words(obs: &Observation, otherwise: &str) -> String {
    let mut connected = false;
    for e in &obs.timeline.entries {
        let from_server = e.dir == Some(Direction::ServerToClient);
        match &e.event {
            Event::TcpConnected { .. } => connected = true,
            // connect()'s view: the error's meaning or the probe's own wait, nothing more.
            Event::TcpConnectError { error, .. } => {
                return match error {
                    ConnectError::Refused => "refused",
                    ConnectError::HostUnreachable => "host unreachable or prohibited",
                    ConnectError::NetworkUnreachable => "network unreachable",
                    ConnectError::TimedOut => "no answer",
                    ConnectError::Other => "connection attempt failed",
                }
                .to_string()
            }
            Event::Timeout { .. } if !connected => return "no answer".to_string(),
            Event::TlsAlert { name, .. } if from_server => return format!("alert {name}"),
            Event::NotRdp { looks_like, .. } if from_server => {
                return format!("not RDP ({looks_like})")
            }
            Event::TcpRefused { .. } => return "refused".to_string(),
            Event::TcpNoAnswer { .. } => return "no answer".to_string(),
            Event::IcmpUnreachable { .. } => return "unreachable".to_string(),
            Event::Rst if from_server => return "reset by the server".to_string(),
            Event::Fin if from_server => return "closed by the server".to_string(),
            Event::Timeout { .. } => return "silent".to_string(),
            _ => {}
        }
    }
    otherwise.to_string()
}

/// How a negotiation question ended, in words.
pub fn offer_answer(obs: &Observation, requested: Option<SecurityProtocols>) -> String {
    for e in &obs.timeline.entries {
        match &e.event {
            Event::ConnectionConfirm {
                selected_protocol: Some(p),
                selected,
                ..
            } => {
                let asked = requested.unwrap_or(SecurityProtocols::RDP);
                let foreign = (*p & !asked.0 != 0) || (*p == 0 && asked.0 != 0);
                return if foreign {
                    format!("selected {selected} (not offered)")
                } else {
                    format!("selected {selected}")
                };
            }
            Event::ConnectionConfirm {
                selected_protocol: None,
                ..
            } => {
                let disconnect = obs.timeline.entries.iter().any(|e| {
                    matches!(
                        e.event,
                        Event::McsDisconnectUltimatum { .. } | Event::X224Disconnect { .. }
                    )
                });
                let then = if disconnect {
                    ", then a disconnect: TLS or NLA required"
                } else {
                    ""
                };
                return format!("confirm without negotiation (standard RDP security){then}");
            }
            Event::NegotiationFailure { name, .. } => return format!("refused: {name}"),
            Event::X224Disconnect { name, .. } => return format!("X.224 disconnect ({name})"),
            _ => {}
        }
    }
    answer_words(obs, "no answer")
}

/// How a version question ended, in words: `accepted`, the version the server chose instead, or why not.
pub fn version_answer(obs: &Observation, version: ProtocolVersion) -> String {
    match server_hello(obs) {
        Some((v, _)) if v == version.0 => "accepted".to_string(),
        Some((v, _)) => format!("server chose {}", ProtocolVersion(v)),
        None => answer_words(obs, "no TLS selected"),
    }
}

/// How a cipher question ended, in words: `accepted`, the suite the server chose instead, or why not.
pub fn cipher_answer(obs: &Observation, suite: CipherSuite) -> String {
    match server_hello(obs) {
        Some((_, c)) if c == suite.0 => "accepted".to_string(),
        Some((_, c)) => format!("server chose {}", CipherSuite(c)),
        None => answer_words(obs, "no TLS selected"),
    }
}

/// The version and cipher suite of the server's ServerHello (not a HelloRetryRequest).
fn server_hello(obs: &Observation) -> Option<(u16, u16)> {
    obs.timeline.entries.iter().find_map(|e| match e.event {
        Event::TlsServerHello {
            version,
            cipher_suite,
            hello_retry_request: false,
            ..
        } => Some((version, cipher_suite)),
        _ => None,
    })
}

/// NLA as the offers show it: `required` (HYBRID selected for a HYBRID-only offer, and an SSL-only offer
/// refused with HYBRID_REQUIRED or SSL_WITH_USER_AUTH_REQUIRED), `supported`, `not supported` (a server
/// answering HYBRID with SSL does not do NLA), or `unknown` when no offer was asked.
pub fn nla(offers: &[(Option<SecurityProtocols>, &Observation)]) -> &'static str {
    let answer = |want: SecurityProtocols| {
        offers
            .iter()
            .find(|(r, _)| *r == Some(want))
            .map(|(_, o)| *o)
    };
    let hybrid_selected = answer(SecurityProtocols::HYBRID)
        .and_then(selected)
        .is_some_and(SecurityProtocols::uses_credssp);
    let ssl_refused = answer(SecurityProtocols::SSL).is_some_and(|o| {
        o.timeline.entries.iter().any(|e| {
            matches!(
                e.event,
                Event::NegotiationFailure {
                    failure_code: 5 | 6,
                    ..
                }
            )
        })
    });
    match (hybrid_selected, ssl_refused, offers.is_empty()) {
        (_, _, true) => "unknown",
        (true, true, _) => "required",
        (true, false, _) => "supported",
        (false, _, _) => "not supported",
    }
}

/// How far the default path got without credentials, as its wire shows: `credssp` (the server answered
/// the client's first CredSSP message), `tls` (both sides finished the TLS handshake),
/// `standard-security` (the server confirmed without selecting TLS), or `None`.
pub fn reached(default: &Observation) -> Option<&'static str> {
    let entries = &default.timeline.entries;
    let tls_done = entries
        .iter()
        .any(|e| matches!(e.event, Event::TlsHandshakeDone { .. }));
    if tls_done {
        let credssp_answered = entries.iter().any(|e| {
            e.stage == Stage::CredSsp
                && e.dir == Some(Direction::ServerToClient)
                && matches!(e.event, Event::TlsApplicationData { .. })
        });
        return Some(if credssp_answered { "credssp" } else { "tls" });
    }
    let confirm = entries.iter().find_map(|e| match e.event {
        Event::ConnectionConfirm {
            selected_protocol, ..
        } => Some(selected_protocol),
        _ => None,
    })?;
    match confirm {
        Some(p) if SecurityProtocols(p).uses_tls() => None,
        _ => Some("standard-security"),
    }
}

/// The version and cipher suite of the default path's TLS handshake, when both sides finished it.
pub fn tls_handshake(default: &Observation) -> Option<(String, String)> {
    let entries = &default.timeline.entries;
    if !entries
        .iter()
        .any(|e| matches!(e.event, Event::TlsHandshakeDone { .. }))
    {
        return None;
    }
    entries.iter().find_map(|e| match &e.event {
        Event::TlsServerHello {
            version_name,
            cipher_suite_name,
            hello_retry_request: false,
            ..
        } => Some((version_name.clone(), cipher_suite_name.clone())),
        _ => None,
    })
}

/// The cause id of "only standard RDP security": the catalogue's `neg-ssl-not-allowed` ("Server allows
/// only standard RDP security"), whichever way the server says it.
pub const STANDARD_SECURITY_ONLY: CauseId = CauseId::NegSslNotAllowed;

/// A server that answers the default offer (SSL|HYBRID|HYBRID_EX) by *selecting* standard RDP security
/// leaves a default Windows client exactly where one refusing it with SSL_NOT_ALLOWED_BY_SERVER does
/// (the client retries offering PROTOCOL_RDP): on RC4 without server authentication or NLA. Both get the
/// same verdict, [`STANDARD_SECURITY_ONLY`], a failure (exit code 1): the finding for the first way.
fn standard_security_selected(default: &Observation) -> Option<Finding> {
    let (i, e) = default.timeline.find(|e| {
        matches!(
            e.event,
            Event::ConnectionConfirm {
                selected_protocol: Some(0),
                ..
            }
        )
    })?;
    let requested = default.timeline.entries.iter().find_map(|e| match e.event {
        Event::ConnectionRequest {
            requested_protocols: Some(r),
            ..
        } => Some(SecurityProtocols(r)),
        _ => None,
    })?;
    if !requested.uses_tls() {
        return None;
    }
    let rule = STANDARD_SECURITY_ONLY.cause()?;
    let words = format!(
        "the server selected standard RDP security (PROTOCOL_RDP) for the offer {requested}: a default \
         client goes on without TLS, server authentication or NLA"
    );
    Some(Finding {
        id: rule.id,
        confidence: Confidence::Certain,
        severity: Severity::Failure,
        title: format!(
            "{}: it selects PROTOCOL_RDP for the default offer instead of refusing it",
            rule.title
        ),
        // The client does not fail: it connects on standard RDP security.
        explains: Vec::new(),
        evidence: vec![super::Evidence {
            entry: i,
            t_us: e.t_us,
            packet: e.packet,
            dir: e.dir,
            text: words,
        }],
        remedy: rule.remedy,
        host_checks: rule.host_checks.to_vec(),
        lookalikes: rule.lookalikes.to_vec(),
        symptom: None,
    })
}

/// The target's verdict and the findings that support it: what a default Windows client hits, as far
/// as the default path could be followed without credentials.
///
/// 1. a failure of the default path's own diagnosis;
/// 2. else only standard RDP security offered to the default client ([`STANDARD_SECURITY_ONLY`]);
/// 3. else `healthy` when the path reached TLS, CredSSP or standard security;
/// 4. else the default path's own verdict (`incomplete`).
pub fn verdict(
    default_obs: &Observation,
    default: &Diagnosis,
    reached: Option<&'static str>,
) -> (Verdict, Vec<Finding>) {
    let failures: Vec<Finding> = default
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Failure)
        .cloned()
        .collect();
    if let Some(first) = failures.first() {
        return (Verdict::Cause(first.id), failures);
    }
    if let Some(f) = standard_security_selected(default_obs) {
        return (Verdict::Cause(f.id), vec![f]);
    }
    match reached {
        Some(_) => (Verdict::Healthy, Vec::new()),
        None => (default.verdict_id(), Vec::new()),
    }
}

/// The shortest RSA key a default Windows client accepts in a server's certificate chain: shorter keys are
/// blocked outright (CryptoAPI refuses the chain as if it were untrusted, and there is no prompt to go
/// on), unlike the other certificate facts, which the client only prompts about (the README's table).
pub const WINDOWS_MIN_RSA_BITS: u32 = 1024;

/// A certificate fact a default Windows client refuses without a prompt: an RSA key under
/// [`WINDOWS_MIN_RSA_BITS`] anywhere in the chain. The chain's `cert-weak-key` finding, made the failure
/// (certain: the key length is read from the certificate).
pub fn refused_certificate(chain: &[CertEntry], chain_findings: &[Finding]) -> Option<Finding> {
    let (subject, bits) = chain.iter().find_map(|c| match c {
        CertEntry::Parsed(s) => match s.public_key {
            PublicKeySummary::Rsa { bits } if bits < WINDOWS_MIN_RSA_BITS => {
                Some((s.subject.clone(), bits))
            }
            _ => None,
        },
        CertEntry::Unreadable { .. } => None,
    })?;
    let mut f = chain_findings
        .iter()
        .find(|f| f.id == CauseId::CertWeakKey)?
        .clone();
    f.severity = Severity::Failure;
    f.confidence = Confidence::Certain;
    f.title = format!(
        "{}: a default Windows client blocks RSA keys under {WINDOWS_MIN_RSA_BITS} bits ({subject}: {bits} bits)",
        f.title
    );
    Some(f)
}

/// The target's findings: the verdict's failures first, then the advisories of every question once each
/// (an offer's mismatch is its answer, shown in the protocol table, and per-question timing reflects the
/// probe's own parallel questions: those two come from the default path only), then `more` (what the
/// chain shows when the wire did not carry it).
pub fn findings(
    failures: Vec<Finding>,
    default: &Diagnosis,
    others: &[&Diagnosis],
    more: Vec<Finding>,
) -> Vec<Finding> {
    let mut out = failures;
    let from_default = default.findings.iter();
    let from_others = others
        .iter()
        .flat_map(|d| d.findings.iter())
        .filter(|f| !matches!(f.id, CauseId::PathDegraded | CauseId::SecurityLayerMismatch));
    for f in from_default
        .chain(from_others)
        .filter(|f| f.severity == Severity::Advisory)
        .chain(more.iter())
    {
        if !out.iter().any(|g| g.id == f.id) {
            out.push(f.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests;
