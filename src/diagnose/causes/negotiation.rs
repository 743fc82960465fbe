//! Negotiation: the Connection Confirm's answer to what the client offered (RDP_NEG_FAILURE codes, a
//! protocol the client did not ask for, no negotiation at all).

use super::checks as c;
use super::{Cause, CauseId, CauseStage};
use crate::diagnose::duration_text as ms;
use crate::diagnose::facts::Facts;
use crate::diagnose::rules::{closing_words, Hit, SOCKET_CLOSED};
use crate::diagnose::{Confidence, Severity};
use crate::session::{Direction, Event};
use crate::wire::rdp_neg::{FailureCode, SecurityProtocols};

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

#[rustfmt::skip]
pub static CAUSES: &[Cause] = &[
    Cause { id: CauseId::LegacyNoNegotiation, stage: CauseStage::Negotiation, rank: 30, title: "Server does not negotiate security", remedy: "A pre-RDP 5.2 server, or one ignoring negotiation, offers only standard RDP security: upgrade or reconfigure it for TLS.", host_checks: &[c::SECURITY_LAYER], explains: SOCKET_CLOSED, lookalikes: &[], symptoms: &[], named_by_alerts: &[], severity: Severity::Failure, check: legacy_no_negotiation },
    Cause { id: CauseId::NegSslRequired, stage: CauseStage::Negotiation, rank: 31, title: "Server requires TLS", remedy: "Let the client use TLS (or NLA): the client's authentication level / security settings forbid it.", host_checks: &[c::CLIENT_AUTH_LEVEL, c::SECURITY_LAYER], explains: SOCKET_CLOSED, lookalikes: &[], symptoms: &[], named_by_alerts: &[], severity: Severity::Failure, check: neg_ssl_required },
    Cause { id: CauseId::NegSslNotAllowed, stage: CauseStage::Negotiation, rank: 32, title: "Server allows only standard RDP security", remedy: "The server is forced to standard RDP security (SecurityLayer=0): raise it to 1 (negotiate) or 2 (TLS).", host_checks: &[c::SECURITY_LAYER], explains: SOCKET_CLOSED, lookalikes: &[], symptoms: &[], named_by_alerts: &[], severity: Severity::Failure, check: neg_ssl_not_allowed },
    Cause { id: CauseId::NegSslCertNotOnServer, stage: CauseStage::Negotiation, rank: 33, title: "Server has no usable certificate", remedy: "Recreate the self-signed RDP certificate (delete it from the Remote Desktop store and restart TermService) or assign a valid one.", host_checks: &[c::RDP_CERT_STORE, c::TS_1057, c::TS_1058], explains: SOCKET_CLOSED, lookalikes: &[CauseId::TlsServerAbort], symptoms: &[], named_by_alerts: &[], severity: Severity::Failure, check: neg_ssl_cert_not_on_server },
    Cause { id: CauseId::NegInconsistentFlags, stage: CauseStage::Negotiation, rank: 34, title: "Client sent inconsistent negotiation flags", remedy: "The client's requested protocols contradict the security already in effect: check the client software and its settings.", host_checks: &[c::CLIENT_AUTH_LEVEL], explains: SOCKET_CLOSED, lookalikes: &[], symptoms: &[], named_by_alerts: &[], severity: Severity::Failure, check: neg_inconsistent_flags },
    Cause { id: CauseId::NegHybridRequired, stage: CauseStage::Negotiation, rank: 35, title: "Server requires NLA (CredSSP)", remedy: "Enable CredSSP (NLA) on the client, or relax UserAuthentication on the server.", host_checks: &[c::CLIENT_AUTH_LEVEL, c::SECURITY_LAYER], explains: SOCKET_CLOSED, lookalikes: &[], symptoms: &[], named_by_alerts: &[], severity: Severity::Failure, check: neg_hybrid_required },
    Cause { id: CauseId::NegSslWithUserAuthRequired, stage: CauseStage::Negotiation, rank: 36, title: "Server requires TLS with a client certificate", remedy: "The server requires certificate-based client authentication: give the client a certificate or change the server's policy.", host_checks: &[c::SECURITY_LAYER], explains: SOCKET_CLOSED, lookalikes: &[], symptoms: &[], named_by_alerts: &[], severity: Severity::Failure, check: neg_ssl_with_user_auth_required },
    Cause { id: CauseId::NegUnknownFailure, stage: CauseStage::Negotiation, rank: 37, title: "Unknown negotiation failure", remedy: "The server sent a failure code the specification does not define: check the server software.", host_checks: &[], explains: SOCKET_CLOSED, lookalikes: &[], symptoms: &[], named_by_alerts: &[], severity: Severity::Failure, check: neg_unknown_failure },
    Cause { id: CauseId::SecurityLayerMismatch, stage: CauseStage::Negotiation, rank: 38, title: "Security layer mismatch", remedy: "Client and server accept no common security protocol: align the server's SecurityLayer / UserAuthentication policy with what clients offer.", host_checks: &[c::SECURITY_LAYER, c::CLIENT_AUTH_LEVEL], explains: SOCKET_CLOSED, lookalikes: &[CauseId::ServerDisconnected], symptoms: &[], named_by_alerts: &[], severity: Severity::Failure, check: security_layer_mismatch },
];
