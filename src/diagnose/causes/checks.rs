//! Host-side checks that no wire shows, worded once: the catalogue's entries and `explain`'s code tables
//! both use these.

pub const LISTENER: &str = "on the server: TermService running, and the RDP-Tcp listener on the expected port (netstat -ano | findstr :3389; registry PortNumber under WinStations\\RDP-Tcp)";
pub const FIREWALL: &str = "firewalls on the path and on the server: inbound rule \"Remote Desktop - User Mode (TCP-In)\", network ACLs / security groups for TCP 3389";
pub const NAME_RESOLUTION: &str =
    "on the client: the server name resolves to the right address (nslookup / Resolve-DnsName)";
pub const PORT_OWNER: &str = "on the server: which process owns TCP 3389 (netstat -anob); another service there answers instead of TermService";
pub const SCHANNEL_EVENTS: &str = "server System log, source Schannel: events 36870 (private key unusable), 36871 (cannot create the TLS credential), 36874 (no common cipher suite), 36888 (fatal alert sent)";
pub const TERMSERVICE_CERT_EVENTS: &str = "server System log, source TerminalServices-RemoteConnectionManager: events 1057 (self-signed certificate not created) and 1058 (expired self-signed certificate not replaced)";
pub const RDP_CERT_STORE: &str = "server certificate store \"Remote Desktop\" (certlm.msc): the RDP certificate's dates, key size and signature, and that it has a private key; delete an expired or broken self-signed one and restart TermService";
pub const MACHINE_KEYS: &str = "server: permissions on C:\\ProgramData\\Microsoft\\Crypto\\RSA\\MachineKeys (SYSTEM full control, NETWORK SERVICE read) so TermService can use the certificate's private key";
pub const SECURITY_LAYER: &str = "server registry HKLM\\SYSTEM\\CurrentControlSet\\Control\\Terminal Server\\WinStations\\RDP-Tcp (or the matching Group Policy): SecurityLayer, UserAuthentication, MinEncryptionLevel and SSLCertificateSHA1Hash, against what the client offers";
pub const TLS_PROTOCOLS: &str = "server SChannel protocol and cipher settings (HKLM\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL, cipher suite order policy): TLS 1.2 enabled on both sides";
pub const FIPS_POLICY: &str = "policy \"System cryptography: Use FIPS compliant algorithms\" on both sides, and MinEncryptionLevel on the server";
pub const CREDSSP_PATCH: &str = "CredSSP patch level on both machines and the \"Encryption Oracle Remediation\" policy (CVE-2018-0886 updates)";
pub const ACCOUNT: &str = "the account in Active Directory / local users: enabled, not locked out, not expired, password valid";
pub const LOGON_RIGHT: &str = "server: the user is in \"Remote Desktop Users\" (or Administrators) and holds \"Allow log on through Remote Desktop Services\" and not \"Deny log on through Remote Desktop Services\"";
pub const DOMAIN_CONTROLLER: &str = "server: a domain controller is reachable, the machine's trust with the domain is intact, and clocks agree";
pub const LICENSE_CACHE: &str = "client license cache: HKLM\\SOFTWARE\\Microsoft\\MSLicensing (delete it and run the client once as administrator to rebuild it)";
pub const LICENSING_HOST: &str = "server: the RD Licensing configuration (license server reachable, licensing mode set, grace period not over, CALs available)";
pub const SERVER_LOG: &str = "server event logs: TerminalServices-LocalSessionManager and RemoteConnectionManager (Operational), and System";
pub const CLIENT_LOG: &str = "client event log Microsoft-Windows-TerminalServices-RDPClient/Operational: event 1026 carries the disconnect reason";
pub const CAPTURE_OR_PROBE: &str = "capture the attempt or probe the server with rdpdiag: who closed the connection, when, and after which message";
pub const NETWORK_PATH: &str =
    "the network path: VPN, MTU, packet loss and latency between client and server";
pub const SESSION_LIMITS: &str =
    "server policy \"Session Time Limits\" (idle, active and disconnected session limits)";
pub const BROKER: &str =
    "RD Connection Broker: the collection, the target endpoint and the broker's event log";
pub const SERVER_RESOURCES: &str = "server: memory and the health of the session (DWM, Winlogon, CSRSS crashes in the Application log)";
pub const FRESH_CREDENTIALS: &str = "server policy \"Always prompt for password upon connection\" (fPromptForPassword): type the credentials rather than using saved ones";
pub const DELEGATION_POLICY: &str = "client policy \"Allow delegating default/saved credentials\" (and its NTLM-only variant) lists the server, e.g. TERMSRV/*";
pub const SMART_CARD: &str = "the smart card: PIN, blocked state, and the certificate on it";
pub const CLIENT_CERT_TRUST: &str = "on the client: the server certificate's chain, name and dates as the client sees them (the certificate warning, or rdpdiag probe)";
pub const CLOCKS: &str =
    "client and server clocks (a large skew makes valid certificates and Kerberos tickets fail)";
pub const SCHANNEL_KEY: &str = "System log, source Schannel, event 36870: fatal error accessing the TLS server credential private key (MachineKeys permissions, corrupt key)";
pub const SCHANNEL_CRED: &str = "System log, source Schannel, event 36871: fatal error creating a TLS server credential (protocol or cipher policy, no usable certificate)";
pub const SCHANNEL_CIPHER: &str = "System log, source Schannel, event 36874: a TLS connection request arrived with no cipher suite in common";
pub const SCHANNEL_ALERT: &str = "System log, source Schannel, event 36888: the fatal alert the server generated, with its internal state";
pub const TS_1057: &str = "System log, TermService (RemoteConnectionManager) event 1057: failed to create a new self-signed certificate";
pub const TS_1058: &str = "System log, TermService (RemoteConnectionManager) event 1058: failed to replace the expired self-signed certificate";
pub const CLIENT_AUTH_LEVEL: &str = "client: the .rdp file's `authentication level` and `enablecredsspsupport`, or the client's security settings";
pub const LOGON_EVENTS: &str = "Security log on the server: event 4625 (failed logon) with its status and sub-status for this client";
pub const CONNECTION_LIMITS: &str = "server: RD Session Host connection limits and IP restrictions";
pub const IPS_RESETS: &str = "IPS / firewall logs on the path for resets of RDP";
pub const MIDDLEBOX: &str = "whether a proxy, load balancer or IPS sits between client and server";
pub const HOST_UP: &str = "that the host is up and has that address";
pub const CIPHER_POLICY: &str = "Group Policy \"SSL Cipher Suite Order\" and \"System cryptography: Use FIPS compliant algorithms\"";
pub const TIME_SYNC: &str = "`w32tm /query /status` on both sides";
