//! `rdpdiag explain CODE...`: what a code a user pasted means, and which causes of the catalogue
//! ([`crate::diagnose::causes`], `docs/causes.md`) it points to; `rdpdiag explain CAUSE-ID` shows one
//! cause. Cause words (title, remedy, host checks) come from the catalogue only.
//!
//! Users paste what they see: `0x904`, `2308`, `7`, `ERRINFO_SERVER_DENIED_CONNECTION`,
//! `exDiscReasonServerDeniedConnection`, `0xC000006D`, `STATUS_LOGON_FAILURE`,
//! `HYBRID_REQUIRED_BY_SERVER`, `protocol_version`, `36870`, or a whole sentence such as
//! "error code 0x904, extended error code 0x7". [`explain`] lists every interpretation of one code,
//! most likely first; [`explain_text`] finds every code in a sentence and uses the words around each
//! ("extended", "event", "alert", ...) to pick the interpretation meant.
//!
//! Names and meanings of wire values come from the wire layer ([`FailureCode`], [`ErrorInfo`],
//! [`NtStatus`], [`AlertDescription`]); the tables here add what the wire does not know: the Windows
//! client's own disconnect reasons, the `exDiscReason*` names, event ids, and the cause mapping.
//!
//! [`ErrorInfo`]: crate::wire::mcs::ErrorInfo

pub mod disconnect_reason;
pub mod event_id;
pub mod extended_reason;
pub mod negotiation;
pub mod nt_status;
mod query;
mod render;
pub mod tls_alert;

use serde::Serialize;

use crate::diagnose::CauseId;
use crate::wire::credssp::NtStatus;
use crate::wire::rdp_neg::FailureCode;
use crate::wire::tls::AlertDescription;

pub use query::{explain, explain_text};
pub use render::write_text;

/// Which value space a code belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CodeKind {
    /// The Windows Remote Desktop client's own disconnect reason (`discReason`, mstsc "Error code"),
    /// e.g. 0x904.
    DisconnectReason,
    /// The client's `ExtendedDisconnectReason` (mstsc "Extended error code"), the same value space as
    /// the server's errorInfo (MS-RDPBCGR 2.2.5.1.1 Set Error Info PDU).
    ExtendedReason,
    /// RDP_NEG_FAILURE failureCode (MS-RDPBCGR 2.2.1.2.2).
    NegotiationFailure,
    /// NTSTATUS / SECURITY_STATUS in a CredSSP TSRequest errorCode (MS-CSSP 2.2.1).
    NtStatus,
    /// TLS alert description (RFC 8446 §6.2, RFC 5246 §7.2).
    TlsAlert,
    /// A Schannel event id in the System log.
    SchannelEvent,
    /// A Remote Desktop Services (TermService, RemoteConnectionManager) event id in the System log.
    TermServiceEvent,
    /// One of rdpdiag's own cause ids (`cert-expired`), as a replay or probe finding names it.
    Cause,
}

impl CodeKind {
    /// What a user reads for the kind.
    pub fn label(self) -> &'static str {
        match self {
            CodeKind::DisconnectReason => {
                "disconnect reason (the Remote Desktop client's \"error code\")"
            }
            CodeKind::ExtendedReason => {
                "extended disconnect reason (\"extended error code\", the server's errorInfo)"
            }
            CodeKind::NegotiationFailure => {
                "security negotiation failure sent by the server (RDP_NEG_FAILURE)"
            }
            CodeKind::NtStatus => {
                "network level authentication status (CredSSP errorCode, NTSTATUS)"
            }
            CodeKind::TlsAlert => "TLS alert",
            CodeKind::SchannelEvent => "Windows event (System log, Schannel)",
            CodeKind::TermServiceEvent => "Windows event (System log, Remote Desktop Services)",
            CodeKind::Cause => "rdpdiag cause id (docs/causes.md)",
        }
    }
}

/// One interpretation of one code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Explanation {
    pub kind: CodeKind,
    pub value: Option<u64>,
    /// The documented name(s), e.g. `disconnectReasonAtClientWinsockFDCLOSE`; several names of one value
    /// are joined with " / ". A value with no documented name shows as hex.
    pub name: String,
    pub meaning: String,
    /// Causes of the catalogue, most likely first.
    pub causes: Vec<CauseId>,
    /// What to check on the hosts to tell those causes apart.
    pub checks: Vec<&'static str>,
}

/// One cause of the catalogue, by its id: its title as the meaning, its host checks as the checks.
pub fn cause(id: CauseId) -> Option<Explanation> {
    let c = id.cause()?;
    Some(Explanation {
        kind: CodeKind::Cause,
        value: None,
        name: id.as_str().to_string(),
        meaning: c.title.to_string(),
        causes: vec![id],
        checks: c.host_checks.to_vec(),
    })
}

/// The client's disconnect reason `value`, if the table knows it.
pub fn disconnect_reason(value: u32) -> Option<Explanation> {
    disconnect_reason::lookup(value).map(|entry| Explanation {
        kind: CodeKind::DisconnectReason,
        value: Some(entry.value.into()),
        name: entry
            .name
            .map_or_else(|| format!("{:#x}", entry.value), str::to_string),
        meaning: entry.meaning.to_string(),
        causes: entry.causes.to_vec(),
        checks: entry.checks.to_vec(),
    })
}

/// The extended disconnect reason / errorInfo `value`, if it has a name.
pub fn extended_reason(value: u32) -> Option<Explanation> {
    let names = extended_reason::names(value);
    let meaning = extended_reason::meaning(value)?;
    let (causes, checks) = extended_reason::causes_and_checks(value);
    Some(Explanation {
        kind: CodeKind::ExtendedReason,
        value: Some(value.into()),
        name: names.join(" / "),
        meaning: meaning.to_string(),
        causes: causes.to_vec(),
        checks: checks.to_vec(),
    })
}

/// An RDP_NEG_FAILURE code; an undefined code still explains, as `neg-unknown-failure`.
pub fn negotiation_failure(code: FailureCode) -> Explanation {
    Explanation {
        kind: CodeKind::NegotiationFailure,
        value: Some(code.0.into()),
        name: code.to_string(),
        meaning: code
            .meaning()
            .unwrap_or("a failure code MS-RDPBCGR 2.2.1.2.2 does not define")
            .to_string(),
        causes: vec![negotiation::cause(code)],
        checks: negotiation::checks(code).to_vec(),
    }
}

/// A CredSSP errorCode, if [`NtStatus`] names it.
pub fn nt_status(status: NtStatus) -> Option<Explanation> {
    let (name, meaning) = (status.name()?, status.meaning()?);
    let (causes, checks) = nt_status::causes_and_checks(status);
    Some(Explanation {
        kind: CodeKind::NtStatus,
        value: Some(status.0.into()),
        name: name.to_string(),
        meaning: meaning.to_string(),
        causes: causes.to_vec(),
        checks: checks.to_vec(),
    })
}

/// A TLS alert description, if it has a name.
pub fn tls_alert(alert: AlertDescription) -> Option<Explanation> {
    let (name, meaning) = (alert.name()?, tls_alert::meaning(alert)?);
    let (causes, checks) = tls_alert::causes_and_checks(alert);
    Some(Explanation {
        kind: CodeKind::TlsAlert,
        value: Some(alert.0.into()),
        name: name.to_string(),
        meaning: meaning.to_string(),
        causes: causes.to_vec(),
        checks: checks.to_vec(),
    })
}

/// A Windows event id of the table in [`event_id`].
pub fn windows_event(id: u32) -> Option<Explanation> {
    event_id::lookup(id).map(|event| Explanation {
        kind: event.kind,
        value: Some(event.id.into()),
        name: format!("event {} ({})", event.id, event.source),
        meaning: event.meaning.to_string(),
        causes: event.causes.to_vec(),
        checks: event.checks.to_vec(),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;

    /// Every cause id any table refers to is in the catalogue.
    #[test]
    fn every_referenced_cause_is_in_the_catalogue() {
        let mut all = Vec::new();
        for entry in disconnect_reason::DISCONNECT_REASONS {
            all.push(disconnect_reason(entry.value).unwrap());
        }
        for value in extended_reason::all_values() {
            all.push(extended_reason(value).unwrap());
        }
        for value in [0, 1, 2, 3, 4, 5, 6, 7, 8, 0xffff_ffff] {
            all.push(negotiation_failure(FailureCode(value)));
        }
        for status in NtStatus::ALL {
            all.push(nt_status(*status).unwrap());
        }
        for alert in (0..=u8::MAX).map(AlertDescription) {
            all.extend(tls_alert(alert));
        }
        for event in event_id::WINDOWS_EVENTS {
            all.push(windows_event(event.id).unwrap());
        }
        for explanation in &all {
            for cause in &explanation.causes {
                assert!(
                    cause.cause().is_some(),
                    "{} {:?} refers to a cause without an entry: {cause}",
                    explanation.name,
                    explanation.kind
                );
            }
            assert!(!explanation.meaning.is_empty());
        }
        // and the tables use most of the catalogue
        let used: std::collections::BTreeSet<_> =
            all.iter().flat_map(|e| e.causes.iter().copied()).collect();
        assert!(used.len() >= 30, "only {} causes used", used.len());
    }

    #[test]
    fn serializes_for_json() {
        let json = serde_json::to_string(&disconnect_reason(0x904).unwrap()).unwrap();
        assert!(json.contains("\"kind\":\"disconnect-reason\""));
        assert!(json.contains("\"value\":2308"));
        assert!(json.contains("tls-server-abort"));
    }
}
