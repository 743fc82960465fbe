//! NTLM messages (MS-NLMP 2.2.1) as they travel in CredSSP negoTokens: the NEGOTIATE_MESSAGE the prober
//! sends, and the CHALLENGE_MESSAGE in which a server names itself (NetBIOS/DNS names, version, clock).
//!
//! An NTLM message does not state its own length: its fixed fields are followed by a payload that the
//! `*Fields` (length, offset) point into. These parsers are streaming all the same: the fixed fields and
//! every payload a field points to must be inside the input, else the answer is `Incomplete`. So every
//! prefix of a whole message is `Incomplete`, and a caller holding a whole negoToken that wants "points
//! past the end" reported as an error runs the parser inside [`super::bounded`].

use nom::number::streaming::{le_u16, le_u32, u8 as byte};
use nom::Parser;

use super::{fail, take_n, write_named, WireError, WireResult};

/// Every NTLM message starts with this signature (MS-NLMP 2.2.1).
pub const NTLMSSP_SIGNATURE: &[u8; 8] = b"NTLMSSP\0";
/// Signature, MessageType, and the fields every CHALLENGE_MESSAGE has (through ServerChallenge).
const CHALLENGE_MIN_LEN: usize = 32;
const VERSION_LEN: usize = 8;

/// MS-NLMP 2.2.1 MessageType.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NtlmMessageType(pub u32);

impl NtlmMessageType {
    pub const NEGOTIATE: Self = Self(1);
    pub const CHALLENGE: Self = Self(2);
    pub const AUTHENTICATE: Self = Self(3);

    pub fn name(self) -> Option<&'static str> {
        match self.0 {
            1 => Some("NEGOTIATE_MESSAGE"),
            2 => Some("CHALLENGE_MESSAGE"),
            3 => Some("AUTHENTICATE_MESSAGE"),
            _ => None,
        }
    }
}

impl std::fmt::Display for NtlmMessageType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write_named(f, self.name(), u64::from(self.0))
    }
}

/// MS-NLMP 2.2.2.5 NEGOTIATE flags. Unknown bits are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct NegotiateFlags(pub u32);

macro_rules! negotiate_flags {
    ($($name:ident = $bit:literal, $spec:literal;)*) => {
        impl NegotiateFlags {
            $(pub const $name: Self = Self($bit);)*
            const NAMED: &'static [(u32, &'static str)] = &[$(($bit, $spec)),*];
        }
    };
}

negotiate_flags! {
    NEGOTIATE_UNICODE = 0x0000_0001, "NTLMSSP_NEGOTIATE_UNICODE";
    NEGOTIATE_OEM = 0x0000_0002, "NTLM_NEGOTIATE_OEM";
    REQUEST_TARGET = 0x0000_0004, "NTLMSSP_REQUEST_TARGET";
    NEGOTIATE_SIGN = 0x0000_0010, "NTLMSSP_NEGOTIATE_SIGN";
    NEGOTIATE_SEAL = 0x0000_0020, "NTLMSSP_NEGOTIATE_SEAL";
    NEGOTIATE_DATAGRAM = 0x0000_0040, "NTLMSSP_NEGOTIATE_DATAGRAM";
    NEGOTIATE_LM_KEY = 0x0000_0080, "NTLMSSP_NEGOTIATE_LM_KEY";
    NEGOTIATE_NTLM = 0x0000_0200, "NTLMSSP_NEGOTIATE_NTLM";
    // Bit J: the spec gives it no alternate name; Samba calls it NTLMSSP_ANONYMOUS.
    ANONYMOUS = 0x0000_0800, "NTLMSSP_ANONYMOUS";
    NEGOTIATE_OEM_DOMAIN_SUPPLIED = 0x0000_1000, "NTLMSSP_NEGOTIATE_OEM_DOMAIN_SUPPLIED";
    NEGOTIATE_OEM_WORKSTATION_SUPPLIED = 0x0000_2000, "NTLMSSP_NEGOTIATE_OEM_WORKSTATION_SUPPLIED";
    NEGOTIATE_ALWAYS_SIGN = 0x0000_8000, "NTLMSSP_NEGOTIATE_ALWAYS_SIGN";
    TARGET_TYPE_DOMAIN = 0x0001_0000, "NTLMSSP_TARGET_TYPE_DOMAIN";
    TARGET_TYPE_SERVER = 0x0002_0000, "NTLMSSP_TARGET_TYPE_SERVER";
    NEGOTIATE_EXTENDED_SESSIONSECURITY = 0x0008_0000, "NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY";
    NEGOTIATE_IDENTIFY = 0x0010_0000, "NTLMSSP_NEGOTIATE_IDENTIFY";
    REQUEST_NON_NT_SESSION_KEY = 0x0040_0000, "NTLMSSP_REQUEST_NON_NT_SESSION_KEY";
    NEGOTIATE_TARGET_INFO = 0x0080_0000, "NTLMSSP_NEGOTIATE_TARGET_INFO";
    NEGOTIATE_VERSION = 0x0200_0000, "NTLMSSP_NEGOTIATE_VERSION";
    NEGOTIATE_128 = 0x2000_0000, "NTLMSSP_NEGOTIATE_128";
    NEGOTIATE_KEY_EXCH = 0x4000_0000, "NTLMSSP_NEGOTIATE_KEY_EXCH";
    NEGOTIATE_56 = 0x8000_0000, "NTLMSSP_NEGOTIATE_56";
}

impl NegotiateFlags {
    /// Whether every bit of `other` is set.
    pub fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    /// The spec names of the set bits, lowest bit first.
    pub fn names(self) -> Vec<&'static str> {
        Self::NAMED
            .iter()
            .filter(|(bit, _)| self.0 & bit != 0)
            .map(|(_, name)| *name)
            .collect()
    }

    /// The set bits that have no name (the spec's reserved `r` bits).
    pub fn unknown_bits(self) -> u32 {
        Self::NAMED
            .iter()
            .fold(self.0, |rest, (bit, _)| rest & !bit)
    }
}

impl std::ops::BitOr for NegotiateFlags {
    type Output = Self;
    fn bitor(self, rhs: Self) -> Self {
        Self(self.0 | rhs.0)
    }
}

impl std::fmt::Display for NegotiateFlags {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names = Self::NAMED
            .iter()
            .map(|(bit, name)| (u64::from(*bit), *name));
        super::write_flags(f, u64::from(self.0), names)
    }
}

/// MS-NLMP 2.2.2.10 VERSION (its three reserved bytes are not kept).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NtlmVersion {
    pub major: u8,
    pub minor: u8,
    pub build: u16,
    /// NTLMRevisionCurrent; 0x0F is NTLMSSP_REVISION_W2K3.
    pub revision: u8,
}

/// MS-NLMP 2.2.2.1 AvId. Unknown ids are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AvId(pub u16);

impl AvId {
    pub const MSV_AV_EOL: Self = Self(0);
    pub const MSV_AV_NB_COMPUTER_NAME: Self = Self(1);
    pub const MSV_AV_NB_DOMAIN_NAME: Self = Self(2);
    pub const MSV_AV_DNS_COMPUTER_NAME: Self = Self(3);
    pub const MSV_AV_DNS_DOMAIN_NAME: Self = Self(4);
    pub const MSV_AV_DNS_TREE_NAME: Self = Self(5);
    pub const MSV_AV_FLAGS: Self = Self(6);
    pub const MSV_AV_TIMESTAMP: Self = Self(7);
    pub const MSV_AV_SINGLE_HOST: Self = Self(8);
    pub const MSV_AV_TARGET_NAME: Self = Self(9);
    pub const MSV_AV_CHANNEL_BINDINGS: Self = Self(10);

    pub fn name(self) -> Option<&'static str> {
        let names = [
            "MsvAvEOL",
            "MsvAvNbComputerName",
            "MsvAvNbDomainName",
            "MsvAvDnsComputerName",
            "MsvAvDnsDomainName",
            "MsvAvDnsTreeName",
            "MsvAvFlags",
            "MsvAvTimestamp",
            "MsvAvSingleHost",
            "MsvAvTargetName",
            "MsvAvChannelBindings",
        ];
        names.get(usize::from(self.0)).copied()
    }

    /// Whether the value is a UTF-16LE string (ids 1-5 and 9).
    pub fn is_text(self) -> bool {
        matches!(self.0, 1..=5 | 9)
    }
}

impl std::fmt::Display for AvId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write_named(f, self.name(), u64::from(self.0))
    }
}

/// MS-NLMP 2.2.2.1 AV_PAIR, its value raw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AvPair<'a> {
    pub id: AvId,
    pub value: &'a [u8],
}

impl AvPair<'_> {
    /// The value decoded from UTF-16LE (lossily), for the ids that hold text.
    pub fn text(&self) -> Option<String> {
        self.id.is_text().then(|| utf16le(self.value))
    }
}

/// MS-NLMP 2.2.1.1 NEGOTIATE_MESSAGE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Negotiate<'a> {
    pub negotiate_flags: NegotiateFlags,
    pub domain_name: &'a [u8],
    pub workstation: &'a [u8],
    pub version: Option<NtlmVersion>,
}

/// MS-NLMP 2.2.1.2 CHALLENGE_MESSAGE. `target_info` stops before MsvAvEOL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge<'a> {
    pub target_name: &'a [u8],
    pub negotiate_flags: NegotiateFlags,
    pub server_challenge: [u8; 8],
    pub target_info: Vec<AvPair<'a>>,
    pub version: Option<NtlmVersion>,
}

impl Challenge<'_> {
    /// TargetName as text: UTF-16LE under NTLMSSP_NEGOTIATE_UNICODE, else OEM bytes read as Latin-1.
    pub fn target_name_text(&self) -> String {
        if self
            .negotiate_flags
            .contains(NegotiateFlags::NEGOTIATE_UNICODE)
        {
            utf16le(self.target_name)
        } else {
            self.target_name.iter().map(|b| char::from(*b)).collect()
        }
    }

    /// The value of the first AV pair with `id`.
    pub fn av(&self, id: AvId) -> Option<&[u8]> {
        self.target_info
            .iter()
            .find(|p| p.id == id)
            .map(|p| p.value)
    }

    /// The text of the first AV pair with `id`, for the ids that hold text.
    pub fn av_text(&self, id: AvId) -> Option<String> {
        self.target_info.iter().find(|p| p.id == id)?.text()
    }

    /// MsvAvTimestamp: the server's clock as a FILETIME (100 ns ticks since 1601-01-01 UTC).
    pub fn timestamp(&self) -> Option<u64> {
        let value = self.av(AvId::MSV_AV_TIMESTAMP)?;
        Some(u64::from_le_bytes(value.try_into().ok()?))
    }
}

fn utf16le(bytes: &[u8]) -> String {
    let units: Vec<u16> = bytes
        .chunks(2)
        .map(|c| match c {
            [lo, hi] => u16::from_le_bytes([*lo, *hi]),
            _ => 0xfffd,
        })
        .collect();
    String::from_utf16_lossy(&units)
}

/// Reads the signature and MessageType (streaming: 12 bytes).
pub fn parse_ntlm_message_type(i: &[u8]) -> WireResult<'_, NtlmMessageType> {
    let (i, signature) = take_n(i, NTLMSSP_SIGNATURE.len())?;
    if signature != NTLMSSP_SIGNATURE {
        let got = signature
            .iter()
            .fold(0u64, |acc, b| acc << 8 | u64::from(*b));
        return fail(WireError::BadValue {
            pdu: "NTLM message",
            field: "Signature",
            got,
            expected: "\"NTLMSSP\\0\"",
        });
    }
    le_u32.map(NtlmMessageType).parse(i)
}

fn expect_type<'a>(i: &'a [u8], want: NtlmMessageType, pdu: &'static str) -> WireResult<'a, ()> {
    let (i, kind) = parse_ntlm_message_type(i)?;
    if kind != want {
        return fail(WireError::BadValue {
            pdu,
            field: "MessageType",
            got: kind.0.into(),
            expected: if want == NtlmMessageType::CHALLENGE {
                "2"
            } else {
                "1"
            },
        });
    }
    Ok((i, ()))
}

/// A `*Fields` triple (MS-NLMP 2.2.1): Len, MaxLen (ignored, as the spec says), BufferOffset.
fn payload_fields(i: &[u8]) -> WireResult<'_, (u16, u32)> {
    let (i, (len, _max_len, offset)) = (le_u16, le_u16, le_u32).parse(i)?;
    Ok((i, (len, offset)))
}

/// The payload a `*Fields` triple points to in `msg`, whose fixed fields end at `fixed_end`.
/// Pointing past the end of `msg` is `Incomplete`.
fn payload<'a>(
    msg: &'a [u8],
    fixed_end: usize,
    (len, offset): (u16, u32),
    pdu: &'static str,
    field: &'static str,
) -> Result<(&'a [u8], usize), nom::Err<WireError>> {
    if len == 0 {
        return Ok((&[], fixed_end));
    }
    let start = usize::try_from(offset).unwrap_or(usize::MAX);
    if start < fixed_end {
        return Err(nom::Err::Error(WireError::BadLength {
            pdu,
            field,
            got: offset.into(),
            expected: "an offset past the fixed fields",
        }));
    }
    let end = start.saturating_add(usize::from(len));
    match msg.get(start..end) {
        Some(bytes) => Ok((bytes, end)),
        None => Err(nom::Err::Incomplete(nom::Needed::new(
            end.saturating_sub(msg.len()),
        ))),
    }
}

fn version(i: &[u8]) -> WireResult<'_, NtlmVersion> {
    let (i, (major, minor, build, _reserved, revision)) =
        (byte, byte, le_u16, |i| take_n(i, 3), byte).parse(i)?;
    Ok((
        i,
        NtlmVersion {
            major,
            minor,
            build,
            revision,
        },
    ))
}

/// The bytes of `msg` after a message that ends at `end`.
fn after(msg: &[u8], end: usize) -> &[u8] {
    msg.get(end..).unwrap_or_default()
}

/// Parses a CHALLENGE_MESSAGE. Reserved and TargetInfoFields are read when NTLMSSP_NEGOTIATE_TARGET_INFO
/// or NTLMSSP_NEGOTIATE_VERSION is set, Version when the latter is; older servers send only the first
/// 32 bytes. The message ends where its fixed fields or its last payload do.
pub fn parse_challenge(msg: &[u8]) -> WireResult<'_, Challenge<'_>> {
    const PDU: &str = "NTLM CHALLENGE";
    let (i, ()) = expect_type(msg, NtlmMessageType::CHALLENGE, PDU)?;
    let (i, (name_fields, negotiate_flags, challenge)) =
        (payload_fields, le_u32.map(NegotiateFlags), |i| take_n(i, 8)).parse(i)?;
    let server_challenge = <[u8; 8]>::try_from(challenge).unwrap_or_default();
    let has_version = negotiate_flags.contains(NegotiateFlags::NEGOTIATE_VERSION);
    let (mut fixed_end, mut info_fields, mut version_field) = (CHALLENGE_MIN_LEN, (0, 0), None);
    if has_version || negotiate_flags.contains(NegotiateFlags::NEGOTIATE_TARGET_INFO) {
        let (i, (_reserved, fields)) = (|i| take_n(i, 8), payload_fields).parse(i)?;
        (fixed_end, info_fields) = (CHALLENGE_MIN_LEN + 16, fields);
        if has_version {
            version_field = Some(version(i)?.1);
            fixed_end += VERSION_LEN;
        }
    }
    let (target_name, name_end) = payload(msg, fixed_end, name_fields, PDU, "TargetNameFields")?;
    let (info, info_end) = payload(msg, fixed_end, info_fields, PDU, "TargetInfoFields")?;
    let (_, target_info) = super::bounded("NTLM target info", info, av_pairs)?;
    Ok((
        after(msg, name_end.max(info_end)),
        Challenge {
            target_name,
            negotiate_flags,
            server_challenge,
            target_info,
            version: version_field,
        },
    ))
}

/// An AV_PAIR list up to MsvAvEOL (or the end of the list's bytes, when a server omits it).
fn av_pairs(mut i: &[u8]) -> WireResult<'_, Vec<AvPair<'_>>> {
    let mut pairs = Vec::new();
    while !i.is_empty() {
        let (rest, (id, len)) = (le_u16.map(AvId), le_u16).parse(i)?;
        let (rest, value) = take_n(rest, usize::from(len))?;
        i = rest;
        if id == AvId::MSV_AV_EOL {
            break;
        }
        pairs.push(AvPair { id, value });
    }
    Ok((i, pairs))
}

/// Parses a NEGOTIATE_MESSAGE (Version present when NTLMSSP_NEGOTIATE_VERSION is set).
pub fn parse_negotiate(msg: &[u8]) -> WireResult<'_, Negotiate<'_>> {
    const PDU: &str = "NTLM NEGOTIATE";
    let (i, ()) = expect_type(msg, NtlmMessageType::NEGOTIATE, PDU)?;
    let (i, (negotiate_flags, domain_fields, workstation_fields)) =
        (le_u32.map(NegotiateFlags), payload_fields, payload_fields).parse(i)?;
    let mut fixed_end = 32;
    let version = if negotiate_flags.contains(NegotiateFlags::NEGOTIATE_VERSION) {
        fixed_end += VERSION_LEN;
        Some(version(i)?.1)
    } else {
        None
    };
    let (domain_name, domain_end) =
        payload(msg, fixed_end, domain_fields, PDU, "DomainNameFields")?;
    let (workstation, ws_end) =
        payload(msg, fixed_end, workstation_fields, PDU, "WorkstationFields")?;
    Ok((
        after(msg, domain_end.max(ws_end)),
        Negotiate {
            negotiate_flags,
            domain_name,
            workstation,
            version,
        },
    ))
}

/// Encodes a NEGOTIATE_MESSAGE with empty DomainName and Workstation. NTLMSSP_NEGOTIATE_VERSION is set
/// exactly when `version` is given, and then the VERSION field follows the fixed fields.
pub fn encode_negotiate(flags: NegotiateFlags, version: Option<NtlmVersion>) -> Vec<u8> {
    let flags = match version {
        Some(_) => flags | NegotiateFlags::NEGOTIATE_VERSION,
        None => NegotiateFlags(flags.0 & !NegotiateFlags::NEGOTIATE_VERSION.0),
    };
    let payload_offset: u32 = if version.is_some() { 40 } else { 32 };
    let mut out = Vec::with_capacity(40);
    out.extend_from_slice(NTLMSSP_SIGNATURE);
    out.extend_from_slice(&NtlmMessageType::NEGOTIATE.0.to_le_bytes());
    out.extend_from_slice(&flags.0.to_le_bytes());
    for _ in ["DomainNameFields", "WorkstationFields"] {
        out.extend_from_slice(&[0, 0, 0, 0]); // Len, MaxLen
        out.extend_from_slice(&payload_offset.to_le_bytes());
    }
    if let Some(v) = version {
        out.extend_from_slice(&[v.major, v.minor]);
        out.extend_from_slice(&v.build.to_le_bytes());
        out.extend_from_slice(&[0, 0, 0, v.revision]);
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// MS-NLMP 4.2.4.3, the NTLMv2 example CHALLENGE_MESSAGE (as in Chromium's
    /// net/ntlm/ntlm_test_data.h, kChallengeMsgFromSpecV2).
    const SPEC_V2_CHALLENGE: [u8; 104] = [
        0x4e, 0x54, 0x4c, 0x4d, 0x53, 0x53, 0x50, 0x00, // Signature "NTLMSSP\0"
        0x02, 0x00, 0x00, 0x00, // MessageType 2
        0x0c, 0x00, 0x0c, 0x00, 0x38, 0x00, 0x00, 0x00, // TargetNameFields: 12 bytes at 56
        0x33, 0x82, 0x8a, 0xe2, // NegotiateFlags 0xe28a8233
        0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, // ServerChallenge
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // Reserved
        0x24, 0x00, 0x24, 0x00, 0x44, 0x00, 0x00, 0x00, // TargetInfoFields: 36 bytes at 68
        0x06, 0x00, 0x70, 0x17, 0x00, 0x00, 0x00, 0x0f, // Version 6.0 build 6000, revision 15
        0x53, 0x00, 0x65, 0x00, 0x72, 0x00, 0x76, 0x00, 0x65, 0x00, 0x72,
        0x00, // TargetName "Server"
        0x02, 0x00, 0x0c, 0x00, // AV pair: MsvAvNbDomainName, 12 bytes
        0x44, 0x00, 0x6f, 0x00, 0x6d, 0x00, 0x61, 0x00, 0x69, 0x00, 0x6e, 0x00, // "Domain"
        0x01, 0x00, 0x0c, 0x00, // AV pair: MsvAvNbComputerName, 12 bytes
        0x53, 0x00, 0x65, 0x00, 0x72, 0x00, 0x76, 0x00, 0x65, 0x00, 0x72, 0x00, // "Server"
        0x00, 0x00, 0x00, 0x00, // MsvAvEOL
    ];

    /// MS-NLMP 4.2.3.3, the NTLMv1-with-extended-session-security example (Chromium kChallengeMsgV1):
    /// no TargetInfo, but a Version.
    const SPEC_V1_CHALLENGE: [u8; 68] = [
        0x4e, 0x54, 0x4c, 0x4d, 0x53, 0x53, 0x50, 0x00, // Signature
        0x02, 0x00, 0x00, 0x00, // MessageType 2
        0x0c, 0x00, 0x0c, 0x00, 0x38, 0x00, 0x00, 0x00, // TargetNameFields: 12 bytes at 56
        0x33, 0x82, 0x0a, 0x82, // NegotiateFlags 0x820a8233
        0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, // ServerChallenge
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // Reserved
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // TargetInfoFields: empty
        0x06, 0x00, 0x70, 0x17, 0x00, 0x00, 0x00, 0x0f, // Version 6.0.6000, revision 15
        0x53, 0x00, 0x65, 0x00, 0x72, 0x00, 0x76, 0x00, 0x65, 0x00, 0x72, 0x00, // "Server"
    ];

    /// Chromium's kMinChallengeMessage: the 32-byte CHALLENGE older servers send.
    const MIN_CHALLENGE: [u8; 32] = [
        0x4e, 0x54, 0x4c, 0x4d, 0x53, 0x53, 0x50, 0x00, // Signature
        0x02, 0x00, 0x00, 0x00, // MessageType 2
        0x00, 0x00, 0x00, 0x00, 0x20, 0x00, 0x00, 0x00, // TargetNameFields: empty
        0x07, 0x82, 0x08, 0x00, // NegotiateFlags 0x00088207
        0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, // ServerChallenge
    ];

    /// The Windows 7 CHALLENGE inside wallix/redemption's NLA test TSRequest (see credssp tests).
    fn win7_challenge() -> Vec<u8> {
        let ts =
            hex::decode(super::super::credssp::tests::SERVER_CHALLENGE.replace(' ', "")).unwrap();
        ts[19..].to_vec()
    }

    fn s(text: &str) -> Vec<u8> {
        text.encode_utf16().flat_map(u16::to_le_bytes).collect()
    }

    #[test]
    fn parses_spec_v2_challenge() {
        let (rest, c) = parse_challenge(&SPEC_V2_CHALLENGE).unwrap();
        assert!(rest.is_empty());
        assert_eq!(
            c,
            Challenge {
                target_name: &s("Server"),
                negotiate_flags: NegotiateFlags(0xe28a_8233),
                server_challenge: [0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef],
                target_info: vec![
                    AvPair {
                        id: AvId::MSV_AV_NB_DOMAIN_NAME,
                        value: &s("Domain")
                    },
                    AvPair {
                        id: AvId::MSV_AV_NB_COMPUTER_NAME,
                        value: &s("Server")
                    },
                ],
                version: Some(NtlmVersion {
                    major: 6,
                    minor: 0,
                    build: 6000,
                    revision: 15
                }),
            }
        );
        assert_eq!(c.target_name_text(), "Server");
        assert_eq!(
            c.av_text(AvId::MSV_AV_NB_DOMAIN_NAME).as_deref(),
            Some("Domain")
        );
        assert_eq!(c.timestamp(), None);
        // The flag list MS-NLMP 4.2.4 gives for this example, lowest bit first.
        assert_eq!(
            c.negotiate_flags.names(),
            [
                "NTLMSSP_NEGOTIATE_UNICODE",
                "NTLM_NEGOTIATE_OEM",
                "NTLMSSP_NEGOTIATE_SIGN",
                "NTLMSSP_NEGOTIATE_SEAL",
                "NTLMSSP_NEGOTIATE_NTLM",
                "NTLMSSP_NEGOTIATE_ALWAYS_SIGN",
                "NTLMSSP_TARGET_TYPE_SERVER",
                "NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY",
                "NTLMSSP_NEGOTIATE_TARGET_INFO",
                "NTLMSSP_NEGOTIATE_VERSION",
                "NTLMSSP_NEGOTIATE_128",
                "NTLMSSP_NEGOTIATE_KEY_EXCH",
                "NTLMSSP_NEGOTIATE_56",
            ]
        );
        assert_eq!(c.negotiate_flags.unknown_bits(), 0);
    }

    #[test]
    fn parses_spec_v1_and_minimal_challenges() {
        let (rest, c) = parse_challenge(&SPEC_V1_CHALLENGE).unwrap();
        assert!(rest.is_empty());
        assert_eq!(
            (c.target_name_text().as_str(), c.target_info.len()),
            ("Server", 0)
        );
        assert_eq!(c.version.map(|v| v.build), Some(6000));

        let (rest, c) = parse_challenge(&MIN_CHALLENGE).unwrap();
        assert!(rest.is_empty());
        assert_eq!(
            c,
            Challenge {
                target_name: &[],
                negotiate_flags: NegotiateFlags(0x0008_8207),
                server_challenge: [0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef],
                target_info: vec![],
                version: None,
            }
        );
    }

    #[test]
    fn parses_windows_7_challenge() {
        let bytes = win7_challenge();
        let (rest, c) = parse_challenge(&bytes).unwrap();
        assert!(rest.is_empty());
        assert_eq!(
            c.version,
            Some(NtlmVersion {
                major: 6,
                minor: 1,
                build: 7601,
                revision: 15
            })
        );
        assert_eq!(c.negotiate_flags, NegotiateFlags(0xe208_82b7));
        assert_eq!(c.target_name, b""); // TargetNameFields empty although REQUEST_TARGET is set
        let names: Vec<(AvId, String)> = c
            .target_info
            .iter()
            .filter_map(|p| Some((p.id, p.text()?)))
            .collect();
        assert_eq!(
            names,
            [
                (AvId::MSV_AV_NB_COMPUTER_NAME, "WIN7".to_owned()),
                (AvId::MSV_AV_NB_DOMAIN_NAME, "WIN7".to_owned()),
                (AvId::MSV_AV_DNS_COMPUTER_NAME, "win7".to_owned()),
                (AvId::MSV_AV_DNS_DOMAIN_NAME, "win7".to_owned()),
            ]
        );
        assert_eq!(c.timestamp(), Some(0xd676_564e_5a0e_9567));
        assert_eq!(
            parse_ntlm_message_type(&bytes).unwrap().1,
            NtlmMessageType::CHALLENGE
        );
    }

    #[test]
    fn every_cut_is_incomplete() {
        for bytes in [
            SPEC_V2_CHALLENGE.to_vec(),
            SPEC_V1_CHALLENGE.to_vec(),
            MIN_CHALLENGE.to_vec(),
            win7_challenge(),
        ] {
            for cut in 0..bytes.len() {
                assert!(
                    matches!(parse_challenge(&bytes[..cut]), Err(nom::Err::Incomplete(_))),
                    "cut at {cut}"
                );
            }
        }
    }

    #[test]
    fn rejects_bad_messages() {
        let mut bad = SPEC_V2_CHALLENGE;
        bad[0] = b'X';
        assert!(matches!(
            parse_challenge(&bad),
            Err(nom::Err::Error(WireError::BadValue {
                field: "Signature",
                ..
            }))
        ));
        let mut bad = SPEC_V2_CHALLENGE;
        bad[8] = 3;
        assert!(matches!(
            parse_challenge(&bad),
            Err(nom::Err::Error(WireError::BadValue {
                field: "MessageType",
                got: 3,
                ..
            }))
        ));
        let mut bad = SPEC_V2_CHALLENGE;
        bad[16] = 0x10; // TargetName offset 16: inside the fixed fields
        assert!(matches!(
            parse_challenge(&bad),
            Err(nom::Err::Error(WireError::BadLength {
                field: "TargetNameFields",
                got: 16,
                ..
            }))
        ));
        let mut bad = SPEC_V2_CHALLENGE;
        bad[86] = 0x20; // MsvAvNbComputerName claims 32 bytes, past the target info
        assert!(matches!(
            parse_challenge(&bad),
            Err(nom::Err::Error(WireError::Truncated {
                pdu: "NTLM target info",
                ..
            }))
        ));
        let mut far = SPEC_V2_CHALLENGE;
        far[16..20].copy_from_slice(&0xffff_fff0_u32.to_le_bytes()); // points far past the end
        assert!(matches!(
            parse_challenge(&far),
            Err(nom::Err::Incomplete(_))
        ));
        assert!(matches!(
            super::super::bounded("NTLM CHALLENGE", &far, parse_challenge),
            Err(nom::Err::Error(WireError::Truncated { .. }))
        ));
    }

    #[test]
    fn encodes_negotiate_byte_for_byte() {
        // Chromium's kExpectedNegotiateMsg: no Version.
        let chromium = [
            0x4e, 0x54, 0x4c, 0x4d, 0x53, 0x53, 0x50, 0x00, // Signature
            0x01, 0x00, 0x00, 0x00, // MessageType 1
            0x07, 0x82, 0x08, 0x00, // NegotiateFlags 0x00088207
            0x00, 0x00, 0x00, 0x00, 0x20, 0x00, 0x00,
            0x00, // DomainNameFields: empty, offset 32
            0x00, 0x00, 0x00, 0x00, 0x20, 0x00, 0x00,
            0x00, // WorkstationFields: empty, offset 32
        ];
        assert_eq!(
            encode_negotiate(NegotiateFlags(0x0008_8207), None),
            chromium
        );

        // wallix/redemption's client NEGOTIATE (the token of its first TSRequest), with a Version.
        let redemption = [
            0x4e, 0x54, 0x4c, 0x4d, 0x53, 0x53, 0x50, 0x00, // Signature
            0x01, 0x00, 0x00, 0x00, // MessageType 1
            0xb7, 0x82, 0x08, 0xe2, // NegotiateFlags 0xe20882b7
            0x00, 0x00, 0x00, 0x00, 0x28, 0x00, 0x00,
            0x00, // DomainNameFields: empty, offset 40
            0x00, 0x00, 0x00, 0x00, 0x28, 0x00, 0x00,
            0x00, // WorkstationFields: empty, offset 40
            0x06, 0x01, 0xb1, 0x1d, 0x00, 0x00, 0x00,
            0x0f, // Version 6.1 build 7601, revision 15
        ];
        let version = NtlmVersion {
            major: 6,
            minor: 1,
            build: 7601,
            revision: 15,
        };
        assert_eq!(
            encode_negotiate(NegotiateFlags(0xe008_82b7), Some(version)),
            redemption
        );
        assert_eq!(
            parse_negotiate(&redemption).unwrap(),
            (
                &[][..],
                Negotiate {
                    negotiate_flags: NegotiateFlags(0xe208_82b7),
                    domain_name: &[],
                    workstation: &[],
                    version: Some(version),
                }
            )
        );
        for cut in 0..redemption.len() {
            assert!(matches!(
                parse_negotiate(&redemption[..cut]),
                Err(nom::Err::Incomplete(_))
            ));
        }
    }

    #[test]
    fn flags_keep_unknown_bits() {
        let flags = NegotiateFlags::NEGOTIATE_UNICODE | NegotiateFlags(0x0000_0408);
        assert_eq!(flags.names(), ["NTLMSSP_NEGOTIATE_UNICODE"]);
        assert_eq!(flags.unknown_bits(), 0x408);
        assert_eq!(flags.to_string(), "NTLMSSP_NEGOTIATE_UNICODE|0x408");
        assert_eq!(NegotiateFlags(0).to_string(), "0x0");
        assert_eq!(AvId(11).to_string(), "0xb");
        assert_eq!(
            AvId::MSV_AV_CHANNEL_BINDINGS.to_string(),
            "MsvAvChannelBindings"
        );
        assert_eq!(NtlmMessageType(3).to_string(), "AUTHENTICATE_MESSAGE");
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let _ = parse_ntlm_message_type(&bytes);
            let _ = parse_challenge(&bytes);
            let _ = parse_negotiate(&bytes);
            let mut signed = SPEC_V2_CHALLENGE[..12].to_vec();
            signed.extend_from_slice(&bytes);
            if let Ok((_, c)) = parse_challenge(&signed) {
                let _ = (c.target_name_text(), c.timestamp(), c.av_text(AvId::MSV_AV_DNS_COMPUTER_NAME));
            }
        }

        #[test]
        fn negotiate_round_trips(flags in any::<u32>(), version in proptest::option::of(any::<(u8, u8, u16, u8)>())) {
            let version = version.map(|(major, minor, build, revision)| NtlmVersion { major, minor, build, revision });
            let bytes = encode_negotiate(NegotiateFlags(flags), version);
            let (rest, n) = parse_negotiate(&bytes).unwrap();
            prop_assert!(rest.is_empty());
            prop_assert_eq!(n.version, version);
            prop_assert_eq!(n.negotiate_flags.0 & !NegotiateFlags::NEGOTIATE_VERSION.0, flags & !NegotiateFlags::NEGOTIATE_VERSION.0);
        }
    }
}
