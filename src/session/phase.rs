//! The phase machine of one connection, written as one transition table (`next`).

use super::timeline::{Direction, Stage};
use crate::wire::rdp_neg::SecurityProtocols;

/// How many application-data flights (runs of records from one side) each side has sent inside TLS since
/// the TLS handshake ended. CredSSP is judged from these: its content is encrypted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Flights {
    pub client: u32,
    pub server: u32,
}

impl Flights {
    fn add(self, dir: Direction) -> Self {
        match dir {
            Direction::ClientToServer => Self {
                client: self.client.saturating_add(1),
                ..self
            },
            Direction::ServerToClient => Self {
                server: self.server.saturating_add(1),
                ..self
            },
        }
    }
}

/// Where a connection is in its setup, carrying what later phases need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Nothing seen yet.
    Idle,
    /// SYN seen, no answer yet.
    TcpHandshake,
    /// TCP is up; the client has not sent its Connection Request yet.
    AwaitRequest,
    /// Connection Request seen; waiting for the Connection Confirm.
    AwaitConfirm { requested: SecurityProtocols },
    /// The server refused the negotiation (RDP_NEG_FAILURE, X.224 disconnect).
    Refused,
    /// A TLS-based protocol was selected; the TLS handshake is under way.
    TlsHandshake { selected: SecurityProtocols },
    /// TLS is up and CredSSP runs inside it.
    CredSsp {
        selected: SecurityProtocols,
        flights: Flights,
    },
    /// TLS (and CredSSP where selected) is done; MCS connect runs inside TLS.
    SecureChannel { client_sent: bool },
    /// Standard RDP security (MS-RDPBCGR 1.3.1.1): MCS connect in the clear, channel connection, the
    /// client's Security Exchange and Client Info PDUs, up to the server's first licensing or Demand
    /// Active PDU.
    StandardSecurity { step: StandardStep },
    /// The secure channel is up.
    Established,
    /// The bytes stopped making sense at this stage; nothing more is parsed.
    Broken { at: Stage },
}

/// How far the setup under standard RDP security has come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StandardStep {
    /// Waiting for the MCS Connect Response (MS-RDPBCGR 2.2.1.4).
    Connect,
    /// MCS connected: channel connection (erect domain, attach user, channel joins; 2.2.1.5 - 2.2.1.9).
    Channels,
    /// The client sent its Security Exchange PDU (2.2.1.10): from here on the PDUs are encrypted above
    /// encryption level NONE.
    SecurityExchange,
    /// The client sent its Client Info PDU (2.2.1.11); the server's licensing (2.2.1.12) or Demand
    /// Active PDU (2.2.1.13) is next.
    ClientInfo,
}

/// What the session learned from one PDU or transport fact, as far as the phase machine cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Syn,
    Connected,
    Request(SecurityProtocols),
    /// Connection Confirm with RDP_NEG_RSP.
    Confirm(SecurityProtocols),
    /// Connection Confirm without RDP_NEG_RSP: standard RDP security.
    LegacyConfirm,
    /// The client began with a TLS ClientHello, no X.224 first (MS-RDPBCGR 5.4.2.2 Direct Approach).
    DirectTls,
    /// The server refused: RDP_NEG_FAILURE or an X.224 Disconnect Request.
    Refusal,
    /// Both sides finished the TLS handshake.
    TlsDone,
    /// A side started a new application-data flight inside TLS.
    Flight(Direction),
    /// MCS Connect-Response with a successful result under standard RDP security.
    McsConnected,
    /// The client's Security Exchange PDU (standard RDP security).
    SecurityExchange,
    /// The client's Client Info PDU (standard RDP security).
    ClientInfo,
    /// The server's first licensing or Demand Active PDU (standard RDP security): the channel is up.
    ServerSetup,
    /// Bytes that are not RDP, or a PDU that breaks its structure.
    Broken,
}

impl Phase {
    /// The stage this phase belongs to.
    pub const fn stage(self) -> Stage {
        match self {
            Phase::Idle | Phase::TcpHandshake => Stage::Tcp,
            Phase::AwaitRequest => Stage::X224Request,
            Phase::AwaitConfirm { .. } | Phase::Refused => Stage::Negotiation,
            Phase::TlsHandshake { .. } => Stage::TlsHandshake,
            Phase::CredSsp { .. } => Stage::CredSsp,
            Phase::SecureChannel { .. } => Stage::SecureChannel,
            Phase::StandardSecurity { .. } => Stage::StandardSecurity,
            Phase::Established => Stage::Established,
            Phase::Broken { at } => at,
        }
    }
}

/// The transition table: one line per edge; anything else leaves the phase as it is.
///
/// CredSSP flights (MS-CSSP 3.1.5): client NEGOTIATE (1), server CHALLENGE (1), client AUTHENTICATE with
/// pubKeyAuth (2), server pubKeyAuth (2), client authInfo (3, with MCS Connect-Initial right behind it for
/// HYBRID); for HYBRID_EX the server's third flight is the Early User Authorization Result.
pub fn next(phase: Phase, signal: Signal) -> Phase {
    use Direction::{ClientToServer as C, ServerToClient as S};
    use Phase as P;
    use Signal as G;
    use StandardStep as Step;
    let ex = SecurityProtocols::HYBRID_EX;
    match (phase, signal) {
        (P::Idle, G::Syn) => P::TcpHandshake,
        (P::Idle | P::TcpHandshake, G::Connected) => P::AwaitRequest,
        (P::Idle | P::TcpHandshake | P::AwaitRequest, G::Request(requested)) => {
            P::AwaitConfirm { requested }
        }
        (P::Idle | P::TcpHandshake | P::AwaitRequest, G::DirectTls) => P::TlsHandshake {
            selected: SecurityProtocols::SSL,
        },
        (P::AwaitConfirm { .. }, G::Confirm(selected)) if selected.uses_tls() => {
            P::TlsHandshake { selected }
        }
        (P::AwaitConfirm { .. }, G::Confirm(_) | G::LegacyConfirm) => P::StandardSecurity {
            step: StandardStep::Connect,
        },
        (
            P::AwaitConfirm { .. }
            | P::StandardSecurity {
                step: StandardStep::Connect,
            },
            G::Refusal,
        ) => P::Refused,
        (P::TlsHandshake { selected }, G::TlsDone) if selected.uses_credssp() => P::CredSsp {
            selected,
            flights: Flights::default(),
        },
        (P::TlsHandshake { .. }, G::TlsDone) => P::SecureChannel { client_sent: false },
        (P::CredSsp { selected, flights }, G::Flight(C))
            if flights.client >= 2 && !selected.contains(ex) =>
        {
            P::SecureChannel { client_sent: true }
        }
        (P::CredSsp { selected, flights }, G::Flight(S))
            if flights.server >= 2 && selected.contains(ex) =>
        {
            P::SecureChannel { client_sent: false }
        }
        (P::CredSsp { selected, flights }, G::Flight(dir)) => P::CredSsp {
            selected,
            flights: flights.add(dir),
        },
        (P::SecureChannel { .. }, G::Flight(C)) => P::SecureChannel { client_sent: true },
        (P::SecureChannel { client_sent: true }, G::Flight(S)) => P::Established,
        (P::StandardSecurity { step: Step::Connect }, G::McsConnected) => P::StandardSecurity {
            step: Step::Channels,
        },
        (P::StandardSecurity { step: Step::Channels }, G::SecurityExchange) => {
            P::StandardSecurity {
                step: Step::SecurityExchange,
            }
        }
        (P::StandardSecurity { step: Step::Channels | Step::SecurityExchange }, G::ClientInfo) => {
            P::StandardSecurity {
                step: Step::ClientInfo,
            }
        }
        (P::StandardSecurity { step }, G::ServerSetup) if step != Step::Connect => P::Established,
        (P::Established, _) => P::Established,
        (p, G::Broken) => P::Broken { at: p.stage() },
        (p, _) => p,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(signals: &[Signal]) -> Phase {
        signals.iter().fold(Phase::Idle, |p, s| next(p, *s))
    }

    #[test]
    fn hybrid_ex_reaches_established_after_the_fourth_server_flight() {
        use Direction::{ClientToServer as C, ServerToClient as S};
        let start = [
            Signal::Syn,
            Signal::Connected,
            Signal::Request(SecurityProtocols(0xb)),
            Signal::Confirm(SecurityProtocols::HYBRID_EX),
            Signal::TlsDone,
        ];
        let mut phase = run(&start);
        assert!(matches!(phase, Phase::CredSsp { .. }));
        let flights = [C, S, C, S, C, S, C];
        for dir in flights {
            phase = next(phase, Signal::Flight(dir));
            assert_ne!(phase, Phase::Established);
        }
        assert_eq!(next(phase, Signal::Flight(S)), Phase::Established);
    }

    #[test]
    fn hybrid_reaches_established_after_the_third_server_flight() {
        use Direction::{ClientToServer as C, ServerToClient as S};
        let mut phase = run(&[
            Signal::Request(SecurityProtocols(3)),
            Signal::Confirm(SecurityProtocols::HYBRID),
            Signal::TlsDone,
        ]);
        for dir in [C, S, C, S, C] {
            phase = next(phase, Signal::Flight(dir));
        }
        assert_eq!(phase, Phase::SecureChannel { client_sent: true });
        assert_eq!(next(phase, Signal::Flight(S)), Phase::Established);
    }

    #[test]
    fn standard_security_and_refusal() {
        let p = run(&[
            Signal::Request(SecurityProtocols::RDP),
            Signal::LegacyConfirm,
        ]);
        assert_eq!(
            p,
            Phase::StandardSecurity {
                step: StandardStep::Connect
            }
        );
        // The MCS connect is not the channel: the server's licensing or Demand Active PDU is.
        let connected = next(p, Signal::McsConnected);
        assert_eq!(next(connected, Signal::ClientInfo).stage(), Stage::StandardSecurity);
        assert_eq!(next(p, Signal::ServerSetup), p, "not before the MCS connect");
        let up = [
            Signal::SecurityExchange,
            Signal::ClientInfo,
            Signal::ServerSetup,
        ]
        .iter()
        .fold(connected, |p, s| next(p, *s));
        assert_eq!(up, Phase::Established);
        // A disconnect after the MCS connect stays in standard security: where it broke.
        assert_eq!(next(connected, Signal::Refusal), connected);
        assert_eq!(next(p, Signal::Refusal), Phase::Refused);
        assert_eq!(
            run(&[Signal::Request(SecurityProtocols::SSL), Signal::Refusal]),
            Phase::Refused
        );
        assert_eq!(
            run(&[Signal::Connected, Signal::Broken]),
            Phase::Broken {
                at: Stage::X224Request
            }
        );
    }
}
