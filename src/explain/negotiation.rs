//! RDP_NEG_FAILURE failure codes (MS-RDPBCGR 2.2.1.2.2): names and meanings from [`FailureCode`], the
//! cause each points to, and what to change.

use crate::diagnose::causes::checks as c;
use crate::diagnose::CauseId;
use crate::wire::rdp_neg::FailureCode;

/// The `neg-*` cause id of a failure code; every code the specification does not define (7 and up, 0)
/// is `neg-unknown-failure`.
pub fn cause(code: FailureCode) -> CauseId {
    match code {
        FailureCode::SSL_REQUIRED_BY_SERVER => CauseId::NegSslRequired,
        FailureCode::SSL_NOT_ALLOWED_BY_SERVER => CauseId::NegSslNotAllowed,
        FailureCode::SSL_CERT_NOT_ON_SERVER => CauseId::NegSslCertNotOnServer,
        FailureCode::INCONSISTENT_FLAGS => CauseId::NegInconsistentFlags,
        FailureCode::HYBRID_REQUIRED_BY_SERVER => CauseId::NegHybridRequired,
        FailureCode::SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER => CauseId::NegSslWithUserAuthRequired,
        _ => CauseId::NegUnknownFailure,
    }
}

/// Host checks for a failure code.
pub fn checks(code: FailureCode) -> &'static [&'static str] {
    match code {
        FailureCode::SSL_REQUIRED_BY_SERVER => &[
            "on the client: allow TLS (mstsc \"authentication level\", FreeRDP /sec:tls), do not force standard RDP security",
            c::SECURITY_LAYER,
        ],
        FailureCode::SSL_NOT_ALLOWED_BY_SERVER => &[c::SECURITY_LAYER],
        FailureCode::SSL_CERT_NOT_ON_SERVER => &[
            c::RDP_CERT_STORE,
            c::TERMSERVICE_CERT_EVENTS,
            c::MACHINE_KEYS,
        ],
        FailureCode::INCONSISTENT_FLAGS => &["the client's requested protocols (rdpdiag shows them): a client bug or a tool sending odd flags"],
        FailureCode::HYBRID_REQUIRED_BY_SERVER => &[
            "on the client: enable CredSSP / NLA (FreeRDP /sec:nla), and credentials must be available up front",
            c::SECURITY_LAYER,
        ],
        FailureCode::SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER => &["a client certificate (smart card) for TLS client authentication", c::SECURITY_LAYER],
        _ => &[c::CAPTURE_OR_PROBE],
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_its_own_cause() {
        let causes: Vec<_> = FailureCode::ALL.iter().map(|code| cause(*code)).collect();
        assert_eq!(
            causes,
            [
                CauseId::NegSslRequired,
                CauseId::NegSslNotAllowed,
                CauseId::NegSslCertNotOnServer,
                CauseId::NegInconsistentFlags,
                CauseId::NegHybridRequired,
                CauseId::NegSslWithUserAuthRequired
            ]
        );
        assert_eq!(cause(FailureCode(7)), CauseId::NegUnknownFailure);
        assert_eq!(cause(FailureCode(0)), CauseId::NegUnknownFailure);
    }
}
