//! The cause catalogue: every cause rdpdiag names, once. An entry holds the typed id (serialised as its
//! stable kebab-case string: JSON, tests and `--expect` use it), the stage, title, remedy, host checks,
//! the Windows codes it explains, its lookalikes, the symptoms it explains, its rank, and the rule's
//! check over the timeline. The rules, `explain`, the text and JSON reports and `docs/causes.md` all
//! read these entries. The entries live by stage, each check beside its entry: [`transport`], [`x224`],
//! [`negotiation`], [`tls`], [`certificate`], [`credssp`], [`rdp`], [`advisory`].
//!
//! # Symptoms and causes
//! Some findings are *symptoms*: they say where the setup broke, not why (the client hung up right after
//! the server's certificate: `client-aborted-after-handshake`). A cause lists the symptoms it explains.
//! When a cause that explains a symptom holds on the evidence, the cause is the verdict and the symptom
//! becomes its evidence (the report keeps it as the finding's `symptom`: where, and when). Only when
//! nothing visible explains a symptom (TLS 1.3 encrypts the certificate) does the symptom stay the
//! verdict.
//!
//! # Rank: the order a client checks
//! When several causes explain one symptom, the verdict is the one a client meets first, by rank
//! (lower first):
//! 1. the TLS version the server chose (the ServerHello comes before the certificate);
//! 2. the certificate's validity dates (expired, not yet valid);
//! 3. the name the client used against the certificate's SAN/CN;
//! 4. trust: the chain leads to a trusted root (self-signed, incomplete chain);
//! 5. key and signature strength (RSA < 2048, SHA-1/MD5);
//! 6. key usage (the Server Authentication EKU).
//!
//! A TLS alert from the client that names a cause (certificate_expired names `cert-expired`) puts that
//! cause first whatever its rank. Ranks outside a symptom's explanations only order the catalogue.

pub mod advisory;
pub mod certificate;
pub mod checks;
pub mod credssp;
pub mod negotiation;
pub mod rdp;
pub mod tls;
pub mod transport;
pub mod x224;

use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};

use super::facts::Facts;
use super::rules::Hit;
use super::Severity;

macro_rules! cause_ids {
    ($($(#[$meta:meta])* $variant:ident = $text:literal,)*) => {
        /// A cause's id: a closed set (our concept), written as its stable kebab-case string.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum CauseId {
            $($(#[$meta])* $variant,)*
        }

        impl CauseId {
            /// Every id, in catalogue order.
            pub const ALL: &'static [CauseId] = &[$(CauseId::$variant,)*];

            /// The stable string (JSON, `--expect`, `rdpdiag explain ID`).
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(CauseId::$variant => $text,)*
                }
            }
        }
    };
}

cause_ids! {
    TcpRefused = "tcp-refused",
    TcpFiltered = "tcp-filtered",
    TcpUnreachable = "tcp-unreachable",
    ServerSilent = "server-silent",
    ServerClosedAfterRequest = "server-closed-after-request",
    ServerResetAfterRequest = "server-reset-after-request",
    NotRdp = "not-rdp",
    MalformedReply = "malformed-reply",
    LegacyNoNegotiation = "legacy-no-negotiation",
    NegSslRequired = "neg-ssl-required",
    NegSslNotAllowed = "neg-ssl-not-allowed",
    NegSslCertNotOnServer = "neg-ssl-cert-not-on-server",
    NegInconsistentFlags = "neg-inconsistent-flags",
    NegHybridRequired = "neg-hybrid-required",
    NegSslWithUserAuthRequired = "neg-ssl-with-user-auth-required",
    NegUnknownFailure = "neg-unknown-failure",
    SecurityLayerMismatch = "security-layer-mismatch",
    TlsServerAbort = "tls-server-abort",
    TlsVersionMismatch = "tls-version-mismatch",
    TlsNoSharedCipher = "tls-no-shared-cipher",
    CertExpired = "cert-expired",
    CertNotYetValid = "cert-not-yet-valid",
    CertSelfSigned = "cert-self-signed",
    CertUntrusted = "cert-untrusted",
    CertNameMismatch = "cert-name-mismatch",
    CertWeakKey = "cert-weak-key",
    CertWeakSignature = "cert-weak-signature",
    CertWrongUsage = "cert-wrong-usage",
    ClientAbortedAfterHandshake = "client-aborted-after-handshake",
    NlaAuthFailed = "nla-auth-failed",
    CredsspVersionMismatch = "credssp-version-mismatch",
    EarlyUserAuthDenied = "early-user-auth-denied",
    ServerDeniedConnection = "server-denied-connection",
    ServerDisconnected = "server-disconnected",
    WeakStandardRdpSecurity = "weak-standard-rdp-security",
    PathDegraded = "path-degraded",
    CertExpiringSoon = "cert-expiring-soon",
    TlsLegacyVersion = "tls-legacy-version",
    NlaNotRequired = "nla-not-required",
}

impl CauseId {
    /// The catalogue entry of this id (every id has exactly one; a test checks it).
    pub fn cause(self) -> Option<&'static Cause> {
        all().find(|c| c.id == self)
    }
}

impl fmt::Display for CauseId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for CauseId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// A string that is no cause id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown cause id {0:?} (see docs/causes.md)")]
pub struct UnknownCause(pub String);

impl FromStr for CauseId {
    type Err = UnknownCause;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CauseId::ALL
            .iter()
            .copied()
            .find(|id| id.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownCause(s.to_string()))
    }
}

impl PartialEq<str> for CauseId {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for CauseId {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// Where in the setup a cause lives (the catalogue's grouping; the session's [`Stage`] is where a
/// connection got to).
///
/// [`Stage`]: crate::session::Stage
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CauseStage {
    Transport,
    X224,
    Negotiation,
    Tls,
    Certificate,
    CredSsp,
    Rdp,
    Advisory,
}

impl CauseStage {
    pub const fn label(self) -> &'static str {
        match self {
            CauseStage::Transport => "transport",
            CauseStage::X224 => "X.224",
            CauseStage::Negotiation => "negotiation",
            CauseStage::Tls => "TLS",
            CauseStage::Certificate => "certificate",
            CauseStage::CredSsp => "CredSSP",
            CauseStage::Rdp => "RDP",
            CauseStage::Advisory => "advisory",
        }
    }
}

/// One cause: its words, its place among the others, and the rule that finds it.
#[derive(Debug, Clone, Copy)]
pub struct Cause {
    pub id: CauseId,
    pub stage: CauseStage,
    /// The order a client meets the check (module docs); lower first.
    pub rank: u8,
    pub title: &'static str,
    /// What fixes it: the same words in `explain`, the reports and `docs/causes.md`.
    pub remedy: &'static str,
    /// Checks on the hosts that separate this cause from others the wire cannot tell apart.
    pub host_checks: &'static [&'static str],
    /// The Windows client codes it explains, as the client reports them.
    pub explains: &'static [&'static str],
    /// Other causes with the same wire signature.
    pub lookalikes: &'static [CauseId],
    /// The symptoms this cause explains: when both hold, this cause is the verdict.
    pub symptoms: &'static [CauseId],
    /// TLS alert descriptions which, sent by the client as it hangs up, name this cause directly.
    pub named_by_alerts: &'static [u8],
    /// A failure, or advice. An advisory cause that explains a symptom present becomes the failure.
    pub severity: Severity,
    /// The rule: a pure check over the facts of one connection.
    pub check: fn(&Facts<'_>) -> Option<Hit>,
}

impl Cause {
    /// The causes that explain this one, when it is a symptom, in rank order.
    pub fn explained_by(&self) -> impl Iterator<Item = &'static Cause> + '_ {
        let mut by: Vec<&'static Cause> = all().filter(|c| c.symptoms.contains(&self.id)).collect();
        by.sort_by_key(|c| c.rank);
        by.into_iter()
    }
}

/// The entries by stage, in the order the rules run; the order is only a tie-break between findings of
/// equal severity, confidence and rank.
static STAGES: &[&[Cause]] = &[
    transport::CAUSES,
    x224::CAUSES,
    negotiation::CAUSES,
    // Standard RDP security rules (`super::standard_security`) take their place here.
    tls::CAUSES,
    certificate::CAUSES,
    credssp::CAUSES,
    rdp::CAUSES,
    advisory::CAUSES,
];

/// Every cause of the catalogue, stage by stage.
pub fn all() -> impl Iterator<Item = &'static Cause> {
    STAGES.iter().flat_map(|stage| stage.iter())
}
