//! The Remote Desktop client's own disconnect reason codes: the `discReason` of
//! `IMsTscAxEvents::OnDisconnected`, which mstsc shows as "Error code: 0x…" and logs in event 1026 of
//! Microsoft-Windows-TerminalServices-RDPClient/Operational ("The disconnect reason is 2308").
//!
//! Source, value for value: Microsoft's documentation of `IMsTscAxEvents::OnDisconnected`
//! (learn.microsoft.com/windows/win32/termserv/imstscaxevents-ondisconnected, MicrosoftDocs/win32
//! `desktop-src/TermServ/imstscaxevents-ondisconnected.md`), cross-checked against the
//! `DisconnectReasonCode` enumeration of the MsTscAx.dll type library (as transcribed in NanaBox's
//! `MsTscAx.h`); both list the same 47 values. The one exception is 0x1104, which Microsoft documents
//! only as the client's message (Azure VM troubleshooting, "Because of a protocol error detected at
//! the client (code 0x1104)"); it has no constant name.
//!
//! Meanings are those documents' descriptions, reworded; causes and checks are ours.

use crate::diagnose::causes::checks as c;
use crate::diagnose::CauseId;

/// One disconnect reason: the value, the documented constant name, what it means, and the causes it
/// points to (cause ids of the catalogue, most likely first) with the host checks that separate them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DisconnectReason {
    pub value: u32,
    /// The `DisconnectReasonCode` constant, or `None` when Microsoft documents no name.
    pub name: Option<&'static str>,
    pub meaning: &'static str,
    pub causes: &'static [CauseId],
    pub checks: &'static [&'static str],
}

/// Everything that can end a secure-channel setup with the socket closed: what 0x904 hides.
const SETUP_CLOSED: &[CauseId] = &[
    CauseId::TlsServerAbort,
    CauseId::SecurityLayerMismatch,
    CauseId::TlsVersionMismatch,
    CauseId::TlsNoSharedCipher,
    CauseId::CertExpired,
    CauseId::CertWeakKey,
    CauseId::CertWeakSignature,
    CauseId::NegSslCertNotOnServer,
    CauseId::NegSslRequired,
    CauseId::NegHybridRequired,
    CauseId::NegSslNotAllowed,
    CauseId::NegSslWithUserAuthRequired,
    CauseId::NegInconsistentFlags,
    CauseId::NegUnknownFailure,
    CauseId::NlaAuthFailed,
    CauseId::CredsspVersionMismatch,
    CauseId::ServerClosedAfterRequest,
    CauseId::ServerResetAfterRequest,
    CauseId::ServerDeniedConnection,
];

const SETUP_CLOSED_CHECKS: &[&str] = &[
    c::CAPTURE_OR_PROBE,
    c::SCHANNEL_EVENTS,
    c::TERMSERVICE_CERT_EVENTS,
    c::RDP_CERT_STORE,
    c::MACHINE_KEYS,
    c::SECURITY_LAYER,
    c::TLS_PROTOCOLS,
    c::CREDSSP_PATCH,
];

const TLS_INTERNAL: &[CauseId] = &[
    CauseId::TlsServerAbort,
    CauseId::TlsVersionMismatch,
    CauseId::TlsNoSharedCipher,
    CauseId::CredsspVersionMismatch,
];
const TLS_INTERNAL_CHECKS: &[&str] = &[c::SCHANNEL_EVENTS, c::TLS_PROTOCOLS, c::CREDSSP_PATCH];

const DNS_CHECKS: &[&str] = &[c::NAME_RESOLUTION];
const CONNECT: &[CauseId] = &[CauseId::TcpRefused, CauseId::TcpFiltered, CauseId::TcpUnreachable];
const CONNECT_CHECKS: &[&str] = &[c::LISTENER, c::FIREWALL, c::CAPTURE_OR_PROBE];
const TIMEOUT: &[CauseId] = &[CauseId::TcpFiltered, CauseId::ServerSilent, CauseId::PathDegraded];
const TIMEOUT_CHECKS: &[&str] = &[c::FIREWALL, c::LISTENER, c::NETWORK_PATH];
const LOGON: &[CauseId] = &[CauseId::NlaAuthFailed];
const ACCOUNT_CHECKS: &[&str] = &[c::ACCOUNT, c::LOGON_RIGHT];
const LICENSING: &[CauseId] = &[CauseId::ServerDeniedConnection];
const LICENSING_CHECKS: &[&str] = &[c::LICENSE_CACHE, c::LICENSING_HOST];
const NONE: &[&str] = &[];
const NO_CAUSE: &[CauseId] = &[];

/// Sorted by value.
#[rustfmt::skip]
pub const DISCONNECT_REASONS: &[DisconnectReason] = &[
    DisconnectReason { value: 0x0, name: Some("disconnectReasonNoInfo"), meaning: "no information is available", causes: NO_CAUSE, checks: &[c::CLIENT_LOG] },
    DisconnectReason { value: 0x1, name: Some("disconnectReasonLocalNotError"), meaning: "the client disconnected locally (not an error)", causes: NO_CAUSE, checks: NONE },
    DisconnectReason { value: 0x2, name: Some("disconnectReasonRemoteByUser"), meaning: "the user disconnected the remote session (not an error)", causes: NO_CAUSE, checks: NONE },
    DisconnectReason { value: 0x3, name: Some("disconnectReasonByServer"), meaning: "the server disconnected the session (not an error code; the extended reason says why)", causes: &[CauseId::ServerDisconnected, CauseId::ServerDeniedConnection], checks: &[c::SERVER_LOG, c::SESSION_LIMITS] },
    DisconnectReason { value: 0x104, name: Some("disconnectReasonDNSLookupFailed"), meaning: "the server's name could not be resolved", causes: NO_CAUSE, checks: DNS_CHECKS },
    DisconnectReason { value: 0x106, name: Some("disconnectReasonOutOfMemory"), meaning: "the client ran out of memory", causes: NO_CAUSE, checks: NONE },
    DisconnectReason { value: 0x108, name: Some("disconnectReasonConnectionTimedOut"), meaning: "the connection timed out", causes: TIMEOUT, checks: TIMEOUT_CHECKS },
    DisconnectReason { value: 0x204, name: Some("disconnectReasonSocketConnectFailed"), meaning: "the TCP connection to the server could not be made (Windows Sockets connect failed)", causes: CONNECT, checks: CONNECT_CHECKS },
    DisconnectReason { value: 0x206, name: Some("disconnectReasonOutOfMemory2"), meaning: "the client ran out of memory", causes: NO_CAUSE, checks: NONE },
    DisconnectReason { value: 0x208, name: Some("disconnectReasonHostNotFound"), meaning: "the host was not found", causes: &[CauseId::TcpUnreachable], checks: &[c::NAME_RESOLUTION, c::FIREWALL] },
    DisconnectReason { value: 0x304, name: Some("disconnectReasonWinsockSendFailed"), meaning: "sending on the connection failed (Windows Sockets send failed)", causes: &[CauseId::ServerResetAfterRequest, CauseId::PathDegraded], checks: &[c::CAPTURE_OR_PROBE, c::NETWORK_PATH] },
    DisconnectReason { value: 0x306, name: Some("disconnectReasonOutOfMemory3"), meaning: "the client ran out of memory", causes: NO_CAUSE, checks: NONE },
    DisconnectReason { value: 0x308, name: Some("disconnectReasonInvalidIPAddr"), meaning: "the IP address given is not valid", causes: NO_CAUSE, checks: DNS_CHECKS },
    DisconnectReason { value: 0x404, name: Some("disconnectReasonSocketRecvFailed"), meaning: "receiving on the connection failed (Windows Sockets recv failed, e.g. the connection was reset)", causes: &[CauseId::ServerResetAfterRequest, CauseId::TlsServerAbort, CauseId::PathDegraded], checks: &[c::CAPTURE_OR_PROBE, c::SCHANNEL_EVENTS, c::NETWORK_PATH] },
    DisconnectReason { value: 0x406, name: Some("disconnectReasonInvalidSecurityData"), meaning: "the security data is not valid", causes: &[CauseId::MalformedReply], checks: &[c::CAPTURE_OR_PROBE] },
    DisconnectReason { value: 0x408, name: Some("disconnectReasonInternalError"), meaning: "internal error of the client", causes: NO_CAUSE, checks: &[c::CLIENT_LOG] },
    DisconnectReason { value: 0x506, name: Some("disconnectReasonInvalidEncryption"), meaning: "the encryption method is not valid", causes: &[CauseId::SecurityLayerMismatch], checks: &[c::FIPS_POLICY, c::SECURITY_LAYER] },
    DisconnectReason { value: 0x508, name: Some("disconnectReasonDNSLookupFailed2"), meaning: "the server's name could not be resolved", causes: NO_CAUSE, checks: DNS_CHECKS },
    DisconnectReason { value: 0x604, name: Some("disconnectReasonGetHostByNameFailed"), meaning: "the server's name could not be resolved (Windows Sockets gethostbyname failed)", causes: NO_CAUSE, checks: DNS_CHECKS },
    DisconnectReason { value: 0x606, name: Some("disconnectReasonInvalidServerSecurityInfo"), meaning: "the server's security data is not valid", causes: &[CauseId::MalformedReply], checks: &[c::CAPTURE_OR_PROBE] },
    DisconnectReason { value: 0x608, name: Some("disconnectReasonTimerError"), meaning: "internal timer error of the client", causes: NO_CAUSE, checks: NONE },
    DisconnectReason { value: 0x704, name: Some("disconnectReasonTimeoutOccurred"), meaning: "a timeout occurred", causes: &[CauseId::ServerSilent, CauseId::TcpFiltered, CauseId::PathDegraded], checks: TIMEOUT_CHECKS },
    DisconnectReason { value: 0x706, name: Some("disconnectReasonServerCertificateUnpackErr"), meaning: "the server certificate (standard RDP security) could not be unpacked", causes: &[CauseId::MalformedReply], checks: &[c::CAPTURE_OR_PROBE] },
    DisconnectReason { value: 0x804, name: Some("disconnectReasonInvalidIP"), meaning: "a bad IP address was given", causes: NO_CAUSE, checks: DNS_CHECKS },
    DisconnectReason { value: 0x807, name: Some("SSL_ERR_LOGON_FAILURE"), meaning: "the logon failed (user name or password)", causes: LOGON, checks: ACCOUNT_CHECKS },
    DisconnectReason { value: 0x808, name: Some("disconnectReasonLicensingFailed"), meaning: "license negotiation failed", causes: LICENSING, checks: LICENSING_CHECKS },
    DisconnectReason { value: 0x904, name: Some("disconnectReasonAtClientWinsockFDCLOSE"), meaning: "the socket closed: the connection went away during setup; the extended code and the wire say why", causes: SETUP_CLOSED, checks: SETUP_CLOSED_CHECKS },
    DisconnectReason { value: 0x906, name: Some("disconnectReasonInternalSecurityError"), meaning: "internal security error", causes: TLS_INTERNAL, checks: TLS_INTERNAL_CHECKS },
    DisconnectReason { value: 0x908, name: Some("disconnectReasonLicensingTimeout"), meaning: "licensing timed out", causes: LICENSING, checks: LICENSING_CHECKS },
    DisconnectReason { value: 0xA06, name: Some("disconnectReasonInternalSecurityError2"), meaning: "internal security error", causes: TLS_INTERNAL, checks: TLS_INTERNAL_CHECKS },
    DisconnectReason { value: 0xA07, name: Some("SSL_ERR_NO_SUCH_USER"), meaning: "the user has no account", causes: LOGON, checks: ACCOUNT_CHECKS },
    DisconnectReason { value: 0xB06, name: Some("disconnectReasonEncryptionError"), meaning: "encryption error", causes: NO_CAUSE, checks: &[c::FIPS_POLICY] },
    DisconnectReason { value: 0xB07, name: Some("SSL_ERR_ACCOUNT_DISABLED"), meaning: "the account is disabled", causes: LOGON, checks: ACCOUNT_CHECKS },
    DisconnectReason { value: 0xC06, name: Some("disconnectReasonDecryptionError"), meaning: "decryption error", causes: NO_CAUSE, checks: &[c::FIPS_POLICY, c::NETWORK_PATH] },
    DisconnectReason { value: 0xC07, name: Some("SSL_ERR_ACCOUNT_RESTRICTION"), meaning: "an account restriction prevents the logon", causes: LOGON, checks: &[c::ACCOUNT, "the account's restrictions: blank password, logon hours, allowed workstations"] },
    DisconnectReason { value: 0xC08, name: Some("disconnectReasonClientDecompressionError"), meaning: "decompression error in the client", causes: NO_CAUSE, checks: NONE },
    DisconnectReason { value: 0xD07, name: Some("SSL_ERR_ACCOUNT_LOCKED_OUT"), meaning: "the account is locked out", causes: LOGON, checks: &[c::ACCOUNT, "unlock the account and find what keeps sending a wrong password (saved credentials, mapped drives, services)"] },
    DisconnectReason { value: 0xE07, name: Some("SSL_ERR_ACCOUNT_EXPIRED"), meaning: "the account has expired", causes: LOGON, checks: ACCOUNT_CHECKS },
    DisconnectReason { value: 0xF07, name: Some("SSL_ERR_PASSWORD_EXPIRED"), meaning: "the password has expired", causes: LOGON, checks: &["change the password (on another machine, or allow password change over RD Web Access / Gateway)", c::ACCOUNT] },
    DisconnectReason { value: 0x1104, name: None, meaning: "protocol error detected at the client (Microsoft documents only the message, \"Because of a protocol error detected at the client (code 0x1104)\"); typically another service answers on the RDP port", causes: &[CauseId::NotRdp, CauseId::MalformedReply], checks: &[c::PORT_OWNER, c::CAPTURE_OR_PROBE] },
    DisconnectReason { value: 0x1207, name: Some("SSL_ERR_PASSWORD_MUST_CHANGE"), meaning: "the password must be changed before the first logon", causes: LOGON, checks: &["change the password first (log on at the console or elsewhere)", c::ACCOUNT] },
    DisconnectReason { value: 0x1607, name: Some("SSL_ERR_DELEGATION_POLICY"), meaning: "policy does not allow delegating credentials to this server", causes: LOGON, checks: &[c::DELEGATION_POLICY] },
    DisconnectReason { value: 0x1707, name: Some("SSL_ERR_POLICY_NTLM_ONLY"), meaning: "delegating credentials to the server is not allowed without mutual authentication (only NTLM was possible)", causes: LOGON, checks: &[c::DELEGATION_POLICY, "Kerberos to the server: use its DNS name, check its SPN (TERMSRV/host) and that a domain controller is reachable"] },
    DisconnectReason { value: 0x1807, name: Some("SSL_ERR_NO_AUTHENTICATING_AUTHORITY"), meaning: "no authority could be contacted for authentication (wrong domain, domain unreachable, or a broken trust)", causes: LOGON, checks: &[c::DOMAIN_CONTROLLER] },
    DisconnectReason { value: 0x1B07, name: Some("SSL_ERR_CERT_EXPIRED"), meaning: "the certificate received has expired", causes: &[CauseId::CertExpired, CauseId::CertNotYetValid], checks: &[c::RDP_CERT_STORE, c::CLOCKS] },
    DisconnectReason { value: 0x1C07, name: Some("SSL_ERR_SMARTCARD_WRONG_PIN"), meaning: "a wrong PIN was presented to the smart card", causes: LOGON, checks: &[c::SMART_CARD] },
    DisconnectReason { value: 0x2107, name: Some("SSL_ERR_FRESH_CRED_REQUIRED_BY_SERVER"), meaning: "the server does not accept saved credentials; new credentials must be entered", causes: LOGON, checks: &[c::FRESH_CREDENTIALS] },
    DisconnectReason { value: 0x2207, name: Some("SSL_ERR_SMARTCARD_CARD_BLOCKED"), meaning: "the smart card is blocked", causes: LOGON, checks: &[c::SMART_CARD] },
];

/// The entry for a value, if the table has one.
pub fn lookup(value: u32) -> Option<&'static DisconnectReason> {
    DISCONNECT_REASONS
        .binary_search_by_key(&value, |entry| entry.value)
        .ok()
        .and_then(|at| DISCONNECT_REASONS.get(at))
}

/// The entry whose documented name is `name` (ASCII case-insensitive).
pub fn lookup_name(name: &str) -> Option<&'static DisconnectReason> {
    DISCONNECT_REASONS
        .iter()
        .find(|entry| entry.name.is_some_and(|n| n.eq_ignore_ascii_case(name)))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn sorted_unique_and_documented_count() {
        assert!(DISCONNECT_REASONS
            .windows(2)
            .all(|w| w[0].value < w[1].value));
        let named = DISCONNECT_REASONS
            .iter()
            .filter(|e| e.name.is_some())
            .count();
        assert_eq!(named, 47, "the documented DisconnectReasonCode list");
        assert_eq!(DISCONNECT_REASONS.len(), 48);
    }

    #[test]
    fn the_well_known_ones() {
        assert_eq!(
            lookup(2308).unwrap().name,
            Some("disconnectReasonAtClientWinsockFDCLOSE")
        );
        assert_eq!(
            lookup(516).unwrap().causes,
            &[CauseId::TcpRefused, CauseId::TcpFiltered, CauseId::TcpUnreachable]
        );
        assert_eq!(lookup(264).unwrap().causes[0], CauseId::TcpFiltered);
        assert_eq!(
            lookup_name("ssl_err_account_disabled").unwrap().value,
            0xB07
        );
        assert!(lookup(0x2407).is_none());
    }
}
