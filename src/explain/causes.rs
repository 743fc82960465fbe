//! The cause ids of `shared/knowledge/causes.md` (the contract JSON, tests and `--expect` use), with the
//! one-line remedy each prints under "likely causes".

/// Every cause id of the catalogue, in catalogue order. `cert-self-signed` / `cert-untrusted` and
/// `cert-weak-key` / `cert-weak-signature` are two ids each.
pub const CAUSE_IDS: &[&str] = &[
    "tcp-refused",
    "tcp-filtered",
    "tcp-unreachable",
    "server-silent",
    "server-closed-after-request",
    "server-reset-after-request",
    "not-rdp",
    "malformed-reply",
    "legacy-no-negotiation",
    "neg-ssl-required",
    "neg-ssl-not-allowed",
    "neg-ssl-cert-not-on-server",
    "neg-inconsistent-flags",
    "neg-hybrid-required",
    "neg-ssl-with-user-auth-required",
    "neg-unknown-failure",
    "security-layer-mismatch",
    "tls-server-abort",
    "tls-version-mismatch",
    "tls-no-shared-cipher",
    "cert-expired",
    "cert-not-yet-valid",
    "cert-self-signed",
    "cert-untrusted",
    "cert-name-mismatch",
    "cert-weak-key",
    "cert-weak-signature",
    "cert-wrong-usage",
    "client-aborted-after-handshake",
    "nla-auth-failed",
    "credssp-version-mismatch",
    "early-user-auth-denied",
    "server-denied-connection",
    "server-disconnected",
    "weak-standard-rdp-security",
    "path-degraded",
];

/// What a cause is and what fixes it, in one line (causes.md "remedy"), or `None` for an id not in
/// [`CAUSE_IDS`].
pub fn cause_summary(id: &str) -> Option<&'static str> {
    Some(match id {
        "tcp-refused" => "nothing listens on the port (RST to the SYN): check the listener's PortNumber and that TermService runs",
        "tcp-filtered" => "a firewall drops the connection (SYN unanswered): inbound rule \"Remote Desktop - User Mode (TCP-In)\", network ACLs",
        "tcp-unreachable" => "a firewall or router rejects the connection (ICMP unreachable): inbound rule, host firewall, routing",
        "server-silent" => "the listener accepted TCP but never answered the Connection Request: listener hung, or a middlebox swallows traffic",
        "server-closed-after-request" => "the listener hung up after the Connection Request: connection limit, IP restriction, overloaded server",
        "server-reset-after-request" => "the listener reset after the Connection Request: connection limit, IP restriction, or an IPS/firewall resetting RDP",
        "not-rdp" => "something other than RDP answers on the port: wrong port, or another service bound to 3389",
        "malformed-reply" => "the reply breaks the protocol's framing: broken server or a middlebox rewriting traffic",
        "legacy-no-negotiation" => "the server ignores security negotiation (pre-RDP 5.2 behaviour): only standard RDP security is possible",
        "neg-ssl-required" => "the server requires TLS: let the client offer TLS (client settings, authentication level)",
        "neg-ssl-not-allowed" => "the server is forced to standard RDP security (SecurityLayer=0): raise SecurityLayer",
        "neg-ssl-cert-not-on-server" => "the server has no usable certificate: recreate the self-signed RDP certificate or assign one",
        "neg-inconsistent-flags" => "the client sent contradictory protocol flags",
        "neg-hybrid-required" => "the server requires network level authentication: enable CredSSP on the client",
        "neg-ssl-with-user-auth-required" => "the server requires TLS with a client certificate",
        "neg-unknown-failure" => "the server refused negotiation with a failure code no specification defines",
        "security-layer-mismatch" => "client and server accept no common security protocol: align SecurityLayer / UserAuthentication with what clients offer",
        "tls-server-abort" => "the server cannot load its certificate or key and hangs up after the ClientHello: delete the RDP self-signed certificate and restart TermService, or assign a valid one; check MachineKeys permissions",
        "tls-version-mismatch" => "no TLS version both sides accept: enable TLS 1.2 on the server (SChannel) or the version the client needs",
        "tls-no-shared-cipher" => "no cipher suite both sides accept: cipher suite order / FIPS policy on either side",
        "cert-expired" => "the server certificate has expired: delete it from the \"Remote Desktop\" store and restart TermService, or re-issue it",
        "cert-not-yet-valid" => "the server certificate is not valid yet: fix the server or client clock, or re-issue it",
        "cert-self-signed" => "the server certificate is self-signed: deploy a CA-issued certificate or trust it on the clients",
        "cert-untrusted" => "the certificate chain does not lead to a trusted root: deploy a CA-issued certificate or trust it on the clients",
        "cert-name-mismatch" => "the name the client used is not in the certificate's SAN/CN: re-issue with the right SAN",
        "cert-weak-key" => "the certificate key is too weak (RSA < 2048): re-issue it",
        "cert-weak-signature" => "the certificate is signed with SHA-1 or MD5: re-issue it",
        "cert-wrong-usage" => "the certificate lacks the Server Authentication EKU or has the wrong key usage: re-issue it",
        "client-aborted-after-handshake" => "the client rejected the server (usually its certificate) right after the TLS handshake",
        "nla-auth-failed" => "network level authentication (CredSSP) failed: credentials, account state, \"Allow log on through Remote Desktop Services\", CredSSP patch level",
        "credssp-version-mismatch" => "CredSSP versions disagree (encryption oracle remediation): patch both sides or align the \"Encryption Oracle Remediation\" policy",
        "early-user-auth-denied" => "the user lacks the right to log on through Remote Desktop Services",
        "server-denied-connection" => "the server refused the connection itself: policy, licensing or a connection limit on the server",
        "server-disconnected" => "the server ended the connection after setup: see the server's event log",
        "weak-standard-rdp-security" => "the session uses standard RDP security (RC4) instead of TLS: enable TLS / NLA",
        "path-degraded" => "the network path loses or delays packets (retransmissions, long RTT): VPN, MTU, latency",
        _ => return None,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn every_id_has_a_summary_and_ids_are_unique() {
        for id in CAUSE_IDS {
            assert!(cause_summary(id).is_some(), "{id} has no summary");
        }
        let mut sorted = CAUSE_IDS.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), CAUSE_IDS.len());
        assert_eq!(CAUSE_IDS.len(), 36);
        assert_eq!(cause_summary("no-such-cause"), None);
    }
}
