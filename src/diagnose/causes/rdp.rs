//! RDP: after the security exchange (the server's Set Error Info, a disconnect, a close).

use super::checks as c;
use super::{Cause, CauseId, CauseStage};
use crate::diagnose::facts::Facts;
use crate::diagnose::rules::{closing_words, Hit};
use crate::diagnose::{Confidence, Severity};
use crate::session::{Direction, Event, Stage};
use crate::wire::rdp_neg::SecurityProtocols;

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
    if let Some(hit) = crate::diagnose::standard_security::server_disconnected(f) {
        return Some(hit);
    }
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

#[rustfmt::skip]
pub static CAUSES: &[Cause] = &[
    Cause { id: CauseId::ServerDeniedConnection, stage: CauseStage::Rdp, rank: 70, title: "Server denied the connection", remedy: "Server policy, licensing or a connection limit refused the session: see the server's TerminalServices logs.", host_checks: &[c::SERVER_LOG, c::LICENSING_HOST], explains: &["extended 0x7 (ERRINFO_SERVER_DENIED_CONNECTION)"], lookalikes: &[], symptoms: &[], named_by_alerts: &[], severity: Severity::Failure, check: server_denied_connection },
    Cause { id: CauseId::ServerDisconnected, stage: CauseStage::Rdp, rank: 71, title: "Server disconnected during setup", remedy: "The server ended the setup after the security exchange: see its log for why.", host_checks: &[c::SERVER_LOG], explains: crate::diagnose::rules::SOCKET_CLOSED, lookalikes: &[CauseId::SecurityLayerMismatch], symptoms: &[], named_by_alerts: &[], severity: Severity::Failure, check: server_disconnected },
];
