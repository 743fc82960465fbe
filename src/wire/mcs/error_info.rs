//! MS-RDPBCGR 2.2.5.1.1 Set Error Info PDU Data: the errorInfo values, with their spec names and a
//! one-line meaning each. Names follow MS-RDPBCGR (FreeRDP spells some of the protocol ones with extra
//! underscores, e.g. ERRINFO_UNKNOWN_DATA_PDU_TYPE for ERRINFO_UNKNOWNPDUTYPE2).

use std::fmt;

use crate::wire::write_named;

/// errorInfo (u32). An unknown value survives and prints in hex.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ErrorInfo(pub u32);

impl ErrorInfo {
    pub const NONE: Self = Self(0x0000_0000);
    pub const RPC_INITIATED_DISCONNECT: Self = Self(0x0000_0001);
    pub const RPC_INITIATED_LOGOFF: Self = Self(0x0000_0002);
    pub const IDLE_TIMEOUT: Self = Self(0x0000_0003);
    pub const LOGON_TIMEOUT: Self = Self(0x0000_0004);
    pub const DISCONNECTED_BY_OTHERCONNECTION: Self = Self(0x0000_0005);
    pub const OUT_OF_MEMORY: Self = Self(0x0000_0006);
    pub const SERVER_DENIED_CONNECTION: Self = Self(0x0000_0007);
    pub const SERVER_INSUFFICIENT_PRIVILEGES: Self = Self(0x0000_0009);
    pub const SERVER_FRESH_CREDENTIALS_REQUIRED: Self = Self(0x0000_000A);
    pub const RPC_INITIATED_DISCONNECT_BYUSER: Self = Self(0x0000_000B);
    pub const LOGOFF_BY_USER: Self = Self(0x0000_000C);
    pub const LICENSE_INTERNAL: Self = Self(0x0000_0100);
    pub const LICENSE_NO_LICENSE_SERVER: Self = Self(0x0000_0101);
    pub const LICENSE_NO_LICENSE: Self = Self(0x0000_0102);
    pub const LICENSE_NO_REMOTE_CONNECTIONS: Self = Self(0x0000_010A);
    pub const CB_DESTINATION_NOT_FOUND: Self = Self(0x0000_0400);
    pub const ENCPKGMISMATCH: Self = Self(0x0000_1194);

    /// The spec name (ERRINFO_...), when known.
    pub fn name(self) -> Option<&'static str> {
        lookup(self.0).map(|(name, _)| name)
    }

    /// A one-line meaning, paraphrasing MS-RDPBCGR 2.2.5.1.1, when known.
    pub fn meaning(self) -> Option<&'static str> {
        lookup(self.0).map(|(_, meaning)| meaning)
    }

    /// Every value MS-RDPBCGR 2.2.5.1.1 names, in ascending order.
    pub fn all() -> impl Iterator<Item = Self> {
        ERROR_INFO.iter().map(|&(value, _, _)| Self(value))
    }

    /// The range the value falls in (MS-RDPBCGR groups them so).
    pub fn category(self) -> &'static str {
        match self.0 {
            0x0000..=0x00FF => "protocol-independent",
            0x0100..=0x03FF => "protocol-independent licensing",
            0x0400..=0x0FFF => "protocol-independent connection broker",
            _ => "RDP-specific",
        }
    }
}

impl fmt::Display for ErrorInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_named(f, self.name(), self.0.into())
    }
}

fn lookup(value: u32) -> Option<(&'static str, &'static str)> {
    ERROR_INFO
        .binary_search_by_key(&value, |&(v, _, _)| v)
        .ok()
        .and_then(|at| ERROR_INFO.get(at))
        .map(|&(_, name, meaning)| (name, meaning))
}

/// (value, name, meaning), sorted by value. Checked against MS-RDPBCGR 2.2.5.1.1 as mirrored by FreeRDP's
/// and IronRDP's tables.
#[rustfmt::skip]
const ERROR_INFO: &[(u32, &str, &str)] = &[
    (0x0000, "ERRINFO_NONE", "no error"),
    (0x0001, "ERRINFO_RPC_INITIATED_DISCONNECT", "an administrative tool on the server, in another session, disconnected the session"),
    (0x0002, "ERRINFO_RPC_INITIATED_LOGOFF", "an administrative tool on the server, in another session, forced a logoff"),
    (0x0003, "ERRINFO_IDLE_TIMEOUT", "the server's idle session limit elapsed"),
    (0x0004, "ERRINFO_LOGON_TIMEOUT", "the server's active session limit elapsed"),
    (0x0005, "ERRINFO_DISCONNECTED_BY_OTHERCONNECTION", "another connection to the same session replaced this one"),
    (0x0006, "ERRINFO_OUT_OF_MEMORY", "the server ran out of memory"),
    (0x0007, "ERRINFO_SERVER_DENIED_CONNECTION", "the server denied the connection"),
    (0x0009, "ERRINFO_SERVER_INSUFFICIENT_PRIVILEGES", "the user lacks the privileges to connect to the server"),
    (0x000A, "ERRINFO_SERVER_FRESH_CREDENTIALS_REQUIRED", "the server refuses saved credentials and requires them typed in"),
    (0x000B, "ERRINFO_RPC_INITIATED_DISCONNECT_BYUSER", "an administrative tool on the server, in the user's session, disconnected it"),
    (0x000C, "ERRINFO_LOGOFF_BY_USER", "the user logged off the session"),
    (0x000F, "ERRINFO_CLOSE_STACK_ON_DRIVER_NOT_READY", "the remote display driver reported no status in time at startup"),
    (0x0010, "ERRINFO_SERVER_DWM_CRASH", "the DWM process in the remote session ended unexpectedly"),
    (0x0011, "ERRINFO_CLOSE_STACK_ON_DRIVER_FAILURE", "the remote display driver could not finish its startup"),
    (0x0012, "ERRINFO_CLOSE_STACK_ON_DRIVER_IFACE_FAILURE", "the remote display driver started but the remoting stack could not use it"),
    (0x0017, "ERRINFO_SERVER_WINLOGON_CRASH", "the Winlogon process in the remote session ended unexpectedly"),
    (0x0018, "ERRINFO_SERVER_CSRSS_CRASH", "the CSRSS process in the remote session ended unexpectedly"),
    (0x0100, "ERRINFO_LICENSE_INTERNAL", "internal error in the server's licensing component"),
    (0x0101, "ERRINFO_LICENSE_NO_LICENSE_SERVER", "no Remote Desktop license server could be found"),
    (0x0102, "ERRINFO_LICENSE_NO_LICENSE", "no client access licenses are available for the server"),
    (0x0103, "ERRINFO_LICENSE_BAD_CLIENT_MSG", "the server received an invalid licensing message from the client"),
    (0x0104, "ERRINFO_LICENSE_HWID_DOESNT_MATCH_LICENSE", "the client's stored license was modified"),
    (0x0105, "ERRINFO_LICENSE_BAD_CLIENT_LICENSE", "the client's stored license has an invalid format"),
    (0x0106, "ERRINFO_LICENSE_CANT_FINISH_PROTOCOL", "network problems ended the licensing protocol"),
    (0x0107, "ERRINFO_LICENSE_CLIENT_ENDED_PROTOCOL", "the client ended the licensing protocol early"),
    (0x0108, "ERRINFO_LICENSE_BAD_CLIENT_ENCRYPTION", "a licensing message was incorrectly encrypted"),
    (0x0109, "ERRINFO_LICENSE_CANT_UPGRADE_LICENSE", "the client's stored license could not be upgraded or renewed"),
    (0x010A, "ERRINFO_LICENSE_NO_REMOTE_CONNECTIONS", "the server is not licensed to accept remote connections"),
    (0x0400, "ERRINFO_CB_DESTINATION_NOT_FOUND", "the connection broker could not find the target endpoint"),
    (0x0402, "ERRINFO_CB_LOADING_DESTINATION", "the target endpoint is disconnecting from the connection broker"),
    (0x0404, "ERRINFO_CB_REDIRECTING_TO_DESTINATION", "redirecting the connection to the target endpoint failed"),
    (0x0405, "ERRINFO_CB_SESSION_ONLINE_VM_WAKE", "waking the target virtual machine failed"),
    (0x0406, "ERRINFO_CB_SESSION_ONLINE_VM_BOOT", "starting the target virtual machine failed"),
    (0x0407, "ERRINFO_CB_SESSION_ONLINE_VM_NO_DNS", "the IP address of the target virtual machine cannot be determined"),
    (0x0408, "ERRINFO_CB_DESTINATION_POOL_NOT_FREE", "no endpoint is free in the connection broker's pool"),
    (0x0409, "ERRINFO_CB_CONNECTION_CANCELLED", "processing of the connection was cancelled"),
    (0x0410, "ERRINFO_CB_CONNECTION_ERROR_INVALID_SETTINGS", "the routing token settings of the X.224 Connection Request cannot be validated"),
    (0x0411, "ERRINFO_CB_SESSION_ONLINE_VM_BOOT_TIMEOUT", "starting the target virtual machine timed out"),
    (0x0412, "ERRINFO_CB_SESSION_ONLINE_VM_SESSMON_FAILED", "session monitoring failed while starting the target virtual machine"),
    (0x10C9, "ERRINFO_UNKNOWNPDUTYPE2", "unknown pduType2 in a Share Data Header"),
    (0x10CA, "ERRINFO_UNKNOWNPDUTYPE", "unknown pduType in a Share Control Header"),
    (0x10CB, "ERRINFO_DATAPDUSEQUENCE", "a slow-path data PDU arrived out of sequence"),
    (0x10CD, "ERRINFO_CONTROLPDUSEQUENCE", "a slow-path non-data PDU arrived out of sequence"),
    (0x10CE, "ERRINFO_INVALIDCONTROLPDUACTION", "a Control PDU had an invalid action"),
    (0x10CF, "ERRINFO_INVALIDINPUTPDUTYPE", "an input event had an invalid message type or event code"),
    (0x10D0, "ERRINFO_INVALIDINPUTPDUMOUSE", "a mouse event had invalid pointer flags"),
    (0x10D1, "ERRINFO_INVALIDREFRESHRECTPDU", "an invalid Refresh Rect PDU was received"),
    (0x10D2, "ERRINFO_CREATEUSERDATAFAILED", "the server failed to build the GCC Conference Create Response user data"),
    (0x10D3, "ERRINFO_CONNECTFAILED", "the channel connection phase failed"),
    (0x10D4, "ERRINFO_CONFIRMACTIVEWRONGSHAREID", "a Confirm Active PDU had the wrong shareID"),
    (0x10D5, "ERRINFO_CONFIRMACTIVEWRONGORIGINATOR", "a Confirm Active PDU had the wrong originatorID"),
    (0x10DA, "ERRINFO_PERSISTENTKEYPDUBADLENGTH", "a Persistent Key List PDU was too short"),
    (0x10DB, "ERRINFO_PERSISTENTKEYPDUILLEGALFIRST", "a second Persistent Key List PDU was marked as first"),
    (0x10DC, "ERRINFO_PERSISTENTKEYPDUTOOMANYTOTALKEYS", "a Persistent Key List PDU listed more than 262144 bitmap cache entries"),
    (0x10DD, "ERRINFO_PERSISTENTKEYPDUTOOMANYCACHEKEYS", "a Persistent Key List PDU listed too many keys for a bitmap cache"),
    (0x10DE, "ERRINFO_INPUTPDUBADLENGTH", "an input PDU was too short"),
    (0x10DF, "ERRINFO_BITMAPCACHEERRORPDUBADLENGTH", "a Bitmap Cache Error PDU was too short"),
    (0x10E0, "ERRINFO_SECURITYDATATOOSHORT", "the dataSignature (or FIPS information) of a fast-path input PDU was too short"),
    (0x10E1, "ERRINFO_VCHANNELDATATOOSHORT", "virtual channel data (network data or a Channel PDU Header) was too short"),
    (0x10E2, "ERRINFO_SHAREDATATOOSHORT", "a Control, Font List, Share Control or Share Data header PDU was too short"),
    (0x10E3, "ERRINFO_BADSUPPRESSOUTPUTPDU", "a Suppress Output PDU was too short or invalid"),
    (0x10E5, "ERRINFO_CONFIRMACTIVEPDUTOOSHORT", "a Confirm Active PDU was too short"),
    (0x10E7, "ERRINFO_CAPABILITYSETTOOSMALL", "a capability set was too short for its header"),
    (0x10E8, "ERRINFO_CAPABILITYSETTOOLARGE", "a capability set declared more bytes than were received"),
    (0x10E9, "ERRINFO_NOCURSORCACHE", "the client's pointer capability set has no pointer cache"),
    (0x10EA, "ERRINFO_BADCAPABILITIES", "the server did not accept the client's capabilities"),
    (0x10EC, "ERRINFO_VIRTUALCHANNELDECOMPRESSIONERR", "decompressing a virtual channel PDU failed"),
    (0x10ED, "ERRINFO_INVALIDVCCOMPRESSIONTYPE", "a Channel PDU Header named an invalid compression package"),
    (0x10EF, "ERRINFO_INVALIDCHANNELID", "a Virtual Channel PDU named an invalid MCS channel"),
    (0x10F0, "ERRINFO_VCHANNELSTOOMANY", "the client asked for more than 31 static virtual channels"),
    (0x10F3, "ERRINFO_REMOTEAPPSNOTENABLED", "the session only hosts RemoteApp programs but the client did not set INFO_RAIL"),
    (0x10F4, "ERRINFO_CACHECAPNOTSET", "a Persistent Key List PDU came without the Revision 2 Bitmap Cache capability set"),
    (0x10F5, "ERRINFO_BITMAPCACHEERRORPDUBADLENGTH2", "a Bitmap Cache Error PDU's NumInfoBlocks disagrees with its data"),
    (0x10F6, "ERRINFO_OFFSCRCACHEERRORPDUBADLENGTH", "an Offscreen Bitmap Cache Error PDU was too short"),
    (0x10F7, "ERRINFO_DNGCACHEERRORPDUBADLENGTH", "a DrawNineGrid Cache Error PDU was too short"),
    (0x10F8, "ERRINFO_GDIPLUSPDUBADLENGTH", "a GDI+ Error PDU was too short"),
    (0x1111, "ERRINFO_SECURITYDATATOOSHORT2", "a Basic Security Header was too short"),
    (0x1112, "ERRINFO_SECURITYDATATOOSHORT3", "a Non-FIPS or FIPS Security Header was too short"),
    (0x1113, "ERRINFO_SECURITYDATATOOSHORT4", "the Security Exchange PDU header or length was too short"),
    (0x1114, "ERRINFO_SECURITYDATATOOSHORT5", "the Info Packet was too short for its strings"),
    (0x1115, "ERRINFO_SECURITYDATATOOSHORT6", "the Info Packet was too short for its fixed fields"),
    (0x1116, "ERRINFO_SECURITYDATATOOSHORT7", "the Extended Info Packet was too short for clientAddressFamily and cbClientAddress"),
    (0x1117, "ERRINFO_SECURITYDATATOOSHORT8", "the Extended Info Packet was too short for clientAddress"),
    (0x1118, "ERRINFO_SECURITYDATATOOSHORT9", "the Extended Info Packet was too short for cbClientDir"),
    (0x1119, "ERRINFO_SECURITYDATATOOSHORT10", "the Extended Info Packet was too short for clientDir"),
    (0x111A, "ERRINFO_SECURITYDATATOOSHORT11", "the Extended Info Packet was too short for clientTimeZone"),
    (0x111B, "ERRINFO_SECURITYDATATOOSHORT12", "the Extended Info Packet was too short for clientSessionId"),
    (0x111C, "ERRINFO_SECURITYDATATOOSHORT13", "the Extended Info Packet was too short for performanceFlags"),
    (0x111D, "ERRINFO_SECURITYDATATOOSHORT14", "the Extended Info Packet was too short for cbAutoReconnectCookie"),
    (0x111E, "ERRINFO_SECURITYDATATOOSHORT15", "the Extended Info Packet was too short for autoReconnectCookie"),
    (0x111F, "ERRINFO_SECURITYDATATOOSHORT16", "the Extended Info Packet's cbAutoReconnectCookie exceeds 128 bytes"),
    (0x1120, "ERRINFO_SECURITYDATATOOSHORT17", "the Extended Info Packet was too short for clientAddressFamily and cbClientAddress"),
    (0x1121, "ERRINFO_SECURITYDATATOOSHORT18", "the Extended Info Packet was too short for clientAddress"),
    (0x1122, "ERRINFO_SECURITYDATATOOSHORT19", "the Extended Info Packet was too short for cbClientDir"),
    (0x1123, "ERRINFO_SECURITYDATATOOSHORT20", "the Extended Info Packet was too short for clientDir"),
    (0x1124, "ERRINFO_SECURITYDATATOOSHORT21", "the Extended Info Packet was too short for clientTimeZone"),
    (0x1125, "ERRINFO_SECURITYDATATOOSHORT22", "the Extended Info Packet was too short for clientSessionId"),
    (0x1126, "ERRINFO_SECURITYDATATOOSHORT23", "the Client Info PDU was too short"),
    (0x1129, "ERRINFO_BADMONITORDATA", "the Client Monitor Data holds fewer monitors than monitorCount"),
    (0x112A, "ERRINFO_VCDECOMPRESSEDREASSEMBLEFAILED", "reassembled virtual channel data exceeds the chunk size or the buffer is invalid"),
    (0x112B, "ERRINFO_VCDATATOOLONG", "a Virtual Channel PDU exceeds the negotiated chunk size"),
    (0x112C, "ERRINFO_BAD_FRAME_ACK_DATA", "a Frame Acknowledge PDU was too short"),
    (0x112D, "ERRINFO_GRAPHICSMODENOTSUPPORTED", "the server does not support the graphics mode the client asked for"),
    (0x112E, "ERRINFO_GRAPHICSSUBSYSTEMRESETFAILED", "the server's graphics subsystem failed to reset"),
    (0x112F, "ERRINFO_GRAPHICSSUBSYSTEMFAILED", "the server's graphics subsystem is in an error state"),
    (0x1130, "ERRINFO_TIMEZONEKEYNAMELENGTHTOOSHORT", "the Extended Info Packet was too short for cbDynamicDSTTimeZoneKeyName"),
    (0x1131, "ERRINFO_TIMEZONEKEYNAMELENGTHTOOLONG", "the Extended Info Packet's cbDynamicDSTTimeZoneKeyName is too long"),
    (0x1132, "ERRINFO_DYNAMICDSTDISABLEDFIELDMISSING", "the Extended Info Packet lacks dynamicDaylightTimeDisabled"),
    (0x1133, "ERRINFO_VCDECODINGERROR", "processing dynamic virtual channel data failed"),
    (0x1134, "ERRINFO_VIRTUALDESKTOPTOOLARGE", "the monitor layout's virtual desktop exceeds 32766 pixels"),
    (0x1135, "ERRINFO_MONITORGEOMETRYVALIDATIONFAILED", "the Client Monitor Data geometry is invalid"),
    (0x1136, "ERRINFO_INVALIDMONITORCOUNT", "the Client Monitor Data monitorCount is too large"),
    (0x1191, "ERRINFO_UPDATESESSIONKEYFAILED", "updating the standard RDP security session keys failed"),
    (0x1192, "ERRINFO_DECRYPTFAILED", "standard RDP security decryption or session key creation failed"),
    (0x1193, "ERRINFO_ENCRYPTFAILED", "standard RDP security encryption failed"),
    (0x1194, "ERRINFO_ENCPKGMISMATCH", "no usable encryption method in the client's encryptionMethods"),
    (0x1195, "ERRINFO_DECRYPTFAILED2", "unencrypted data arrived where standard RDP security requires encryption"),
];

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_unique() {
        assert!(ERROR_INFO.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn names_and_meanings() {
        assert_eq!(
            ErrorInfo::SERVER_DENIED_CONNECTION.to_string(),
            "ERRINFO_SERVER_DENIED_CONNECTION"
        );
        assert_eq!(
            ErrorInfo(7).meaning(),
            Some("the server denied the connection")
        );
        assert_eq!(ErrorInfo(0x10C9).name(), Some("ERRINFO_UNKNOWNPDUTYPE2"));
        assert_eq!(
            ErrorInfo(0x0102).category(),
            "protocol-independent licensing"
        );
        assert_eq!(
            ErrorInfo(0x0408).category(),
            "protocol-independent connection broker"
        );
        // 8 is exDiscReasonServerDeniedConnectionFips on the client, but no errorInfo value
        assert_eq!(ErrorInfo(8).to_string(), "0x8");
        assert_eq!(ErrorInfo(0xdead).meaning(), None);
    }
}
