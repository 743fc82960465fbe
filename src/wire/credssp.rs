//! CredSSP (MS-CSSP 2.2.1): the DER-encoded TSRequest that carries NLA's SPNEGO/NTLM tokens inside TLS, and
//! the NTSTATUS the server puts in its `errorCode` when authentication fails.
//!
//! The DER reader here knows just enough of X.690 for TSRequest: one-octet tags and definite lengths in
//! short or long form (up to four length octets). The outer SEQUENCE is read streaming: a TSRequest whose
//! declared length exceeds the bytes at hand is `Incomplete`. Inside it every length is checked against
//! the SEQUENCE ([`bounded`]): overrunning it is [`WireError::Truncated`].

use nom::number::streaming::u8 as byte;

use super::{bounded, fail, take_n, write_named, WireError, WireResult};

const PDU: &str = "TSRequest";
const SEQUENCE: u8 = 0x30;
const INTEGER: u8 = 0x02;
const OCTET_STRING: u8 = 0x04;
/// Context-specific, constructed `[n]` tags are `0xA0 | n`.
const CONTEXT: u8 = 0xa0;

/// MS-CSSP 2.2.1 TSRequest. An absent negoTokens is an empty list.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TsRequest<'a> {
    pub version: u32,
    pub nego_tokens: Vec<&'a [u8]>,
    pub auth_info: Option<&'a [u8]>,
    pub pub_key_auth: Option<&'a [u8]>,
    pub error_code: Option<NtStatus>,
    pub client_nonce: Option<&'a [u8]>,
}

/// An NTSTATUS (MS-ERREF 2.3), as carried by TSRequest.errorCode. SSPI HRESULTs (`SEC_E_*`, MS-ERREF 2.1)
/// are named too, since an SSPI failure code is what some implementations put there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NtStatus(pub u32);

macro_rules! nt_statuses {
    ($($name:ident = $value:literal, $meaning:literal;)*) => {
        impl NtStatus {
            $(pub const $name: Self = Self($value);)*

            /// Every value this table names, in table order.
            pub const ALL: &'static [Self] = &[$(Self::$name),*];

            /// The MS-ERREF name of a known value.
            pub fn name(self) -> Option<&'static str> {
                match self.0 {
                    $($value => Some(stringify!($name)),)*
                    _ => None,
                }
            }

            /// What a known value means, in one line.
            pub fn meaning(self) -> Option<&'static str> {
                match self.0 {
                    $($value => Some($meaning),)*
                    _ => None,
                }
            }
        }
    };
}

// Values checked against MS-ERREF 2.3.1 / 2.1.1 (as in the Windows SDK's ntstatus.h and winerror.h).
nt_statuses! {
    STATUS_SUCCESS = 0x0000_0000, "the operation succeeded";
    STATUS_NO_LOGON_SERVERS = 0xC000_005E, "no domain controller was available to validate the logon";
    STATUS_NO_SUCH_USER = 0xC000_0064, "the user account does not exist";
    STATUS_WRONG_PASSWORD = 0xC000_006A, "the password is wrong";
    STATUS_LOGON_FAILURE = 0xC000_006D, "unknown user name or bad password";
    STATUS_ACCOUNT_RESTRICTION = 0xC000_006E, "an account restriction prevents this logon (e.g. blank password, time or workstation limits)";
    STATUS_INVALID_LOGON_HOURS = 0xC000_006F, "the account may not log on at this time of day";
    STATUS_INVALID_WORKSTATION = 0xC000_0070, "the account may not log on from this workstation";
    STATUS_PASSWORD_EXPIRED = 0xC000_0071, "the account's password has expired";
    STATUS_ACCOUNT_DISABLED = 0xC000_0072, "the account is disabled";
    STATUS_TIME_DIFFERENCE_AT_DC = 0xC000_0133, "the clocks of this machine and the domain controller differ too much";
    STATUS_LOGON_TYPE_NOT_GRANTED = 0xC000_015B, "the user lacks the logon right needed (e.g. \"Allow log on through Remote Desktop Services\")";
    STATUS_TRUSTED_RELATIONSHIP_FAILURE = 0xC000_018D, "the trust between this machine and its domain failed";
    STATUS_ACCOUNT_EXPIRED = 0xC000_0193, "the user account has expired";
    STATUS_USER_SESSION_DELETED = 0xC000_0203, "the remote user session was deleted";
    STATUS_PASSWORD_MUST_CHANGE = 0xC000_0224, "the password must be changed before the first logon";
    STATUS_ACCOUNT_LOCKED_OUT = 0xC000_0234, "the account is locked out";
    STATUS_DOWNGRADE_DETECTED = 0xC000_0388, "the system detected a possible attempt to compromise security (downgrade)";
    STATUS_AUTHENTICATION_FIREWALL_FAILED = 0xC000_0413, "the machine may not be authenticated to (selective authentication, authentication firewall)";
    SEC_E_UNSUPPORTED_FUNCTION = 0x8009_0302, "the requested function is not supported";
    SEC_E_TARGET_UNKNOWN = 0x8009_0303, "the specified target is unknown or unreachable";
    SEC_E_INTERNAL_ERROR = 0x8009_0304, "the Local Security Authority cannot be contacted";
    SEC_E_INVALID_TOKEN = 0x8009_0308, "the token supplied to the function is invalid";
    SEC_E_LOGON_DENIED = 0x8009_030C, "the logon attempt failed";
    SEC_E_UNKNOWN_CREDENTIALS = 0x8009_030D, "the credentials supplied to the package were not recognized";
    SEC_E_NO_CREDENTIALS = 0x8009_030E, "no credentials are available in the security package";
    SEC_E_MESSAGE_ALTERED = 0x8009_030F, "the message or signature supplied for verification has been altered";
    SEC_E_NO_AUTHENTICATING_AUTHORITY = 0x8009_0311, "no authority could be contacted for authentication";
    SEC_E_WRONG_PRINCIPAL = 0x8009_0322, "the target principal name is incorrect";
    SEC_E_TIME_SKEW = 0x8009_0324, "the clocks on the client and server machines are skewed";
    SEC_E_BAD_BINDINGS = 0x8009_0346, "the client's supplied channel bindings were incorrect";
    SEC_E_DELEGATION_POLICY = 0x8009_035E, "policy does not allow delegating the credentials";
    SEC_E_POLICY_NLTM_ONLY = 0x8009_035F, "policy allows only NTLM, which the request did not allow";
    SEC_E_MUTUAL_AUTH_FAILED = 0x8009_0363, "the server could not be authenticated (mutual authentication failed)";
}

impl std::fmt::Display for NtStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write_named(f, self.name(), u64::from(self.0))
    }
}

/// Parses one TSRequest. `Incomplete` until the whole outer SEQUENCE is there.
pub fn parse_ts_request(i: &[u8]) -> WireResult<'_, TsRequest<'_>> {
    let (rest, body) = der_tlv(i, SEQUENCE, "TSRequest", "SEQUENCE (0x30)")?;
    let (_, request) = bounded(PDU, body, ts_request_fields)?;
    Ok((rest, request))
}

/// The fields of the TSRequest SEQUENCE, in tag order; a later context tag (`[6]` and up) is skipped.
fn ts_request_fields(mut i: &[u8]) -> WireResult<'_, TsRequest<'_>> {
    let mut request = TsRequest::default();
    let (mut version, mut previous) = (None, None);
    while !i.is_empty() {
        let (rest, (tag, len)) = der_header(i)?;
        let (rest, content) = take_n(rest, len)?;
        i = rest;
        let number = tag ^ CONTEXT;
        if tag & 0xe0 != CONTEXT || previous.is_some_and(|p| number <= p) {
            return fail(WireError::BadValue {
                pdu: PDU,
                field: "field tag",
                got: tag.into(),
                expected: "context tags [0]..[5] in increasing order",
            });
        }
        previous = Some(number);
        match number {
            0 => {
                let n = explicit(content, INTEGER, "version", der_integer)?;
                version = Some(u32::try_from(n).map_err(|_| bad_integer("version", n))?);
            }
            1 => request.nego_tokens = explicit(content, SEQUENCE, "negoTokens", nego_data)?,
            2 => request.auth_info = Some(explicit(content, OCTET_STRING, "authInfo", Ok)?),
            3 => request.pub_key_auth = Some(explicit(content, OCTET_STRING, "pubKeyAuth", Ok)?),
            4 => {
                let n = explicit(content, INTEGER, "errorCode", der_integer)?;
                // An NTSTATUS is a 32-bit value: accept both its signed and its unsigned encoding.
                let code = i32::try_from(n)
                    .map(|signed| u32::from_be_bytes(signed.to_be_bytes()))
                    .or_else(|_| u32::try_from(n))
                    .map_err(|_| bad_integer("errorCode", n))?;
                request.error_code = Some(NtStatus(code));
            }
            5 => request.client_nonce = Some(explicit(content, OCTET_STRING, "clientNonce", Ok)?),
            _ => {}
        }
    }
    request.version = version.ok_or(nom::Err::Error(WireError::BadValue {
        pdu: PDU,
        field: "version",
        got: 0,
        expected: "a version field [0]",
    }))?;
    Ok((i, request))
}

/// `NegoData ::= SEQUENCE OF SEQUENCE { negoToken [0] OCTET STRING }`, given the SEQUENCE OF's content.
fn nego_data(mut i: &[u8]) -> Result<Vec<&[u8]>, nom::Err<WireError>> {
    let mut tokens = Vec::new();
    while !i.is_empty() {
        let (rest, item) = der_tlv(i, SEQUENCE, "NegoData item", "SEQUENCE (0x30)")?;
        let (item_rest, token) = der_tlv(item, CONTEXT, "negoToken", "[0] (0xa0)")?;
        no_trailing(item_rest, "NegoData item")?;
        tokens.push(explicit(token, OCTET_STRING, "negoToken", Ok)?);
        i = rest;
    }
    Ok(tokens)
}

/// The content of an explicit tag: exactly one element with `tag`, decoded by `decode`.
fn explicit<'a, T>(
    content: &'a [u8],
    tag: u8,
    field: &'static str,
    decode: impl FnOnce(&'a [u8]) -> Result<T, nom::Err<WireError>>,
) -> Result<T, nom::Err<WireError>> {
    let expected = match tag {
        INTEGER => "INTEGER (0x02)",
        OCTET_STRING => "OCTET STRING (0x04)",
        _ => "SEQUENCE (0x30)",
    };
    let (rest, inner) = der_tlv(content, tag, field, expected)?;
    no_trailing(rest, field)?;
    decode(inner)
}

fn no_trailing(rest: &[u8], field: &'static str) -> Result<(), nom::Err<WireError>> {
    match rest.len() {
        0 => Ok(()),
        extra => Err(nom::Err::Error(WireError::BadLength {
            pdu: PDU,
            field,
            got: u64::try_from(extra).unwrap_or(u64::MAX),
            expected: "no bytes after the element",
        })),
    }
}

/// A two's complement DER INTEGER of 1 to 8 content octets.
fn der_integer(content: &[u8]) -> Result<i64, nom::Err<WireError>> {
    if content.is_empty() || content.len() > 8 {
        return Err(nom::Err::Error(WireError::BadLength {
            pdu: PDU,
            field: "INTEGER",
            got: u64::try_from(content.len()).unwrap_or(u64::MAX),
            expected: "1 to 8 octets",
        }));
    }
    let negative = content.first().is_some_and(|b| b & 0x80 != 0);
    let mut bytes = [if negative { 0xff } else { 0 }; 8];
    if let Some(tail) = bytes.get_mut(8 - content.len()..) {
        tail.copy_from_slice(content);
    }
    Ok(i64::from_be_bytes(bytes))
}

fn bad_integer(field: &'static str, n: i64) -> nom::Err<WireError> {
    nom::Err::Error(WireError::BadValue {
        pdu: PDU,
        field,
        got: u64::from_be_bytes(n.to_be_bytes()),
        expected: "a 32-bit value",
    })
}

/// X.690 8.1.2-8.1.3: a one-octet identifier and a definite length. Streaming.
fn der_header(i: &[u8]) -> WireResult<'_, (u8, usize)> {
    let (i, tag) = byte(i)?;
    if tag & 0x1f == 0x1f {
        return fail(WireError::BadValue {
            pdu: PDU,
            field: "tag",
            got: tag.into(),
            expected: "a one-octet tag",
        });
    }
    let (i, first) = byte(i)?;
    match first {
        0..=0x7f => Ok((i, (tag, usize::from(first)))),
        0x80 => fail(WireError::BadValue {
            pdu: PDU,
            field: "length",
            got: 0x80,
            expected: "a definite length (DER)",
        }),
        0x81..=0x84 => {
            let (i, octets) = take_n(i, usize::from(first & 0x7f))?;
            let len = octets.iter().fold(0u32, |acc, b| acc << 8 | u32::from(*b));
            let len =
                usize::try_from(len).map_err(|_| nom::Err::Error(bad_length_octets(first)))?;
            Ok((i, (tag, len)))
        }
        _ => fail(bad_length_octets(first)),
    }
}

fn bad_length_octets(first: u8) -> WireError {
    WireError::BadLength {
        pdu: PDU,
        field: "length octets",
        got: u64::from(first & 0x7f),
        expected: "at most 4",
    }
}

/// One element with identifier `tag`: its content. Streaming.
fn der_tlv<'a>(
    i: &'a [u8],
    tag: u8,
    field: &'static str,
    expected: &'static str,
) -> WireResult<'a, &'a [u8]> {
    let (i, (got, len)) = der_header(i)?;
    if got != tag {
        return fail(WireError::BadValue {
            pdu: PDU,
            field,
            got: got.into(),
            expected,
        });
    }
    take_n(i, len)
}

/// DER-encodes a TSRequest (minimal lengths and integers; errorCode as a signed 32-bit INTEGER, the way
/// Windows writes it).
pub fn encode_ts_request(request: &TsRequest<'_>) -> Vec<u8> {
    let mut body = tlv(CONTEXT, &tlv(INTEGER, &integer(request.version.into())));
    if !request.nego_tokens.is_empty() {
        let items: Vec<u8> = request
            .nego_tokens
            .iter()
            .flat_map(|token| tlv(SEQUENCE, &tlv(CONTEXT, &tlv(OCTET_STRING, token))))
            .collect();
        body.extend(tlv(CONTEXT | 1, &tlv(SEQUENCE, &items)));
    }
    let octets = |number: u8, value: &[u8]| tlv(CONTEXT | number, &tlv(OCTET_STRING, value));
    if let Some(value) = request.auth_info {
        body.extend(octets(2, value));
    }
    if let Some(value) = request.pub_key_auth {
        body.extend(octets(3, value));
    }
    if let Some(code) = request.error_code {
        let signed = i32::from_be_bytes(code.0.to_be_bytes());
        body.extend(tlv(CONTEXT | 4, &tlv(INTEGER, &integer(signed.into()))));
    }
    if let Some(value) = request.client_nonce {
        body.extend(octets(5, value));
    }
    tlv(SEQUENCE, &body)
}

/// Tag, minimal definite length, content.
fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let len = content.len().to_be_bytes();
    let start = len.iter().position(|b| *b != 0).unwrap_or(len.len());
    let significant = len.get(start..).unwrap_or_default();
    let mut out = vec![tag];
    match significant {
        [] => out.push(0),
        [short] if *short < 0x80 => out.push(*short),
        long => {
            out.push(0x80 | u8::try_from(long.len()).unwrap_or(0x7f));
            out.extend_from_slice(long);
        }
    }
    out.extend_from_slice(content);
    out
}

/// The minimal two's complement octets of `n`.
fn integer(n: i64) -> Vec<u8> {
    let bytes = n.to_be_bytes();
    let mut start = 0;
    while let (Some(b), Some(next)) = (bytes.get(start), bytes.get(start + 1)) {
        let redundant = (*b == 0 && next & 0x80 == 0) || (*b == 0xff && next & 0x80 != 0);
        if !redundant {
            break;
        }
        start += 1;
    }
    bytes.get(start..).unwrap_or_default().to_vec()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The client's first TSRequest of wallix/redemption's NLA test (tests/core/RDP/nla/test_nla.cpp):
    /// CredSSP v6 carrying an NTLM NEGOTIATE.
    const CLIENT_NEGOTIATE: [u8; 57] = [
        0x30, 0x37, // SEQUENCE, 55 bytes
        0xa0, 0x03, 0x02, 0x01, 0x06, // version [0] INTEGER 6
        0xa1, 0x30, // negoTokens [1], 48 bytes
        0x30, 0x2e, // NegoData: SEQUENCE OF, 46 bytes
        0x30, 0x2c, // SEQUENCE, 44 bytes
        0xa0, 0x2a, // negoToken [0], 42 bytes
        0x04, 0x28, // OCTET STRING, 40 bytes: the NTLM NEGOTIATE_MESSAGE
        0x4e, 0x54, 0x4c, 0x4d, 0x53, 0x53, 0x50, 0x00, 0x01, 0x00, 0x00, 0x00, 0xb7, 0x82, 0x08,
        0xe2, 0x00, 0x00, 0x00, 0x00, 0x28, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x28, 0x00,
        0x00, 0x00, 0x06, 0x01, 0xb1, 0x1d, 0x00, 0x00, 0x00, 0x0f,
    ];

    /// The server's reply in the same test: v6, the NTLM CHALLENGE of a Windows 7 host, in a SEQUENCE
    /// whose length takes the long form.
    pub(crate) const SERVER_CHALLENGE: &str = "308188a003020106a18180307e307ca07a04784e544c4d5353500002000000\
        0000000038000000b78208e2b86cdaa6f0f6308d000000000000000040004000380000000601b11d0000000f0100\
        0800570049004e00370002000800570049004e00370003000800770069006e00370004000800770069006e003700\
        0700080067950e5a4e5676d600000000";

    /// The client's AUTHENTICATE in the same test: two-octet lengths, negoTokens then pubKeyAuth.
    const CLIENT_AUTHENTICATE: &str = "30820159a003020106a182012c3082012830820124a08201200482011c4e54\
        4c4d5353500003000000180018005800000070007000700000000e000e00e00000000c000c00ee00000012001200\
        fa000000100010000c01000035a288e20601b11d0000000f9d98e130dc7ace81a97a11147d5d73d034beb56eceec\
        0a502d29637fcc5ee718b86cdaa6f0f6308da641cc7a528e7ab3067d0be000d5f613010100000000000067950e5a\
        4e5676d6b86cdaa6f0f6308d0000000001000800570049004e00370002000800570049004e003700030008007700\
        69006e00370004000800770069006e0037000700080067950e5a4e5676d600000000000000004900740068006100\
        71007500650055006c0079007300730065005400e9006c00e9006d00610071007500650044bc4d7a133f6b81db1d\
        2b7bbf1e180fa32204200100000089e2da481729b508000000002059273f08d0c2e4756610497bbd8df7";

    fn unhex(s: &str) -> Vec<u8> {
        hex::decode(s.split_whitespace().collect::<String>()).unwrap()
    }

    #[test]
    fn parses_client_negotiate() {
        let (rest, req) = parse_ts_request(&CLIENT_NEGOTIATE).unwrap();
        assert!(rest.is_empty());
        assert_eq!(
            req,
            TsRequest {
                version: 6,
                nego_tokens: vec![&CLIENT_NEGOTIATE[17..]],
                ..TsRequest::default()
            }
        );
        assert_eq!(&req.nego_tokens[0][..8], b"NTLMSSP\0");
        assert_eq!(encode_ts_request(&req), CLIENT_NEGOTIATE);
    }

    #[test]
    fn parses_long_form_lengths_and_pub_key_auth() {
        let bytes = unhex(SERVER_CHALLENGE);
        let (_, req) = parse_ts_request(&bytes).unwrap();
        assert_eq!((req.version, req.nego_tokens.len()), (6, 1));
        assert_eq!(req.nego_tokens[0].len(), 120);
        assert_eq!(encode_ts_request(&req), bytes);

        let bytes = unhex(CLIENT_AUTHENTICATE);
        let (rest, req) = parse_ts_request(&bytes).unwrap();
        assert!(rest.is_empty());
        assert_eq!(req.nego_tokens[0].len(), 284);
        assert_eq!(req.pub_key_auth.map(<[u8]>::len), Some(32));
        assert_eq!(encode_ts_request(&req), bytes);
    }

    #[test]
    fn rdp_rs_example_encodes_byte_for_byte() {
        // rdp-rs `create_ts_request(vec![0, 1, 2])` doc example.
        let req = TsRequest {
            version: 2,
            nego_tokens: vec![&[0, 1, 2]],
            ..TsRequest::default()
        };
        let bytes = [
            48, 18, 160, 3, 2, 1, 2, 161, 11, 48, 9, 48, 7, 160, 5, 4, 3, 0, 1, 2,
        ];
        assert_eq!(encode_ts_request(&req), bytes);
        assert_eq!(parse_ts_request(&bytes).unwrap().1, req);
    }

    #[test]
    fn error_code_in_either_integer_encoding() {
        // A server's failure reply, errorCode as the 4-byte negative INTEGER -1073741715 (how Windows
        // writes an NTSTATUS).
        let bytes = [
            0x30, 0x0d, // SEQUENCE, 13 bytes
            0xa0, 0x03, 0x02, 0x01, 0x06, // version [0] INTEGER 6
            0xa4, 0x06, // errorCode [4], 6 bytes
            0x02, 0x04, 0xc0, 0x00, 0x00, 0x6d, // INTEGER -1073741715 = 0xC000006D
        ];
        let (_, req) = parse_ts_request(&bytes).unwrap();
        assert_eq!(req.error_code, Some(NtStatus::STATUS_LOGON_FAILURE));
        assert_eq!(encode_ts_request(&req), bytes);

        // The same value as a 5-byte positive INTEGER.
        let positive = [
            0x30, 0x0e, // SEQUENCE, 14 bytes
            0xa0, 0x03, 0x02, 0x01, 0x06, // version 6
            0xa4, 0x07, // errorCode [4]
            0x02, 0x05, 0x00, 0xc0, 0x00, 0x00, 0x6d, // INTEGER 3221225581
        ];
        let (_, req) = parse_ts_request(&positive).unwrap();
        assert_eq!(req.error_code, Some(NtStatus(0xC000_006D)));

        let too_big = [
            0x30, 0x0e, 0xa0, 0x03, 0x02, 0x01, 0x06, 0xa4, 0x07, 0x02, 0x05, 0x01, 0, 0, 0, 0,
        ];
        assert!(matches!(
            parse_ts_request(&too_big),
            Err(nom::Err::Error(WireError::BadValue {
                field: "errorCode",
                ..
            }))
        ));
    }

    #[test]
    fn every_field_round_trips() {
        let req = TsRequest {
            version: 6,
            nego_tokens: vec![b"first", &[0x55; 300]],
            auth_info: Some(b"creds"),
            pub_key_auth: Some(&[1; 32]),
            error_code: Some(NtStatus::STATUS_ACCOUNT_LOCKED_OUT),
            client_nonce: Some(&[7; 32]),
        };
        let bytes = encode_ts_request(&req);
        assert_eq!(parse_ts_request(&bytes).unwrap(), (&[][..], req));
    }

    #[test]
    fn every_cut_is_incomplete() {
        for bytes in [
            CLIENT_NEGOTIATE.to_vec(),
            unhex(SERVER_CHALLENGE),
            unhex(CLIENT_AUTHENTICATE),
        ] {
            for cut in 0..bytes.len() {
                assert!(
                    matches!(
                        parse_ts_request(&bytes[..cut]),
                        Err(nom::Err::Incomplete(_))
                    ),
                    "cut at {cut}"
                );
            }
        }
    }

    #[test]
    fn inner_overrun_is_truncated_not_incomplete() {
        // The SEQUENCE is whole, but its version claims 5 content bytes where 1 is left.
        let bytes = [0x30, 0x03, 0xa0, 0x05, 0x02];
        assert_eq!(
            parse_ts_request(&bytes),
            Err(nom::Err::Error(WireError::Truncated {
                pdu: "TSRequest",
                kind: nom::error::ErrorKind::Eof
            }))
        );
    }

    #[test]
    fn rejects_what_der_forbids() {
        let indefinite = [0x30, 0x80, 0xa0, 0x03, 0x02, 0x01, 0x06, 0x00, 0x00];
        assert!(matches!(
            parse_ts_request(&indefinite),
            Err(nom::Err::Error(WireError::BadValue {
                field: "length",
                ..
            }))
        ));
        let no_version = [0x30, 0x04, 0xa2, 0x02, 0x04, 0x00];
        assert!(matches!(
            parse_ts_request(&no_version),
            Err(nom::Err::Error(WireError::BadValue {
                field: "version",
                ..
            }))
        ));
        let out_of_order = [
            0x30, 0x09, 0xa2, 0x02, 0x04, 0x00, 0xa0, 0x03, 0x02, 0x01, 0x06,
        ];
        assert!(matches!(
            parse_ts_request(&out_of_order),
            Err(nom::Err::Error(WireError::BadValue {
                field: "field tag",
                ..
            }))
        ));
        let not_a_sequence = [0x16, 0x03, 0x01, 0x00, 0x05];
        assert!(matches!(
            parse_ts_request(&not_a_sequence),
            Err(nom::Err::Error(WireError::BadValue { got: 0x16, .. }))
        ));
        let trailing_in_field = [0x30, 0x06, 0xa0, 0x04, 0x02, 0x01, 0x06, 0xff];
        assert!(matches!(
            parse_ts_request(&trailing_in_field),
            Err(nom::Err::Error(WireError::BadLength {
                field: "version",
                got: 1,
                ..
            }))
        ));
        let negative_version = [0x30, 0x05, 0xa0, 0x03, 0x02, 0x01, 0xff];
        assert!(parse_ts_request(&negative_version).is_err());
    }

    #[test]
    fn unknown_later_fields_are_skipped() {
        let bytes = [
            0x30, 0x09, 0xa0, 0x03, 0x02, 0x01, 0x07, 0xa6, 0x02, 0x05, 0x00,
        ];
        let (_, req) = parse_ts_request(&bytes).unwrap();
        assert_eq!(req.version, 7);
    }

    #[test]
    fn status_names_and_meanings() {
        assert_eq!(
            NtStatus(0xC000_006E).to_string(),
            "STATUS_ACCOUNT_RESTRICTION"
        );
        assert_eq!(
            NtStatus(0xC000_015B),
            NtStatus::STATUS_LOGON_TYPE_NOT_GRANTED
        );
        assert_eq!(NtStatus(0x8009_030C).to_string(), "SEC_E_LOGON_DENIED");
        assert_eq!(NtStatus(0xC0DE_0001).to_string(), "0xc0de0001");
        assert_eq!(NtStatus(0xC0DE_0001).meaning(), None);
        assert!(NtStatus::STATUS_PASSWORD_EXPIRED
            .meaning()
            .unwrap()
            .contains("expired"));
    }

    #[test]
    fn integers_are_minimal() {
        assert_eq!(integer(0), [0x00]);
        assert_eq!(integer(127), [0x7f]);
        assert_eq!(integer(128), [0x00, 0x80]);
        assert_eq!(integer(-1), [0xff]);
        assert_eq!(integer(-129), [0xff, 0x7f]);
        assert_eq!(tlv(0x04, &[0; 200])[..3], [0x04, 0x81, 200]);
        assert_eq!(tlv(0x04, &[0; 300])[..4], [0x04, 0x82, 0x01, 0x2c]);
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let _ = parse_ts_request(&bytes);
        }

        #[test]
        fn encode_parse_round_trips(
            version in any::<u32>(),
            tokens in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..300), 0..3),
            code in proptest::option::of(any::<u32>()),
            nonce in proptest::option::of(proptest::collection::vec(any::<u8>(), 32)),
        ) {
            let req = TsRequest {
                version,
                nego_tokens: tokens.iter().map(Vec::as_slice).collect(),
                error_code: code.map(NtStatus),
                client_nonce: nonce.as_deref(),
                ..TsRequest::default()
            };
            let bytes = encode_ts_request(&req);
            prop_assert_eq!(parse_ts_request(&bytes).unwrap(), (&[][..], req));
        }
    }
}
