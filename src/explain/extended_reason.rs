//! The extended disconnect reason: the client's `ExtendedDisconnectReason` (mstsc's "Extended error
//! code: 0x…"), which shares its value space with the server's errorInfo (MS-RDPBCGR 2.2.5.1.1 Set
//! Error Info PDU). Names and meanings of errorInfo values come from [`ErrorInfo`]; this module adds the
//! client's `exDiscReason*` names and the cause mapping.
//!
//! `exDiscReason*` source: Microsoft's documentation of the `ExtendedDisconnectReasonCode` enumeration
//! (learn.microsoft.com/windows/win32/termserv/extendeddisconnectreasoncode, MicrosoftDocs/win32
//! `desktop-src/TermServ/extendeddisconnectreasoncode.md`), cross-checked against the MsTscAx.dll type
//! library (as transcribed in NanaBox's `MsTscAx.h`). The documentation's syntax block gives
//! `exDiscReasonLogoffByUser = 2`, a typo: the type library says 12, which is also
//! ERRINFO_LOGOFF_BY_USER (0x0C). The type library also has `exDiscReasonShutdown = 25` and
//! `exDiscReasonReboot = 26`, which no document describes; they are left out.

use crate::diagnose::causes::checks as c;
use crate::diagnose::CauseId;
use crate::wire::mcs::ErrorInfo;

/// One `ExtendedDisconnectReasonCode` constant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExDiscReason {
    pub value: u32,
    pub name: &'static str,
    /// The documentation's description, reworded.
    pub meaning: &'static str,
}

/// Sorted by value.
#[rustfmt::skip]
pub const EX_DISC_REASONS: &[ExDiscReason] = &[
    ExDiscReason { value: 0, name: "exDiscReasonNoInfo", meaning: "no additional information is available" },
    ExDiscReason { value: 1, name: "exDiscReasonAPIInitiatedDisconnect", meaning: "an application disconnected the session" },
    ExDiscReason { value: 2, name: "exDiscReasonAPIInitiatedLogoff", meaning: "an application logged the session off" },
    ExDiscReason { value: 3, name: "exDiscReasonServerIdleTimeout", meaning: "the server disconnected an idle session after its time limit" },
    ExDiscReason { value: 4, name: "exDiscReasonServerLogonTimeout", meaning: "the server disconnected the session after the allowed connection time" },
    ExDiscReason { value: 5, name: "exDiscReasonReplacedByOtherConnection", meaning: "another connection replaced this one" },
    ExDiscReason { value: 6, name: "exDiscReasonOutOfMemory", meaning: "no memory is available" },
    ExDiscReason { value: 7, name: "exDiscReasonServerDeniedConnection", meaning: "the server denied the connection" },
    ExDiscReason { value: 8, name: "exDiscReasonServerDeniedConnectionFips", meaning: "the server denied the connection for security reasons (FIPS)" },
    ExDiscReason { value: 9, name: "exDiscReasonServerInsufficientPrivileges", meaning: "the server denied the connection: the user lacks the privileges" },
    ExDiscReason { value: 10, name: "exDiscReasonServerFreshCredsRequired", meaning: "fresh credentials are required" },
    ExDiscReason { value: 11, name: "exDiscReasonRpcInitiatedDisconnectByUser", meaning: "user activity disconnected the session" },
    ExDiscReason { value: 12, name: "exDiscReasonLogoffByUser", meaning: "the user logged off" },
    ExDiscReason { value: 256, name: "exDiscReasonLicenseInternal", meaning: "internal licensing error" },
    ExDiscReason { value: 257, name: "exDiscReasonLicenseNoLicenseServer", meaning: "no license server was available" },
    ExDiscReason { value: 258, name: "exDiscReasonLicenseNoLicense", meaning: "no valid license was available" },
    ExDiscReason { value: 259, name: "exDiscReasonLicenseErrClientMsg", meaning: "the server received an invalid licensing message" },
    ExDiscReason { value: 260, name: "exDiscReasonLicenseHwidDoesntMatchLicense", meaning: "the hardware id does not match the one in the license" },
    ExDiscReason { value: 261, name: "exDiscReasonLicenseErrClientLicense", meaning: "client license error" },
    ExDiscReason { value: 262, name: "exDiscReasonLicenseCantFinishProtocol", meaning: "network problems during the licensing protocol" },
    ExDiscReason { value: 263, name: "exDiscReasonLicenseClientEndedProtocol", meaning: "the client ended the licensing protocol early" },
    ExDiscReason { value: 264, name: "exDiscReasonLicenseErrClientEncryption", meaning: "a licensing message was encrypted incorrectly" },
    ExDiscReason { value: 265, name: "exDiscReasonLicenseCantUpgradeLicense", meaning: "the client access license could not be upgraded or renewed" },
    ExDiscReason { value: 266, name: "exDiscReasonLicenseNoRemoteConnections", meaning: "the server is not licensed to accept remote connections" },
    ExDiscReason { value: 267, name: "exDiscReasonLicenseCreatingLicStoreAccDenied", meaning: "access was denied creating the registry key of the client's license store" },
    ExDiscReason { value: 768, name: "exDiscReasonRdpEncInvalidCredentials", meaning: "invalid credentials were encountered" },
    ExDiscReason { value: 4096, name: "exDiscReasonProtocolRangeStart", meaning: "first value of the range of internal protocol errors; see the server's event log" },
    ExDiscReason { value: 32767, name: "exDiscReasonProtocolRangeEnd", meaning: "last value of the range of internal protocol errors" },
];

/// The `exDiscReason*` constant for a value.
pub fn ex_disc_reason(value: u32) -> Option<&'static ExDiscReason> {
    EX_DISC_REASONS
        .binary_search_by_key(&value, |entry| entry.value)
        .ok()
        .and_then(|at| EX_DISC_REASONS.get(at))
}

/// The value named `name`, an `exDiscReason*` or `ERRINFO_*` name (ASCII case-insensitive).
pub fn value_of_name(name: &str) -> Option<u32> {
    EX_DISC_REASONS
        .iter()
        .find(|entry| entry.name.eq_ignore_ascii_case(name))
        .map(|entry| entry.value)
        .or_else(|| {
            ErrorInfo::all()
                .find(|info| info.name().is_some_and(|n| n.eq_ignore_ascii_case(name)))
                .map(|info| info.0)
        })
}

/// Every value with a name here or in [`ErrorInfo`], ascending.
pub fn all_values() -> Vec<u32> {
    let mut values: Vec<u32> = ErrorInfo::all()
        .map(|info| info.0)
        .chain(EX_DISC_REASONS.iter().map(|entry| entry.value))
        .collect();
    values.sort_unstable();
    values.dedup();
    values
}

/// Every name a value goes by: the errorInfo name first, then the client's `exDiscReason*` name.
pub fn names(value: u32) -> Vec<&'static str> {
    ErrorInfo(value)
        .name()
        .into_iter()
        .chain(ex_disc_reason(value).map(|entry| entry.name))
        .collect()
}

/// What the value means: the errorInfo meaning when there is one, else the `exDiscReason*` one.
pub fn meaning(value: u32) -> Option<&'static str> {
    ErrorInfo(value)
        .meaning()
        .or_else(|| ex_disc_reason(value).map(|entry| entry.meaning))
}

/// What 0x7 needs said: the server rarely gets to send it.
pub const SEVEN_NOTE: &str = "a capture rarely shows 0x7: the server can only send it in a Set Error Info PDU, which exists after the MCS connection is up; when the server hangs up earlier (X.224, TLS, CredSSP) the client reports 0x7 by itself. Look at who closed the connection and after which message";

/// Cause ids (most likely first) and host checks for an extended reason / errorInfo value.
pub fn causes_and_checks(value: u32) -> (&'static [CauseId], &'static [&'static str]) {
    match value {
        0 => (&[], &[]),
        0x1 | 0x2 | 0x5 | 0xB | 0xC => (&[CauseId::ServerDisconnected], &[c::SERVER_LOG]),
        0x3 | 0x4 => (&[CauseId::ServerDisconnected], &[c::SESSION_LIMITS, c::SERVER_LOG]),
        0x6 | 0x0F..=0x18 => (&[CauseId::ServerDisconnected], &[c::SERVER_RESOURCES, c::SERVER_LOG]),
        0x7 => (
            &[
                CauseId::ServerDeniedConnection,
                CauseId::TlsServerAbort,
                CauseId::SecurityLayerMismatch,
                CauseId::NlaAuthFailed,
                CauseId::CredsspVersionMismatch,
            ],
            &[
                SEVEN_NOTE,
                c::CAPTURE_OR_PROBE,
                c::SCHANNEL_EVENTS,
                c::TERMSERVICE_CERT_EVENTS,
                c::SECURITY_LAYER,
                c::LICENSING_HOST,
            ],
        ),
        0x8 => (
            &[CauseId::ServerDeniedConnection, CauseId::SecurityLayerMismatch],
            &[c::FIPS_POLICY, c::SECURITY_LAYER],
        ),
        0x9 => (
            &[CauseId::ServerDeniedConnection, CauseId::EarlyUserAuthDenied],
            &[c::LOGON_RIGHT],
        ),
        0xA => (&[CauseId::NlaAuthFailed], &[c::FRESH_CREDENTIALS]),
        0x10B => (
            &[CauseId::ServerDeniedConnection],
            &[
                c::LICENSE_CACHE,
                "on the client: write access to HKLM\\SOFTWARE\\Microsoft\\MSLicensing (run the client once as administrator)",
            ],
        ),
        0x100..=0x1FF => (
            &[CauseId::ServerDeniedConnection],
            &[c::LICENSE_CACHE, c::LICENSING_HOST],
        ),
        0x300 => (&[CauseId::NlaAuthFailed], &[c::ACCOUNT]),
        0x400..=0x4FF => (&[CauseId::ServerDeniedConnection], &[c::BROKER]),
        0x1191..=0x1195 => (
            &[CauseId::SecurityLayerMismatch, CauseId::WeakStandardRdpSecurity],
            &[c::SECURITY_LAYER, c::FIPS_POLICY],
        ),
        _ => (&[CauseId::ServerDisconnected], &[c::SERVER_LOG, c::CAPTURE_OR_PROBE]),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn sorted_and_unique() {
        assert!(EX_DISC_REASONS.windows(2).all(|w| w[0].value < w[1].value));
        assert_eq!(EX_DISC_REASONS.len(), 28);
    }

    #[test]
    fn names_both_ways() {
        assert_eq!(value_of_name("exDiscReasonServerDeniedConnection"), Some(7));
        assert_eq!(value_of_name("ERRINFO_SERVER_DENIED_CONNECTION"), Some(7));
        assert_eq!(
            names(7),
            [
                "ERRINFO_SERVER_DENIED_CONNECTION",
                "exDiscReasonServerDeniedConnection"
            ]
        );
        assert_eq!(names(8), ["exDiscReasonServerDeniedConnectionFips"]);
        assert_eq!(names(0x10C9), ["ERRINFO_UNKNOWNPDUTYPE2"]);
        assert_eq!(value_of_name("exDiscReasonLogoffByUser"), Some(12));
        assert!(meaning(8).is_some());
        assert!(all_values().contains(&8));
        assert!(all_values().contains(&0x1195));
    }

    #[test]
    fn seven_points_at_the_server_and_carries_the_note() {
        let (causes, checks) = causes_and_checks(7);
        assert_eq!(causes[0], CauseId::ServerDeniedConnection);
        assert_eq!(checks[0], SEVEN_NOTE);
        assert_eq!(causes_and_checks(0x102).0, &[CauseId::ServerDeniedConnection]);
    }
}
