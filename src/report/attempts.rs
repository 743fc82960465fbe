//! Attempts: one user's try to connect may be several TCP connections, since clients reconnect after a
//! failure, some with a smaller offer (FreeRDP falls back from NLA to TLS to standard RDP security where
//! allowed). Connections from one client address to one server that follow each other within
//! [`ATTEMPT_GAP_US`] are grouped as one attempt (causes.md, "The codes"), judged by its last try and
//! listed try by try. Only attempts of two tries or more are reported: a single connection is its own
//! report already.
//!
//! Pure and bounded: the times are the connections' own (capture time); an attempt is closed, and handed
//! back to be reported, once a later connection shows it has been quiet for longer than the gap, so only
//! the attempts of the last few seconds are held.

use std::collections::BTreeMap;

use super::ConnectionReport;
use crate::diagnose::{Outcome, Verdict};
use crate::session::Event;

/// A connection that starts within this long after the previous one (same client address, same server)
/// ended is another try of the same attempt.
pub const ATTEMPT_GAP_US: i64 = 10_000_000;
/// The most attempts held open at once; past it every open attempt is closed and reported as it stands
/// (later tries then start new attempts), and [`Attempts::limit_hits`] says so.
pub const MAX_OPEN_ATTEMPTS: usize = 16_384;
/// The most tries held in one attempt; a further try closes it (reported as it stands) and starts the
/// next, so a flood of connections between two hosts stays bounded.
pub const MAX_TRIES_PER_ATTEMPT: usize = 16;

/// One connection of an attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Try {
    /// `address:port` of the client for this try.
    pub client: String,
    /// Capture time of the connection's first and last event, microseconds.
    pub start_us: i64,
    pub end_us: i64,
    /// What the client offered (`SSL|HYBRID`, ...), when it sent a Connection Request.
    pub requested: Option<String>,
    pub verdict: Verdict,
    pub outcome: Outcome,
}

/// Connections of one client to one server close together in time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub source: String,
    /// The client's address (without port: each try has its own).
    pub client: String,
    pub server: String,
    /// In the order they started.
    pub tries: Vec<Try>,
}

impl Attempt {
    fn last(&self) -> Option<&Try> {
        self.tries.last()
    }

    /// How the attempt ended: as its last try did.
    pub fn outcome(&self) -> Outcome {
        self.last().map_or(Outcome::Incomplete, |t| t.outcome)
    }

    /// The last try's verdict: what the user was left with.
    pub fn verdict(&self) -> Verdict {
        self.last().map_or(Verdict::Incomplete, |t| t.verdict)
    }

    /// Established in the end, after at least one try that was not.
    pub fn recovered(&self) -> bool {
        self.outcome() == Outcome::Established
            && self.tries.iter().any(|t| t.outcome != Outcome::Established)
    }

    /// From the first try's start to the last try's end, microseconds.
    pub fn span_us(&self) -> i64 {
        let start = self.tries.iter().map(|t| t.start_us).min().unwrap_or(0);
        let end = self.tries.iter().map(|t| t.end_us).max().unwrap_or(start);
        end.saturating_sub(start)
    }

    /// The offers in the order the tries made them, when they changed (`SSL|HYBRID -> RDP`).
    pub fn fallback(&self) -> Option<String> {
        let mut offers: Vec<&str> = Vec::new();
        for offer in self.tries.iter().filter_map(|t| t.requested.as_deref()) {
            if offers.last() != Some(&offer) {
                offers.push(offer);
            }
        }
        (offers.len() > 1).then(|| offers.join(" -> "))
    }

    fn end_us(&self) -> i64 {
        self.tries
            .iter()
            .map(|t| t.end_us)
            .max()
            .unwrap_or(i64::MIN)
    }
}

/// Groups connection reports into attempts as they come.
#[derive(Debug, Default)]
pub struct Attempts {
    open: BTreeMap<(String, String, String), Attempt>,
    /// The latest connection start seen: attempts quiet for longer than the gap before it are closed.
    now_us: i64,
    /// Times [`MAX_OPEN_ATTEMPTS`] was reached.
    pub limit_hits: u64,
}

impl Attempts {
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes one connection; returns the attempts (of two tries or more) it shows to be over.
    pub fn add(&mut self, report: &ConnectionReport) -> Vec<Attempt> {
        let entries = &report.observation.timeline.entries;
        let (Some(first), Some(last), Some(client), Some(server)) = (
            entries.first(),
            entries.last(),
            report.client.as_deref(),
            report.server.as_deref(),
        ) else {
            return Vec::new();
        };
        // The probe's own questions (its cookie says so) are each a connection of their own, asked on
        // purpose one after another: not a client retrying.
        let probe_question = entries.iter().any(|e| {
            matches!(&e.event, Event::ConnectionRequest { cookie: Some(c), .. }
                if c == crate::diagnose::PROBE_COOKIE)
        });
        if probe_question {
            return Vec::new();
        }
        let try_ = Try {
            client: client.to_string(),
            start_us: first.at.0,
            end_us: last.at.0.max(first.at.0),
            requested: entries.iter().find_map(|e| match &e.event {
                Event::ConnectionRequest { requested, .. } => Some(requested.clone()),
                _ => None,
            }),
            verdict: report.diagnosis.verdict_id(),
            outcome: report.diagnosis.outcome,
        };
        let start = try_.start_us;
        let mut closed = Vec::new();
        // Connections are reported as they end, so starts come a little out of order: only a jump back
        // by more than the gap (the next file) counts as time going back.
        if start.saturating_sub(self.now_us) >= 1_000_000
            || start < self.now_us.saturating_sub(ATTEMPT_GAP_US)
        {
            // At most once a second of capture time (and when time goes back): close what went quiet.
            let quiet: Vec<_> = self
                .open
                .iter()
                .filter(|(_, a)| a.end_us().saturating_add(ATTEMPT_GAP_US) < start)
                .map(|(k, _)| k.clone())
                .collect();
            for key in quiet {
                closed.extend(self.open.remove(&key));
            }
            self.now_us = start;
        }
        if self.open.len() >= MAX_OPEN_ATTEMPTS {
            self.limit_hits += 1;
            closed.extend(std::mem::take(&mut self.open).into_values());
        }
        let key = (
            report.source.clone(),
            address_of(client),
            server.to_string(),
        );
        match self.open.get_mut(&key) {
            Some(a)
                if start <= a.end_us().saturating_add(ATTEMPT_GAP_US)
                    && a.tries.len() < MAX_TRIES_PER_ATTEMPT =>
            {
                let at = a.tries.partition_point(|t| t.start_us <= start);
                a.tries.insert(at, try_);
            }
            _ => {
                let attempt = Attempt {
                    source: key.0.clone(),
                    client: key.1.clone(),
                    server: key.2.clone(),
                    tries: vec![try_],
                };
                closed.extend(self.open.insert(key, attempt));
            }
        }
        Self::reportable(closed)
    }

    /// Every attempt still open (the end of the input).
    pub fn finish(&mut self) -> Vec<Attempt> {
        let all = std::mem::take(&mut self.open).into_values().collect();
        Self::reportable(all)
    }

    fn reportable(mut attempts: Vec<Attempt>) -> Vec<Attempt> {
        attempts.retain(|a| a.tries.len() > 1);
        attempts.sort_by_key(|a| a.tries.first().map(|t| t.start_us));
        attempts
    }
}

/// The address part of `address:port` (`[v6]:port` too); the whole text when it is not one. (Text only:
/// the report layer uses no `std::net`, ARCHITECTURE.md invariant 1.)
fn address_of(endpoint: &str) -> String {
    if let Some((address, port)) = endpoint
        .strip_prefix('[')
        .and_then(|rest| rest.split_once("]:"))
    {
        if port.parse::<u16>().is_ok() {
            return address.to_string();
        }
    }
    match endpoint.rsplit_once(':') {
        Some((address, port)) if !address.contains(':') && port.parse::<u16>().is_ok() => {
            address.to_string()
        }
        _ => endpoint.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use crate::diagnose::{diagnose, Context};
    use crate::session::{Direction, Session, Timestamp, TransportFact};
    use crate::wire::rdp_neg::{NegRequestFlags, SecurityProtocols};
    use crate::wire::x224::{encode_connection_request, ConnectionRequestSpec};

    /// A connection from `client` at `start_s` offering `requested`, ending refused or established-looking.
    fn report(client: &str, server: &str, start_s: i64, refused: bool) -> ConnectionReport {
        report_with_cookie(client, server, start_s, refused, None)
    }

    fn report_with_cookie(
        client: &str,
        server: &str,
        start_s: i64,
        refused: bool,
        cookie: Option<&str>,
    ) -> ConnectionReport {
        let mut s = Session::new();
        let t = Timestamp::from_secs(start_s);
        s.on_transport(t, None, TransportFact::Syn);
        if refused {
            s.on_transport(Timestamp(t.0 + 500), None, TransportFact::Refused);
        } else {
            s.on_transport(Timestamp(t.0 + 500), None, TransportFact::Connected);
            let cr = encode_connection_request(&ConnectionRequestSpec {
                cookie,
                requested_protocols: Some(SecurityProtocols(3)),
                flags: NegRequestFlags(0),
                correlation_id: None,
            })
            .unwrap();
            s.on_bytes(Timestamp(t.0 + 900), Direction::ClientToServer, None, &cr);
            s.on_transport(
                Timestamp(t.0 + 1_500),
                None,
                TransportFact::Rst(Direction::ServerToClient),
            );
        }
        let observation = s.finish();
        let diagnosis = diagnose(&observation, &Context::default());
        ConnectionReport {
            tunnel: None,
            source: "cap.pcap".into(),
            client: Some(client.into()),
            server: Some(server.into()),
            label: None,
            observation,
            diagnosis,
        }
    }

    const S: &str = "10.0.0.9:3389";

    #[test]
    fn retries_close_together_are_one_attempt() {
        let mut a = Attempts::new();
        assert!(a.add(&report("10.0.0.1:50000", S, 100, true)).is_empty());
        assert!(a.add(&report("10.0.0.1:50001", S, 103, false)).is_empty());
        // Another client, and the same client to another server: their own attempts.
        assert!(a.add(&report("10.0.0.2:50000", S, 104, true)).is_empty());
        assert!(a
            .add(&report("10.0.0.1:50002", "10.0.0.8:3389", 104, true))
            .is_empty());
        let done = a.finish();
        assert_eq!(done.len(), 1, "{done:?}");
        let attempt = &done[0];
        assert_eq!(
            (attempt.client.as_str(), attempt.server.as_str()),
            ("10.0.0.1", S)
        );
        assert_eq!(attempt.tries.len(), 2);
        assert_eq!(attempt.tries[0].verdict, "tcp-refused");
        assert_eq!(attempt.verdict(), attempt.tries[1].verdict);
        assert!(attempt.span_us() >= 3_000_000);
    }

    #[test]
    fn a_long_pause_starts_a_new_attempt_and_closes_the_old_one() {
        let mut a = Attempts::new();
        a.add(&report("10.0.0.1:50000", S, 100, true));
        a.add(&report("10.0.0.1:50001", S, 101, true));
        let closed = a.add(&report("10.0.0.1:50002", S, 100 + 60, true));
        assert_eq!(closed.len(), 1);
        assert_eq!(closed[0].tries.len(), 2);
        // The new one is alone: not reported.
        assert!(a.finish().is_empty());
    }

    #[test]
    fn quiet_attempts_are_closed_by_later_traffic_to_others() {
        let mut a = Attempts::new();
        a.add(&report("10.0.0.1:50000", S, 100, true));
        a.add(&report("10.0.0.1:50001", S, 102, true));
        let closed = a.add(&report("10.0.0.7:40000", "10.0.0.8:3389", 200, true));
        assert_eq!(closed.len(), 1);
        assert!(a.open.len() == 1);
    }

    #[test]
    fn the_probes_own_questions_are_no_retries() {
        let mut a = Attempts::new();
        for (i, port) in (50000..50004).enumerate() {
            let client = format!("10.0.0.1:{port}");
            let cookie = Some(crate::diagnose::PROBE_COOKIE);
            let start = 100 + i64::try_from(i).unwrap();
            assert!(a
                .add(&report_with_cookie(&client, S, start, false, cookie))
                .is_empty());
        }
        assert!(a.finish().is_empty());
        // The same connections from a client with another cookie are one attempt.
        for (i, port) in (50000..50004).enumerate() {
            let client = format!("10.0.0.1:{port}");
            let start = 100 + i64::try_from(i).unwrap();
            a.add(&report_with_cookie(&client, S, start, false, Some("alice")));
        }
        assert_eq!(a.finish().len(), 1);
    }

    #[test]
    fn addresses_without_ports() {
        assert_eq!(address_of("10.0.0.1:3389"), "10.0.0.1");
        assert_eq!(address_of("[2001:db8::1]:50000"), "2001:db8::1");
        assert_eq!(address_of("2001:db8::1"), "2001:db8::1");
        assert_eq!(address_of("host"), "host");
        assert_eq!(address_of("[::1]:x"), "[::1]:x");
    }

    #[test]
    fn ipv6_clients_group_by_address() {
        let mut a = Attempts::new();
        a.add(&report(
            "[2001:db8::1]:50000",
            "[2001:db8::9]:3389",
            100,
            true,
        ));
        a.add(&report(
            "[2001:db8::1]:50001",
            "[2001:db8::9]:3389",
            101,
            true,
        ));
        let done = a.finish();
        assert_eq!(done.len(), 1);
        assert_eq!(done[0].client, "2001:db8::1");
    }
}
