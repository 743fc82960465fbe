//! Differential test against tshark: for every fixture capture rdpdiag reports connections for, the
//! negotiation and TLS facts rdpdiag puts in its `--json` timeline must be exactly the ones tshark
//! dissects, at the same frame numbers, and nothing more or less.
//!
//! tshark is run the way the corpus truth was made (`../shared/corpus/tools/make_truth.py`, the field
//! names of its RDP and TLS views):
//! - **RDP view**: default dissection (TPKT/X.224 on 3389; `-d tcp.port==42356,socks` for the SOCKS
//!   capture), `-T fields` with `cotp.type` and the `rdp.neg*` fields, and `rdp.serverCertificate`.
//! - **TLS view**: `-d tcp.port==P,tls` for the server port when it is not 443, because tshark 4.0 does not
//!   switch an RDP conversation to TLS after the Connection Confirm. `-T fields` with the handshake type,
//!   versions, supported_versions, cipher suites and alert fields.
//! - **Certificate view** (only for files whose TLS view shows a Certificate message): `-T pdml` of the
//!   frames carrying one, because `-T fields` cannot say which name or time belongs to which certificate.
//!   The subject is rebuilt as RFC 4514 from tshark's own attribute OIDs and values, the validity from its
//!   UTCTime/GeneralizedTime, and the DER it shows is hashed for the fingerprint.
//!
//! Both views use `-o tcp.desegment_tcp_streams:TRUE` (as the corpus did) and also
//! `-o tcp.reassemble_out_of_order:TRUE`: rdpdiag reassembles out-of-order segments, and without this
//! tshark 4.0 drops the ServerHello of `zeek-tls__hrr.pcap` that arrives before a segment it overtook.
//!
//! Where the two legitimately differ, the difference is mapped, not ignored:
//! - A Connection Confirm whose RDP_NEG_RSP length field is not 8 (`zeek__rdp-invalid-length.pcap`):
//!   rdpdiag reports the bytes it found with `well_formed: false`; tshark does not dissect them as a
//!   negotiation response at all. Both say "no valid selectedProtocol", which is what is compared.
//! - A Connection Request or Confirm without RDP_NEG_REQ/RSP (legacy client or server): rdpdiag has
//!   `null`, tshark a CR/CC frame without the field. Compared as "absent".
//! - SSLv2 hellos: tshark shows them as a ClientHello with version 0x0002; rdpdiag has an `sslv2_hello`
//!   event. Compared as "an SSLv2 client (server) hello at this frame".
//! - Standard RDP Security X.509 chains: tshark does not parse the certificates inside
//!   `rdp.serverCertificate`, so only the SHA-256 of each DER it carries is compared there.
//!
//! Frame numbers: both tools name a PDU split over segments by the frame that completes it (tshark shows
//! a reassembled PDU at its last frame), so frame numbers are part of every compared key.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::process::Command;

use sha2::{Digest, Sha256};

/// The captures rdpdiag reports connections for, and the `--port` the TLS ones need
/// (as in `tests/replay_fixtures.rs`; the last three are the remaining `zeek-tls__*` ones that report).
const CASES: &[(&str, Option<u16>)] = &[
    ("zeek__rdp-proprietary-encryption.pcap", None),
    ("zeek__rdp-to-ssl.pcap", None),
    ("zeek__rdp-x509.pcap", None),
    ("zeek__rdp-unknown-keyboard.pcap", None),
    ("zeek__rdp-no-cookie-mstshash.pcap", None),
    ("zeek__rdp-invalid-length.pcap", None),
    ("suricata-verify__RDP-003.pcap", None),
    ("ndpi__rdp.pcap", None),
    ("ndpi__rdp3.pcap", None),
    ("ndpi__rdp_over_tls.pcap", None),
    ("arkime__socks5-rdp.pcap", None),
    ("ndpi__tcp_scan.pcapng", None),
    ("zeek-tls__tls-1.2-handshake-failure.pcap", Some(443)),
    ("zeek-tls__tls13draft16-ff52.a01-aborted.pcap", Some(443)),
    (
        "zeek-tls__tls13draft16-chrome55.0.2879.0-canary-aborted.pcap",
        Some(443),
    ),
    ("zeek-tls__certificate-request-failed.pcap", Some(3000)),
    ("zeek-tls__https-to-http.pcap", Some(80)),
    ("zeek-tls__ssl-to-http-server.pcap", Some(80)),
    ("zeek-tls__tls-1.2-protocol-error.pcap", Some(443)),
    ("zeek-tls__tls1.2-late-protocol-error.pcap", Some(443)),
    ("zeek-tls__hrr.pcap", Some(443)),
    ("zeek-tls__tls1.2.pcap", Some(443)),
    ("zeek-tls__tls-expired-cert.pcap", Some(443)),
    ("zeek-tls__tls-early-alert.pcap", Some(64132)),
    ("zeek-tls__ssl-v2.pcap", Some(443)),
    ("zeek-tls__missing-intermediate.pcap", Some(443)),
    ("zeek-tls__tls1_1.pcap", Some(443)),
    ("zeek-tls__cert-no-cn.pcap", Some(8888)),
];

const COMMON: &[&str] = &[
    "-n",
    "-o",
    "tcp.desegment_tcp_streams:TRUE",
    "-o",
    "tcp.reassemble_out_of_order:TRUE",
];

/// One compared fact. Endpoints and frame number are the key it is filed under.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Fact {
    /// requestedProtocols of a Connection Request; `None` without RDP_NEG_REQ.
    Requested(Option<u32>),
    /// selectedProtocol of a Connection Confirm; `None` without a (valid) RDP_NEG_RSP.
    Selected(Option<u32>),
    /// RDP_NEG_FAILURE failureCode.
    Failure(u32),
    ClientHello {
        legacy_version: u16,
        supported_versions: Vec<u16>,
    },
    Sslv2Hello {
        server: bool,
    },
    /// The negotiated version (supported_versions when present) and the cipher suite.
    ServerHello {
        version: u16,
        cipher: u16,
    },
    Alert {
        level: u8,
        description: u8,
        client_to_server: bool,
    },
    EncryptedAlert {
        client_to_server: bool,
    },
    /// A certificate of a TLS Certificate message, by position in the chain.
    TlsCert {
        index: usize,
        subject: String,
        not_before: i64,
        not_after: i64,
        sha256: String,
    },
    /// A certificate of a Standard RDP Security X.509 chain: only its bytes are known to tshark.
    StdCert {
        index: usize,
        sha256: String,
    },
}

impl Fact {
    /// How many values this fact compares.
    fn fields(&self) -> usize {
        match self {
            Fact::Requested(_)
            | Fact::Selected(_)
            | Fact::Failure(_)
            | Fact::Sslv2Hello { .. }
            | Fact::StdCert { .. } => 1,
            Fact::ClientHello { .. } | Fact::ServerHello { .. } => 2,
            Fact::EncryptedAlert { .. } => 1,
            Fact::Alert { .. } => 3,
            Fact::TlsCert { .. } => 4,
        }
    }
}

/// (client endpoint or `?a<->b` when rdpdiag has no such connection, frame) -> facts, as a multiset.
type Facts = BTreeMap<(String, u64, Fact), usize>;

fn fixture(name: &str) -> String {
    format!("{}/fixtures/pcaps/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn require_tshark() {
    match Command::new("tshark").arg("--version").output() {
        Ok(out) if out.status.success() => {}
        Ok(out) => panic!(
            "tshark --version failed ({}): the differential test needs a working tshark",
            out.status
        ),
        Err(e) => panic!(
            "tshark not found ({e}): the differential test needs it. Install it with \
             `apt-get install tshark` (.ci/run installs it)"
        ),
    }
}

fn tshark(file: &str, extra: &[String], tail: &[&str]) -> String {
    let mut cmd = Command::new("tshark");
    cmd.arg("-r")
        .arg(fixture(file))
        .args(COMMON)
        .args(extra)
        .args(tail);
    let out = cmd.output().expect("running tshark");
    assert!(
        out.status.success(),
        "{file}: tshark {cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("tshark output is UTF-8")
}

/// `-T fields` rows as maps from field name to value (`,` between occurrences).
fn fields_view(
    file: &str,
    extra: &[String],
    fields: &[&str],
    filter: &str,
) -> Vec<BTreeMap<String, String>> {
    let mut tail = vec![
        "-T",
        "fields",
        "-E",
        "separator=\t",
        "-E",
        "occurrence=a",
        "-E",
        "aggregator=,",
    ];
    for f in fields {
        tail.extend(["-e", f]);
    }
    tail.extend(["-Y", filter]);
    tshark(file, extra, &tail)
        .lines()
        .map(|line| {
            let mut vals: Vec<&str> = line.split('\t').collect();
            vals.resize(fields.len(), "");
            fields
                .iter()
                .zip(vals)
                .map(|(f, v)| (f.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

fn ints(s: &str) -> Vec<u64> {
    s.split(',')
        .filter(|x| !x.is_empty())
        .map(|x| match x.strip_prefix("0x") {
            Some(h) => u64::from_str_radix(h, 16).unwrap(),
            None => x.parse().unwrap(),
        })
        .collect()
}

fn endpoint(row: &BTreeMap<String, String>, side: &str) -> SocketAddr {
    let ip = &row[&format!("ip.{side}")];
    let ip: IpAddr = if ip.is_empty() {
        row[&format!("ipv6.{side}")].parse().unwrap()
    } else {
        ip.parse().unwrap()
    };
    SocketAddr::new(ip, row[&format!("tcp.{side}port")].parse().unwrap())
}

/// rdpdiag's connections, as (client, server), and the frame where each was established.
struct Conns(Vec<(SocketAddr, SocketAddr)>, BTreeMap<String, u64>);

impl Conns {
    /// The client endpoint (as the key string) and whether `src` is the client.
    fn key(&self, src: SocketAddr, dst: SocketAddr) -> (String, bool) {
        for (c, s) in &self.0 {
            if (*c, *s) == (src, dst) {
                return (c.to_string(), true);
            }
            if (*c, *s) == (dst, src) {
                return (c.to_string(), false);
            }
        }
        (format!("?{src}<->{dst}"), false)
    }
}

fn add(facts: &mut Facts, client: &str, frame: u64, fact: Fact) {
    *facts.entry((client.to_string(), frame, fact)).or_default() += 1;
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// What rdpdiag says, from its `--json` timeline.
fn rdpdiag_facts(file: &str, port: Option<u16>) -> (Conns, Facts) {
    let path = fixture(file);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rdpdiag"));
    cmd.args(["replay", "--json", &path]);
    if let Some(p) = port {
        cmd.args(["--port", &p.to_string()]);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.code().is_some_and(|c| c < 2),
        "{file}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut conns = Vec::new();
    let mut established = BTreeMap::new();
    let mut facts = Facts::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let c: serde_json::Value = serde_json::from_str(line).unwrap();
        if c["kind"] != "connection" {
            continue;
        }
        let client: SocketAddr = c["client"].as_str().unwrap().parse().unwrap();
        let server: SocketAddr = c["server"].as_str().unwrap().parse().unwrap();
        conns.push((client, server));
        let key = client.to_string();
        for e in c["timeline"].as_array().unwrap() {
            let Some(frame) = e["packet"].as_u64() else {
                continue;
            };
            if e["event"] == "established" {
                established.insert(key.clone(), frame);
            }
            let u32_of = |v: &serde_json::Value| v.as_u64().map(|n| u32::try_from(n).unwrap());
            let c2s = e["dir"] == "client_to_server";
            let fact = match e["event"].as_str().unwrap() {
                "connection_request" => Fact::Requested(u32_of(&e["requested_protocols"])),
                // A negotiation response with a bad length field is no valid selectedProtocol.
                "connection_confirm" if e["well_formed"] == false => Fact::Selected(None),
                "connection_confirm" => Fact::Selected(u32_of(&e["selected_protocol"])),
                "negotiation_failure" => Fact::Failure(u32_of(&e["failure_code"]).unwrap()),
                "tls_client_hello" => Fact::ClientHello {
                    legacy_version: e["client_version"].as_u64().unwrap() as u16,
                    supported_versions: e["supported_versions"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|v| v.as_u64().unwrap() as u16)
                        .collect(),
                },
                "sslv2_hello" => Fact::Sslv2Hello {
                    server: e["server"].as_bool().unwrap(),
                },
                "tls_server_hello" => Fact::ServerHello {
                    version: e["version"].as_u64().unwrap() as u16,
                    cipher: e["cipher_suite"].as_u64().unwrap() as u16,
                },
                "tls_alert" => Fact::Alert {
                    level: e["level"].as_u64().unwrap() as u8,
                    description: e["description"].as_u64().unwrap() as u8,
                    client_to_server: c2s,
                },
                // A TLS 1.3 alert that rdpdiag infers from the record size (19 bytes of application_data):
                // tshark, without keys, shows application data. Not a fact both can see: not compared.
                "tls_encrypted_alert" if e["inferred"] == true => continue,
                "tls_encrypted_alert" => Fact::EncryptedAlert {
                    client_to_server: c2s,
                },
                "tls_certificate" => {
                    let std = e["source"] == "standard_security";
                    for (index, cert) in e["chain"].as_array().unwrap().iter().enumerate() {
                        let sha256 = cert["sha256_fingerprint"]
                            .as_str()
                            .unwrap_or("(unreadable)")
                            .to_string();
                        let fact = if std {
                            Fact::StdCert { index, sha256 }
                        } else {
                            Fact::TlsCert {
                                index,
                                subject: cert["subject"]
                                    .as_str()
                                    .unwrap_or("(unreadable)")
                                    .to_string(),
                                not_before: cert["not_before"].as_i64().unwrap_or(i64::MIN),
                                not_after: cert["not_after"].as_i64().unwrap_or(i64::MIN),
                                sha256,
                            }
                        };
                        add(&mut facts, &key, frame, fact);
                    }
                    continue;
                }
                _ => continue,
            };
            add(&mut facts, &key, frame, fact);
        }
    }
    (Conns(conns, established), facts)
}

const ENDPOINTS: [&str; 6] = [
    "ip.src",
    "ipv6.src",
    "tcp.srcport",
    "ip.dst",
    "ipv6.dst",
    "tcp.dstport",
];

/// What tshark's RDP view says.
fn tshark_rdp(file: &str, conns: &Conns, facts: &mut Facts) {
    let extra: Vec<String> = if file == "arkime__socks5-rdp.pcap" {
        vec!["-d".into(), "tcp.port==42356,socks".into()]
    } else {
        Vec::new()
    };
    let mut fields = vec!["frame.number"];
    fields.extend(ENDPOINTS);
    fields.extend([
        "cotp.type",
        "rdp.negReq.requestedProtocols",
        "rdp.negReq.selectedProtocol",
        "rdp.negFailure.failureCode",
        "rdp.serverCertificate",
    ]);
    for row in fields_view(file, &extra, &fields, "cotp || rdp") {
        let frame: u64 = row["frame.number"].parse().unwrap();
        let (client, _) = conns.key(endpoint(&row, "src"), endpoint(&row, "dst"));
        let one = |f: &str| -> Option<u32> {
            let v = ints(&row[f]);
            assert!(v.len() <= 1, "{file} frame {frame}: several {f}: {v:?}");
            v.first().map(|n| u32::try_from(*n).unwrap())
        };
        for tpdu in ints(&row["cotp.type"]) {
            match tpdu {
                0x0e => add(
                    facts,
                    &client,
                    frame,
                    Fact::Requested(one("rdp.negReq.requestedProtocols")),
                ),
                0x0d => match one("rdp.negFailure.failureCode") {
                    Some(code) => add(facts, &client, frame, Fact::Failure(code)),
                    None => add(
                        facts,
                        &client,
                        frame,
                        Fact::Selected(one("rdp.negReq.selectedProtocol")),
                    ),
                },
                _ => {}
            }
        }
        let blob = row["rdp.serverCertificate"].replace(':', "");
        if !blob.is_empty() {
            for (index, der) in std_security_x509_chain(&hex::decode(blob).unwrap())
                .iter()
                .enumerate()
            {
                add(
                    facts,
                    &client,
                    frame,
                    Fact::StdCert {
                        index,
                        sha256: sha256_hex(der),
                    },
                );
            }
        }
    }
}

/// The certificates of a SERVER_CERTIFICATE with dwVersion CERT_CHAIN_VERSION_2 (MS-RDPBCGR 2.2.1.4.3.1,
/// MS-RDPELE 2.2.1.4.2); none for a proprietary certificate.
fn std_security_x509_chain(b: &[u8]) -> Vec<Vec<u8>> {
    let le32 = |at: usize| u32::from_le_bytes(b[at..at + 4].try_into().unwrap()) as usize;
    if b.len() < 8 || le32(0) & 0x7fff_ffff != 2 {
        return Vec::new();
    }
    let mut off = 8;
    (0..le32(4))
        .map(|_| {
            let len = le32(off);
            off += 4 + len;
            b[off - len..off].to_vec()
        })
        .collect()
}

/// What tshark's TLS view says; returns the frames carrying a Certificate message, with their client key.
fn tshark_tls(
    file: &str,
    tls_extra: &[String],
    conns: &Conns,
    facts: &mut Facts,
) -> BTreeMap<u64, String> {
    let mut fields = vec!["frame.number"];
    fields.extend(ENDPOINTS);
    fields.extend([
        "tls.record.content_type",
        "tls.record.version",
        "tls.handshake.type",
        "tls.handshake.version",
        "tls.handshake.extensions.supported_version",
        "tls.handshake.ciphersuite",
        "tls.alert_message.level",
        "tls.alert_message.desc",
    ]);
    let mut certs = BTreeMap::new();
    for row in fields_view(file, tls_extra, &fields, "tls") {
        let frame: u64 = row["frame.number"].parse().unwrap();
        let (client, c2s) = conns.key(endpoint(&row, "src"), endpoint(&row, "dst"));
        let types = ints(&row["tls.handshake.type"]);
        let versions = ints(&row["tls.handshake.version"]);
        let supported: Vec<u16> = ints(&row["tls.handshake.extensions.supported_version"])
            .into_iter()
            .map(|v| v as u16)
            .collect();
        let ciphers = ints(&row["tls.handshake.ciphersuite"]);
        if types.contains(&11) {
            certs.insert(frame, client.clone());
        }
        if ints(&row["tls.record.version"]).contains(&2) {
            // SSLv2 record layer: message types 1 (CLIENT-HELLO) and 4 (SERVER-HELLO).
            for t in &types {
                if matches!(t, 1 | 4) {
                    add(facts, &client, frame, Fact::Sslv2Hello { server: *t == 4 });
                }
            }
        } else {
            let hellos = types.iter().filter(|t| matches!(t, 1 | 2)).count();
            assert!(
                hellos <= 1,
                "{file} frame {frame}: a ClientHello and a ServerHello in one frame cannot be told apart in -T fields"
            );
            if types.contains(&1) {
                add(
                    facts,
                    &client,
                    frame,
                    Fact::ClientHello {
                        legacy_version: versions[0] as u16,
                        supported_versions: supported.clone(),
                    },
                );
            }
            if types.contains(&2) {
                let version = supported.last().copied().unwrap_or(versions[0] as u16);
                add(
                    facts,
                    &client,
                    frame,
                    Fact::ServerHello {
                        version,
                        cipher: *ciphers.last().unwrap() as u16,
                    },
                );
            }
        }
        let levels = ints(&row["tls.alert_message.level"]);
        let descs = ints(&row["tls.alert_message.desc"]);
        assert_eq!(levels.len(), descs.len(), "{file} frame {frame}");
        for (level, description) in levels.iter().zip(&descs) {
            add(
                facts,
                &client,
                frame,
                Fact::Alert {
                    level: *level as u8,
                    description: *description as u8,
                    client_to_server: c2s,
                },
            );
        }
        let alert_records = ints(&row["tls.record.content_type"])
            .iter()
            .filter(|t| **t == 21)
            .count();
        for _ in descs.len()..alert_records {
            add(
                facts,
                &client,
                frame,
                Fact::EncryptedAlert {
                    client_to_server: c2s,
                },
            );
        }
    }
    certs
}

/// One certificate as tshark's PDML shows it.
#[derive(Debug, Default)]
struct PdmlCert {
    der: Vec<u8>,
    /// RDNs in encoding order, each a list of (OID, value).
    rdns: Vec<Vec<(String, Option<String>)>>,
    not_before: Option<i64>,
    not_after: Option<i64>,
}

fn xml_attr<'a>(line: &'a str, name: &str) -> Option<&'a str> {
    let start = line.find(&format!(" {name}=\""))? + name.len() + 3;
    let len = line[start..].find('"')?;
    Some(&line[start..start + len])
}

fn xml_unescape(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let semi = rest[amp..].find(';').unwrap() + amp;
        let ent = &rest[amp + 1..semi];
        match ent {
            "amp" => out.push('&'),
            "lt" => out.push('<'),
            "gt" => out.push('>'),
            "quot" => out.push('"'),
            "apos" => out.push('\''),
            _ => {
                let code = ent
                    .strip_prefix("#x")
                    .map(|h| u32::from_str_radix(h, 16).unwrap())
                    .or_else(|| ent.strip_prefix('#').map(|d| d.parse().unwrap()))
                    .unwrap_or_else(|| panic!("unknown XML entity &{ent};"));
                out.push(char::from_u32(code).unwrap());
            }
        }
        rest = &rest[semi + 1..];
    }
    out.push_str(rest);
    out
}

/// ASN.1 UTCTime (`YYMMDDHHMMSSZ`, years 1950–2049) or GeneralizedTime (`YYYYMMDDHHMMSSZ`) as unix seconds.
fn asn1_time(text: &str) -> i64 {
    let t = text.trim_end_matches('Z');
    let (year, rest) = if t.len() == 12 {
        let yy: i64 = t[..2].parse().unwrap();
        (if yy < 50 { 2000 + yy } else { 1900 + yy }, &t[2..])
    } else {
        (t[..4].parse().unwrap(), &t[4..])
    };
    let n = |i: usize| -> i64 { rest[i..i + 2].parse().unwrap() };
    let (month, day, h, m, s) = (n(0), n(2), n(4), n(6), n(8));
    // days from civil (H. Hinnant)
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    days * 86_400 + h * 3600 + m * 60 + s
}

/// The certificates of the frames carrying a TLS Certificate message, by frame.
fn tshark_certs(file: &str, tls_extra: &[String]) -> BTreeMap<u64, Vec<PdmlCert>> {
    let pdml = tshark(
        file,
        tls_extra,
        &["-Y", "tls.handshake.certificate", "-T", "pdml"],
    );
    let mut out: BTreeMap<u64, Vec<PdmlCert>> = BTreeMap::new();
    let mut frame = 0u64;
    let mut stack: Vec<String> = Vec::new();
    for line in pdml.lines().map(str::trim) {
        if line == "</field>" || line == "</proto>" {
            stack.pop();
            continue;
        }
        if !(line.starts_with("<field ") || line.starts_with("<proto ")) {
            continue;
        }
        let name = xml_attr(line, "name").unwrap_or_default().to_string();
        let show = xml_attr(line, "show").map(xml_unescape).unwrap_or_default();
        let value = xml_attr(line, "value").unwrap_or_default();
        let inside = |n: &str| stack.iter().any(|s| s == n);
        if name == "frame.number" {
            frame = show.parse().unwrap();
        } else if name == "tls.handshake.certificate" {
            out.entry(frame).or_default().push(PdmlCert {
                der: hex::decode(value).unwrap(),
                ..PdmlCert::default()
            });
        } else if let Some(cert) = out
            .get_mut(&frame)
            .and_then(|c| c.last_mut())
            .filter(|_| inside("tls.handshake.certificate"))
        {
            if inside("x509af.subject") {
                if name == "x509if.RDNSequence_item" {
                    cert.rdns.push(Vec::new());
                } else if name == "x509if.oid" {
                    cert.rdns.last_mut().unwrap().push((show.clone(), None));
                } else if name.starts_with("x509sat.") && line.ends_with("/>") {
                    if let Some(attr) = cert
                        .rdns
                        .last_mut()
                        .and_then(|r| r.last_mut())
                        .filter(|a| a.1.is_none())
                    {
                        attr.1 = Some(show.clone());
                    }
                }
            } else if name == "x509af.utcTime" || name == "x509af.generalizedTime" {
                let at = asn1_time(std::str::from_utf8(&hex::decode(value).unwrap()).unwrap());
                if inside("x509af.notBefore") {
                    cert.not_before.get_or_insert(at);
                } else if inside("x509af.notAfter") {
                    cert.not_after.get_or_insert(at);
                }
            }
        }
        if !line.ends_with("/>") {
            stack.push(name);
        }
    }
    out
}

/// RFC 4514: last RDN first, `,` between RDNs, `+` inside one, short names for the attributes RFC 4514
/// names (and DC, UID), dotted OIDs for the rest, §2.4 escaping.
fn rfc4514(rdns: &[Vec<(String, Option<String>)>]) -> String {
    let rdns: Vec<String> = rdns
        .iter()
        .rev()
        .map(|rdn| {
            rdn.iter()
                .map(|(oid, value)| {
                    let short = match oid.as_str() {
                        "2.5.4.3" => "CN",
                        "2.5.4.7" => "L",
                        "2.5.4.8" => "ST",
                        "2.5.4.10" => "O",
                        "2.5.4.11" => "OU",
                        "2.5.4.6" => "C",
                        "2.5.4.9" => "STREET",
                        "0.9.2342.19200300.100.1.25" => "DC",
                        "0.9.2342.19200300.100.1.1" => "UID",
                        other => other,
                    };
                    let value = value.as_deref().unwrap_or("(no string value in tshark)");
                    let last = value.chars().count().saturating_sub(1);
                    let mut v = String::new();
                    for (i, c) in value.chars().enumerate() {
                        match c {
                            '"' | '+' | ',' | ';' | '<' | '>' | '\\' => {
                                v.push('\\');
                                v.push(c);
                            }
                            '#' if i == 0 => v.push_str("\\#"),
                            ' ' if i == 0 || i == last => v.push_str("\\ "),
                            c => v.push(c),
                        }
                    }
                    format!("{short}={v}")
                })
                .collect::<Vec<_>>()
                .join("+")
        })
        .collect();
    rdns.join(",")
}

/// Adds tshark's certificate facts, keyed like the TLS view's.
fn add_tshark_certs(
    file: &str,
    tls_extra: &[String],
    frames: &BTreeMap<u64, String>,
    facts: &mut Facts,
) {
    for (frame, certs) in tshark_certs(file, tls_extra) {
        let client = &frames[&frame];
        for (index, cert) in certs.into_iter().enumerate() {
            let fact = Fact::TlsCert {
                index,
                subject: rfc4514(&cert.rdns),
                not_before: cert
                    .not_before
                    .unwrap_or_else(|| panic!("{file} frame {frame}: no notBefore")),
                not_after: cert
                    .not_after
                    .unwrap_or_else(|| panic!("{file} frame {frame}: no notAfter")),
                sha256: sha256_hex(&cert.der),
            };
            add(facts, client, frame, fact);
        }
    }
}

/// What one capture gave.
#[derive(Default)]
struct Outcome {
    compared: usize,
    by_kind: BTreeMap<&'static str, usize>,
    problems: Vec<String>,
    /// tshark facts after the frame where rdpdiag saw the connection established: rdpdiag stops reading a
    /// connection there (its job is the setup), so they are listed, not compared.
    after_established: Vec<String>,
}

fn compare_file(file: &str, port: Option<u16>) -> Outcome {
    let (conns, ours) = rdpdiag_facts(file, port);
    let mut theirs = Facts::new();
    let server_port = port.unwrap_or(3389);
    let tls_extra: Vec<String> = if server_port == 443 {
        Vec::new()
    } else {
        vec!["-d".into(), format!("tcp.port=={server_port},tls")]
    };
    // TPKT is only dissected on 3389 (and behind the SOCKS capture's proxy): the captures replayed with
    // --port have no RDP view.
    if port.is_none() {
        tshark_rdp(file, &conns, &mut theirs);
    }
    let cert_frames = tshark_tls(file, &tls_extra, &conns, &mut theirs);
    if !cert_frames.is_empty() {
        add_tshark_certs(file, &tls_extra, &cert_frames, &mut theirs);
    }
    let mut out = Outcome::default();
    let keys: std::collections::BTreeSet<_> = ours.keys().chain(theirs.keys()).collect();
    for key in keys {
        let (a, b) = (
            ours.get(key).copied().unwrap_or(0),
            theirs.get(key).copied().unwrap_or(0),
        );
        let (client, frame, fact) = key;
        if a == b {
            out.compared += a * fact.fields();
            let kind = match fact {
                Fact::Requested(_) => "requestedProtocols",
                Fact::Selected(_) => "selectedProtocol",
                Fact::Failure(_) => "failureCode",
                Fact::ClientHello { .. } => "ClientHello version+supported_versions",
                Fact::Sslv2Hello { .. } => "SSLv2 hello",
                Fact::ServerHello { .. } => "ServerHello version+cipher",
                Fact::Alert { .. } => "alert level+description+direction",
                Fact::EncryptedAlert { .. } => "encrypted alert direction",
                Fact::TlsCert { .. } => "TLS cert subject+notBefore+notAfter+sha256",
                Fact::StdCert { .. } => "standard-security cert sha256",
            };
            *out.by_kind.entry(kind).or_default() += a;
        } else if a == 0 && conns.1.get(client).is_some_and(|est| frame > est) {
            out.after_established.push(format!(
                "{file}: client {client} frame {frame} (established at {}): {fact:?}",
                conns.1[client]
            ));
        } else {
            out.problems.push(format!(
                "{file}: client {client} frame {frame}: {fact:?}: rdpdiag has it {a} time(s), tshark {b}"
            ));
        }
    }
    out
}

#[test]
fn rdpdiag_agrees_with_tshark() {
    require_tshark();
    // Two workers: tshark's start-up dominates.
    let outcomes: Vec<Outcome> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..2)
            .map(|w| {
                scope.spawn(move || {
                    CASES
                        .iter()
                        .skip(w)
                        .step_by(2)
                        .map(|(file, port)| compare_file(file, *port))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    let compared: usize = outcomes.iter().map(|o| o.compared).sum();
    let mut by_kind: BTreeMap<&str, usize> = BTreeMap::new();
    for o in &outcomes {
        for (k, n) in &o.by_kind {
            *by_kind.entry(k).or_default() += n;
        }
    }
    let after: Vec<&String> = outcomes.iter().flat_map(|o| &o.after_established).collect();
    let problems: Vec<&String> = outcomes.iter().flat_map(|o| &o.problems).collect();
    println!(
        "compared {compared} values with tshark over {} captures; facts by kind: {by_kind:#?}",
        CASES.len()
    );
    println!(
        "{} tshark facts after rdpdiag's end of setup, not compared:\n{}",
        after.len(),
        after
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(
        problems.is_empty(),
        "rdpdiag and tshark disagree:\n{}",
        problems
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
    // Every kind of fact the brief names was compared at least once.
    for kind in [
        "requestedProtocols",
        "selectedProtocol",
        "failureCode",
        "ClientHello version+supported_versions",
        "ServerHello version+cipher",
        "alert level+description+direction",
        "TLS cert subject+notBefore+notAfter+sha256",
    ] {
        assert!(by_kind.contains_key(kind), "no {kind} compared");
    }
    assert!(
        compared >= 200,
        "only {compared} values compared with tshark: the views or the fixtures lost coverage"
    );
}
