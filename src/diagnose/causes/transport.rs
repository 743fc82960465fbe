//! Transport: the TCP connection itself (refused, rejected by the network, unanswered).

use super::checks as c;
use super::{Cause, CauseId, CauseStage};
use crate::diagnose::duration_text as ms;
use crate::diagnose::facts::Facts;
use crate::diagnose::rules::{Hit, CONNECT_FAILED};
use crate::diagnose::{Confidence, Severity};
use crate::session::{ConnectError, Event};

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

#[rustfmt::skip]
pub static CAUSES: &[Cause] = &[
    Cause { id: CauseId::TcpRefused, stage: CauseStage::Transport, rank: 10, title: "Connection refused", remedy: "Nothing listens on that port: check the RDP listener's port (PortNumber under RDP-Tcp) and that the Remote Desktop Services service (TermService) runs.", host_checks: &[c::LISTENER], explains: CONNECT_FAILED, lookalikes: &[], symptoms: &[], named_by_alerts: &[], severity: Severity::Failure, check: tcp_refused },
    Cause { id: CauseId::TcpFiltered, stage: CauseStage::Transport, rank: 11, title: "No answer to the TCP connection", remedy: "A firewall drops the traffic (or the host is down): allow TCP 3389 in (\"Remote Desktop - User Mode (TCP-In)\") and on the path.", host_checks: &[c::FIREWALL, c::HOST_UP], explains: CONNECT_FAILED, lookalikes: &[], symptoms: &[], named_by_alerts: &[], severity: Severity::Failure, check: tcp_filtered },
    Cause { id: CauseId::TcpUnreachable, stage: CauseStage::Transport, rank: 12, title: "Rejected by the network", remedy: "A firewall or router rejects the connection (ICMP unreachable): check the inbound rule, the host firewall and the route.", host_checks: &[c::FIREWALL], explains: CONNECT_FAILED, lookalikes: &[], symptoms: &[], named_by_alerts: &[], severity: Severity::Failure, check: tcp_unreachable },
];
