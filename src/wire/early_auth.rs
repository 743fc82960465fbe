//! MS-RDPBCGR 2.2.10.2 Early User Authorization Result PDU: the four bytes a server that selected
//! PROTOCOL_HYBRID_EX sends inside TLS once CredSSP is done, saying whether the user may log on.

use nom::number::streaming::le_u32;
use nom::Parser;

use super::{write_named, WireResult};

/// Length of the Early User Authorization Result PDU.
pub const EARLY_AUTH_RESULT_LEN: usize = 4;

/// MS-RDPBCGR 2.2.10.2 authorizationResult. Unknown values are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EarlyAuthResult(pub u32);

impl EarlyAuthResult {
    pub const AUTHZ_SUCCESS: Self = Self(0x0000_0000);
    pub const AUTHZ_ACCESS_DENIED: Self = Self(0x0000_0005);

    pub fn name(self) -> Option<&'static str> {
        match self {
            Self::AUTHZ_SUCCESS => Some("AUTHZ_SUCCESS"),
            Self::AUTHZ_ACCESS_DENIED => Some("AUTHZ_ACCESS_DENIED"),
            _ => None,
        }
    }
}

impl std::fmt::Display for EarlyAuthResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write_named(f, self.name(), u64::from(self.0))
    }
}

/// Parses the PDU: a little-endian u32 (streaming: fewer than 4 bytes is `Incomplete`).
pub fn parse_early_auth_result(i: &[u8]) -> WireResult<'_, EarlyAuthResult> {
    le_u32.map(EarlyAuthResult).parse(i)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_both_results_and_keeps_unknown_ones() {
        let denied = [
            0x05, 0x00, 0x00, 0x00, // authorizationResult AUTHZ_ACCESS_DENIED
            0x03, // the next bytes in the stream
        ];
        let (rest, result) = parse_early_auth_result(&denied).unwrap();
        assert_eq!(
            (rest, result),
            (&[0x03][..], EarlyAuthResult::AUTHZ_ACCESS_DENIED)
        );
        assert_eq!(result.to_string(), "AUTHZ_ACCESS_DENIED");

        let success = [0x00, 0x00, 0x00, 0x00]; // authorizationResult AUTHZ_SUCCESS
        let (_, result) = parse_early_auth_result(&success).unwrap();
        assert_eq!(result, EarlyAuthResult::AUTHZ_SUCCESS);

        let (_, odd) = parse_early_auth_result(&[0x07, 0x00, 0x00, 0x80]).unwrap();
        assert_eq!(
            (odd, odd.to_string()),
            (EarlyAuthResult(0x8000_0007), "0x80000007".to_owned())
        );
    }

    #[test]
    fn every_cut_is_incomplete() {
        let bytes = [0x05, 0x00, 0x00, 0x00];
        for cut in 0..EARLY_AUTH_RESULT_LEN {
            assert!(
                matches!(
                    parse_early_auth_result(&bytes[..cut]),
                    Err(nom::Err::Incomplete(_))
                ),
                "cut at {cut}"
            );
        }
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let _ = parse_early_auth_result(&bytes);
        }
    }
}
