//! The rule table. Order matters only as a tie-break between findings of equal severity and confidence.
//! Ids are the stable contract of `../shared/knowledge/causes.md` (plus `cert-expiring-soon` and
//! `tls-legacy-version` for advisories the catalogue describes without an id).

use super::duration_text as ms;
use super::facts::{Chain, Close, Closing, Facts};
use super::{Confidence, Severity};
use crate::session::{ConnectError, Direction, Event, Stage};
use crate::wire::cert::Validity;
use crate::wire::rdp_neg::{FailureCode, SecurityProtocols};

/// What a rule's check returns when it applies.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub confidence: Confidence,
    /// Overrides the rule's default severity (certificate facts are failures only when they stopped the client).
    pub severity: Option<Severity>,
    /// Specifics appended to the rule's title.
    pub detail: Option<String>,
    /// Timeline entries and a line of words for each.
    pub evidence: Vec<(usize, String)>,
}

impl Hit {
    fn new(
        confidence: Confidence,
        detail: impl Into<String>,
        evidence: Vec<(usize, String)>,
    ) -> Option<Self> {
        Some(Self {
            confidence,
            severity: None,
            detail: Some(detail.into()),
            evidence,
        })
    }
}

/// One rule: a cause, and a pure check over the facts.
pub struct Rule {
    pub id: &'static str,
    pub title: &'static str,
    pub severity: Severity,
    pub explains: &'static [&'static str],
    pub remedy: &'static str,
    pub host_checks: &'static [&'static str],
    pub lookalikes: &'static [&'static str],
    pub check: fn(&Facts<'_>) -> Option<Hit>,
}

const SOCKET_CLOSED: &[&str] = &["0x904 with extended 0x7 (as the Windows client reports it)"];
const CONNECT_FAILED: &[&str] = &["0x204 (the client could not connect)"];
const NO_CODES: &[&str] = &[];

const SCHANNEL_KEY: &str = "System log, source Schannel, event 36870: fatal error accessing the TLS server credential private key (MachineKeys permissions, corrupt key)";
const SCHANNEL_CRED: &str = "System log, source Schannel, event 36871: fatal error creating a TLS server credential (protocol or cipher policy, no usable certificate)";
const SCHANNEL_CIPHER: &str = "System log, source Schannel, event 36874: a TLS connection request arrived with no cipher suite in common";
const SCHANNEL_ALERT: &str = "System log, source Schannel, event 36888: the fatal alert the server generated, with its internal state";
const TS_1057: &str = "System log, TermService (RemoteConnectionManager) event 1057: failed to create a new self-signed certificate";
const TS_1058: &str = "System log, TermService (RemoteConnectionManager) event 1058: failed to replace the expired self-signed certificate";
const RDP_TCP_KEYS: &str = "HKLM\\SYSTEM\\CurrentControlSet\\Control\\Terminal Server\\WinStations\\RDP-Tcp: SecurityLayer, UserAuthentication, MinEncryptionLevel, SSLCertificateSHA1Hash";
const CERT_STORE: &str = "certlm.msc → Remote Desktop → Certificates: the RDP certificate, its dates, and that it has a private key";
const LISTENER: &str = "on the server: `netstat -ano | findstr :3389` (a listener on the port), and that the Remote Desktop Services (TermService) service runs";
const FIREWALL: &str = "inbound firewall rule \"Remote Desktop - User Mode (TCP-In)\" on the server, and network ACLs / security groups on the path";
const CLIENT_AUTH_LEVEL: &str = "client: the .rdp file's `authentication level` and `enablecredsspsupport`, or the client's security settings";
const LOGON_EVENTS: &str = "Security log on the server: event 4625 (failed logon) with its status and sub-status for this client";
const CREDSSP_POLICY: &str = "Group Policy \"Encryption Oracle Remediation\" (CredSSP) on both sides, and that both have the 2018 CredSSP updates";

fn closing_words(c: &Closing) -> &'static str {
    match (c.dir, c.how) {
        (Direction::ServerToClient, Close::Fin) => "the server closed the connection (FIN)",
        (Direction::ServerToClient, Close::Rst) => "the server reset the connection (RST)",
        (Direction::ServerToClient, Close::FatalAlert) => "the server sent a fatal TLS alert",
        (Direction::ServerToClient, Close::EncryptedAlert) => {
            "the server sent an encrypted TLS alert"
        }
        (Direction::ServerToClient, Close::Disconnect) => "the server sent a disconnect",
        (Direction::ClientToServer, Close::Fin) => "the client closed the connection (FIN)",
        (Direction::ClientToServer, Close::Rst) => "the client reset the connection (RST)",
        (Direction::ClientToServer, Close::FatalAlert) => "the client sent a fatal TLS alert",
        (Direction::ClientToServer, Close::EncryptedAlert) => {
            "the client sent an encrypted TLS alert"
        }
        (Direction::ClientToServer, Close::Disconnect) => "the client sent a disconnect",
    }
}

// ---- transport ----

fn tcp_refused(f: &Facts<'_>) -> Option<Hit> {
    // The probe's connect() is refused after an RST or an ICMP port unreachable: it cannot say which.
    if let Some((i, e)) = f.first(|e| {
        matches!(
            e,
            Event::TcpConnectError {
                error: ConnectError::Refused,
                ..
            }
        )
    }) {
        let Event::TcpConnectError { os_error, .. } = &e.event else {
            return None;
        };
        let text = format!("connection refused, reported by the network stack: an RST or an ICMP port unreachable answered the connection attempt ({os_error})");
        return Hit::new(
            Confidence::Likely,
            "the connection attempt was refused",
            vec![(i, text)],
        );
    }
    let (i, e) = f.first(|e| matches!(e, Event::TcpRefused { .. }))?;
    let rtt = match e.event {
        Event::TcpRefused { rtt_us: Some(us) } => format!(" {} after the SYN", ms(us)),
        _ => String::new(),
    };
    Hit::new(
        Confidence::Certain,
        "RST answered the SYN",
        vec![(
            i,
            format!("RST in answer to the SYN{rtt}: nothing listens on that port"),
        )],
    )
}

fn tcp_unreachable(f: &Facts<'_>) -> Option<Hit> {
    let (i, e) = f.first(|e| {
        matches!(
            e,
            Event::IcmpUnreachable { .. }
                | Event::TcpConnectError {
                    error: ConnectError::HostUnreachable
                        | ConnectError::NetworkUnreachable
                        | ConnectError::Other,
                    ..
                }
        )
    })?;
    // A connect() error names no ICMP message: its meaning is all the probe saw.
    let (confidence, text) = match &e.event {
        Event::IcmpUnreachable {
            icmp_type,
            code,
            reporter,
        } => (
            Confidence::Certain,
            format!("ICMP destination unreachable (type {icmp_type}, code {code}) from {reporter}"),
        ),
        Event::TcpConnectError {
            error: ConnectError::HostUnreachable,
            os_error,
        } => (
            Confidence::Likely,
            format!("host unreachable or administratively prohibited, reported by the network stack ({os_error})"),
        ),
        Event::TcpConnectError {
            error: ConnectError::NetworkUnreachable,
            os_error,
        } => (
            Confidence::Likely,
            format!("network unreachable, reported by the network stack: no route to that network from here, or a router said so ({os_error})"),
        ),
        Event::TcpConnectError { os_error, .. } => (
            Confidence::Possible,
            format!("the network stack failed the connection attempt ({os_error})"),
        ),
        _ => return None,
    };
    Hit::new(confidence, text.clone(), vec![(i, text)])
}

fn tcp_filtered(f: &Facts<'_>) -> Option<Hit> {
    if let Some((i, waited_us)) = connect_timed_out(f) {
        let text = format!(
            "no answer to the connection attempt within {:.1} s",
            waited_us as f64 / 1e6
        );
        return Hit::new(Confidence::Likely, text.clone(), vec![(i, text)]);
    }
    let (i, e) = f.first(|e| {
        matches!(
            e,
            Event::TcpNoAnswer { .. }
                | Event::TcpConnectError {
                    error: ConnectError::TimedOut,
                    ..
                }
        )
    })?;
    let text = match &e.event {
        Event::TcpNoAnswer { syns, waited_us } => {
            format!("{syns} SYN(s) unanswered for {}", ms(*waited_us))
        }
        Event::TcpConnectError { os_error, .. } => {
            format!("the network stack gave up waiting for an answer to the connection attempt ({os_error})")
        }
        _ => return None,
    };
    Hit::new(Confidence::Likely, text.clone(), vec![(i, text)])
}

/// The probe's `connect()` waited out its timeout: no answer it could see (how many SYNs the kernel sent
/// is not known), and no connection. Judged as the unanswered SYN of a capture.
fn connect_timed_out(f: &Facts<'_>) -> Option<(usize, i64)> {
    if f.first(|e| matches!(e, Event::TcpConnected { .. })).is_some() {
        return None;
    }
    let (i, e) = f.first(|e| matches!(e, Event::Timeout { .. }))?;
    let Event::Timeout { waited_us } = e.event else {
        return None;
    };
    Some((i, waited_us))
}

// ---- X.224 ----

fn not_rdp(f: &Facts<'_>) -> Option<Hit> {
    // Only the server's answer decides: a client that is not RDP is not a server problem.
    let (i, e) = f.first_from(Direction::ServerToClient, |e| {
        matches!(e, Event::NotRdp { .. })
    })?;
    let Event::NotRdp {
        first_bytes,
        looks_like,
    } = &e.event
    else {
        return None;
    };
    let text = format!("the server sent {looks_like}, not TPKT/X.224 (first bytes {first_bytes})");
    Hit::new(
        Confidence::Certain,
        format!("the server speaks {looks_like}"),
        vec![(i, text)],
    )
}

fn malformed_reply(f: &Facts<'_>) -> Option<Hit> {
    let before_established = |i: usize| f.established.is_none_or(|est| i < est);
    let (i, e) = f.timeline.entries.iter().enumerate().find(|(i, e)| {
        before_established(*i)
            && match (e.dir, &e.event) {
                (Some(Direction::ServerToClient), ev) => matches!(
                    ev,
                    Event::ConnectionConfirm {
                        well_formed: false,
                        ..
                    } | Event::Malformed { .. }
                        | Event::Unexpected { .. }
                ),
                // A client PDU that breaks its structure: a broken client, or a middlebox rewriting it.
                (Some(Direction::ClientToServer), ev) => matches!(ev, Event::Malformed { .. }),
                _ => false,
            }
    })?;
    let who = e.dir.map_or("a side", |d| d.who());
    let text = match &e.event {
        Event::ConnectionConfirm { .. } => {
            "the Connection Confirm's RDP_NEG_RSP length field is not 8".to_string()
        }
        Event::Malformed { pdu, error } => {
            format!("the {who}'s {pdu} breaks its own structure: {error}")
        }
        Event::Unexpected { expected, got } => {
            format!("expected {expected} from the {who}, got {got}")
        }
        _ => return None,
    };
    Hit::new(Confidence::Certain, text.clone(), vec![(i, text)])
}

fn server_silent(f: &Facts<'_>) -> Option<Hit> {
    // In a capture there are no timeouts: a client that gives up after seconds of silence says the same.
    let Some((t, te)) = f.first(|e| matches!(e, Event::Timeout { .. })) else {
        return gave_up_waiting(f);
    };
    let Event::Timeout { waited_us } = te.event else {
        return None;
    };
    // The last thing the client sent before the timeout, and nothing from the server since.
    let (last, le) = f.last_before(t, |e| e.dir == Some(Direction::ClientToServer))?;
    if f.sent_after(last, Direction::ServerToClient)
        && f.between(last, t)
            .any(|e| e.dir == Some(Direction::ServerToClient))
    {
        return None;
    }
    if matches!(le.event, Event::TcpSyn) {
        return None;
    }
    let after = awaited(&le.event).unwrap_or("the client's last message");
    Hit::new(
        Confidence::Likely,
        format!("no answer to {after} in {}", ms(waited_us)),
        vec![
            (last, format!("{after} sent")),
            (t, format!("nothing from the server for {}", ms(waited_us))),
        ],
    )
}

/// The message whose answer a silent server owed, in words.
fn awaited(event: &Event) -> Option<&'static str> {
    match event {
        Event::ConnectionRequest { .. } => Some("the Connection Request"),
        Event::TlsClientHello { .. } => Some("the TLS ClientHello"),
        _ => None,
    }
}

/// The client closed after waiting at least `SILENCE_US` for an answer that never came.
fn gave_up_waiting(f: &Facts<'_>) -> Option<Hit> {
    const SILENCE_US: i64 = 2_000_000;
    let c = f.failed_close()?;
    if c.dir != Direction::ClientToServer {
        return None;
    }
    let (last, le) = f.last_before(c.entry, |e| {
        e.dir.is_some() && !matches!(e.event, Event::Fin | Event::Rst)
    })?;
    if le.dir != Some(Direction::ClientToServer) || f.gap_us(last, c.entry)? < SILENCE_US {
        return None;
    }
    let after = awaited(&le.event)?;
    let waited = f.gap_us(last, c.entry)?;
    Hit::new(
        Confidence::Likely,
        format!("no answer to {after} in {}", ms(waited)),
        vec![
            (last, format!("{after} sent")),
            (
                c.entry,
                format!("{} after {} of silence", closing_words(&c), ms(waited)),
            ),
        ],
    )
}

fn close_after_request(f: &Facts<'_>, how: Close) -> Option<Hit> {
    let req = f.request?;
    let c = f.failed_close()?;
    if f.sent_after(req, Direction::ServerToClient)
        || c.dir != Direction::ServerToClient
        || c.how != how
        || c.entry < req
    {
        return None;
    }
    let gap = f.gap_us(req, c.entry).unwrap_or(0);
    Hit::new(
        Confidence::Certain,
        format!("{} after the Connection Request", ms(gap)),
        vec![
            (req, "Connection Request sent".to_string()),
            (
                c.entry,
                format!(
                    "{} {} later, without a Connection Confirm",
                    closing_words(&c),
                    ms(gap)
                ),
            ),
        ],
    )
}

fn server_reset_after_request(f: &Facts<'_>) -> Option<Hit> {
    close_after_request(f, Close::Rst)
}

fn server_closed_after_request(f: &Facts<'_>) -> Option<Hit> {
    close_after_request(f, Close::Fin)
}

// ---- negotiation ----

fn neg_failure(f: &Facts<'_>, wanted: Option<FailureCode>) -> Option<Hit> {
    let (i, e) = f.first(|e| matches!(e, Event::NegotiationFailure { .. }))?;
    let Event::NegotiationFailure { failure_code, name } = &e.event else {
        return None;
    };
    let code = FailureCode(*failure_code);
    let matches = match wanted {
        Some(w) => code == w,
        None => code.name().is_none(),
    };
    if !matches {
        return None;
    }
    let requested = f
        .requested
        .map_or_else(|| "nothing".to_string(), |r| r.to_string());
    let mut ev = vec![(i, format!("RDP_NEG_FAILURE {name} ({failure_code:#x})"))];
    if let Some(r) = f.request {
        ev.insert(0, (r, format!("the client requested {requested}")));
    }
    Hit::new(
        Confidence::Certain,
        format!("{name}, the client requested {requested}"),
        ev,
    )
}

macro_rules! neg_rule {
    ($fn_name:ident, $code:expr) => {
        fn $fn_name(f: &Facts<'_>) -> Option<Hit> {
            neg_failure(f, $code)
        }
    };
}
neg_rule!(neg_ssl_required, Some(FailureCode::SSL_REQUIRED_BY_SERVER));
neg_rule!(
    neg_ssl_not_allowed,
    Some(FailureCode::SSL_NOT_ALLOWED_BY_SERVER)
);
neg_rule!(
    neg_ssl_cert_not_on_server,
    Some(FailureCode::SSL_CERT_NOT_ON_SERVER)
);
neg_rule!(
    neg_inconsistent_flags,
    Some(FailureCode::INCONSISTENT_FLAGS)
);
neg_rule!(
    neg_hybrid_required,
    Some(FailureCode::HYBRID_REQUIRED_BY_SERVER)
);
/// RDP_NEG_FAILURE 6, or its TLS-level twin: a CertificateRequest, then a fatal alert from the server.
fn neg_ssl_with_user_auth_required(f: &Facts<'_>) -> Option<Hit> {
    neg_failure(f, Some(FailureCode::SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER))
        .or_else(|| client_certificate_required(f))
}
neg_rule!(neg_unknown_failure, None);

fn security_layer_mismatch(f: &Facts<'_>) -> Option<Hit> {
    let requested = f.requested?;
    let req = f.request?;
    if let (Some(cc), Some(selected)) = (f.confirm, f.selected) {
        let downgraded = selected == SecurityProtocols::RDP && requested != SecurityProtocols::RDP;
        let foreign = selected.0 & !requested.0 != 0;
        if !(downgraded || foreign) {
            return client_refused_selection(f, cc, requested, selected);
        }
        let ev = vec![
            (req, format!("the client requested {requested}")),
            (
                cc,
                format!("the server selected {selected}, which the client did not request"),
            ),
        ];
        let detail = format!("requested {requested}, selected {selected}");
        if f.client_is_probe {
            // The prober asks one offer at a time and hangs up after the answer: the fact, not a failure.
            return Some(Hit {
                confidence: Confidence::Certain,
                severity: Some(Severity::Advisory),
                detail: Some(detail),
                evidence: ev,
            });
        }
        return match f.failed_close() {
            Some(c)
                if c.dir == Direction::ClientToServer
                    && !f.sent_after(cc, Direction::ClientToServer) =>
            {
                let mut ev = ev;
                ev.push((
                    c.entry,
                    format!("{} without sending anything more", closing_words(&c)),
                ));
                Hit::new(Confidence::Certain, detail, ev)
            }
            _ if f.established.is_some() => Some(Hit {
                confidence: Confidence::Certain,
                severity: Some(Severity::Advisory),
                detail: Some(detail),
                evidence: ev,
            }),
            _ => Hit::new(Confidence::Likely, detail, ev),
        };
    }
    // A client that offered only standard security, answered by a bare confirm and then a disconnect:
    // the server requires TLS or NLA (xrdp does this; Windows sends SSL_REQUIRED_BY_SERVER instead).
    let cc = f.confirm?;
    if requested != SecurityProtocols::RDP || f.selected.is_some() {
        return None;
    }
    let (d, _) = f.after(cc).find(|(_, e)| {
        matches!(
            e.event,
            Event::McsDisconnectUltimatum { .. } | Event::X224Disconnect { .. }
        ) && e.dir == Some(Direction::ServerToClient)
    })?;
    if f.first(|e| matches!(e, Event::McsConnectResponse { .. }))
        .is_some()
    {
        return None;
    }
    let why = if f.sent_neg_request {
        "the client offered only standard RDP security"
    } else {
        "the client sent no RDP_NEG_REQ (standard RDP security only)"
    };
    Hit::new(
        Confidence::Likely,
        "the server hung up on a client offering only standard RDP security",
        vec![
            (f.request?, why.to_string()),
            (
                d,
                "the server disconnected before the MCS connect response: it wants TLS or NLA"
                    .to_string(),
            ),
        ],
    )
}

/// The server selected a protocol the client offered, and the client hung up at once without starting
/// it: the client insists on another of its offers (FreeRDP `/sec:nla` offers SSL|HYBRID, and closes
/// when the server, like xrdp, has no CredSSP and picks SSL).
fn client_refused_selection(
    f: &Facts<'_>,
    cc: usize,
    requested: SecurityProtocols,
    selected: SecurityProtocols,
) -> Option<Hit> {
    let c = f.failed_close()?;
    if c.dir != Direction::ClientToServer
        || c.entry < cc
        || f.sent_after(cc, Direction::ClientToServer)
        || f.client_hello.is_some()
        || requested == selected
    {
        return None;
    }
    let gap = f.gap_us(cc, c.entry).unwrap_or(0);
    Hit::new(
        Confidence::Likely,
        format!("requested {requested}, selected {selected}, and the client did not accept it"),
        vec![
            (f.request?, format!("the client requested {requested}")),
            (cc, format!("the server selected {selected}")),
            (
                c.entry,
                format!(
                    "{} {} later without starting it: it requires another of the protocols it offered",
                    closing_words(&c),
                    ms(gap)
                ),
            ),
        ],
    )
}

fn legacy_no_negotiation(f: &Facts<'_>) -> Option<Hit> {
    let cc = f.confirm?;
    if !f.sent_neg_request || f.selected.is_some() || f.requested == Some(SecurityProtocols::RDP) {
        return None;
    }
    let e = f.entry(cc)?;
    if !matches!(
        e.event,
        Event::ConnectionConfirm {
            well_formed: true,
            ..
        }
    ) {
        return None;
    }
    let severity = f.established.map(|_| Severity::Advisory);
    let ev = vec![
        (f.request?, format!("the client requested {}", f.requested?)),
        (
            cc,
            "the Connection Confirm carries no RDP_NEG_RSP: the server does not negotiate"
                .to_string(),
        ),
    ];
    Some(Hit {
        confidence: Confidence::Certain,
        severity,
        detail: Some("the server ignored RDP_NEG_REQ".to_string()),
        evidence: ev,
    })
}

// ---- TLS ----

fn alert_rule(
    f: &Facts<'_>,
    descriptions: &[u8],
    from: Option<Direction>,
    confidence: Confidence,
) -> Option<Hit> {
    let (i, e) = f.first(
        |e| matches!(e, Event::TlsAlert { description, .. } if descriptions.contains(description)),
    )?;
    if from.is_some_and(|d| e.dir != Some(d)) || f.established.is_some_and(|est| est < i) {
        return None;
    }
    let Event::TlsAlert { name, .. } = &e.event else {
        return None;
    };
    let who = e.dir.map_or("a side", |d| d.who());
    let mut ev = Vec::new();
    if let Some((ch, ce)) = f.client_hello.and_then(|c| Some((c, f.entry(c)?))) {
        if let Event::TlsClientHello {
            max_version,
            supported_versions,
            cipher_suites,
            ..
        } = &ce.event
        {
            ev.push((
                ch,
                format!(
                    "ClientHello offers up to {max_version} ({} versions listed, {} cipher suites)",
                    supported_versions.len(),
                    cipher_suites.len()
                ),
            ));
        }
    }
    if let Some((sh, se)) = f.server_hello.and_then(|s| Some((s, f.entry(s)?))) {
        if let Event::TlsServerHello {
            version_name,
            cipher_suite_name,
            ..
        } = &se.event
        {
            ev.push((
                sh,
                format!("ServerHello chose {version_name} with {cipher_suite_name}"),
            ));
        }
    }
    ev.push((i, format!("the {who} sent the fatal alert {name}")));
    Hit::new(confidence, format!("{name} from the {who}"), ev)
}

fn tls_version_mismatch(f: &Facts<'_>) -> Option<Hit> {
    alert_rule(f, &[70, 86], None, Confidence::Certain)
}

fn tls_no_shared_cipher(f: &Facts<'_>) -> Option<Hit> {
    let hit = alert_rule(
        f,
        &[40, 71],
        Some(Direction::ServerToClient),
        Confidence::Likely,
    )?;
    // After its ServerHello the server had already chosen a suite: the alert is about something else.
    let alert = hit.evidence.last()?.0;
    f.server_hello.is_none_or(|sh| alert < sh).then_some(hit)
}

/// The server asked for a client certificate (CertificateRequest) and then refused the handshake.
fn client_certificate_required(f: &Facts<'_>) -> Option<Hit> {
    let (cr, _) = f.first_from(Direction::ServerToClient, |e| {
        matches!(e, Event::TlsCertificateRequest)
    })?;
    let (i, e) = f.after(cr).find(|(_, e)| {
        e.dir == Some(Direction::ServerToClient)
            && matches!(e.event, Event::TlsAlert { fatal: true, .. })
    })?;
    let Event::TlsAlert { name, .. } = &e.event else {
        return None;
    };
    Hit::new(
        Confidence::Likely,
        format!("the server asked for a client certificate, then sent {name}"),
        vec![
            (cr, "the server sent a TLS CertificateRequest".to_string()),
            (i, format!("the server refused the handshake with {name}")),
        ],
    )
}

fn tls_server_abort(f: &Facts<'_>) -> Option<Hit> {
    let ch = f.client_hello?;
    if f.server_hello.is_some_and(|sh| sh > ch) {
        return None;
    }
    let c = f.failed_close()?;
    if c.dir != Direction::ServerToClient || c.entry < ch {
        return None;
    }
    let gap = f.gap_us(ch, c.entry).unwrap_or(0);
    let ev = vec![
        (ch, "TLS ClientHello sent".to_string()),
        (
            c.entry,
            format!(
                "{} {} later, with no ServerHello",
                closing_words(&c),
                ms(gap)
            ),
        ),
    ];
    match c.how {
        Close::Fin | Close::Rst => Hit::new(
            Confidence::Likely,
            format!(
                "{} after the ClientHello, no ServerHello and no alert",
                ms(gap)
            ),
            ev,
        ),
        // The server dropped TLS and sent an RDP disconnect in the clear (xrdp when it cannot load its
        // certificate or key): a hang-up, with words.
        Close::Disconnect => {
            let words = match &f.entry(c.entry)?.event {
                Event::McsDisconnectUltimatum { name, .. } => {
                    format!("an MCS Disconnect Provider Ultimatum ({name})")
                }
                Event::X224Disconnect { name, .. } => {
                    format!("an X.224 Disconnect Request ({name})")
                }
                _ => return None,
            };
            let ev = vec![
                (ch, "TLS ClientHello sent".to_string()),
                (
                    c.entry,
                    format!(
                        "the server answered {} later with {words} in the clear, no ServerHello",
                        ms(gap)
                    ),
                ),
            ];
            Hit::new(
                Confidence::Likely,
                format!(
                    "{} after the ClientHello the server gave up TLS: {words} in the clear, no ServerHello and no alert",
                    ms(gap)
                ),
                ev,
            )
        }
        // An alert with a description the version and cipher rules do not claim.
        Close::FatalAlert => {
            let e = f.entry(c.entry)?;
            match &e.event {
                Event::TlsAlert {
                    description, name, ..
                } if ![40, 70, 71, 86].contains(description) => Hit::new(
                    Confidence::Possible,
                    format!("the server refused the ClientHello with {name}"),
                    ev,
                ),
                _ => None,
            }
        }
        _ => None,
    }
}

/// The client ended the connection after the server's side of the TLS handshake and before it sent
/// anything of its own inside TLS (or, in CredSSP, before it sent credentials): it rejected the server.
/// Returns the close and whether it came mid-CredSSP.
fn client_rejection(f: &Facts<'_>) -> Option<(Closing, bool)> {
    if f.client_is_probe {
        return None;
    }
    let sh = f.server_hello?;
    let c = f.failed_close()?;
    if c.dir != Direction::ClientToServer || c.entry < sh {
        return None;
    }
    let app_data_before_close = |from: usize| {
        f.between(from, c.entry).any(|e| {
            e.dir == Some(Direction::ClientToServer)
                && matches!(e.event, Event::TlsApplicationData { .. })
        })
    };
    let Some(done) = f.tls_done else {
        return Some((c, false));
    };
    if !app_data_before_close(done) {
        return Some((c, false));
    }
    // Mid-CredSSP: the client stopped after the server proved its key, without sending credentials.
    let (client, server) = credssp_flights(f, c.entry);
    (c.stage == Stage::CredSsp && server >= 1 && client <= 2).then_some((c, true))
}

fn client_aborted_after_handshake(f: &Facts<'_>) -> Option<Hit> {
    let (c, mid_credssp) = client_rejection(f)?;
    // The last thing the server sent before the client gave up.
    let (last_srv, ls) = f.last_before(c.entry, |e| e.dir == Some(Direction::ServerToClient))?;
    let what = match &ls.event {
        Event::TlsServerHelloDone => "ServerHelloDone (its certificate)",
        Event::TlsCertificate { .. } => "certificate",
        Event::TlsEncryptedHandshake { .. } | Event::TlsChangeCipherSpec => "Finished",
        Event::TlsApplicationData { .. } if ls.stage == Stage::CredSsp => "CredSSP answer",
        // TLS 1.3: NewSessionTicket and other post-handshake records, encrypted.
        Event::TlsApplicationData { .. } => "encrypted records after the handshake",
        Event::TlsServerHello { .. } => "ServerHello",
        _ => "last message",
    };
    let gap = f.gap_us(last_srv, c.entry).unwrap_or(0);
    let mut ev = vec![
        (last_srv, format!("the server sent its {what}")),
        (c.entry, format!("{} {} later", closing_words(&c), ms(gap))),
    ];
    if let Some(chain) = f.chains.last() {
        if let Some(leaf) = chain.leaf() {
            ev.push((
                chain.entry,
                format!(
                    "the server's certificate: {} (issuer {})",
                    leaf.subject, leaf.issuer
                ),
            ));
        }
    }
    let (confidence, detail) = if mid_credssp {
        (Confidence::Likely, format!("the client stopped during CredSSP, {} after the server's {what}, without sending credentials", ms(gap)))
    } else {
        (
            Confidence::Certain,
            format!(
                "the client ended the connection {} after the server's {what}",
                ms(gap)
            ),
        )
    };
    Hit::new(confidence, detail, ev)
}

fn tls_legacy_version(f: &Facts<'_>) -> Option<Hit> {
    if let Some((i, _)) = f.first_from(Direction::ServerToClient, |e| {
        matches!(e, Event::Sslv2Hello { server: true })
    }) {
        return Hit::new(
            Confidence::Certain,
            "the server speaks SSLv2",
            vec![(
                i,
                "SSLv2 SERVER-HELLO: a protocol broken since 1996 (RFC 6176)".to_string(),
            )],
        );
    }
    let sh = f.server_hello?;
    let Event::TlsServerHello {
        version,
        version_name,
        ..
    } = &f.entry(sh)?.event
    else {
        return None;
    };
    if *version > 0x0302 {
        return None;
    }
    Hit::new(
        Confidence::Certain,
        format!("the server chose {version_name}"),
        vec![(
            sh,
            format!("ServerHello chose {version_name}, deprecated (RFC 8996)"),
        )],
    )
}

// ---- certificates ----

/// A certificate fact is a failure when the client rejected the server after seeing it, else advice.
fn cert_severity(f: &Facts<'_>, hard: bool) -> (Severity, Confidence) {
    match (client_rejection(f).is_some(), hard) {
        (true, true) => (Severity::Failure, Confidence::Likely),
        (true, false) => (Severity::Failure, Confidence::Possible),
        (false, _) => (Severity::Advisory, Confidence::Certain),
    }
}

fn cert_rule(
    f: &Facts<'_>,
    hard: bool,
    judge: impl Fn(&Chain<'_>) -> Option<String>,
) -> Option<Hit> {
    let (chain, words) = f.chains.iter().find_map(|c| Some((c, judge(c)?)))?;
    let (severity, confidence) = cert_severity(f, hard);
    Some(Hit {
        confidence,
        severity: Some(severity),
        detail: Some(words.clone()),
        evidence: vec![(chain.entry, words)],
    })
}

/// The calendar date of a certificate's display time (`YYYY-MM-DDThh:mm:ssZ`).
fn day(display: &str) -> &str {
    display.get(..10).unwrap_or(display)
}

fn cert_expired(f: &Facts<'_>) -> Option<Hit> {
    cert_rule(f, true, |c| {
        c.parsed().find_map(|s| match s.validity_at(c.judged_at) {
            Validity::Expired { days_ago } => Some(format!(
                "{} expired on {} ({days_ago} days before it was seen)",
                s.subject,
                day(&s.not_after_display)
            )),
            _ => None,
        })
    })
}

fn cert_not_yet_valid(f: &Facts<'_>) -> Option<Hit> {
    cert_rule(f, true, |c| {
        c.parsed().find_map(|s| match s.validity_at(c.judged_at) {
            Validity::NotYetValid { .. } => Some(format!(
                "{} is valid only from {} (a clock is wrong, or it was issued early)",
                s.subject,
                day(&s.not_before_display)
            )),
            _ => None,
        })
    })
}

fn cert_expiring_soon(f: &Facts<'_>) -> Option<Hit> {
    let warn = f.ctx.warn_days;
    let (chain, words) = f.chains.iter().find_map(|c| {
        let leaf = c.leaf()?;
        match leaf.validity_at(c.judged_at) {
            Validity::Valid { days_left } if days_left <= warn => Some((
                c,
                format!(
                    "{} expires on {} ({days_left} days left)",
                    leaf.subject,
                    day(&leaf.not_after_display)
                ),
            )),
            _ => None,
        }
    })?;
    Some(Hit {
        confidence: Confidence::Certain,
        severity: Some(Severity::Advisory),
        detail: Some(words.clone()),
        evidence: vec![(chain.entry, words)],
    })
}

fn cert_name_mismatch(f: &Facts<'_>) -> Option<Hit> {
    let name = f.server_name.as_deref()?;
    cert_rule(f, false, |c| {
        let leaf = c.leaf()?;
        (!leaf.matches_name(name)).then(|| {
            let names: Vec<&str> = leaf
                .san_dns
                .iter()
                .chain(leaf.common_names.iter())
                .map(String::as_str)
                .collect();
            format!(
                "the client used \"{name}\", the certificate names {}",
                if names.is_empty() {
                    "nothing".to_string()
                } else {
                    names.join(", ")
                }
            )
        })
    })
}

fn cert_self_signed(f: &Facts<'_>) -> Option<Hit> {
    cert_rule(f, false, |c| {
        let leaf = c.leaf()?;
        (leaf.self_issued && leaf.self_signature_valid != Some(false)).then(|| {
            format!(
                "{} is self-signed (SHA-256 {})",
                leaf.subject, leaf.sha256_fingerprint
            )
        })
    })
}

fn cert_untrusted(f: &Facts<'_>) -> Option<Hit> {
    cert_rule(f, false, |c| {
        let leaf = c.leaf()?;
        if leaf.self_issued {
            return None;
        }
        let last = c.parsed().last()?;
        (!last.self_issued).then(|| format!("the chain ends at {}, issued by {} which the server did not send: the client must already trust it", last.subject, last.issuer))
    })
}

fn cert_weak_key(f: &Facts<'_>) -> Option<Hit> {
    cert_rule(f, false, |c| {
        c.parsed()
            .find(|s| s.weak_key())
            .map(|s| format!("{} has a {:?} key", s.subject, s.public_key))
    })
}

fn cert_weak_signature(f: &Facts<'_>) -> Option<Hit> {
    cert_rule(f, false, |c| {
        c.parsed()
            .find(|s| s.weak_signature())
            .map(|s| format!("{} is signed with {}", s.subject, s.signature_algorithm))
    })
}

fn cert_wrong_usage(f: &Facts<'_>) -> Option<Hit> {
    cert_rule(f, true, |c| {
        let leaf = c.leaf()?;
        (!leaf.server_auth_allowed()).then(|| {
            format!(
                "{} does not allow server authentication (EKU {:?})",
                leaf.subject, leaf.extended_key_usage
            )
        })
    })
}

// ---- CredSSP ----

/// The CredSSP flight a close came after: (client flights, server flights) before it.
fn credssp_flights(f: &Facts<'_>, before: usize) -> (u32, u32) {
    let start = f.tls_done.unwrap_or(0);
    f.between(start, before)
        .fold((0, 0), |(c, s), e| match (&e.event, e.dir) {
            (Event::TlsApplicationData { .. }, Some(Direction::ClientToServer)) => (c + 1, s),
            (Event::TlsApplicationData { .. }, Some(Direction::ServerToClient)) => (c, s + 1),
            _ => (c, s),
        })
}

fn nla_auth_failed(f: &Facts<'_>) -> Option<Hit> {
    let c = f.failed_close()?;
    if c.stage != Stage::CredSsp || c.dir != Direction::ServerToClient {
        return None;
    }
    let (client, server) = credssp_flights(f, c.entry);
    let (confidence, after) = match client {
        0 => return None,
        1 => (
            Confidence::Possible,
            "the client's first CredSSP message (NTLM/Kerberos negotiation)",
        ),
        2 => (
            Confidence::Likely,
            "the client's authentication (NTLM AUTHENTICATE / Kerberos AP-REQ)",
        ),
        _ => (
            Confidence::Likely,
            "the client's credentials (TSRequest authInfo)",
        ),
    };
    let ev = vec![(f.tls_done?, format!("TLS done; CredSSP began ({client} client and {server} server flights before the close)")), (c.entry, format!("{} after {after}", closing_words(&c)))];
    Hit::new(
        confidence,
        format!("{} after {after}", closing_words(&c)),
        ev,
    )
}

fn credssp_version_mismatch(f: &Facts<'_>) -> Option<Hit> {
    let c = f.failed_close()?;
    if f.client_is_probe && c.dir == Direction::ClientToServer {
        return None;
    }
    if c.stage != Stage::CredSsp {
        return None;
    }
    let (client, server) = credssp_flights(f, c.entry);
    let early = (c.dir == Direction::ServerToClient && client == 1)
        || (c.dir == Direction::ClientToServer && server >= 1 && client <= 2);
    early.then(|| Hit {
        confidence: Confidence::Possible,
        severity: None,
        detail: Some(format!(
            "{} early in CredSSP ({client} client, {server} server flights)",
            closing_words(&c)
        )),
        evidence: vec![(
            c.entry,
            format!(
                "{} early in CredSSP: one side may refuse the other's CredSSP version",
                closing_words(&c)
            ),
        )],
    })
}

fn early_user_auth_denied(f: &Facts<'_>) -> Option<Hit> {
    if !f.selected?.contains(SecurityProtocols::HYBRID_EX) {
        return None;
    }
    let c = f.failed_close()?;
    if c.stage != Stage::SecureChannel
        || f.sent_after(f.tls_done?, Direction::ClientToServer) && credssp_flights(f, c.entry).0 > 3
    {
        return None;
    }
    Hit::new(Confidence::Likely, "the connection ended right after the server's Early User Authorization Result", vec![(c.entry, format!("{} after the server's third CredSSP-stage flight (the 4-byte Early User Authorization Result)", closing_words(&c)))])
}

// ---- RDP ----

fn server_denied_connection(f: &Facts<'_>) -> Option<Hit> {
    let (i, _) = f.first(|e| matches!(e, Event::SetErrorInfo { error_info: 7, .. }))?;
    Hit::new(
        Confidence::Certain,
        "Set Error Info PDU ERRINFO_SERVER_DENIED_CONNECTION",
        vec![(
            i,
            "the server sent Set Error Info 0x7 (ERRINFO_SERVER_DENIED_CONNECTION)".to_string(),
        )],
    )
}

fn server_disconnected(f: &Facts<'_>) -> Option<Hit> {
    if let Some((i, e)) = f.first(|e| {
        matches!(
            e,
            Event::SetErrorInfo { .. }
                | Event::McsDisconnectUltimatum { .. }
                | Event::X224Disconnect { .. }
        )
    }) {
        let words = match &e.event {
            Event::SetErrorInfo { error_info: 7, .. } => return None,
            Event::SetErrorInfo { error_info, name } => {
                format!("Set Error Info {name} ({error_info:#x})")
            }
            Event::McsDisconnectUltimatum { name, .. } => {
                format!("MCS Disconnect Provider Ultimatum ({name})")
            }
            Event::X224Disconnect { name, .. } => format!("X.224 Disconnect Request ({name})"),
            _ => return None,
        };
        // During the TLS handshake the TLS rules judge it (a server that gave up TLS, or that sent one
        // after its fatal alert).
        let in_tls_handshake = e.stage == Stage::TlsHandshake;
        if e.dir == Some(Direction::ServerToClient)
            && f.established.is_none_or(|est| i < est)
            && !in_tls_handshake
        {
            return Hit::new(
                Confidence::Likely,
                words.clone(),
                vec![(i, format!("the server sent {words}"))],
            );
        }
    }
    let c = f.failed_close()?;
    (c.dir == Direction::ServerToClient
        && matches!(c.stage, Stage::SecureChannel | Stage::StandardSecurity)
        && f.selected
            .is_none_or(|s| !s.contains(SecurityProtocols::HYBRID_EX)))
    .then(|| Hit {
        confidence: Confidence::Possible,
        severity: None,
        detail: Some(format!("{} during {}", closing_words(&c), c.stage.label())),
        evidence: vec![(
            c.entry,
            format!("{} during {}", closing_words(&c), c.stage.label()),
        )],
    })
}

// ---- advisories ----

fn weak_standard_rdp_security(f: &Facts<'_>) -> Option<Hit> {
    if let (Some(cc), Some(SecurityProtocols::RDP)) = (f.confirm, f.selected) {
        if f.first(|e| matches!(e, Event::McsConnectResponse { .. }))
            .is_none()
        {
            let words = "the server selected standard RDP security (PROTOCOL_RDP)".to_string();
            return Hit::new(Confidence::Certain, words.clone(), vec![(cc, words)]);
        }
    }
    let (i, e) = f.first(
        |e| matches!(e, Event::McsConnectResponse { encryption_method: Some(m), .. } if *m != 0),
    )?;
    let Event::McsConnectResponse {
        encryption_method_name,
        encryption_level_name,
        ..
    } = &e.event
    else {
        return None;
    };
    let words = format!(
        "standard RDP security: RC4 {}, level {}",
        encryption_method_name.as_deref().unwrap_or("?"),
        encryption_level_name.as_deref().unwrap_or("?")
    );
    Hit::new(Confidence::Certain, words.clone(), vec![(i, words)])
}

fn nla_not_required(f: &Facts<'_>) -> Option<Hit> {
    let cc = f.confirm?;
    let selected = f.selected?;
    (selected.uses_tls() && !selected.uses_credssp()).then(|| {
        let words =
            format!("the server selected {selected}: TLS without network level authentication");
        Hit {
            confidence: Confidence::Certain,
            severity: Some(Severity::Advisory),
            detail: Some(words.clone()),
            evidence: vec![(cc, words)],
        }
    })
}

fn path_degraded(f: &Facts<'_>) -> Option<Hit> {
    let slow = |a: Option<usize>, b: Option<usize>, limit: i64, what: &str| {
        let (a, b) = (a?, b?);
        let gap = f.gap_us(a, b)?;
        (gap > limit).then(|| (b, format!("{what} took {}", ms(gap))))
    };
    let syn = f.first(|e| matches!(e, Event::TcpSyn)).map(|(i, _)| i);
    let syn_ack = f
        .first(|e| matches!(e, Event::TcpConnected { .. }))
        .map(|(i, _)| i);
    let ev: Vec<(usize, String)> = [
        slow(syn, syn_ack, 300_000, "the TCP handshake"),
        slow(f.request, f.confirm, 1_000_000, "the X.224 exchange"),
        slow(
            f.client_hello,
            f.server_hello,
            1_000_000,
            "the ClientHello → ServerHello exchange",
        ),
    ]
    .into_iter()
    .flatten()
    .collect();
    if ev.is_empty() {
        return None;
    }
    let detail = ev
        .iter()
        .map(|(_, t)| t.as_str())
        .collect::<Vec<_>>()
        .join("; ");
    Hit::new(Confidence::Possible, detail, ev)
}

/// The rules, in table order.
pub static RULES: &[Rule] = &[
    Rule { id: "tcp-refused", title: "Connection refused", severity: Severity::Failure, explains: CONNECT_FAILED, remedy: "Nothing listens on that port: check the RDP listener's port (PortNumber under RDP-Tcp) and that the Remote Desktop Services service runs.", host_checks: &[LISTENER], lookalikes: &[], check: tcp_refused },
    Rule { id: "tcp-unreachable", title: "Rejected by the network", severity: Severity::Failure, explains: CONNECT_FAILED, remedy: "A firewall or router rejects the connection: check the inbound rule, the host firewall and the route.", host_checks: &[FIREWALL], lookalikes: &[], check: tcp_unreachable },
    Rule { id: "tcp-filtered", title: "No answer to the TCP connection", severity: Severity::Failure, explains: CONNECT_FAILED, remedy: "A firewall drops the traffic (or the host is down): allow TCP 3389 in (\"Remote Desktop - User Mode (TCP-In)\") and on the path.", host_checks: &[FIREWALL, "that the host is up and has that address"], lookalikes: &[], check: tcp_filtered },
    Rule { id: "not-rdp", title: "Not an RDP server", severity: Severity::Failure, explains: SOCKET_CLOSED, remedy: "Another service answers on this port, or the port is wrong: point the client at the RDP listener.", host_checks: &[LISTENER], lookalikes: &[], check: not_rdp },
    Rule { id: "malformed-reply", title: "Malformed reply", severity: Severity::Failure, explains: SOCKET_CLOSED, remedy: "The server (or a middlebox rewriting traffic) sends broken PDUs: capture next to the server to see which one.", host_checks: &["whether a proxy, load balancer or IPS sits between client and server"], lookalikes: &[], check: malformed_reply },
    Rule { id: "server-silent", title: "The server never answered", severity: Severity::Failure, explains: SOCKET_CLOSED, remedy: "The listener is hung, or a middlebox swallows the traffic: restart Remote Desktop Services; capture on the server side.", host_checks: &[LISTENER], lookalikes: &[], check: server_silent },
    Rule { id: "server-reset-after-request", title: "Server reset the connection after the Connection Request", severity: Severity::Failure, explains: SOCKET_CLOSED, remedy: "The listener rejects this client (connection limit, IP restriction, overload), or an IPS/firewall resets RDP.", host_checks: &["RD Session Host connection limits and IP restrictions", "IPS/firewall logs for resets of RDP"], lookalikes: &["server-closed-after-request"], check: server_reset_after_request },
    Rule { id: "server-closed-after-request", title: "Server closed the connection after the Connection Request", severity: Severity::Failure, explains: SOCKET_CLOSED, remedy: "The listener rejects this client: connection limit, IP restriction or an overloaded server.", host_checks: &["RD Session Host connection limits and IP restrictions", "TerminalServices-RemoteConnectionManager operational log"], lookalikes: &["server-reset-after-request"], check: server_closed_after_request },
    Rule { id: "neg-ssl-required", title: "Server requires TLS", severity: Severity::Failure, explains: SOCKET_CLOSED, remedy: "Let the client use TLS (or NLA): the client's authentication level / security settings forbid it.", host_checks: &[CLIENT_AUTH_LEVEL, RDP_TCP_KEYS], lookalikes: &[], check: neg_ssl_required },
    Rule { id: "neg-ssl-not-allowed", title: "Server allows only standard RDP security", severity: Severity::Failure, explains: SOCKET_CLOSED, remedy: "The server is forced to standard RDP security (SecurityLayer=0): raise it to 1 (negotiate) or 2 (TLS).", host_checks: &[RDP_TCP_KEYS], lookalikes: &[], check: neg_ssl_not_allowed },
    Rule { id: "neg-ssl-cert-not-on-server", title: "Server has no usable certificate", severity: Severity::Failure, explains: SOCKET_CLOSED, remedy: "Recreate the self-signed RDP certificate (delete it from the Remote Desktop store and restart TermService) or assign a valid one.", host_checks: &[CERT_STORE, TS_1057, TS_1058], lookalikes: &["tls-server-abort"], check: neg_ssl_cert_not_on_server },
    Rule { id: "neg-inconsistent-flags", title: "Client sent inconsistent negotiation flags", severity: Severity::Failure, explains: SOCKET_CLOSED, remedy: "The client's requested protocols contradict the security already in effect: check the client software and its settings.", host_checks: &[CLIENT_AUTH_LEVEL], lookalikes: &[], check: neg_inconsistent_flags },
    Rule { id: "neg-hybrid-required", title: "Server requires NLA (CredSSP)", severity: Severity::Failure, explains: SOCKET_CLOSED, remedy: "Enable CredSSP (NLA) on the client, or relax UserAuthentication on the server.", host_checks: &[CLIENT_AUTH_LEVEL, RDP_TCP_KEYS], lookalikes: &[], check: neg_hybrid_required },
    Rule { id: "neg-ssl-with-user-auth-required", title: "Server requires TLS with a client certificate", severity: Severity::Failure, explains: SOCKET_CLOSED, remedy: "The server requires certificate-based client authentication: give the client a certificate or change the server's policy.", host_checks: &[RDP_TCP_KEYS], lookalikes: &[], check: neg_ssl_with_user_auth_required },
    Rule { id: "neg-unknown-failure", title: "Unknown negotiation failure", severity: Severity::Failure, explains: SOCKET_CLOSED, remedy: "The server sent a failure code the specification does not define: check the server software.", host_checks: &[], lookalikes: &[], check: neg_unknown_failure },
    Rule { id: "security-layer-mismatch", title: "Security layer mismatch", severity: Severity::Failure, explains: SOCKET_CLOSED, remedy: "Align the server's SecurityLayer / UserAuthentication policy with what clients offer.", host_checks: &[RDP_TCP_KEYS, CLIENT_AUTH_LEVEL], lookalikes: &["server-disconnected"], check: security_layer_mismatch },
    Rule { id: "legacy-no-negotiation", title: "Server does not negotiate security", severity: Severity::Failure, explains: SOCKET_CLOSED, remedy: "A pre-RDP 5.2 server, or one ignoring negotiation, offers only standard RDP security: upgrade or reconfigure it for TLS.", host_checks: &[RDP_TCP_KEYS], lookalikes: &[], check: legacy_no_negotiation },
    Rule { id: "tls-version-mismatch", title: "No TLS version in common", severity: Severity::Failure, explains: SOCKET_CLOSED, remedy: "Enable TLS 1.2 on the server (SChannel protocols), or the version the client requires.", host_checks: &["SChannel protocol keys: HKLM\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL\\Protocols", SCHANNEL_CRED, SCHANNEL_ALERT], lookalikes: &[], check: tls_version_mismatch },
    Rule { id: "tls-no-shared-cipher", title: "No TLS cipher suite in common", severity: Severity::Failure, explains: SOCKET_CLOSED, remedy: "Align cipher suite order and FIPS policy on both sides.", host_checks: &[SCHANNEL_CIPHER, "Group Policy \"SSL Cipher Suite Order\" and \"System cryptography: Use FIPS compliant algorithms\""], lookalikes: &["tls-server-abort"], check: tls_no_shared_cipher },
    Rule { id: "tls-server-abort", title: "Server aborted the TLS handshake", severity: Severity::Failure, explains: SOCKET_CLOSED, remedy: "The server cannot use its certificate or key (expired or corrupt self-signed certificate, a key or hash its policy refuses, a key it cannot open). Delete the RDP self-signed certificate and restart TermService, or assign a valid certificate.", host_checks: &[SCHANNEL_KEY, SCHANNEL_CRED, TS_1057, TS_1058, CERT_STORE, "permissions on C:\\ProgramData\\Microsoft\\Crypto\\RSA\\MachineKeys"], lookalikes: &["tls-no-shared-cipher", "tls-version-mismatch"], check: tls_server_abort },
    Rule { id: "cert-expired", title: "Certificate expired", severity: Severity::Failure, explains: SOCKET_CLOSED, remedy: "Renew it: delete the expired certificate from the Remote Desktop store and restart TermService (a new self-signed one is made), or re-issue.", host_checks: &[CERT_STORE, TS_1058], lookalikes: &[], check: cert_expired },
    Rule { id: "cert-not-yet-valid", title: "Certificate not yet valid", severity: Severity::Failure, explains: SOCKET_CLOSED, remedy: "Fix the server's or client's clock, or re-issue the certificate.", host_checks: &["`w32tm /query /status` on both sides"], lookalikes: &[], check: cert_not_yet_valid },
    Rule { id: "cert-wrong-usage", title: "Certificate not for server authentication", severity: Severity::Failure, explains: SOCKET_CLOSED, remedy: "Re-issue with the Server Authentication EKU (and digitalSignature / keyEncipherment).", host_checks: &[CERT_STORE], lookalikes: &[], check: cert_wrong_usage },
    Rule { id: "cert-name-mismatch", title: "Certificate name does not match", severity: Severity::Failure, explains: SOCKET_CLOSED, remedy: "Re-issue the certificate with the name clients use in its SAN, or connect by that name.", host_checks: &[CERT_STORE], lookalikes: &[], check: cert_name_mismatch },
    Rule { id: "cert-self-signed", title: "Self-signed certificate", severity: Severity::Failure, explains: SOCKET_CLOSED, remedy: "Deploy a CA-issued certificate, or trust this one on the clients.", host_checks: &[CERT_STORE], lookalikes: &["cert-untrusted"], check: cert_self_signed },
    Rule { id: "cert-untrusted", title: "Certificate chain incomplete", severity: Severity::Failure, explains: SOCKET_CLOSED, remedy: "Send the full chain, and make sure clients trust its root.", host_checks: &[CERT_STORE], lookalikes: &["cert-self-signed"], check: cert_untrusted },
    Rule { id: "cert-weak-key", title: "Weak certificate key", severity: Severity::Failure, explains: SOCKET_CLOSED, remedy: "Re-issue with an RSA key of at least 2048 bits (or ECDSA P-256).", host_checks: &[CERT_STORE], lookalikes: &[], check: cert_weak_key },
    Rule { id: "cert-weak-signature", title: "Weak certificate signature", severity: Severity::Failure, explains: SOCKET_CLOSED, remedy: "Re-issue signed with SHA-256 or better.", host_checks: &[CERT_STORE], lookalikes: &[], check: cert_weak_signature },
    Rule { id: "client-aborted-after-handshake", title: "Client rejected the server", severity: Severity::Failure, explains: SOCKET_CLOSED, remedy: "The client rejected the server after seeing it, most often its certificate (untrusted, expired, wrong name) or a certificate prompt: probe the server to see the certificate, and check the client's trust settings.", host_checks: &[CERT_STORE, "the client's event log: TerminalServices-ClientActiveXCore operational, event 1026 with the disconnect reason"], lookalikes: &["credssp-version-mismatch"], check: client_aborted_after_handshake },
    Rule { id: "nla-auth-failed", title: "Network level authentication failed", severity: Severity::Failure, explains: SOCKET_CLOSED, remedy: "Check the credentials and the account's right to log on through Remote Desktop Services; check CredSSP patch levels on both sides.", host_checks: &[LOGON_EVENTS, "\"Allow log on through Remote Desktop Services\" and membership of Remote Desktop Users", CREDSSP_POLICY], lookalikes: &["credssp-version-mismatch"], check: nla_auth_failed },
    Rule { id: "credssp-version-mismatch", title: "CredSSP version mismatch", severity: Severity::Failure, explains: SOCKET_CLOSED, remedy: "Patch both sides (CVE-2018-0886 updates) or align the \"Encryption Oracle Remediation\" policy.", host_checks: &[CREDSSP_POLICY], lookalikes: &["nla-auth-failed", "client-aborted-after-handshake"], check: credssp_version_mismatch },
    Rule { id: "early-user-auth-denied", title: "Early user authorization denied", severity: Severity::Failure, explains: SOCKET_CLOSED, remedy: "The user may not log on through Remote Desktop: grant \"Allow log on through Remote Desktop Services\" (Remote Desktop Users group).", host_checks: &["\"Allow log on through Remote Desktop Services\" and \"Deny log on through Remote Desktop Services\" for the user", LOGON_EVENTS], lookalikes: &["nla-auth-failed"], check: early_user_auth_denied },
    Rule { id: "server-denied-connection", title: "Server denied the connection", severity: Severity::Failure, explains: &["extended 0x7 (ERRINFO_SERVER_DENIED_CONNECTION)"], remedy: "Server policy, licensing or a connection limit refused the session: see the server's TerminalServices logs.", host_checks: &["TerminalServices-LocalSessionManager and RemoteConnectionManager operational logs", "RD licensing: grace period, license server reachable"], lookalikes: &[], check: server_denied_connection },
    Rule { id: "server-disconnected", title: "Server disconnected during setup", severity: Severity::Failure, explains: SOCKET_CLOSED, remedy: "The server ended the setup after the security exchange: see its log for why.", host_checks: &["TerminalServices-LocalSessionManager and RemoteConnectionManager operational logs"], lookalikes: &["security-layer-mismatch"], check: server_disconnected },
    Rule { id: "weak-standard-rdp-security", title: "Standard RDP security (RC4) in use", severity: Severity::Advisory, explains: NO_CODES, remedy: "Enable TLS and NLA (SecurityLayer=2, UserAuthentication=1).", host_checks: &[RDP_TCP_KEYS], lookalikes: &[], check: weak_standard_rdp_security },
    Rule { id: "cert-expiring-soon", title: "Certificate expires soon", severity: Severity::Advisory, explains: NO_CODES, remedy: "Renew the certificate before it expires.", host_checks: &[CERT_STORE], lookalikes: &[], check: cert_expiring_soon },
    Rule { id: "tls-legacy-version", title: "Deprecated TLS version", severity: Severity::Advisory, explains: NO_CODES, remedy: "Enable TLS 1.2 (and 1.3) on the server and disable TLS 1.0/1.1.", host_checks: &["SChannel protocol keys: HKLM\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL\\Protocols"], lookalikes: &[], check: tls_legacy_version },
    Rule { id: "nla-not-required", title: "NLA not required", severity: Severity::Advisory, explains: NO_CODES, remedy: "Require network level authentication (UserAuthentication=1, \"Require user authentication for remote connections by using Network Level Authentication\").", host_checks: &[RDP_TCP_KEYS], lookalikes: &[], check: nla_not_required },
    Rule { id: "path-degraded", title: "Slow network path", severity: Severity::Advisory, explains: NO_CODES, remedy: "Network quality (VPN, MTU, latency): large graphics sessions suffer first.", host_checks: &["ping / MTU path discovery between client and server"], lookalikes: &[], check: path_degraded },
];
