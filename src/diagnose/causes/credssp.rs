//! CredSSP: network level authentication inside TLS.

use super::checks as c;
use super::{Cause, CauseId, CauseStage};
use crate::diagnose::facts::Facts;
use crate::diagnose::rules::{closing_words, credssp_flights, Hit, SOCKET_CLOSED};
use crate::diagnose::{Confidence, Severity};
use crate::session::{Direction, Stage};
use crate::wire::rdp_neg::SecurityProtocols;

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

#[rustfmt::skip]
pub static CAUSES: &[Cause] = &[
    Cause { id: CauseId::NlaAuthFailed, stage: CauseStage::CredSsp, rank: 60, title: "Network level authentication failed", remedy: "Check the credentials and the account's right to log on through Remote Desktop Services; check CredSSP patch levels on both sides.", host_checks: &[c::LOGON_EVENTS, c::ACCOUNT, c::LOGON_RIGHT, c::CREDSSP_PATCH], explains: SOCKET_CLOSED, lookalikes: &[CauseId::CredsspVersionMismatch], symptoms: &[], named_by_alerts: &[], severity: Severity::Failure, check: nla_auth_failed },
    Cause { id: CauseId::CredsspVersionMismatch, stage: CauseStage::CredSsp, rank: 61, title: "CredSSP version mismatch", remedy: "Patch both sides (CVE-2018-0886 updates) or align the \"Encryption Oracle Remediation\" policy.", host_checks: &[c::CREDSSP_PATCH], explains: SOCKET_CLOSED, lookalikes: &[CauseId::NlaAuthFailed, CauseId::ClientAbortedAfterHandshake], symptoms: &[], named_by_alerts: &[], severity: Severity::Failure, check: credssp_version_mismatch },
    Cause { id: CauseId::EarlyUserAuthDenied, stage: CauseStage::CredSsp, rank: 62, title: "Early user authorization denied", remedy: "The user may not log on through Remote Desktop: grant \"Allow log on through Remote Desktop Services\" (Remote Desktop Users group).", host_checks: &[c::LOGON_RIGHT, c::LOGON_EVENTS], explains: SOCKET_CLOSED, lookalikes: &[CauseId::NlaAuthFailed], symptoms: &[], named_by_alerts: &[], severity: Severity::Failure, check: early_user_auth_denied },
];
