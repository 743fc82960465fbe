//! The timeline: what happened on one connection, in order, in our own words (owned values, no borrowed
//! wire bytes), each entry with its time, direction, packet number and the stage it happened in.

use serde::Serialize;

use crate::wire::cert::CertSummary;

/// A point in time: microseconds since the Unix epoch, as the driver saw it (capture timestamp for replay,
/// the clock for probe). The session never reads a clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub const fn from_micros(micros: i64) -> Self {
        Self(micros)
    }

    pub const fn from_secs(secs: i64) -> Self {
        Self(secs.saturating_mul(1_000_000))
    }

    /// Whole seconds since the epoch (rounded down).
    pub const fn unix_secs(self) -> i64 {
        self.0.div_euclid(1_000_000)
    }

    /// Microseconds from `earlier` to `self` (negative when `self` is earlier).
    pub const fn micros_since(self, earlier: Timestamp) -> i64 {
        self.0.saturating_sub(earlier.0)
    }
}

/// Who sent it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    ClientToServer,
    ServerToClient,
}

impl Direction {
    pub const fn other(self) -> Self {
        match self {
            Direction::ClientToServer => Direction::ServerToClient,
            Direction::ServerToClient => Direction::ClientToServer,
        }
    }

    /// `C->S` or `S->C`.
    pub const fn arrow(self) -> &'static str {
        match self {
            Direction::ClientToServer => "C->S",
            Direction::ServerToClient => "S->C",
        }
    }

    pub const fn who(self) -> &'static str {
        match self {
            Direction::ClientToServer => "client",
            Direction::ServerToClient => "server",
        }
    }
}

/// The stages of connection setup, in the order a connection passes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// TCP connection setup.
    Tcp,
    /// Waiting for, or reading, the client's X.224 Connection Request.
    X224Request,
    /// Connection Request sent; waiting for the Connection Confirm (security protocol negotiation).
    Negotiation,
    /// TLS handshake (SSL, HYBRID, HYBRID_EX, RDSTLS, RDSAAD).
    TlsHandshake,
    /// CredSSP inside TLS (HYBRID, HYBRID_EX): network level authentication.
    CredSsp,
    /// Inside TLS after the security handshake: MCS connect and the rest of the setup.
    SecureChannel,
    /// Standard RDP security (PROTOCOL_RDP): MCS connect, security exchange, licensing, in the clear.
    StandardSecurity,
    /// The secure channel is up.
    Established,
}

impl Stage {
    pub const fn label(self) -> &'static str {
        match self {
            Stage::Tcp => "TCP",
            Stage::X224Request => "X.224 request",
            Stage::Negotiation => "negotiation",
            Stage::TlsHandshake => "TLS handshake",
            Stage::CredSsp => "CredSSP",
            Stage::SecureChannel => "secure channel setup",
            Stage::StandardSecurity => "standard RDP security",
            Stage::Established => "established",
        }
    }
}

/// The PDUs that mark the way from the MCS connect to a working channel under standard RDP security.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StandardPdu {
    /// MS-RDPBCGR 2.2.1.10 Client Security Exchange PDU (SEC_EXCHANGE_PKT): the encrypted client random.
    SecurityExchange,
    /// MS-RDPBCGR 2.2.1.11 Client Info PDU (SEC_INFO_PKT): user, domain, auto-logon.
    ClientInfo,
    /// MS-RDPBCGR 2.2.1.12 a server licensing PDU (SEC_LICENSE_PKT).
    Licensing,
    /// MS-RDPBCGR 2.2.1.13.1 Demand Active PDU: the capabilities exchange begins.
    DemandActive,
}

impl StandardPdu {
    pub const fn label(self) -> &'static str {
        match self {
            StandardPdu::SecurityExchange => "Security Exchange PDU",
            StandardPdu::ClientInfo => "Client Info PDU",
            StandardPdu::Licensing => "licensing PDU",
            StandardPdu::DemandActive => "Demand Active PDU",
        }
    }
}

/// One certificate of a chain as the timeline keeps it: its summary, or why it could not be read.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum CertEntry {
    Parsed(Box<CertSummary>),
    Unreadable { error: String, der_len: usize },
}

/// Where a certificate chain was seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CertSource {
    /// TLS Certificate message (TLS 1.2 and earlier).
    Tls,
    /// MCS Server Security Data (standard RDP security, X.509 chain).
    StandardSecurity,
}

/// What a failed `connect()` tells (the probe's only view of the transport when it fails): the
/// error's meaning, never an ICMP type or code, a SYN count or a packet the probe did not see.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectError {
    /// `ECONNREFUSED`: an RST answered the SYN, or an ICMP port unreachable (a firewall's reject) reached
    /// the stack; it does not say which.
    Refused,
    /// `EHOSTUNREACH`: an ICMP host unreachable or administratively prohibited (any code) reached the
    /// stack, or a local route or neighbour lookup failed.
    HostUnreachable,
    /// `ENETUNREACH`: no route to the network here, or an ICMP network unreachable.
    NetworkUnreachable,
    /// `ETIMEDOUT`: the stack itself gave up retransmitting its SYN.
    TimedOut,
    /// Any other error (local policy, no address to send from, ...).
    Other,
}

/// What happened. Values are kept as on the wire (numbers), with names where the specification has them.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    // Transport facts, from the driver.
    /// The client's SYN (replay) or the start of a connect (probe).
    TcpSyn,
    /// TCP connected; `rtt_us` from SYN to SYN/ACK when known.
    TcpConnected {
        rtt_us: Option<i64>,
    },
    /// RST answering the SYN: nothing listens there.
    TcpRefused {
        rtt_us: Option<i64>,
    },
    /// The SYN went unanswered.
    TcpNoAnswer {
        syns: u32,
        waited_us: i64,
    },
    /// ICMP destination unreachable quoting this connection.
    IcmpUnreachable {
        icmp_type: u8,
        code: u8,
        reporter: String,
    },
    /// The local network stack failed the connect (probe): what its error means, and the error as the
    /// operating system worded it. No packet was seen; the stack may have sent a SYN, or none.
    TcpConnectError {
        error: ConnectError,
        os_error: String,
    },
    /// A FIN from the entry's direction.
    Fin,
    /// A RST from the entry's direction.
    Rst,
    /// Bytes missing from the capture in the entry's direction.
    CaptureGap {
        bytes: u64,
    },
    /// The capture ended while the connection was still open.
    CaptureEnd,
    /// The driver waited this long without anything from the server.
    Timeout {
        waited_us: i64,
    },
    /// A bound was hit; what follows in this direction is not analysed.
    LimitHit {
        what: String,
    },

    // X.224 and RDP negotiation (MS-RDPBCGR 2.2.1.1, 2.2.1.2).
    ConnectionRequest {
        cookie: Option<String>,
        routing_token: Option<String>,
        /// requestedProtocols; `None` when the client sent no RDP_NEG_REQ (standard RDP security only).
        requested_protocols: Option<u32>,
        requested: String,
        neg_flags: Option<u8>,
        correlation_id: Option<String>,
    },
    ConnectionConfirm {
        /// selectedProtocol; `None` when the server sent no RDP_NEG_RSP (pre-negotiation server).
        selected_protocol: Option<u32>,
        selected: String,
        neg_flags: Option<u8>,
        /// False when the RDP_NEG_RSP length field is not 8.
        well_formed: bool,
    },
    NegotiationFailure {
        failure_code: u32,
        name: String,
    },
    X224Disconnect {
        reason: u8,
        name: String,
    },
    X224Error {
        reject_cause: u8,
    },

    // TLS (RFC 5246, RFC 8446).
    TlsClientHello {
        record_version: u16,
        client_version: u16,
        /// supported_versions, when the client sent it (TLS 1.3 capable clients).
        supported_versions: Vec<u16>,
        /// The highest version offered, named.
        max_version: String,
        cipher_suites: Vec<u16>,
        sni: Option<String>,
        alpn: Vec<String>,
    },
    TlsServerHello {
        /// The negotiated version (supported_versions for TLS 1.3).
        version: u16,
        version_name: String,
        cipher_suite: u16,
        cipher_suite_name: String,
        hello_retry_request: bool,
    },
    TlsCertificate {
        source: CertSource,
        chain: Vec<CertEntry>,
    },
    TlsCertificateRequest,
    TlsServerHelloDone,
    TlsChangeCipherSpec,
    /// Encrypted handshake messages (Finished in TLS 1.2; everything after ServerHello in TLS 1.3).
    TlsEncryptedHandshake {
        records: u32,
    },
    /// Both sides finished the TLS handshake.
    TlsHandshakeDone {
        version_name: String,
    },
    TlsAlert {
        level: u8,
        description: u8,
        name: String,
        fatal: bool,
    },
    /// An alert record whose content is encrypted (sent after ChangeCipherSpec).
    TlsEncryptedAlert {
        length: u16,
        /// True when the record was TLS 1.3 application_data whose size (19 bytes) gives it away as an
        /// alert: inferred, not read from a content type.
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        inferred: bool,
    },
    /// Consecutive application-data records from one side (one flight).
    TlsApplicationData {
        records: u32,
        bytes: u64,
    },
    /// An SSLv2-format hello.
    Sslv2Hello {
        server: bool,
    },

    // MCS and standard RDP security (MS-RDPBCGR 2.2.1.3 - 2.2.1.4, 2.2.5.1, T.125).
    McsConnectInitial {
        client_name: Option<String>,
        client_build: Option<u32>,
    },
    McsConnectResponse {
        result: u8,
        encryption_method: Option<u32>,
        encryption_method_name: Option<String>,
        encryption_level: Option<u32>,
        encryption_level_name: Option<String>,
        server_cert: Option<String>,
    },
    McsDisconnectUltimatum {
        reason: u8,
        name: String,
    },
    SetErrorInfo {
        error_info: u32,
        name: String,
    },
    /// Standard RDP security traffic after the connect response (encrypted with RC4 or in the clear).
    StandardSecurityData {
        records: u32,
        bytes: u64,
    },
    /// A landmark of the setup under standard RDP security after the MCS connect (MS-RDPBCGR 2.2.1.10 -
    /// 2.2.1.13), known by its security header flags (they travel in the clear; the content is encrypted
    /// above encryption level NONE), or, for an encrypted server PDU, by its size (`inferred`).
    StandardSecurityPdu {
        pdu: StandardPdu,
        /// The Basic Security Header's flags, when the PDU has one.
        security_flags: Option<u16>,
        security_flags_name: Option<String>,
        /// The Send Data user data's length.
        bytes: u64,
        /// SEC_ENCRYPT is set: the content cannot be read.
        encrypted: bool,
        /// The PDU's kind was inferred from its size and place, not read.
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        inferred: bool,
        /// A licensing PDU's bMsgType (MS-RDPELE 2.2.2), when it is in the clear.
        #[serde(skip_serializing_if = "Option::is_none")]
        license_msg: Option<u8>,
        #[serde(skip_serializing_if = "Option::is_none")]
        license_msg_name: Option<String>,
    },

    // What could not be understood.
    /// The first bytes from a side are not RDP at all.
    NotRdp {
        first_bytes: String,
        looks_like: String,
    },
    /// A PDU that breaks its own structure.
    Malformed {
        pdu: String,
        error: String,
    },
    /// A PDU that is valid but not what this stage expects.
    Unexpected {
        expected: String,
        got: String,
    },
    /// The secure channel is up.
    Established {
        how: String,
    },
}

/// One thing that happened.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
    /// Microseconds since the connection's first input.
    pub t_us: i64,
    /// The absolute time (for judging certificates at observation time).
    #[serde(skip)]
    pub at: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dir: Option<Direction>,
    /// The packet (capture frame number) in which the PDU completed, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub packet: Option<u64>,
    /// The stage the connection was in when this happened.
    pub stage: Stage,
    #[serde(flatten)]
    pub event: Event,
}

/// The ordered record of one connection.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Timeline {
    pub entries: Vec<Entry>,
}

impl Timeline {
    /// The index and entry of the first event that matches.
    pub fn find(&self, mut pred: impl FnMut(&Entry) -> bool) -> Option<(usize, &Entry)> {
        self.entries.iter().enumerate().find(|(_, e)| pred(e))
    }

    /// The index and entry of the last event that matches.
    pub fn rfind(&self, mut pred: impl FnMut(&Entry) -> bool) -> Option<(usize, &Entry)> {
        self.entries.iter().enumerate().rev().find(|(_, e)| pred(e))
    }

    pub fn get(&self, index: usize) -> Option<&Entry> {
        self.entries.get(index)
    }
}
