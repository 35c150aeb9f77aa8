//! Licenses, activation keys and the pairing checks of PROTOCOL.md section 9.

use fover_protocol::config::license::{
    ActivationKey, ContextMode, FailoverAddressing, FailoverMode, Features, FirewallMode, License, LicenseError,
    LicenseKind, LicenseRule, PairingInfo, PairingRefusal, Side, check_flash_fits, check_pairing, generate_key,
    generate_key_bytes, parse_and_verify, verify,
};
use fover_protocol::types::SoftwareVersion;
use std::collections::BTreeMap;

#[path = "support/rng.rs"]
mod common;
use common::Rng;

const SERIAL: &str = "JMX1234L0AB";
const OTHER_SERIAL: &str = "JMX5678L0CD";
const FEATURES: Features = Features { contexts: 20, vpn_peers: 750 };

fn license(kind: LicenseKind) -> License {
    License { kind, features: FEATURES }
}

/// An ASA5520 in multiple context, routed mode, Active/Active, 7.2(4), UR.
fn unit() -> PairingInfo {
    PairingInfo {
        model: "ASA5520".into(),
        interfaces: BTreeMap::from([("GigabitEthernet".into(), 4), ("Management".into(), 1)]),
        ram_mb: 512,
        flash_bytes: 64 << 20,
        firewall_mode: FirewallMode::Routed,
        context_mode: ContextMode::Multiple,
        failover_mode: FailoverMode::ActiveActive,
        version: SoftwareVersion { major: 7, minor: 2, patch: 4 },
        license: license(LicenseKind::Unrestricted),
        failover_addressing: FailoverAddressing::default(),
    }
}

fn with(f: impl FnOnce(&mut PairingInfo)) -> PairingInfo {
    let mut u = unit();
    f(&mut u);
    u
}

// ---- Activation keys ----

#[test]
fn activation_key_valid_for_its_serial_gives_its_license() {
    for kind in LicenseKind::ALL {
        let key = generate_key(SERIAL, &license(kind));
        assert_eq!(parse_and_verify(SERIAL, &format!("activation-key {key}")), Ok(license(kind)), "{kind}");
    }
}

#[test]
fn activation_key_for_another_serial_is_refused() {
    let key = generate_key(OTHER_SERIAL, &license(LicenseKind::Unrestricted));
    let err = parse_and_verify(SERIAL, &key.to_string()).unwrap_err();
    assert_eq!(err, LicenseError::OtherSerial { serial: SERIAL.into() });
    assert!(err.to_string().contains("another unit"), "{err}");
}

#[test]
fn activation_key_never_verifies_on_any_other_of_many_serials() {
    let serials: Vec<String> = (0..200).map(|i| format!("JMX{i:04}L0AB")).collect();
    let keys: Vec<ActivationKey> =
        serials.iter().map(|s| generate_key(s, &license(LicenseKind::Unrestricted))).collect();
    let mut other_serial = 0;
    for (i, key) in keys.iter().enumerate() {
        for (j, serial) in serials.iter().enumerate() {
            match verify(serial, key) {
                Ok(_) => assert_eq!(i, j, "key of {} verified on {serial}", serials[i]),
                Err(LicenseError::OtherSerial { .. }) => other_serial += 1,
                Err(LicenseError::Invalid { .. }) => {} // the rare fingerprint collision still fails the tag
                Err(e) => panic!("unexpected {e}"),
            }
        }
    }
    // Fingerprints are 16 bits: nearly every cross pair says "another unit".
    assert!(other_serial >= 200 * 199 - 10, "{other_serial}");
}

#[test]
fn activation_key_malformed_texts_are_typed_errors() {
    let key = generate_key(SERIAL, &license(LicenseKind::Unrestricted)).to_string();
    let three_words: String = key.split(' ').take(3).collect::<Vec<_>>().join(" ");
    for text in [
        "",
        "activation-key",
        three_words.as_str(),
        "0x1 0x2 0x3 0x4 0x5",
        "0x1 0x2 0x3 0xZZ",
        "0x1 0x2 0x3 0x123456789",
        "0x 0x2 0x3 0x4",
        "0x1 0x2 0x3 -0x4",
        "0x1 0x2 0x3 +4",
        "activation-key 0x1\u{00e9} 0x2 0x3 0x4",
    ] {
        match parse_and_verify(SERIAL, text) {
            Err(LicenseError::Malformed { reason }) => assert!(!reason.is_empty()),
            other => panic!("{text:?} gave {other:?}"),
        }
    }
}

#[test]
fn activation_key_with_unknown_features_is_refused_after_its_signature_checks() {
    let cases: [([u8; 6], &str); 4] = [
        ([1, 9, 0, 20, 0, 100], "license kind code 9"),
        ([2, 1, 0, 20, 0, 100], "key scheme version 2"),
        ([1, 1, 0x01, 0x00, 0, 100], "256 security contexts"),
        ([1, 1, 0, 20, 0xff, 0xff], "65535 VPN peers"),
    ];
    for (features, detail) in cases {
        let key = generate_key_bytes(SERIAL, features);
        match verify(SERIAL, &key) {
            Err(LicenseError::UnknownFeatures { detail: d }) => assert!(d.contains(detail), "{d} vs {detail}"),
            other => panic!("{features:?} gave {other:?}"),
        }
        // The same bytes for another serial: the serial check comes first.
        assert!(matches!(verify(OTHER_SERIAL, &key), Err(LicenseError::OtherSerial { .. })));
    }
}

#[test]
fn activation_key_parser_never_panics_on_arbitrary_text() {
    let alphabet: Vec<char> = "0123456789abcdefxX ABCDEF-+\t\u{00e9}\u{0}".chars().collect();
    let words = ["activation-key", "0x", "0xffffffff", "0x1a2b3c4d"];
    let mut rng = Rng(0x5eed);
    for _ in 0..20_000 {
        let mut text = String::new();
        for _ in 0..rng.below(8) {
            if rng.below(3) == 0 {
                text.push_str(words[rng.index(words.len())]);
            }
            for _ in 0..rng.below(10) {
                text.push(alphabet[rng.index(alphabet.len())]);
            }
        }
        let _ = parse_and_verify(SERIAL, &text);
    }
}

#[test]
fn base_license_is_restricted() {
    assert_eq!(License::BASE.kind, LicenseKind::Restricted);
}

// ---- Pairing: licenses, all 16 combinations ----

#[test]
fn pairing_license_table_active_active_all_sixteen_pairs() {
    use LicenseKind::{FailoverOnly as FO, FailoverOnlyActiveActive as FOAA, Restricted as R, Unrestricted as UR};
    use LicenseRule::RestrictedNeverFailsOver as NoFailover;
    use LicenseRule::{FailoverOnlyIsActiveStandby as ActiveStandbyOnly, NeedsOneUnrestricted as NeedsUr};
    // (this unit, mate, expected refusal)
    let table: [(LicenseKind, LicenseKind, Option<LicenseRule>); 16] = [
        (UR, UR, None),
        (UR, R, Some(NoFailover)),
        (UR, FO, Some(ActiveStandbyOnly)),
        (UR, FOAA, None),
        (R, UR, Some(NoFailover)),
        (R, R, Some(NoFailover)),
        (R, FO, Some(NoFailover)),
        (R, FOAA, Some(NoFailover)),
        (FO, UR, Some(ActiveStandbyOnly)),
        (FO, R, Some(NoFailover)),
        (FO, FO, Some(ActiveStandbyOnly)),
        (FO, FOAA, Some(ActiveStandbyOnly)),
        (FOAA, UR, None),
        (FOAA, R, Some(NoFailover)),
        (FOAA, FO, Some(ActiveStandbyOnly)),
        (FOAA, FOAA, Some(NeedsUr)),
    ];
    for (ours, mate, expected) in table {
        let local = with(|u| u.license = license(ours));
        let peer = with(|u| u.license = license(mate));
        let got = check_pairing(&local, &peer);
        match expected {
            None => assert_eq!(got, Ok(()), "{ours} with {mate}"),
            Some(rule) => {
                assert_eq!(got, Err(PairingRefusal::License { mate, ours, rule }), "{ours} with {mate}");
                assert_eq!(got.unwrap_err().syslog_id(), 105_045);
            }
        }
    }
}

#[test]
fn pairing_license_table_active_standby() {
    use LicenseKind::{FailoverOnly as FO, FailoverOnlyActiveActive as FOAA, Restricted as R, Unrestricted as UR};
    let table = [
        (UR, UR, true),
        (UR, FO, true),
        (FO, UR, true),
        (UR, FOAA, true),
        (FO, FO, false),
        (FO, FOAA, false),
        (UR, R, false),
    ];
    for (ours, mate, ok) in table {
        let single = |u: &mut PairingInfo, k| {
            u.license = license(k);
            u.failover_mode = FailoverMode::ActiveStandby;
            u.context_mode = ContextMode::Single;
        };
        let local = with(|u| single(u, ours));
        let peer = with(|u| single(u, mate));
        assert_eq!(check_pairing(&local, &peer).is_ok(), ok, "{ours} with {mate}");
    }
}

#[test]
fn pairing_two_fo_aa_refusal_names_the_rule() {
    let fo_aa = with(|u| u.license = license(LicenseKind::FailoverOnlyActiveActive));
    let err = check_pairing(&fo_aa, &fo_aa).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Mate's license (FO_AA) and this unit's license (FO_AA) cannot pair: at least one unit must be Unrestricted"
    );
}

#[test]
fn pairing_licensed_features_must_match() {
    let peer = with(|u| u.license.features.contexts = 50);
    let err = check_pairing(&unit(), &peer).unwrap_err();
    assert!(matches!(err, PairingRefusal::Features { .. }));
    assert_eq!(err.syslog_id(), 105_045);
    assert!(err.to_string().contains("50 security contexts"), "{err}");
    let peer = with(|u| u.license.features.vpn_peers = 5_000);
    assert!(matches!(check_pairing(&unit(), &peer), Err(PairingRefusal::Features { .. })));
}

// ---- Pairing: hardware, modes, versions, addresses ----

#[test]
fn pairing_identical_units_pair() {
    assert_eq!(check_pairing(&unit(), &unit()), Ok(()));
}

#[test]
fn pairing_different_model_is_refused() {
    let err = check_pairing(&unit(), &with(|u| u.model = "ASA5540".into())).unwrap_err();
    assert_eq!(err, PairingRefusal::Model { mate: "ASA5540".into(), ours: "ASA5520".into() });
    assert_eq!(err.syslog_id(), 105_046);
}

#[test]
fn pairing_different_interface_count_is_refused() {
    let peer = with(|u| {
        u.interfaces.insert("GigabitEthernet".into(), 6);
    });
    let err = check_pairing(&unit(), &peer).unwrap_err();
    assert_eq!(err, PairingRefusal::InterfaceCount { mate: 7, ours: 5 });
    assert_eq!(err.syslog_id(), 105_038);
}

#[test]
fn pairing_same_count_of_different_interface_types_is_refused() {
    let peer = with(|u| {
        u.interfaces.remove("Management");
        u.interfaces.insert("Ethernet".into(), 1);
    });
    let err = check_pairing(&unit(), &peer).unwrap_err();
    assert!(matches!(err, PairingRefusal::InterfaceTypes { .. }), "{err}");
    assert_eq!(err.syslog_id(), 105_047);
    assert!(err.to_string().contains("1 Ethernet"), "{err}");
}

#[test]
fn pairing_different_ram_is_refused_with_a_fover_syslog_id() {
    let err = check_pairing(&unit(), &with(|u| u.ram_mb = 1024)).unwrap_err();
    assert_eq!(err, PairingRefusal::Ram { mate_mb: 1024, ours_mb: 512 });
    assert_eq!(err.syslog_id(), 990_001);
}

#[test]
fn pairing_different_flash_size_still_pairs() {
    assert_eq!(check_pairing(&unit(), &with(|u| u.flash_bytes = 16 << 20)), Ok(()));
}

#[test]
fn pairing_different_modes_are_refused() {
    for peer in [
        with(|u| u.firewall_mode = FirewallMode::Transparent),
        with(|u| u.context_mode = ContextMode::Single),
        with(|u| u.failover_mode = FailoverMode::ActiveStandby),
    ] {
        let err = check_pairing(&unit(), &peer).unwrap_err();
        assert!(matches!(err, PairingRefusal::Mode { .. }), "{err}");
        assert_eq!(err.syslog_id(), 105_044);
    }
    let err = check_pairing(&unit(), &with(|u| u.firewall_mode = FirewallMode::Transparent)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Mate operational mode (transparent, multiple context, Active/Active) is not compatible with my mode \
         (routed, multiple context, Active/Active)"
    );
}

#[test]
fn pairing_active_active_in_single_context_mode_is_refused() {
    let single = with(|u| u.context_mode = ContextMode::Single);
    let err = check_pairing(&single, &single).unwrap_err();
    assert_eq!(err, PairingRefusal::ActiveActiveNeedsMultipleContext { side: Side::ThisUnit });
    assert_eq!(err.syslog_id(), 990_003);
}

#[test]
fn pairing_patch_versions_may_differ() {
    let peer = with(|u| u.version.patch = 9);
    assert_eq!(check_pairing(&unit(), &peer), Ok(()));
}

#[test]
fn pairing_different_minor_or_major_version_is_refused() {
    for version in [SoftwareVersion { major: 7, minor: 1, patch: 4 }, SoftwareVersion { major: 8, minor: 2, patch: 4 }]
    {
        let err = check_pairing(&unit(), &with(|u| u.version = version)).unwrap_err();
        assert_eq!(err, PairingRefusal::Version { mate: version, ours: unit().version });
        assert_eq!(err.syslog_id(), 105_040);
        assert!(err.to_string().contains("major and minor versions must match"), "{err}");
    }
}

#[test]
fn pairing_dhcp_pppoe_or_ipv6_on_a_failover_interface_is_refused() {
    let cases = [
        (FailoverAddressing { dhcp: true, ..Default::default() }, "DHCP"),
        (FailoverAddressing { pppoe: true, ..Default::default() }, "PPPoE"),
        (FailoverAddressing { ipv6: true, ..Default::default() }, "IPv6"),
    ];
    for (addressing, kind) in cases {
        let odd = with(|u| u.failover_addressing = addressing);
        let err = check_pairing(&unit(), &odd).unwrap_err();
        assert_eq!(err, PairingRefusal::FailoverAddressing { side: Side::Mate, kind });
        assert_eq!(err.syslog_id(), 990_002);
        let err = check_pairing(&odd, &unit()).unwrap_err();
        assert_eq!(err, PairingRefusal::FailoverAddressing { side: Side::ThisUnit, kind });
        assert!(err.to_string().contains(kind), "{err}");
    }
}

#[test]
fn pairing_sync_that_does_not_fit_the_flash_fails_with_a_message() {
    assert_eq!(check_flash_fits(1_000, 1_000), Ok(()));
    let err = check_flash_fits(2_000, 1_000).unwrap_err();
    assert_eq!(err, PairingRefusal::FlashTooSmall { needed: 2_000, available: 1_000 });
    assert_eq!(
        err.to_string(),
        "Config replication failed with reason = flash too small: 2000 bytes needed, 1000 bytes of flash"
    );
}
