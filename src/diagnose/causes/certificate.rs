//! Certificates: facts about the server's chain as the client saw it (TLS 1.2 and earlier, or the
//! probe's own handshake). Each is advice on its own; after a client that hung up on the server it is
//! the cause of that (the catalogue's symptoms), the first by rank the verdict.

use super::checks as c;
use super::{Cause, CauseId, CauseStage};
use crate::diagnose::facts::{Chain, Facts};
use crate::diagnose::rules::{Hit, SOCKET_CLOSED};
use crate::diagnose::{Confidence, Severity};
use crate::wire::cert::Validity;

/// A fact about the first chain `judge` finds fault with: certain as a fact, advice by itself (the
/// diagnosis makes it the failure when the client hung up after seeing it).
fn cert_rule(f: &Facts<'_>, judge: impl Fn(&Chain<'_>) -> Option<String>) -> Option<Hit> {
    let (chain, words) = f.chains.iter().find_map(|c| Some((c, judge(c)?)))?;
    Hit::new(Confidence::Certain, words.clone(), vec![(chain.entry, words)])
}

/// The calendar date of a certificate's display time (`YYYY-MM-DDThh:mm:ssZ`).
fn day(display: &str) -> &str {
    display.get(..10).unwrap_or(display)
}

fn cert_expired(f: &Facts<'_>) -> Option<Hit> {
    cert_rule(f, |c| {
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
    cert_rule(f, |c| {
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
    cert_rule(f, |c| {
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
    cert_rule(f, |c| {
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
    cert_rule(f, |c| {
        let leaf = c.leaf()?;
        if leaf.self_issued {
            return None;
        }
        let last = c.parsed().last()?;
        (!last.self_issued).then(|| format!("the chain ends at {}, issued by {} which the server did not send: the client must already trust it", last.subject, last.issuer))
    })
}

fn cert_weak_key(f: &Facts<'_>) -> Option<Hit> {
    cert_rule(f, |c| {
        c.parsed()
            .find(|s| s.weak_key())
            .map(|s| format!("{} has a {:?} key", s.subject, s.public_key))
    })
}

fn cert_weak_signature(f: &Facts<'_>) -> Option<Hit> {
    cert_rule(f, |c| {
        c.parsed()
            .find(|s| s.weak_signature())
            .map(|s| format!("{} is signed with {}", s.subject, s.signature_algorithm))
    })
}

fn cert_wrong_usage(f: &Facts<'_>) -> Option<Hit> {
    cert_rule(f, |c| {
        let leaf = c.leaf()?;
        (!leaf.server_auth_allowed()).then(|| {
            format!(
                "{} does not allow server authentication (EKU {:?})",
                leaf.subject, leaf.extended_key_usage
            )
        })
    })
}

/// The symptom every certificate fact explains.
const REJECTED: &[CauseId] = &[CauseId::ClientAbortedAfterHandshake];

#[rustfmt::skip]
pub static CAUSES: &[Cause] = &[
    Cause { id: CauseId::CertExpired, stage: CauseStage::Certificate, rank: 50, title: "Certificate expired", remedy: "Renew it: delete the expired certificate from the Remote Desktop store and restart TermService (a new self-signed one is made), or re-issue.", host_checks: &[c::RDP_CERT_STORE, c::TS_1058], explains: SOCKET_CLOSED, lookalikes: &[CauseId::CertNotYetValid], symptoms: REJECTED, named_by_alerts: &[45], severity: Severity::Advisory, check: cert_expired },
    Cause { id: CauseId::CertNotYetValid, stage: CauseStage::Certificate, rank: 51, title: "Certificate not yet valid", remedy: "Fix the server's or client's clock, or re-issue the certificate.", host_checks: &[c::TIME_SYNC, c::CLOCKS], explains: SOCKET_CLOSED, lookalikes: &[CauseId::CertExpired], symptoms: REJECTED, named_by_alerts: &[], severity: Severity::Advisory, check: cert_not_yet_valid },
    Cause { id: CauseId::CertNameMismatch, stage: CauseStage::Certificate, rank: 52, title: "Certificate name does not match", remedy: "Re-issue the certificate with the name clients use in its SAN, or connect by that name.", host_checks: &[c::RDP_CERT_STORE, c::NAME_RESOLUTION], explains: SOCKET_CLOSED, lookalikes: &[], symptoms: REJECTED, named_by_alerts: &[], severity: Severity::Advisory, check: cert_name_mismatch },
    Cause { id: CauseId::CertSelfSigned, stage: CauseStage::Certificate, rank: 53, title: "Self-signed certificate", remedy: "Deploy a CA-issued certificate, or trust this one on the clients.", host_checks: &[c::RDP_CERT_STORE, c::CLIENT_CERT_TRUST], explains: SOCKET_CLOSED, lookalikes: &[CauseId::CertUntrusted], symptoms: REJECTED, named_by_alerts: &[48], severity: Severity::Advisory, check: cert_self_signed },
    Cause { id: CauseId::CertUntrusted, stage: CauseStage::Certificate, rank: 54, title: "Certificate chain incomplete", remedy: "Send the full chain, and make sure clients trust its root.", host_checks: &[c::RDP_CERT_STORE, c::CLIENT_CERT_TRUST], explains: SOCKET_CLOSED, lookalikes: &[CauseId::CertSelfSigned], symptoms: REJECTED, named_by_alerts: &[48], severity: Severity::Advisory, check: cert_untrusted },
    Cause { id: CauseId::CertWeakKey, stage: CauseStage::Certificate, rank: 55, title: "Weak certificate key", remedy: "Re-issue with an RSA key of at least 2048 bits (or ECDSA P-256).", host_checks: &[c::RDP_CERT_STORE], explains: SOCKET_CLOSED, lookalikes: &[CauseId::CertWeakSignature], symptoms: REJECTED, named_by_alerts: &[], severity: Severity::Advisory, check: cert_weak_key },
    Cause { id: CauseId::CertWeakSignature, stage: CauseStage::Certificate, rank: 56, title: "Weak certificate signature", remedy: "Re-issue signed with SHA-256 or better.", host_checks: &[c::RDP_CERT_STORE], explains: SOCKET_CLOSED, lookalikes: &[CauseId::CertWeakKey], symptoms: REJECTED, named_by_alerts: &[], severity: Severity::Advisory, check: cert_weak_signature },
    Cause { id: CauseId::CertWrongUsage, stage: CauseStage::Certificate, rank: 57, title: "Certificate not for server authentication", remedy: "Re-issue with the Server Authentication EKU (and digitalSignature / keyEncipherment).", host_checks: &[c::RDP_CERT_STORE], explains: SOCKET_CLOSED, lookalikes: &[], symptoms: REJECTED, named_by_alerts: &[43], severity: Severity::Advisory, check: cert_wrong_usage },
    Cause { id: CauseId::CertExpiringSoon, stage: CauseStage::Certificate, rank: 58, title: "Certificate expires soon", remedy: "Renew the certificate before it expires.", host_checks: &[c::RDP_CERT_STORE], explains: &[], lookalikes: &[], symptoms: &[], named_by_alerts: &[], severity: Severity::Advisory, check: cert_expiring_soon },
];
