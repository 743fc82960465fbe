//! NTSTATUS / SECURITY_STATUS codes a CredSSP TSRequest carries in errorCode (MS-CSSP 2.2.1): names
//! and meanings from [`NtStatus`], the cause each points to, and the specific check.

use crate::diagnose::causes::checks as c;
use crate::diagnose::CauseId;
use crate::wire::credssp::NtStatus;

/// Cause ids (most likely first) and host checks for a status code.
pub fn causes_and_checks(status: NtStatus) -> (&'static [CauseId], &'static [&'static str]) {
    const AUTH: &[CauseId] = &[CauseId::NlaAuthFailed];
    match status {
        NtStatus::STATUS_SUCCESS => (&[], &[]),
        NtStatus::STATUS_NO_SUCH_USER
        | NtStatus::STATUS_WRONG_PASSWORD
        | NtStatus::STATUS_LOGON_FAILURE
        | NtStatus::SEC_E_LOGON_DENIED
        | NtStatus::SEC_E_UNKNOWN_CREDENTIALS => (
            AUTH,
            &["the user name (DOMAIN\\user or user@domain) and password typed or saved on the client", c::ACCOUNT],
        ),
        NtStatus::SEC_E_NO_CREDENTIALS => (AUTH, &["credentials available to the client before connecting (NLA needs them up front)"]),
        NtStatus::STATUS_ACCOUNT_RESTRICTION => (
            AUTH,
            &["the account's restrictions: blank password (\"Limit local account use of blank passwords\"), logon hours, allowed workstations, Protected Users group"],
        ),
        NtStatus::STATUS_INVALID_LOGON_HOURS => (AUTH, &["the account's logon hours"]),
        NtStatus::STATUS_INVALID_WORKSTATION => (AUTH, &["the account's \"Log On To\" workstation list"]),
        NtStatus::STATUS_PASSWORD_EXPIRED => (AUTH, &["change the password (on another machine, or through a Gateway / RD Web Access that allows it)"]),
        NtStatus::STATUS_PASSWORD_MUST_CHANGE => (AUTH, &["change the password before the first logon (at the console or on another machine)"]),
        NtStatus::STATUS_ACCOUNT_DISABLED | NtStatus::STATUS_ACCOUNT_EXPIRED => (AUTH, &[c::ACCOUNT]),
        NtStatus::STATUS_ACCOUNT_LOCKED_OUT => (
            AUTH,
            &["unlock the account and find what keeps sending a wrong password (saved credentials, services, mapped drives)"],
        ),
        NtStatus::STATUS_LOGON_TYPE_NOT_GRANTED => (&[CauseId::NlaAuthFailed, CauseId::EarlyUserAuthDenied], &[c::LOGON_RIGHT]),
        NtStatus::STATUS_NO_LOGON_SERVERS
        | NtStatus::STATUS_TRUSTED_RELATIONSHIP_FAILURE
        | NtStatus::SEC_E_NO_AUTHENTICATING_AUTHORITY
        | NtStatus::STATUS_AUTHENTICATION_FIREWALL_FAILED => (AUTH, &[c::DOMAIN_CONTROLLER]),
        NtStatus::STATUS_TIME_DIFFERENCE_AT_DC | NtStatus::SEC_E_TIME_SKEW => (AUTH, &[c::CLOCKS]),
        NtStatus::SEC_E_WRONG_PRINCIPAL | NtStatus::SEC_E_TARGET_UNKNOWN | NtStatus::SEC_E_MUTUAL_AUTH_FAILED => (
            AUTH,
            &["Kerberos to the server: connect by its DNS name, check its SPN (TERMSRV/host) and duplicate SPNs"],
        ),
        NtStatus::SEC_E_DELEGATION_POLICY | NtStatus::SEC_E_POLICY_NLTM_ONLY => (AUTH, &[c::DELEGATION_POLICY]),
        NtStatus::STATUS_DOWNGRADE_DETECTED
        | NtStatus::SEC_E_UNSUPPORTED_FUNCTION
        | NtStatus::SEC_E_INVALID_TOKEN
        | NtStatus::SEC_E_MESSAGE_ALTERED
        | NtStatus::SEC_E_BAD_BINDINGS => (
            &[CauseId::CredsspVersionMismatch, CauseId::NlaAuthFailed],
            &[c::CREDSSP_PATCH, c::TLS_PROTOCOLS],
        ),
        NtStatus::SEC_E_INTERNAL_ERROR => (AUTH, &["server: the Local Security Authority (lsass) and the System log"]),
        NtStatus::STATUS_USER_SESSION_DELETED => (&[CauseId::ServerDisconnected], &[c::SERVER_LOG]),
        _ => (AUTH, &[c::ACCOUNT]),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn logon_failures_point_at_nla() {
        assert_eq!(
            causes_and_checks(NtStatus::STATUS_LOGON_FAILURE).0,
            &[CauseId::NlaAuthFailed]
        );
        assert_eq!(
            causes_and_checks(NtStatus::STATUS_LOGON_TYPE_NOT_GRANTED).1,
            &[c::LOGON_RIGHT]
        );
        assert_eq!(
            causes_and_checks(NtStatus::STATUS_DOWNGRADE_DETECTED).0[0],
            CauseId::CredsspVersionMismatch
        );
    }
}
