//! What every rule shares: what a check returns ([`Hit`]), the codes a setup failure shows the Windows
//! client, and the words for a close. The rules themselves sit beside their catalogue entries in
//! [`super::causes`], one file per stage.

use super::facts::{Close, Closing, Facts};
use super::{Confidence, Severity};
use crate::session::{Direction, Event};

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
    pub fn new(
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

/// The codes a Windows client shows when the setup's socket closed.
pub const SOCKET_CLOSED: &[&str] = &["0x904 with extended 0x7 (as the Windows client reports it)"];
/// The code a Windows client shows when it could not connect at all.
pub const CONNECT_FAILED: &[&str] = &["0x204 (the client could not connect)"];

pub fn closing_words(c: &Closing) -> &'static str {
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

/// The CredSSP flight a close came after: (client flights, server flights) before it.
pub fn credssp_flights(f: &Facts<'_>, before: usize) -> (u32, u32) {
    let start = f.tls_done.unwrap_or(0);
    f.between(start, before)
        .fold((0, 0), |(c, s), e| match (&e.event, e.dir) {
            (Event::TlsApplicationData { .. }, Some(Direction::ClientToServer)) => (c + 1, s),
            (Event::TlsApplicationData { .. }, Some(Direction::ServerToClient)) => (c, s + 1),
            _ => (c, s),
        })
}
