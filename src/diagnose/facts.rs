//! Facts drawn from a timeline once, for the rules to read: where each landmark of the setup is, who
//! closed first and when, what certificates were seen.

use super::Context;
use crate::session::{CertEntry, Direction, Entry, Event, Stage, Timeline};
use crate::wire::cert::CertSummary;
use crate::wire::rdp_neg::SecurityProtocols;

/// How a side ended the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Close {
    Fin,
    Rst,
    /// A fatal TLS alert in the clear.
    FatalAlert,
    /// An alert record whose content is encrypted (close_notify or fatal: it cannot be told).
    EncryptedAlert,
    /// X.224 Disconnect Request or MCS Disconnect Provider Ultimatum.
    Disconnect,
}

/// A close: where in the timeline, from whom, how.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Closing {
    pub entry: usize,
    pub dir: Direction,
    pub how: Close,
    pub stage: Stage,
}

/// One certificate chain seen, with where it was seen and the time to judge it at.
#[derive(Debug, Clone, Copy)]
pub struct Chain<'a> {
    pub entry: usize,
    pub chain: &'a [CertEntry],
    pub judged_at: i64,
}

impl<'a> Chain<'a> {
    /// The server's own certificate (the first of the chain), when it could be read.
    pub fn leaf(&self) -> Option<&'a CertSummary> {
        match self.chain.first()? {
            CertEntry::Parsed(s) => Some(s),
            CertEntry::Unreadable { .. } => None,
        }
    }

    pub fn parsed(&self) -> impl Iterator<Item = &'a CertSummary> {
        self.chain.iter().filter_map(|c| match c {
            CertEntry::Parsed(s) => Some(&**s),
            CertEntry::Unreadable { .. } => None,
        })
    }
}

/// What the rules read.
#[derive(Debug)]
pub struct Facts<'a> {
    pub timeline: &'a Timeline,
    pub ctx: &'a Context,
    pub request: Option<usize>,
    /// What the client offered: its requestedProtocols, or standard RDP security without RDP_NEG_REQ.
    pub requested: Option<SecurityProtocols>,
    pub sent_neg_request: bool,
    pub confirm: Option<usize>,
    /// selectedProtocol; `None` in a confirm without RDP_NEG_RSP.
    pub selected: Option<SecurityProtocols>,
    pub client_hello: Option<usize>,
    pub server_hello: Option<usize>,
    pub tls_done: Option<usize>,
    pub established: Option<usize>,
    /// The first time a side ended (or started to end) the connection, before it was established.
    pub first_close: Option<Closing>,
    pub chains: Vec<Chain<'a>>,
    /// The name the client used: SNI, else the context's server name.
    pub server_name: Option<String>,
    /// The client is rdpdiag's own prober (its cookie says so): it stops on purpose once it has its
    /// answer, so its closes are not the client rejecting the server. Live or replayed, the same.
    pub client_is_probe: bool,
}

impl<'a> Facts<'a> {
    pub fn new(timeline: &'a Timeline, ctx: &'a Context) -> Self {
        let find = |pred: fn(&Event) -> bool| timeline.find(|e| pred(&e.event)).map(|(i, _)| i);
        let request = find(|e| matches!(e, Event::ConnectionRequest { .. }));
        let (requested, sent_neg_request) =
            match request.and_then(|i| timeline.get(i)).map(|e| &e.event) {
                Some(Event::ConnectionRequest {
                    requested_protocols: Some(p),
                    ..
                }) => (Some(SecurityProtocols(*p)), true),
                Some(Event::ConnectionRequest {
                    requested_protocols: None,
                    ..
                }) => (Some(SecurityProtocols::RDP), false),
                _ => (None, false),
            };
        let confirm = find(|e| matches!(e, Event::ConnectionConfirm { .. }));
        let selected = confirm.and_then(|i| match timeline.get(i).map(|e| &e.event) {
            Some(Event::ConnectionConfirm {
                selected_protocol, ..
            }) => selected_protocol.map(SecurityProtocols),
            _ => None,
        });
        let client_hello = find(|e| matches!(e, Event::TlsClientHello { .. }));
        let server_hello = find(|e| {
            matches!(
                e,
                Event::TlsServerHello {
                    hello_retry_request: false,
                    ..
                }
            )
        });
        let tls_done = find(|e| matches!(e, Event::TlsHandshakeDone { .. }));
        let established = find(|e| matches!(e, Event::Established { .. }));
        let sni = client_hello.and_then(|i| match timeline.get(i).map(|e| &e.event) {
            Some(Event::TlsClientHello { sni, .. }) => sni.clone(),
            _ => None,
        });
        let chains = timeline
            .entries
            .iter()
            .enumerate()
            .filter_map(|(entry, e)| match &e.event {
                Event::TlsCertificate { chain, .. } => Some(Chain {
                    entry,
                    chain,
                    judged_at: e.at.unix_secs(),
                }),
                _ => None,
            })
            .collect();
        let first_close = timeline
            .entries
            .iter()
            .enumerate()
            .take_while(|(_, e)| !matches!(e.event, Event::Established { .. }))
            .find_map(|(entry, e)| closing(entry, e));
        let client_is_probe = request.and_then(|i| timeline.get(i)).is_some_and(|e| matches!(&e.event, Event::ConnectionRequest { cookie: Some(c), .. } if c == super::PROBE_COOKIE));
        Self {
            client_is_probe,
            timeline,
            ctx,
            request,
            requested,
            sent_neg_request,
            confirm,
            selected,
            client_hello,
            server_hello,
            tls_done,
            established,
            first_close,
            chains,
            server_name: sni.or_else(|| ctx.server_name.clone()),
        }
    }

    pub fn entry(&self, i: usize) -> Option<&'a Entry> {
        self.timeline.get(i)
    }

    /// Entries after index `i`.
    pub fn after(&self, i: usize) -> impl Iterator<Item = (usize, &'a Entry)> {
        self.timeline
            .entries
            .iter()
            .enumerate()
            .skip(i.saturating_add(1))
    }

    /// True when `dir` sent anything (a PDU, a record, data) after entry `i`.
    pub fn sent_after(&self, i: usize, dir: Direction) -> bool {
        self.after(i)
            .any(|(_, e)| e.dir == Some(dir) && carries_data(&e.event))
    }

    /// Microseconds from entry `a` to entry `b`.
    pub fn gap_us(&self, a: usize, b: usize) -> Option<i64> {
        Some(self.entry(b)?.t_us.saturating_sub(self.entry(a)?.t_us))
    }

    /// The first entry matching `pred`, with its index.
    pub fn first(&self, pred: impl Fn(&Event) -> bool) -> Option<(usize, &'a Entry)> {
        self.timeline
            .entries
            .iter()
            .enumerate()
            .find(|(_, e)| pred(&e.event))
    }

    /// The entries from index `from` up to, not including, `to`.
    pub fn between(&self, from: usize, to: usize) -> impl Iterator<Item = &'a Entry> {
        self.timeline
            .entries
            .iter()
            .skip(from)
            .take(to.saturating_sub(from))
    }

    /// The last entry before index `end` matching `pred`, with its index.
    pub fn last_before(
        &self,
        end: usize,
        pred: impl Fn(&Entry) -> bool,
    ) -> Option<(usize, &'a Entry)> {
        self.timeline
            .entries
            .iter()
            .enumerate()
            .take(end)
            .rev()
            .find(|(_, e)| pred(e))
    }

    /// The first entry from `dir` matching `pred`, with its index.
    pub fn first_from(
        &self,
        dir: Direction,
        pred: impl Fn(&Event) -> bool,
    ) -> Option<(usize, &'a Entry)> {
        self.timeline
            .entries
            .iter()
            .enumerate()
            .find(|(_, e)| e.dir == Some(dir) && pred(&e.event))
    }

    /// Whether the connection was still being set up when it closed (rules about closes need one).
    pub fn failed_close(&self) -> Option<Closing> {
        self.established
            .is_none()
            .then_some(self.first_close)
            .flatten()
    }

    /// The server did not finish its side of setup and the connection did not end by itself.
    pub fn capture_ended(&self) -> bool {
        self.first_close.is_none() && self.first(|e| matches!(e, Event::CaptureEnd)).is_some()
    }
}

fn closing(entry: usize, e: &Entry) -> Option<Closing> {
    let how = match &e.event {
        Event::Fin => Close::Fin,
        Event::Rst => Close::Rst,
        Event::TlsAlert { fatal: true, .. } => Close::FatalAlert,
        Event::TlsEncryptedAlert { .. } => Close::EncryptedAlert,
        Event::X224Disconnect { .. } | Event::McsDisconnectUltimatum { .. } => Close::Disconnect,
        _ => return None,
    };
    Some(Closing {
        entry,
        dir: e.dir?,
        how,
        stage: e.stage,
    })
}

/// Events that mean a side sent protocol bytes (not transport facts).
fn carries_data(event: &Event) -> bool {
    !matches!(
        event,
        Event::TcpSyn
            | Event::TcpConnected { .. }
            | Event::TcpRefused { .. }
            | Event::TcpNoAnswer { .. }
            | Event::IcmpUnreachable { .. }
            | Event::TcpConnectError { .. }
            | Event::Fin
            | Event::Rst
            | Event::CaptureGap { .. }
            | Event::CaptureEnd
            | Event::Timeout { .. }
            | Event::LimitHit { .. }
            | Event::TlsHandshakeDone { .. }
            | Event::Established { .. }
    )
}
