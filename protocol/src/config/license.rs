//! Licenses, activation keys bound to a unit's serial number, and the pairing
//! checks two units run before they fail over for each other (PROTOCOL.md section 9).
//!
//! # Licenses
//!
//! A [`License`] is a kind ([`LicenseKind`]: UR, R, FO, FO_AA) and licensed
//! [`Features`] (security contexts, VPN peers). A unit with no activation key,
//! or whose flash was erased, runs [`License::BASE`]: Restricted, which never
//! does failover.
//!
//! # Activation keys \[fover\]
//!
//! `activation-key 0xAAAAAAAA 0xBBBBBBBB 0xCCCCCCCC 0xDDDDDDDD` carries 128 bits,
//! the four words big-endian, in this layout:
//!
//! ```text
//! byte  0      scheme version (1)
//! byte  1      license kind   1 UR, 2 R, 3 FO, 4 FO_AA
//! bytes 2-3    security contexts          (u16)
//! bytes 4-5    VPN peers                  (u16)
//! bytes 6-7    serial fingerprint: SHA-256("fover serial" | serial), first 2 bytes
//! bytes 8-15   tag: HMAC-SHA256(vendor key, "fover activation key v1" | len(serial) as u16 | serial | bytes 0-7),
//!              first 8 bytes
//! ```
//!
//! [`parse_and_verify`] checks, in order: the text (four hexadecimal words,
//! else [`LicenseError::Malformed`]); the fingerprint (a key pasted from
//! another unit: [`LicenseError::OtherSerial`], except for the one key in 65,536
//! whose fingerprint collides, which then fails the tag); the tag
//! ([`LicenseError::Invalid`]: mistyped or forged); and last the feature bytes
//! ([`LicenseError::UnknownFeatures`]: a well-signed key from a release with
//! features this one does not know). The vendor key is a constant in this
//! file: the scheme binds keys to serials and catches typing errors; it is not
//! meant to resist someone who reads the source.
//!
//! ```
//! use fover_protocol::config::license::{generate_key, parse_and_verify, Features, License, LicenseError, LicenseKind};
//!
//! let ur = License { kind: LicenseKind::Unrestricted, features: Features { contexts: 20, vpn_peers: 750 } };
//! let key = generate_key("JMX1234L0AB", &ur).to_string();
//! assert_eq!(parse_and_verify("JMX1234L0AB", &format!("activation-key {key}")), Ok(ur));
//! assert!(matches!(parse_and_verify("JMX9999Z9ZZ", &key), Err(LicenseError::OtherSerial { .. })));
//! ```
//!
//! # Pairing
//!
//! [`check_pairing`] compares this unit's [`PairingInfo`] with the mate's and
//! names the first requirement that fails, with the appliance's syslog id
//! where it has one ([`PairingRefusal::syslog_id`]).

use crate::constants::{CONTEXTS_MAX, LICENSE_BASE_CONTEXTS, LICENSE_BASE_VPN_PEERS, LICENSE_VPN_PEERS_MAX};
use crate::types::SoftwareVersion;
use core::fmt;
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// The kind of a license.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LicenseKind {
    /// Unrestricted (UR): every feature, failover in both modes.
    Unrestricted,
    /// Restricted (R): no failover.
    Restricted,
    /// Failover Only (FO): the standby of an Active/Standby pair.
    FailoverOnly,
    /// Failover Only Active/Active (FO_AA): the mate of a UR unit in an Active/Active pair.
    FailoverOnlyActiveActive,
}

impl LicenseKind {
    /// Every kind.
    pub const ALL: [LicenseKind; 4] = [
        LicenseKind::Unrestricted,
        LicenseKind::Restricted,
        LicenseKind::FailoverOnly,
        LicenseKind::FailoverOnlyActiveActive,
    ];

    /// The short name: `UR`, `R`, `FO`, `FO_AA`.
    pub const fn as_str(self) -> &'static str {
        match self {
            LicenseKind::Unrestricted => "UR",
            LicenseKind::Restricted => "R",
            LicenseKind::FailoverOnly => "FO",
            LicenseKind::FailoverOnlyActiveActive => "FO_AA",
        }
    }

    /// The name `show version` prints.
    pub const fn long_name(self) -> &'static str {
        match self {
            LicenseKind::Unrestricted => "Unrestricted",
            LicenseKind::Restricted => "Restricted",
            LicenseKind::FailoverOnly => "Failover Only",
            LicenseKind::FailoverOnlyActiveActive => "Failover Only Active/Active",
        }
    }

    /// The code in byte 1 of an activation key.
    pub const fn code(self) -> u8 {
        match self {
            LicenseKind::Unrestricted => 1,
            LicenseKind::Restricted => 2,
            LicenseKind::FailoverOnly => 3,
            LicenseKind::FailoverOnlyActiveActive => 4,
        }
    }

    /// The kind for a key code, if there is one.
    pub const fn from_code(code: u8) -> Option<LicenseKind> {
        match code {
            1 => Some(LicenseKind::Unrestricted),
            2 => Some(LicenseKind::Restricted),
            3 => Some(LicenseKind::FailoverOnly),
            4 => Some(LicenseKind::FailoverOnlyActiveActive),
            _ => None,
        }
    }

    /// Parses a short name (`UR`, `R`, `FO`, `FO_AA` or `FO-AA`), ignoring case.
    pub fn parse(text: &str) -> Option<LicenseKind> {
        let t = text.trim().replace('-', "_");
        LicenseKind::ALL.into_iter().find(|k| k.as_str().eq_ignore_ascii_case(&t))
    }
}

impl fmt::Display for LicenseKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Licensed feature counts; two units that pair must have the same.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Features {
    pub contexts: u16,
    pub vpn_peers: u16,
}

impl fmt::Display for Features {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} security contexts, {} VPN peers", self.contexts, self.vpn_peers)
    }
}

/// A unit's license.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct License {
    pub kind: LicenseKind,
    pub features: Features,
}

impl License {
    /// What a unit runs with no activation key (or after `ERASE`).
    pub const BASE: License = License {
        kind: LicenseKind::Restricted,
        features: Features { contexts: LICENSE_BASE_CONTEXTS, vpn_peers: LICENSE_BASE_VPN_PEERS },
    };
}

impl fmt::Display for License {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.kind, self.features)
    }
}

/// The 128 bits of an activation key, as four words.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ActivationKey(pub [u32; 4]);

impl ActivationKey {
    /// Parses four 32-bit hexadecimal words (`0x` optional), optionally after the
    /// word `activation-key`.
    pub fn parse(text: &str) -> Result<ActivationKey, LicenseError> {
        let mut words: Vec<&str> = text.split_whitespace().collect();
        if words.first() == Some(&"activation-key") {
            words.remove(0);
        }
        if words.len() != 4 {
            return Err(LicenseError::Malformed {
                reason: format!("expected four hexadecimal words like 0x1a2b3c4d, found {} words", words.len()),
            });
        }
        let mut out = [0u32; 4];
        for (slot, word) in out.iter_mut().zip(&words) {
            let digits = word.strip_prefix("0x").or_else(|| word.strip_prefix("0X")).unwrap_or(word);
            if digits.is_empty() || digits.len() > 8 || !digits.chars().all(|c| c.is_ascii_hexdigit()) {
                return Err(LicenseError::Malformed {
                    reason: format!("{word:?} is not a 32-bit hexadecimal word (at most 8 hex digits)"),
                });
            }
            *slot = u32::from_str_radix(digits, 16)
                .map_err(|e| LicenseError::Malformed { reason: format!("{word:?}: {e}") })?;
        }
        Ok(ActivationKey(out))
    }

    /// The 16 bytes, big-endian word by word.
    pub fn to_bytes(self) -> [u8; 16] {
        let mut b = [0u8; 16];
        for (chunk, w) in b.chunks_exact_mut(4).zip(self.0) {
            chunk.copy_from_slice(&w.to_be_bytes());
        }
        b
    }

    /// The key with these 16 bytes.
    pub fn from_bytes(bytes: [u8; 16]) -> ActivationKey {
        let mut w = [0u32; 4];
        for (slot, chunk) in w.iter_mut().zip(bytes.chunks_exact(4)) {
            *slot = u32::from_be_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        }
        ActivationKey(w)
    }
}

impl fmt::Display for ActivationKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d] = self.0;
        write!(f, "0x{a:08x} 0x{b:08x} 0x{c:08x} 0x{d:08x}")
    }
}

/// Why an activation key was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LicenseError {
    #[error("activation key is malformed: {reason}")]
    Malformed { reason: String },
    #[error("activation key was issued for another unit, not serial number {serial}")]
    OtherSerial { serial: String },
    #[error("activation key is not valid for serial number {serial} (mistyped or forged)")]
    Invalid { serial: String },
    #[error("activation key encodes features this software does not know: {detail}")]
    UnknownFeatures { detail: String },
}

/// Scheme version in byte 0 of every key this build issues.
pub const KEY_SCHEME_VERSION: u8 = 1;
const KEY_TAG_INFO: &[u8] = b"fover activation key v1";
const SERIAL_FINGERPRINT_INFO: &[u8] = b"fover serial";
/// \[fover\] The vendor's signing key (see the module documentation for what it protects).
const VENDOR_KEY: [u8; 64] = *b"fover vendor key for activation keys; binds features to serials.";

fn serial_fingerprint(serial: &str) -> [u8; 2] {
    let d = Sha256::new().chain_update(SERIAL_FINGERPRINT_INFO).chain_update(serial.as_bytes()).finalize();
    [d[0], d[1]]
}

fn key_tag(serial: &str, signed: &[u8; 8]) -> [u8; 8] {
    let mut mac = Hmac::<Sha256>::new(&VENDOR_KEY.into());
    mac.update(KEY_TAG_INFO);
    let len = u16::try_from(serial.len()).unwrap_or(u16::MAX);
    mac.update(&len.to_be_bytes());
    mac.update(serial.as_bytes());
    mac.update(signed);
    let full = mac.finalize().into_bytes();
    let mut tag = [0u8; 8];
    tag.copy_from_slice(&full[..8]);
    tag
}

/// Issues a key for `serial` with the raw feature bytes `features` (bytes 0-5 of
/// the layout). Tests and the simulator use it to make keys this build would not
/// issue, such as one from a later release with an unknown license kind.
pub fn generate_key_bytes(serial: &str, features: [u8; 6]) -> ActivationKey {
    let mut bytes = [0u8; 16];
    bytes[..6].copy_from_slice(&features);
    bytes[6..8].copy_from_slice(&serial_fingerprint(serial));
    let mut signed = [0u8; 8];
    signed.copy_from_slice(&bytes[..8]);
    bytes[8..].copy_from_slice(&key_tag(serial, &signed));
    ActivationKey::from_bytes(bytes)
}

/// Issues the key that gives `license` to the unit with serial number `serial`.
pub fn generate_key(serial: &str, license: &License) -> ActivationKey {
    let [c0, c1] = license.features.contexts.to_be_bytes();
    let [v0, v1] = license.features.vpn_peers.to_be_bytes();
    generate_key_bytes(serial, [KEY_SCHEME_VERSION, license.kind.code(), c0, c1, v0, v1])
}

/// Verifies a parsed key for the unit with serial number `serial`.
pub fn verify(serial: &str, key: &ActivationKey) -> Result<License, LicenseError> {
    let bytes = key.to_bytes();
    if bytes[6..8] != serial_fingerprint(serial) {
        return Err(LicenseError::OtherSerial { serial: serial.to_owned() });
    }
    let mut signed = [0u8; 8];
    signed.copy_from_slice(&bytes[..8]);
    if bytes[8..] != key_tag(serial, &signed) {
        return Err(LicenseError::Invalid { serial: serial.to_owned() });
    }
    if bytes[0] != KEY_SCHEME_VERSION {
        return Err(LicenseError::UnknownFeatures {
            detail: format!("key scheme version {} (this software knows {KEY_SCHEME_VERSION})", bytes[0]),
        });
    }
    let kind = LicenseKind::from_code(bytes[1])
        .ok_or_else(|| LicenseError::UnknownFeatures { detail: format!("license kind code {}", bytes[1]) })?;
    let contexts = u16::from_be_bytes([bytes[2], bytes[3]]);
    let vpn_peers = u16::from_be_bytes([bytes[4], bytes[5]]);
    if contexts as usize > CONTEXTS_MAX {
        return Err(LicenseError::UnknownFeatures {
            detail: format!("{contexts} security contexts (at most {CONTEXTS_MAX})"),
        });
    }
    if vpn_peers > LICENSE_VPN_PEERS_MAX {
        return Err(LicenseError::UnknownFeatures {
            detail: format!("{vpn_peers} VPN peers (at most {LICENSE_VPN_PEERS_MAX})"),
        });
    }
    Ok(License { kind, features: Features { contexts, vpn_peers } })
}

/// Parses `[activation-key] 0xAAAAAAAA 0xBBBBBBBB 0xCCCCCCCC 0xDDDDDDDD` and
/// verifies it for the unit with serial number `serial`.
pub fn parse_and_verify(serial: &str, text: &str) -> Result<License, LicenseError> {
    verify(serial, &ActivationKey::parse(text)?)
}

// ---- Pairing ----

/// Syslog ids for refusals the appliance has no message for: fover's own range,
/// 990001-990099, outside the appliance's ids.
pub const SYSLOG_FOVER_RAM_MISMATCH: u32 = 990_001;
/// A failover interface has a DHCP, PPPoE or IPv6 address (fover range).
pub const SYSLOG_FOVER_FAILOVER_ADDRESSING: u32 = 990_002;
/// Active/Active failover on a unit in single context mode (fover range).
pub const SYSLOG_FOVER_ACTIVE_ACTIVE_SINGLE_CONTEXT: u32 = 990_003;
/// `Mate has a different chassis`.
pub const SYSLOG_MATE_DIFFERENT_CHASSIS: u32 = 105_046;
/// `Interface count mismatch`.
pub const SYSLOG_INTERFACE_COUNT_MISMATCH: u32 = 105_038;
/// `Mate has a <card> card in slot <n> which is different with my <card>`.
pub const SYSLOG_MATE_DIFFERENT_CARD: u32 = 105_047;
/// `Mate failover version is not compatible.`
pub const SYSLOG_MATE_VERSION_INCOMPATIBLE: u32 = 105_040;
/// `Mate operational mode <mode> is not compatible with my mode <mode>.`
pub const SYSLOG_MATE_MODE_INCOMPATIBLE: u32 = 105_044;
/// `Mate license (<n> contexts) is not compatible with my license (<n> contexts).`
pub const SYSLOG_MATE_LICENSE_INCOMPATIBLE: u32 = 105_045;
/// `Config replication failed with reason = <reason>`.
pub const SYSLOG_CONFIG_REPLICATION_FAILED: u32 = 105_022;

/// Routed or transparent firewall (`firewall transparent`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FirewallMode {
    Routed,
    Transparent,
}

/// Single or multiple security contexts (`mode multiple`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ContextMode {
    Single,
    Multiple,
}

/// The failover configuration the units run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FailoverMode {
    ActiveActive,
    ActiveStandby,
}

impl fmt::Display for FirewallMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FirewallMode::Routed => "routed",
            FirewallMode::Transparent => "transparent",
        })
    }
}

impl fmt::Display for ContextMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ContextMode::Single => "single context",
            ContextMode::Multiple => "multiple context",
        })
    }
}

impl fmt::Display for FailoverMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FailoverMode::ActiveActive => "Active/Active",
            FailoverMode::ActiveStandby => "Active/Standby",
        })
    }
}

/// Address kinds that a failover interface must not use.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct FailoverAddressing {
    pub dhcp: bool,
    pub pppoe: bool,
    pub ipv6: bool,
}

impl FailoverAddressing {
    /// The first forbidden kind in use, if any.
    pub fn forbidden(&self) -> Option<&'static str> {
        [(self.dhcp, "DHCP"), (self.pppoe, "PPPoE"), (self.ipv6, "IPv6")]
            .into_iter()
            .find(|(on, _)| *on)
            .map(|(_, n)| n)
    }
}

/// What a unit tells its mate during negotiation so that both can check they may pair.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PairingInfo {
    /// Hardware model, e.g. `ASA5520`.
    pub model: String,
    /// Physical interfaces: hardware type (`GigabitEthernet`, `Management`, ...) to count.
    pub interfaces: BTreeMap<String, u16>,
    pub ram_mb: u32,
    /// May differ between the units; see [`check_flash_fits`].
    pub flash_bytes: u64,
    pub firewall_mode: FirewallMode,
    pub context_mode: ContextMode,
    pub failover_mode: FailoverMode,
    pub version: SoftwareVersion,
    pub license: License,
    pub failover_addressing: FailoverAddressing,
}

impl PairingInfo {
    /// Physical interfaces in all.
    pub fn interface_count(&self) -> u32 {
        self.interfaces.values().map(|&n| u32::from(n)).sum()
    }

    fn interface_summary(&self) -> String {
        let parts: Vec<String> = self.interfaces.iter().map(|(t, n)| format!("{n} {t}")).collect();
        if parts.is_empty() { "none".to_owned() } else { parts.join(", ") }
    }
}

const MODE_TRANSPARENT: u8 = 1;
const MODE_MULTIPLE: u8 = 2;
const MODE_ACTIVE_ACTIVE: u8 = 4;
const ADDR_DHCP: u8 = 1;
const ADDR_PPPOE: u8 = 2;
const ADDR_IPV6: u8 = 4;

impl PairingInfo {
    /// The form that travels to the mate.
    pub fn to_wire(&self) -> crate::wire::Pairing {
        let bit = |on: bool, b: u8| if on { b } else { 0 };
        crate::wire::Pairing {
            model: self.model.clone(),
            ram_mb: self.ram_mb,
            flash_bytes: self.flash_bytes,
            interfaces: self
                .interfaces
                .iter()
                .map(|(hardware, &count)| crate::wire::InterfaceCount { hardware: hardware.clone(), count })
                .collect(),
            modes: bit(self.firewall_mode == FirewallMode::Transparent, MODE_TRANSPARENT)
                | bit(self.context_mode == ContextMode::Multiple, MODE_MULTIPLE)
                | bit(self.failover_mode == FailoverMode::ActiveActive, MODE_ACTIVE_ACTIVE),
            version: self.version,
            license: self.license.kind.code(),
            contexts: self.license.features.contexts,
            vpn_peers: self.license.features.vpn_peers,
            addressing: bit(self.failover_addressing.dhcp, ADDR_DHCP)
                | bit(self.failover_addressing.pppoe, ADDR_PPPOE)
                | bit(self.failover_addressing.ipv6, ADDR_IPV6),
        }
    }

    /// Reads what the mate sent; an unknown license code is an error that names it.
    pub fn from_wire(p: &crate::wire::Pairing) -> Result<PairingInfo, String> {
        let kind = LicenseKind::from_code(p.license).ok_or_else(|| format!("unknown license code {}", p.license))?;
        let mut interfaces = BTreeMap::new();
        for i in &p.interfaces {
            let n = interfaces.entry(i.hardware.clone()).or_insert(0u16);
            *n = n.saturating_add(i.count);
        }
        Ok(PairingInfo {
            model: p.model.clone(),
            interfaces,
            ram_mb: p.ram_mb,
            flash_bytes: p.flash_bytes,
            firewall_mode: if p.modes & MODE_TRANSPARENT != 0 {
                FirewallMode::Transparent
            } else {
                FirewallMode::Routed
            },
            context_mode: if p.modes & MODE_MULTIPLE != 0 { ContextMode::Multiple } else { ContextMode::Single },
            failover_mode: if p.modes & MODE_ACTIVE_ACTIVE != 0 {
                FailoverMode::ActiveActive
            } else {
                FailoverMode::ActiveStandby
            },
            version: p.version,
            license: License { kind, features: Features { contexts: p.contexts, vpn_peers: p.vpn_peers } },
            failover_addressing: FailoverAddressing {
                dhcp: p.addressing & ADDR_DHCP != 0,
                pppoe: p.addressing & ADDR_PPPOE != 0,
                ipv6: p.addressing & ADDR_IPV6 != 0,
            },
        })
    }
}

/// Which unit a refusal is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Side {
    ThisUnit,
    Mate,
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Side::ThisUnit => "this unit",
            Side::Mate => "the mate",
        })
    }
}

/// The license rule two licenses broke.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LicenseRule {
    /// A Restricted license never does failover.
    RestrictedNeverFailsOver,
    /// A Failover Only (FO) license is for Active/Standby only.
    FailoverOnlyIsActiveStandby,
    /// At least one unit must be Unrestricted (so two FO_AA never pair).
    NeedsOneUnrestricted,
}

impl fmt::Display for LicenseRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LicenseRule::RestrictedNeverFailsOver => "a Restricted (R) license never does failover",
            LicenseRule::FailoverOnlyIsActiveStandby => {
                "a Failover Only (FO) license supports Active/Standby failover only, not Active/Active"
            }
            LicenseRule::NeedsOneUnrestricted => "at least one unit must be Unrestricted",
        })
    }
}

/// Why two units cannot pair: the requirement of PROTOCOL.md section 9 that failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PairingRefusal {
    #[error("Mate has a different chassis: mate is {mate}, this unit is {ours}")]
    Model { mate: String, ours: String },
    #[error("Interface count mismatch: mate has {mate} interfaces, this unit has {ours}")]
    InterfaceCount { mate: u32, ours: u32 },
    #[error("Mate's interfaces ({mate}) differ in type from this unit's ({ours})")]
    InterfaceTypes { mate: String, ours: String },
    #[error("Mate has {mate_mb} MB of RAM and this unit {ours_mb} MB: both units need the same RAM")]
    Ram { mate_mb: u32, ours_mb: u32 },
    #[error("Mate operational mode ({mate}) is not compatible with my mode ({ours})")]
    Mode { mate: String, ours: String },
    #[error("Active/Active failover needs multiple context mode, but {side} runs in single context mode")]
    ActiveActiveNeedsMultipleContext { side: Side },
    #[error(
        "Mate failover version is not compatible: mate runs {mate}, this unit {ours} \
         (major and minor versions must match)"
    )]
    Version { mate: SoftwareVersion, ours: SoftwareVersion },
    #[error("Mate's license ({mate}) and this unit's license ({ours}) cannot pair: {rule}")]
    License { mate: LicenseKind, ours: LicenseKind, rule: LicenseRule },
    #[error("Mate license ({mate}) is not compatible with my license ({ours}): licensed features must match")]
    Features { mate: Features, ours: Features },
    #[error("Failover interface of {side} has a {kind} address: failover interfaces need static IPv4 addresses")]
    FailoverAddressing { side: Side, kind: &'static str },
    #[error(
        "Config replication failed with reason = flash too small: {needed} bytes needed, \
         {available} bytes of flash"
    )]
    FlashTooSmall { needed: u64, available: u64 },
}

impl PairingRefusal {
    /// The syslog message id: the appliance's where it has one, else fover's range 990001-990099.
    pub fn syslog_id(&self) -> u32 {
        match self {
            PairingRefusal::Model { .. } => SYSLOG_MATE_DIFFERENT_CHASSIS,
            PairingRefusal::InterfaceCount { .. } => SYSLOG_INTERFACE_COUNT_MISMATCH,
            PairingRefusal::InterfaceTypes { .. } => SYSLOG_MATE_DIFFERENT_CARD,
            PairingRefusal::Ram { .. } => SYSLOG_FOVER_RAM_MISMATCH,
            PairingRefusal::Mode { .. } => SYSLOG_MATE_MODE_INCOMPATIBLE,
            PairingRefusal::ActiveActiveNeedsMultipleContext { .. } => SYSLOG_FOVER_ACTIVE_ACTIVE_SINGLE_CONTEXT,
            PairingRefusal::Version { .. } => SYSLOG_MATE_VERSION_INCOMPATIBLE,
            PairingRefusal::License { .. } | PairingRefusal::Features { .. } => SYSLOG_MATE_LICENSE_INCOMPATIBLE,
            PairingRefusal::FailoverAddressing { .. } => SYSLOG_FOVER_FAILOVER_ADDRESSING,
            PairingRefusal::FlashTooSmall { .. } => SYSLOG_CONFIG_REPLICATION_FAILED,
        }
    }
}

/// The license rule `a` and `b` break in `mode`, if any. Symmetric.
pub fn license_rule(mode: FailoverMode, a: LicenseKind, b: LicenseKind) -> Option<LicenseRule> {
    use LicenseKind::*;
    let either = |k: LicenseKind| a == k || b == k;
    if either(Restricted) {
        return Some(LicenseRule::RestrictedNeverFailsOver);
    }
    if mode == FailoverMode::ActiveActive && either(FailoverOnly) {
        return Some(LicenseRule::FailoverOnlyIsActiveStandby);
    }
    if !either(Unrestricted) {
        return Some(LicenseRule::NeedsOneUnrestricted);
    }
    None
}

/// Checks that this unit (`local`) and its mate (`peer`) may pair, in the order
/// hardware, modes, software version, licenses, failover interface addresses.
/// Flash sizes may differ.
pub fn check_pairing(local: &PairingInfo, peer: &PairingInfo) -> Result<(), PairingRefusal> {
    if local.model != peer.model {
        return Err(PairingRefusal::Model { mate: peer.model.clone(), ours: local.model.clone() });
    }
    if local.interface_count() != peer.interface_count() {
        return Err(PairingRefusal::InterfaceCount { mate: peer.interface_count(), ours: local.interface_count() });
    }
    if local.interfaces != peer.interfaces {
        return Err(PairingRefusal::InterfaceTypes { mate: peer.interface_summary(), ours: local.interface_summary() });
    }
    if local.ram_mb != peer.ram_mb {
        return Err(PairingRefusal::Ram { mate_mb: peer.ram_mb, ours_mb: local.ram_mb });
    }
    let mode = |i: &PairingInfo| format!("{}, {}, {}", i.firewall_mode, i.context_mode, i.failover_mode);
    if (local.firewall_mode, local.context_mode, local.failover_mode)
        != (peer.firewall_mode, peer.context_mode, peer.failover_mode)
    {
        return Err(PairingRefusal::Mode { mate: mode(peer), ours: mode(local) });
    }
    if local.failover_mode == FailoverMode::ActiveActive && local.context_mode == ContextMode::Single {
        return Err(PairingRefusal::ActiveActiveNeedsMultipleContext { side: Side::ThisUnit });
    }
    if (local.version.major, local.version.minor) != (peer.version.major, peer.version.minor) {
        return Err(PairingRefusal::Version { mate: peer.version, ours: local.version });
    }
    if let Some(rule) = license_rule(local.failover_mode, local.license.kind, peer.license.kind) {
        return Err(PairingRefusal::License { mate: peer.license.kind, ours: local.license.kind, rule });
    }
    if local.license.features != peer.license.features {
        return Err(PairingRefusal::Features { mate: peer.license.features, ours: local.license.features });
    }
    for (side, info) in [(Side::ThisUnit, local), (Side::Mate, peer)] {
        if let Some(kind) = info.failover_addressing.forbidden() {
            return Err(PairingRefusal::FailoverAddressing { side, kind });
        }
    }
    Ok(())
}

/// A sync (or a save) of `bytes_needed` bytes to a flash of `flash_size` bytes:
/// fails, with a message saying so, when it does not fit.
pub fn check_flash_fits(bytes_needed: u64, flash_size: u64) -> Result<(), PairingRefusal> {
    if bytes_needed > flash_size {
        return Err(PairingRefusal::FlashTooSmall { needed: bytes_needed, available: flash_size });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SERIAL: &str = "JMX1234L0AB";

    fn ur() -> License {
        License { kind: LicenseKind::Unrestricted, features: Features { contexts: 20, vpn_peers: 750 } }
    }

    #[test]
    fn key_roundtrips_through_its_text() {
        let key = generate_key(SERIAL, &ur());
        assert_eq!(ActivationKey::parse(&key.to_string()), Ok(key));
        assert_eq!(ActivationKey::from_bytes(key.to_bytes()), key);
    }

    #[test]
    fn key_words_accept_missing_prefix_and_upper_case() {
        let key = generate_key(SERIAL, &ur());
        let text = key.0.iter().map(|w| format!("{w:X}")).collect::<Vec<_>>().join(" ");
        assert_eq!(parse_and_verify(SERIAL, &text), Ok(ur()));
    }

    #[test]
    fn key_with_a_flipped_tag_bit_is_invalid() {
        let mut key = generate_key(SERIAL, &ur());
        key.0[3] ^= 1;
        assert_eq!(verify(SERIAL, &key), Err(LicenseError::Invalid { serial: SERIAL.into() }));
    }

    #[test]
    fn key_with_edited_features_is_invalid() {
        let mut key = generate_key(SERIAL, &ur());
        key.0[0] ^= 0x0000_00ff; // more contexts
        assert_eq!(verify(SERIAL, &key), Err(LicenseError::Invalid { serial: SERIAL.into() }));
    }

    #[test]
    fn license_kind_names_parse() {
        for k in LicenseKind::ALL {
            assert_eq!(LicenseKind::parse(k.as_str()), Some(k));
            assert_eq!(LicenseKind::from_code(k.code()), Some(k));
        }
        assert_eq!(LicenseKind::parse("fo-aa"), Some(LicenseKind::FailoverOnlyActiveActive));
        assert_eq!(LicenseKind::parse("XL"), None);
    }

    #[test]
    fn flash_fits_up_to_its_size() {
        assert_eq!(check_flash_fits(10, 10), Ok(()));
        let err = check_flash_fits(11, 10).unwrap_err();
        assert_eq!(err.syslog_id(), 105_022);
        assert!(err.to_string().contains("flash too small"), "{err}");
    }
}
