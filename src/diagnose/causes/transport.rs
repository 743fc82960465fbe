//! Transport: the TCP connection itself (refused, rejected by the network, unanswered).

use super::checks as c;
use super::{Cause, CauseId, CauseStage};
use crate::diagnose::duration_text as ms;
use crate::diagnose::facts::Facts;
use crate::diagnose::rules::{Hit, CONNECT_FAILED};
use crate::diagnose::{Confidence, Severity};
use crate::session::Event;

fn tcp_refused(f: &Facts<'_>) -> Option<Hit> {
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
    let (i, e) = f.first(|e| matches!(e, Event::IcmpUnreachable { .. }))?;
    let Event::IcmpUnreachable {
        icmp_type,
        code,
        reporter,
    } = &e.event
    else {
        return None;
    };
    let text =
        format!("ICMP destination unreachable (type {icmp_type}, code {code}) from {reporter}");
    Hit::new(Confidence::Certain, text.clone(), vec![(i, text)])
}

fn tcp_filtered(f: &Facts<'_>) -> Option<Hit> {
    let (i, e) = f.first(|e| matches!(e, Event::TcpNoAnswer { .. }))?;
    let Event::TcpNoAnswer { syns, waited_us } = e.event else {
        return None;
    };
    let text = format!("{syns} SYN(s) unanswered for {}", ms(waited_us));
    Hit::new(Confidence::Likely, text.clone(), vec![(i, text)])
}

#[rustfmt::skip]
pub static CAUSES: &[Cause] = &[
    Cause { id: CauseId::TcpRefused, stage: CauseStage::Transport, rank: 10, title: "Connection refused", remedy: "Nothing listens on that port: check the RDP listener's port (PortNumber under RDP-Tcp) and that the Remote Desktop Services service (TermService) runs.", host_checks: &[c::LISTENER], explains: CONNECT_FAILED, lookalikes: &[], symptoms: &[], named_by_alerts: &[], severity: Severity::Failure, check: tcp_refused },
    Cause { id: CauseId::TcpFiltered, stage: CauseStage::Transport, rank: 11, title: "No answer to the TCP connection", remedy: "A firewall drops the traffic (or the host is down): allow TCP 3389 in (\"Remote Desktop - User Mode (TCP-In)\") and on the path.", host_checks: &[c::FIREWALL, c::HOST_UP], explains: CONNECT_FAILED, lookalikes: &[], symptoms: &[], named_by_alerts: &[], severity: Severity::Failure, check: tcp_filtered },
    Cause { id: CauseId::TcpUnreachable, stage: CauseStage::Transport, rank: 12, title: "Rejected by the network", remedy: "A firewall or router rejects the connection (ICMP unreachable): check the inbound rule, the host firewall and the route.", host_checks: &[c::FIREWALL], explains: CONNECT_FAILED, lookalikes: &[], symptoms: &[], named_by_alerts: &[], severity: Severity::Failure, check: tcp_unreachable },
];
