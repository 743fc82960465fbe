//! The TLS half of the session: records framed per direction, handshake messages reassembled across
//! records, the end of the handshake found for TLS 1.0–1.2 (ChangeCipherSpec then Finished on both
//! sides) and TLS 1.3 (each side's first encrypted flight after ServerHello), then application data
//! counted per flight.

use super::phase::{Phase, Signal};
use super::timeline::{CertSource, Direction, Event};
use super::tpkt_stream::cert_entry;
use super::{Mode, Session, MAX_HANDSHAKE_MESSAGE_BYTES};
use crate::wire::tls::{
    looks_like_sslv2_hello, parse_alert, parse_handshake, parse_sslv2, parse_tls_record, tls_frame,
    Alert, ContentType, Extension, Handshake, ProtocolVersion, Sslv2Message,
};
use crate::wire::tpkt::Frame;
use crate::wire::WireError;

/// What the session tracks of one TLS connection.
#[derive(Debug, Default)]
pub(super) struct TlsTrack {
    client_hs: Vec<u8>,
    server_hs: Vec<u8>,
    /// The side's records are protected: after its ChangeCipherSpec (≤ 1.2) or after ServerHello (1.3).
    client_protected: bool,
    server_protected: bool,
    client_finished: bool,
    server_finished: bool,
    tls13: bool,
    version: Option<ProtocolVersion>,
    cipher_suite: Option<u16>,
    done: bool,
    records_seen_client: u32,
    records_seen_server: u32,
    last_app_dir: Option<Direction>,
}

impl TlsTrack {
    fn side(&mut self, dir: Direction) -> (&mut Vec<u8>, &mut bool, &mut bool, &mut u32) {
        match dir {
            Direction::ClientToServer => (
                &mut self.client_hs,
                &mut self.client_protected,
                &mut self.client_finished,
                &mut self.records_seen_client,
            ),
            Direction::ServerToClient => (
                &mut self.server_hs,
                &mut self.server_protected,
                &mut self.server_finished,
                &mut self.records_seen_server,
            ),
        }
    }
}

impl Session {
    /// Handles the TLS record at the head of `rest`; returns the bytes used, or `None` to wait for more.
    pub(super) fn tls_record(&mut self, dir: Direction, rest: &[u8]) -> Option<usize> {
        // A server that gives up on TLS before the handshake is done may fall back to RDP PDUs in the
        // clear: xrdp, when it cannot use its certificate or key or shares no version with the client,
        // sends an MCS Disconnect Provider Ultimatum in a TPKT. No TLS record starts with 0x03 (content
        // types are 20..=24), so a TPKT header here is unambiguous: read the rest of the side as TPKT.
        if dir == Direction::ServerToClient && !self.tls.done && rest.first() == Some(&0x03) {
            match rest.get(1) {
                None => return None,
                Some(0) => {
                    self.stream_mut(dir).mode = Some(Mode::Tpkt);
                    return Some(0);
                }
                Some(_) => {}
            }
        }
        let first_record = *self.tls.side(dir).3 == 0;
        if first_record
            && (looks_like_sslv2_hello(rest)
                || (dir == Direction::ServerToClient
                    && rest.first().is_some_and(|b| b & 0x80 != 0)))
        {
            return self.sslv2(dir, rest);
        }
        match tls_frame(rest) {
            Ok(Frame::Need(_)) => None,
            Ok(Frame::Ready(n)) => {
                let bytes = rest.get(..n)?;
                match parse_tls_record(bytes) {
                    Ok((_, record)) => {
                        let seen = self.tls.side(dir).3;
                        *seen = seen.saturating_add(1);
                        self.on_record(dir, record.header.content_type, record.fragment);
                    }
                    Err(nom::Err::Error(e) | nom::Err::Failure(e)) => {
                        self.tls_broken(dir, rest, &e, first_record)
                    }
                    Err(nom::Err::Incomplete(_)) => return None,
                }
                Some(n)
            }
            Err(e) => {
                self.tls_broken(dir, rest, &e, first_record);
                Some(rest.len())
            }
        }
    }

    fn tls_broken(&mut self, dir: Direction, bytes: &[u8], e: &WireError, first_record: bool) {
        if first_record {
            let looks_like = super::describe_foreign(bytes);
            let first_bytes = hex::encode(bytes.get(..16).unwrap_or(bytes));
            if looks_like == super::UNRECOGNISED {
                let got = format!("{looks_like} ({first_bytes})");
                self.push(
                    Some(dir),
                    Event::Unexpected {
                        expected: "a TLS record".to_string(),
                        got,
                    },
                );
            } else {
                // A recognisable other protocol (an HTTP error page, a banner): not an RDP/TLS server.
                self.push(
                    Some(dir),
                    Event::NotRdp {
                        first_bytes,
                        looks_like,
                    },
                );
            }
            self.signal(Signal::Broken);
            self.stream_mut(dir).mode = Some(Mode::Skip);
        } else {
            self.broken(dir, bytes, "TLS record", e);
        }
    }

    fn sslv2(&mut self, dir: Direction, rest: &[u8]) -> Option<usize> {
        match parse_sslv2(rest) {
            Ok((left, msg)) => {
                let seen = self.tls.side(dir).3;
                *seen = seen.saturating_add(1);
                let server = matches!(msg, Sslv2Message::ServerHello(_));
                self.push(Some(dir), Event::Sslv2Hello { server });
                if server {
                    // SSLv2 from here on, both ways: nothing more to read as TLS records.
                    self.client.mode = Some(Mode::Skip);
                    self.server.mode = Some(Mode::Skip);
                }
                Some(rest.len().saturating_sub(left.len()))
            }
            Err(nom::Err::Incomplete(_)) => None,
            Err(nom::Err::Error(e) | nom::Err::Failure(e)) => {
                self.broken(dir, rest, "SSLv2", &e);
                Some(rest.len())
            }
        }
    }

    fn on_record(&mut self, dir: Direction, content_type: ContentType, fragment: &[u8]) {
        let protected = *self.tls.side(dir).1;
        match content_type {
            ContentType::HANDSHAKE if protected => {
                // TLS ≤ 1.2: the first protected handshake message is Finished.
                *self.tls.side(dir).2 = true;
                self.push_or_extend(dir, Event::TlsEncryptedHandshake { records: 1 });
                self.check_done();
            }
            ContentType::HANDSHAKE => self.handshake_bytes(dir, fragment),
            ContentType::CHANGE_CIPHER_SPEC => {
                self.push(Some(dir), Event::TlsChangeCipherSpec);
                // In TLS 1.3 it is only a middlebox-compatibility record and changes nothing.
                if !self.tls.tls13 {
                    *self.tls.side(dir).1 = true;
                }
            }
            ContentType::ALERT => match parse_alert(fragment) {
                Ok((_, Alert::Plain { level, description })) if !protected => {
                    let fatal = level.0 == 2;
                    self.push(
                        Some(dir),
                        Event::TlsAlert {
                            level: level.0,
                            description: description.0,
                            name: description.to_string(),
                            fatal,
                        },
                    );
                }
                Ok(_) | Err(_) if protected || fragment.len() > 2 => {
                    let length = u16::try_from(fragment.len()).unwrap_or(u16::MAX);
                    self.push(
                        Some(dir),
                        Event::TlsEncryptedAlert {
                            length,
                            inferred: false,
                        },
                    );
                }
                Ok(_) => {}
                Err(nom::Err::Error(e) | nom::Err::Failure(e)) => {
                    self.push(
                        Some(dir),
                        Event::Malformed {
                            pdu: "TLS alert".to_string(),
                            error: e.to_string(),
                        },
                    );
                }
                Err(nom::Err::Incomplete(_)) => {}
            },
            ContentType::APPLICATION_DATA if self.tls.tls13 && !self.tls.done => {
                // TLS 1.3: the server's encrypted flight (EncryptedExtensions … Finished), then the client's Finished.
                match dir {
                    Direction::ServerToClient => self.tls.server_finished = true,
                    Direction::ClientToServer if self.tls.server_finished => {
                        self.tls.client_finished = true
                    }
                    Direction::ClientToServer => {}
                }
                self.push_or_extend(dir, Event::TlsEncryptedHandshake { records: 1 });
                self.check_done();
            }
            ContentType::APPLICATION_DATA if self.tls.done && self.tls13_alert_sized(fragment) => {
                // TLS 1.3 hides alerts in application_data records; one of 19 bytes holds 2 bytes of
                // content (plus the inner type and a 16-byte tag): an alert, never an RDP PDU.
                self.push(
                    Some(dir),
                    Event::TlsEncryptedAlert {
                        length: 19,
                        inferred: true,
                    },
                );
            }
            ContentType::APPLICATION_DATA if self.tls.done => {
                if self.tls.last_app_dir != Some(dir) {
                    self.tls.last_app_dir = Some(dir);
                    self.signal(Signal::Flight(dir));
                }
                let bytes = u64::try_from(fragment.len()).unwrap_or(u64::MAX);
                if self.phase != Phase::Established {
                    self.push_or_extend(dir, Event::TlsApplicationData { records: 1, bytes });
                }
            }
            ContentType::APPLICATION_DATA if self.stream(dir.other()).mode == Some(Mode::Skip) => {
                // The other side's bytes stopped making sense: the handshake's end cannot be seen, but this
                // side goes on; count its data rather than call every record unexpected.
                let bytes = u64::try_from(fragment.len()).unwrap_or(u64::MAX);
                self.push_or_extend(dir, Event::TlsApplicationData { records: 1, bytes });
            }
            other => {
                let got = format!("TLS {other} record");
                self.push(
                    Some(dir),
                    Event::Unexpected {
                        expected: "a TLS handshake record".to_string(),
                        got,
                    },
                );
            }
        }
    }

    /// A TLS 1.3 record the size of an encrypted alert: 2 bytes of alert, the inner content type, and a
    /// 16-byte AEAD tag (every TLS 1.3 suite but TLS_AES_128_CCM_8_SHA256, whose tag is 8 bytes).
    fn tls13_alert_sized(&self, fragment: &[u8]) -> bool {
        self.tls.tls13 && fragment.len() == 2 + 1 + 16 && self.tls.cipher_suite != Some(0x1305)
    }

    fn check_done(&mut self) {
        if !self.tls.done && self.tls.client_finished && self.tls.server_finished {
            self.tls.done = true;
            let version_name = self
                .tls
                .version
                .map_or_else(|| "TLS".to_string(), |v| v.to_string());
            self.push(None, Event::TlsHandshakeDone { version_name });
            self.signal(Signal::TlsDone);
        }
    }

    fn handshake_bytes(&mut self, dir: Direction, fragment: &[u8]) {
        let mut buf = std::mem::take(self.tls.side(dir).0);
        buf.extend_from_slice(fragment);
        let mut used = 0usize;
        while let Some(rest) = buf.get(used..).filter(|r| !r.is_empty()) {
            match parse_handshake(rest) {
                Ok((left, msg)) => {
                    used = used.saturating_add(rest.len().saturating_sub(left.len()));
                    self.on_handshake(dir, msg);
                }
                Err(nom::Err::Incomplete(_)) => break,
                Err(nom::Err::Error(e) | nom::Err::Failure(e)) => {
                    self.push(
                        Some(dir),
                        Event::Malformed {
                            pdu: "TLS handshake".to_string(),
                            error: e.to_string(),
                        },
                    );
                    used = buf.len();
                }
            }
        }
        buf.drain(..used.min(buf.len()));
        if buf.len() > MAX_HANDSHAKE_MESSAGE_BYTES {
            let what = format!(
                "a TLS handshake message over {MAX_HANDSHAKE_MESSAGE_BYTES} bytes: dropped"
            );
            self.push(Some(dir), Event::LimitHit { what });
            buf.clear();
        }
        *self.tls.side(dir).0 = buf;
    }

    fn on_handshake(&mut self, dir: Direction, msg: Handshake<'_>) {
        match msg {
            Handshake::ClientHello(ch) => {
                let supported_versions = ch
                    .supported_versions()
                    .map(|v| v.iter().map(|v| v.0).collect())
                    .unwrap_or_default();
                let alpn = ch
                    .extensions
                    .iter()
                    .find_map(|e| match e {
                        Extension::Alpn(names) => Some(
                            names
                                .iter()
                                .map(|n| String::from_utf8_lossy(n).into_owned())
                                .collect(),
                        ),
                        _ => None,
                    })
                    .unwrap_or_default();
                self.push(
                    Some(dir),
                    Event::TlsClientHello {
                        record_version: ch.legacy_version.0,
                        client_version: ch.legacy_version.0,
                        supported_versions,
                        max_version: ch.max_version().to_string(),
                        cipher_suites: ch.cipher_suites.iter().map(|s| s.0).collect(),
                        sni: ch.server_name().map(str::to_string),
                        alpn,
                    },
                );
            }
            Handshake::ServerHello(sh) => {
                let hrr = sh.is_hello_retry_request();
                let version = sh.negotiated_version();
                self.push(
                    Some(dir),
                    Event::TlsServerHello {
                        version: version.0,
                        version_name: version.to_string(),
                        cipher_suite: sh.cipher_suite.0,
                        cipher_suite_name: sh.cipher_suite.to_string(),
                        hello_retry_request: hrr,
                    },
                );
                if hrr {
                    // A HelloRetryRequest exists only in TLS 1.3: from here a ChangeCipherSpec is the
                    // middlebox-compatibility record (RFC 8446 §D.4), and the second ClientHello and the
                    // real ServerHello that follow it are still in the clear.
                    self.tls.tls13 = true;
                } else {
                    self.tls.version = Some(version);
                    self.tls.cipher_suite = Some(sh.cipher_suite.0);
                    if version.is_tls13() {
                        // Everything after ServerHello is protected, on both sides.
                        self.tls.tls13 = true;
                        self.tls.server_protected = true;
                        self.tls.client_protected = true;
                    }
                }
            }
            Handshake::Certificate(cert) => {
                let chain = cert
                    .certificate_list
                    .iter()
                    .map(|der| cert_entry(der))
                    .collect();
                self.push(
                    Some(dir),
                    Event::TlsCertificate {
                        source: CertSource::Tls,
                        chain,
                    },
                );
            }
            Handshake::CertificateRequest(_) => self.push(Some(dir), Event::TlsCertificateRequest),
            Handshake::ServerHelloDone => self.push(Some(dir), Event::TlsServerHelloDone),
            Handshake::Other { .. } => {}
            Handshake::Malformed {
                msg_type, error, ..
            } => {
                self.push(
                    Some(dir),
                    Event::Malformed {
                        pdu: format!("TLS {msg_type}"),
                        error: error.to_string(),
                    },
                );
            }
        }
    }
}
