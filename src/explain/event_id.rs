//! Windows event ids that separate causes the wire cannot (Schannel and Remote Desktop Services events).
//!
//! Wording checked against Microsoft's "Troubleshoot an RDP general error" article for Azure VMs
//! (event samples of Schannel 36870 and 36871 and of TerminalServices-RemoteConnectionManager 1057 and
//! 1058, with the MachineKeys and TLS-version causes), Microsoft's Windows Server 2008 R2 "Remote
//! Desktop Services Authentication and Encryption" event list (the RemoteConnectionManager 1050–1065
//! family), and the Schannel event manifest titles (36874 "a connection request was received from a
//! remote client application, but none of the cipher suites supported by the client application are
//! supported by the server"; 36888 "a fatal alert was generated and sent to the remote endpoint").

use crate::diagnose::causes::checks as c;
use crate::diagnose::CauseId;
use super::CodeKind;

/// One event id and what it tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowsEvent {
    pub id: u32,
    /// [`CodeKind::SchannelEvent`] or [`CodeKind::TermServiceEvent`].
    pub kind: CodeKind,
    /// Log and source, e.g. "System / Schannel".
    pub source: &'static str,
    pub meaning: &'static str,
    pub causes: &'static [CauseId],
    pub checks: &'static [&'static str],
}

#[rustfmt::skip]
pub const WINDOWS_EVENTS: &[WindowsEvent] = &[
    WindowsEvent { id: 1057, kind: CodeKind::TermServiceEvent, source: "System / Microsoft-Windows-TerminalServices-RemoteConnectionManager", meaning: "the RD Session Host failed to create a new self-signed certificate for TLS connections (the event gives the status, e.g. \"Keyset does not exist\", \"Object already exists\")", causes: &[CauseId::TlsServerAbort, CauseId::NegSslCertNotOnServer], checks: &[c::MACHINE_KEYS, c::RDP_CERT_STORE] },
    WindowsEvent { id: 1058, kind: CodeKind::TermServiceEvent, source: "System / Microsoft-Windows-TerminalServices-RemoteConnectionManager", meaning: "the RD Session Host failed to replace its expired self-signed certificate for TLS connections (the event gives the status, e.g. \"Access is denied\")", causes: &[CauseId::CertExpired, CauseId::TlsServerAbort], checks: &[c::RDP_CERT_STORE, c::MACHINE_KEYS] },
    WindowsEvent { id: 36870, kind: CodeKind::SchannelEvent, source: "System / Schannel", meaning: "a fatal error occurred accessing the TLS server credential's private key: the key is unusable (MachineKeys permissions, corrupt or missing key)", causes: &[CauseId::TlsServerAbort], checks: &[c::MACHINE_KEYS, c::RDP_CERT_STORE] },
    WindowsEvent { id: 36871, kind: CodeKind::SchannelEvent, source: "System / Schannel", meaning: "a fatal error occurred creating a TLS server credential: protocol or cipher policy leaves nothing usable, or no usable certificate", causes: &[CauseId::TlsServerAbort, CauseId::TlsVersionMismatch], checks: &[c::TLS_PROTOCOLS, c::RDP_CERT_STORE] },
    WindowsEvent { id: 36874, kind: CodeKind::SchannelEvent, source: "System / Schannel", meaning: "a TLS connection request was received but none of the client's cipher suites is supported by the server", causes: &[CauseId::TlsNoSharedCipher], checks: &[c::TLS_PROTOCOLS, c::FIPS_POLICY] },
    WindowsEvent { id: 36888, kind: CodeKind::SchannelEvent, source: "System / Schannel", meaning: "a fatal alert was generated and sent to the remote endpoint; the event gives the TLS alert code and Schannel's internal state (explain the alert code too)", causes: &[CauseId::TlsNoSharedCipher, CauseId::TlsVersionMismatch, CauseId::TlsServerAbort], checks: &[c::SCHANNEL_EVENTS, c::TLS_PROTOCOLS] },
];

/// The event with id `id`.
pub fn lookup(id: u32) -> Option<&'static WindowsEvent> {
    WINDOWS_EVENTS.iter().find(|event| event.id == id)
}
