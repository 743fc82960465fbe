//! T.125 §7 part 2 Connect-Initial and Connect-Response: the BER-encoded envelopes of the GCC Conference
//! Create Request (MS-RDPBCGR 2.2.1.3) and Response (MS-RDPBCGR 2.2.1.4).

use nom::number::streaming::u8 as byte;

use super::gcc::{
    parse_conference_create_request, parse_conference_create_response, ConferenceCreateRequest,
    ConferenceCreateResponse,
};
use super::{Mcs, McsResult};
use crate::wire::{bounded, fail, take_n, WireError, WireResult};

/// BER tag numbers of `[APPLICATION 101]` Connect-Initial and `[APPLICATION 102]` Connect-Response.
const CONNECT_INITIAL_TAG: u8 = 101;
const CONNECT_RESPONSE_TAG: u8 = 102;
/// Universal BER tags used inside.
const TAG_BOOLEAN: u8 = 0x01;
const TAG_INTEGER: u8 = 0x02;
const TAG_OCTET_STRING: u8 = 0x04;
const TAG_ENUMERATED: u8 = 0x0A;
const TAG_SEQUENCE: u8 = 0x30;

/// T.125 §7 part 2 `DomainParameters`: eight INTEGERs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DomainParameters {
    pub max_channel_ids: u32,
    pub max_user_ids: u32,
    pub max_token_ids: u32,
    pub num_priorities: u32,
    pub min_throughput: u32,
    pub max_height: u32,
    pub max_mcs_pdu_size: u32,
    pub protocol_version: u32,
}

/// T.125 §7 part 2 Connect-Initial carrying the GCC Conference Create Request (MS-RDPBCGR 2.2.1.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectInitial<'a> {
    pub calling_domain_selector: &'a [u8],
    pub called_domain_selector: &'a [u8],
    pub upward_flag: bool,
    pub target_parameters: DomainParameters,
    pub minimum_parameters: DomainParameters,
    pub maximum_parameters: DomainParameters,
    /// The raw userData OCTET STRING (the GCC Conference Create Request).
    pub user_data: &'a [u8],
    pub conference: ConferenceCreateRequest<'a>,
}

/// T.125 §7 part 2 Connect-Response carrying the GCC Conference Create Response (MS-RDPBCGR 2.2.1.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectResponse<'a> {
    pub result: McsResult,
    pub called_connect_id: u32,
    pub domain_parameters: DomainParameters,
    /// The raw userData OCTET STRING (the GCC Conference Create Response).
    pub user_data: &'a [u8],
    /// `None` when userData is empty (a refusing server may send none).
    pub conference: Option<ConferenceCreateResponse<'a>>,
}

/// Parses a BER connect PDU whose first byte (0x7F) the caller has seen. Streaming: `Incomplete` until
/// the whole PDU, as its BER length says, is there.
pub(super) fn parse_connect(i: &[u8]) -> WireResult<'_, Mcs<'_>> {
    let (rest, _) = byte(i)?;
    let (rest, tag) = byte(rest)?;
    let pdu = match tag {
        CONNECT_INITIAL_TAG => "MCS Connect-Initial",
        CONNECT_RESPONSE_TAG => "MCS Connect-Response",
        other => {
            return fail(WireError::BadValue {
                pdu: "MCS",
                field: "BER application tag",
                got: other.into(),
                expected: "101 Connect-Initial or 102 Connect-Response",
            })
        }
    };
    let (rest, len) = ber_length(pdu, rest)?;
    let (rest, body) = take_n(rest, len)?;
    let (_, mcs) = if tag == CONNECT_INITIAL_TAG {
        bounded(pdu, body, connect_initial)?
    } else {
        bounded(pdu, body, connect_response)?
    };
    Ok((rest, mcs))
}

fn connect_initial(i: &[u8]) -> WireResult<'_, Mcs<'_>> {
    let pdu = "MCS Connect-Initial";
    let (i, calling_domain_selector) = ber_tlv(pdu, "callingDomainSelector", TAG_OCTET_STRING, i)?;
    let (i, called_domain_selector) = ber_tlv(pdu, "calledDomainSelector", TAG_OCTET_STRING, i)?;
    let (i, upward) = ber_tlv(pdu, "upwardFlag", TAG_BOOLEAN, i)?;
    let (i, target_parameters) = domain_parameters(pdu, "targetParameters", i)?;
    let (i, minimum_parameters) = domain_parameters(pdu, "minimumParameters", i)?;
    let (i, maximum_parameters) = domain_parameters(pdu, "maximumParameters", i)?;
    let (i, user_data) = ber_tlv(pdu, "userData", TAG_OCTET_STRING, i)?;
    no_trailing(pdu, i)?;
    let (_, conference) = bounded(
        "GCC Conference Create Request",
        user_data,
        parse_conference_create_request,
    )?;
    Ok((
        i,
        Mcs::ConnectInitial(ConnectInitial {
            calling_domain_selector,
            called_domain_selector,
            upward_flag: upward.iter().any(|&b| b != 0),
            target_parameters,
            minimum_parameters,
            maximum_parameters,
            user_data,
            conference,
        }),
    ))
}

fn connect_response(i: &[u8]) -> WireResult<'_, Mcs<'_>> {
    let pdu = "MCS Connect-Response";
    let (i, result) = ber_uint(pdu, "result", TAG_ENUMERATED, i)?;
    let result = match u8::try_from(result) {
        Ok(r) => McsResult(r),
        Err(_) => {
            return fail(WireError::BadValue {
                pdu,
                field: "result",
                got: result.into(),
                expected: "a T.125 Result (0..15)",
            })
        }
    };
    let (i, called_connect_id) = ber_uint(pdu, "calledConnectId", TAG_INTEGER, i)?;
    let (i, domain_parameters) = domain_parameters(pdu, "domainParameters", i)?;
    let (i, user_data) = ber_tlv(pdu, "userData", TAG_OCTET_STRING, i)?;
    no_trailing(pdu, i)?;
    let conference = if user_data.is_empty() {
        None
    } else {
        let (_, c) = bounded(
            "GCC Conference Create Response",
            user_data,
            parse_conference_create_response,
        )?;
        Some(c)
    };
    Ok((
        i,
        Mcs::ConnectResponse(ConnectResponse {
            result,
            called_connect_id,
            domain_parameters,
            user_data,
            conference,
        }),
    ))
}

fn no_trailing(pdu: &'static str, i: &[u8]) -> Result<(), nom::Err<WireError>> {
    if i.is_empty() {
        Ok(())
    } else {
        Err(nom::Err::Error(WireError::BadLength {
            pdu,
            field: "bytes after userData",
            got: u64::try_from(i.len()).unwrap_or(u64::MAX),
            expected: "none",
        }))
    }
}

fn domain_parameters<'a>(
    pdu: &'static str,
    field: &'static str,
    i: &'a [u8],
) -> WireResult<'a, DomainParameters> {
    let (rest, seq) = ber_tlv(pdu, field, TAG_SEQUENCE, i)?;
    let mut v = [0u32; 8];
    let mut s = seq;
    for slot in &mut v {
        let (after, n) = ber_uint(pdu, field, TAG_INTEGER, s)?;
        *slot = n;
        s = after;
    }
    no_trailing(pdu, s)?;
    let [max_channel_ids, max_user_ids, max_token_ids, num_priorities, min_throughput, max_height, max_mcs_pdu_size, protocol_version] =
        v;
    Ok((
        rest,
        DomainParameters {
            max_channel_ids,
            max_user_ids,
            max_token_ids,
            num_priorities,
            min_throughput,
            max_height,
            max_mcs_pdu_size,
            protocol_version,
        },
    ))
}

/// X.690 §8.1.3 definite length: short form, or long form with one to four length bytes.
fn ber_length<'a>(pdu: &'static str, i: &'a [u8]) -> WireResult<'a, usize> {
    let (rest, first) = byte(i)?;
    if first & 0x80 == 0 {
        return Ok((rest, usize::from(first)));
    }
    let n = usize::from(first & 0x7F);
    if n == 0 || n > 4 {
        return fail(WireError::BadValue {
            pdu,
            field: "BER length",
            got: first.into(),
            expected: "a definite length of at most 4 length bytes",
        });
    }
    let (rest, bytes) = take_n(rest, n)?;
    let len = bytes.iter().fold(0u64, |acc, &b| acc << 8 | u64::from(b));
    match usize::try_from(len) {
        Ok(len) => Ok((rest, len)),
        Err(_) => fail(WireError::BadLength {
            pdu,
            field: "BER length",
            got: len,
            expected: "addressable",
        }),
    }
}

/// One BER TLV with a single-byte tag that must be `tag`; returns its content.
fn ber_tlv<'a>(
    pdu: &'static str,
    field: &'static str,
    tag: u8,
    i: &'a [u8],
) -> WireResult<'a, &'a [u8]> {
    let (rest, got) = byte(i)?;
    if got != tag {
        return fail(WireError::BadValue {
            pdu,
            field,
            got: got.into(),
            expected: match tag {
                TAG_BOOLEAN => "BOOLEAN tag 0x01",
                TAG_INTEGER => "INTEGER tag 0x02",
                TAG_OCTET_STRING => "OCTET STRING tag 0x04",
                TAG_ENUMERATED => "ENUMERATED tag 0x0a",
                _ => "SEQUENCE tag 0x30",
            },
        });
    }
    let (rest, len) = ber_length(pdu, rest)?;
    take_n(rest, len)
}

/// A BER INTEGER or ENUMERATED read as unsigned. MCS encoders write 65535 as `02 02 FF FF`, which is -1
/// in strict BER; like every RDP stack we read the content bytes as an unsigned number.
fn ber_uint<'a>(
    pdu: &'static str,
    field: &'static str,
    tag: u8,
    i: &'a [u8],
) -> WireResult<'a, u32> {
    let (rest, content) = ber_tlv(pdu, field, tag, i)?;
    let significant = match content {
        [0, tail @ ..] if content.len() == 5 => tail,
        _ => content,
    };
    if significant.is_empty() || significant.len() > 4 {
        return fail(WireError::BadLength {
            pdu,
            field,
            got: u64::try_from(content.len()).unwrap_or(u64::MAX),
            expected: "1 to 4 content bytes",
        });
    }
    let n = significant
        .iter()
        .fold(0u32, |acc, &b| acc << 8 | u32::from(b));
    Ok((rest, n))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn ber_lengths() {
        assert_eq!(ber_length("t", &[0x05]).unwrap().1, 5);
        assert_eq!(ber_length("t", &[0x81, 0x80]).unwrap().1, 0x80);
        assert_eq!(ber_length("t", &[0x82, 0x01, 0xa0]).unwrap().1, 0x1a0);
        assert!(matches!(
            ber_length("t", &[0x82, 0x01]),
            Err(nom::Err::Incomplete(_))
        ));
        assert!(matches!(
            ber_length("t", &[0x80]),
            Err(nom::Err::Error(WireError::BadValue { .. }))
        ));
    }

    #[test]
    fn ber_unsigned_integers() {
        // 65535 as MCS encoders write it (strictly -1), and with the leading zero strict BER wants
        assert_eq!(
            ber_uint("t", "f", TAG_INTEGER, &[2, 2, 0xff, 0xff])
                .unwrap()
                .1,
            0xffff
        );
        assert_eq!(
            ber_uint("t", "f", TAG_INTEGER, &[2, 3, 0x00, 0xff, 0xf8])
                .unwrap()
                .1,
            0xfff8
        );
        assert!(ber_uint("t", "f", TAG_INTEGER, &[2, 0]).is_err());
        assert!(ber_uint("t", "f", TAG_INTEGER, &[4, 1, 0]).is_err());
    }

    #[test]
    fn other_application_tags_are_refused() {
        // [APPLICATION 103] Connect-Additional: T.125 defines it, RDP never sends it
        assert!(matches!(
            parse_connect(&[0x7f, 0x67, 0x00]),
            Err(nom::Err::Error(WireError::BadValue { got: 103, .. }))
        ));
    }
}
