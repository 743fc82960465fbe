//! Advice about connections that may work: weak or missing protections, a slow path.

use super::checks as c;
use super::{Cause, CauseId, CauseStage};
use crate::diagnose::duration_text as ms;
use crate::diagnose::facts::Facts;
use crate::diagnose::rules::Hit;
use crate::diagnose::{Confidence, Severity};
use crate::session::Event;
use crate::wire::rdp_neg::SecurityProtocols;

fn weak_standard_rdp_security(f: &Facts<'_>) -> Option<Hit> {
    if let (Some(cc), Some(SecurityProtocols::RDP)) = (f.confirm, f.selected) {
        if f.first(|e| matches!(e, Event::McsConnectResponse { .. }))
            .is_none()
        {
            let words = "the server selected standard RDP security (PROTOCOL_RDP)".to_string();
            return Hit::new(Confidence::Certain, words.clone(), vec![(cc, words)]);
        }
    }
    let (i, e) = f.first(|e| {
        matches!(
            e,
            Event::McsConnectResponse {
                encryption_method: Some(_),
                ..
            }
        )
    })?;
    let Event::McsConnectResponse {
        encryption_method: Some(method),
        encryption_method_name,
        encryption_level_name,
        ..
    } = &e.event
    else {
        return None;
    };
    let level = encryption_level_name.as_deref().unwrap_or("?");
    // ENCRYPTION_METHOD_NONE (MS-RDPBCGR 2.2.1.4.3): no encryption at all, worse than RC4.
    let words = if *method == 0 {
        format!(
            "standard RDP security without any encryption (ENCRYPTION_METHOD_NONE, level {level}): \
             the session, the password typed at the logon screen included, crosses the network in the clear"
        )
    } else {
        format!(
            "standard RDP security: RC4 {}, level {level}",
            encryption_method_name.as_deref().unwrap_or("?"),
        )
    };
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

#[rustfmt::skip]
pub static CAUSES: &[Cause] = &[
    Cause { id: CauseId::WeakStandardRdpSecurity, stage: CauseStage::Advisory, rank: 90, title: "Standard RDP security (RC4) in use", remedy: "Enable TLS and NLA (SecurityLayer=2, UserAuthentication=1).", host_checks: &[c::SECURITY_LAYER], explains: &[], lookalikes: &[], symptoms: &[], named_by_alerts: &[], severity: Severity::Advisory, check: weak_standard_rdp_security },
    Cause { id: CauseId::NlaNotRequired, stage: CauseStage::Advisory, rank: 91, title: "NLA not required", remedy: "Require network level authentication (UserAuthentication=1, \"Require user authentication for remote connections by using Network Level Authentication\").", host_checks: &[c::SECURITY_LAYER], explains: &[], lookalikes: &[], symptoms: &[], named_by_alerts: &[], severity: Severity::Advisory, check: nla_not_required },
    Cause { id: CauseId::PathDegraded, stage: CauseStage::Advisory, rank: 92, title: "Slow network path", remedy: "Network quality (VPN, MTU, latency): large graphics sessions suffer first.", host_checks: &[c::NETWORK_PATH], explains: &[], lookalikes: &[], symptoms: &[], named_by_alerts: &[], severity: Severity::Advisory, check: path_degraded },
];
