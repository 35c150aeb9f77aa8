//! A unit's flash: saves, power cycles, file commands, the license store and ROMMON ERASE.

use fover_protocol::config::flash::{FileCommand, Flash, FlashError};
use fover_protocol::config::license::{Features, License, LicenseError, LicenseKind, generate_key};
use fover_protocol::config::replication::{Classification, classify};
use fover_protocol::config::running::RunningConfig;
use fover_protocol::types::Space;

#[path = "support/rng.rs"]
mod common;
use common::Rng;

const SERIAL: &str = "JMX1234L0AB";
const MB: u64 = 1 << 20;

fn ctx(name: &str) -> Space {
    Space::Context(name.into())
}

fn running(role: &str) -> RunningConfig {
    let system = format!(
        "hostname fw\nfailover\nfailover lan unit {role}\nfailover key s3cret\ncontext admin\ncontext ctx2\n join-failover-group 2\n"
    );
    RunningConfig::parse(&system, [("admin", "hostname admin\n"), ("ctx2", "hostname ctx2\n")]).unwrap()
}

/// The harness keeps the flash value across a power cycle; the unit boots from it.
fn power_cycle(flash: &Flash) -> (Flash, RunningConfig) {
    let kept = flash.clone();
    let running = kept.boot().unwrap();
    running.invariants();
    (kept, running)
}

#[test]
fn flash_write_memory_saves_the_current_space_only() {
    let mut rc = running("primary");
    let mut flash = Flash::new(64 * MB);
    flash.write_memory(&rc, &ctx("ctx2")).unwrap();
    assert_eq!(flash.startup(&ctx("ctx2")), Some(&["hostname ctx2".to_owned()][..]));
    assert_eq!(flash.startup(&Space::System), None);
    flash.write_memory(&rc, &Space::System).unwrap();
    rc.apply(&ctx("ctx2"), "hostname changed").unwrap();
    let (_, booted) = power_cycle(&flash);
    assert_eq!(booted.render(&ctx("ctx2")).unwrap(), "hostname ctx2\n", "unsaved change lost on reboot");
    assert_eq!(booted.render(&ctx("admin")).unwrap(), "", "admin was never saved: it boots empty");
}

#[test]
fn flash_write_memory_all_saves_system_and_every_context() {
    let rc = running("primary");
    let mut flash = Flash::new(64 * MB);
    flash.write_memory_all(&rc).unwrap();
    let (_, booted) = power_cycle(&flash);
    assert_eq!(booted, rc);
    // A context removed from the running config is dropped from flash at the next `write memory all`.
    let mut rc = rc;
    rc.apply(&Space::System, "no context ctx2").unwrap();
    flash.write_memory_all(&rc).unwrap();
    assert_eq!(flash.startup(&ctx("ctx2")), None);
    assert_eq!(power_cycle(&flash).1, rc);
}

#[test]
fn flash_copy_running_startup_is_write_memory() {
    let rc = running("primary");
    let (mut a, mut b) = (Flash::new(64 * MB), Flash::new(64 * MB));
    let copy = FileCommand::parse("copy running-config startup-config").unwrap().unwrap();
    let write = FileCommand::parse("write memory").unwrap().unwrap();
    a.execute(&copy, &rc, &ctx("admin")).unwrap();
    b.execute(&write, &rc, &ctx("admin")).unwrap();
    assert_eq!(a, b);
}

#[test]
fn flash_write_memory_all_is_a_system_space_command() {
    let rc = running("primary");
    let mut flash = Flash::new(64 * MB);
    let all = FileCommand::parse("write memory all").unwrap().unwrap();
    assert_eq!(flash.execute(&all, &rc, &ctx("ctx2")), Err(FlashError::AllOutsideSystem));
    assert_eq!(flash.execute(&all, &rc, &Space::System), Ok(()));
}

#[test]
fn flash_write_memory_of_an_unknown_context_fails() {
    let mut flash = Flash::new(64 * MB);
    let err = flash.write_memory(&running("primary"), &ctx("nope")).unwrap_err();
    assert_eq!(err, FlashError::NoSuchSpace { space: ctx("nope") });
}

#[test]
fn flash_save_that_does_not_fit_fails_and_changes_nothing() {
    let rc = running("primary");
    let mut flash = Flash::new(40);
    flash.write_memory(&rc, &ctx("ctx2")).unwrap(); // 14 bytes
    let before = flash.clone();
    let err = flash.write_memory_all(&rc).unwrap_err();
    assert!(matches!(err, FlashError::NoSpace { available: 40, .. }), "{err}");
    assert!(err.to_string().starts_with("flash too small:"), "{err}");
    assert_eq!(flash, before);
    assert!(matches!(flash.write_file("disk0:/big.bin", vec![0; 100]), Err(FlashError::NoSpace { .. })));
}

#[test]
fn flash_replicated_write_memory_leaves_both_units_with_the_same_saved_config() {
    // The command runs on the authoritative unit and, replicated, on the mate.
    assert_eq!(classify(&Space::System, "write memory all", true), Classification::Replicated);
    let (primary, secondary) = (running("primary"), running("secondary"));
    let (mut fa, mut fb) = (Flash::new(64 * MB), Flash::new(16 * MB));
    let cmd = FileCommand::parse("write memory all").unwrap().unwrap();
    fa.execute(&cmd, &primary, &Space::System).unwrap();
    fb.execute(&cmd, &secondary, &Space::System).unwrap();
    let (a, b) = (fa.boot().unwrap(), fb.boot().unwrap());
    assert!(a.eq_ignoring_bootstrap(&b));
    assert_ne!(a, b, "each keeps its own failover lan unit");
}

#[test]
fn flash_write_erase_erases_startup_configs_only() {
    let mut flash = Flash::new(64 * MB);
    flash.write_memory_all(&running("primary")).unwrap();
    flash.write_file("disk0:/asa.bin", vec![1, 2, 3]).unwrap();
    let key = generate_key(SERIAL, &ur()).to_string();
    flash.install_activation_key(SERIAL, &key).unwrap();
    flash.execute(&FileCommand::WriteErase, &RunningConfig::new(), &Space::System).unwrap();
    assert_eq!(flash.startup_spaces().count(), 0);
    assert_eq!(flash.file("disk0:/asa.bin"), Some(&[1u8, 2, 3][..]));
    assert_eq!(flash.license(SERIAL), ur());
}

#[test]
fn flash_file_commands_follow_directory_rules() {
    let rc = RunningConfig::new();
    let mut flash = Flash::new(64 * MB);
    let run = |flash: &mut Flash, line: &str| {
        let cmd = FileCommand::parse(line).unwrap().unwrap();
        flash.execute(&cmd, &rc, &Space::System)
    };
    assert_eq!(run(&mut flash, "mkdir disk0:/backup"), Ok(()));
    assert_eq!(run(&mut flash, "mkdir disk0:/backup"), Err(FlashError::AlreadyExists { path: "backup".into() }));
    flash.write_file("disk0:/backup/old.cfg", b"hostname old\n".to_vec()).unwrap();
    assert_eq!(run(&mut flash, "rmdir disk0:/backup"), Err(FlashError::DirectoryNotEmpty { path: "backup".into() }));
    assert_eq!(run(&mut flash, "rename disk0:/backup disk0:/archive"), Ok(()));
    assert_eq!(flash.file("flash:/archive/old.cfg"), Some(&b"hostname old\n"[..]));
    assert_eq!(run(&mut flash, "delete disk0:/archive"), Err(FlashError::IsADirectory { path: "archive".into() }));
    assert_eq!(run(&mut flash, "delete /noconfirm disk0:/archive/old.cfg"), Ok(()));
    assert_eq!(
        run(&mut flash, "delete disk0:/archive/old.cfg"),
        Err(FlashError::NotFound { path: "archive/old.cfg".into() })
    );
    assert_eq!(run(&mut flash, "rmdir disk0:/archive"), Ok(()));
    assert!(!flash.is_dir("disk0:/archive"));
    assert_eq!(run(&mut flash, "mkdir disk0:/a/b"), Err(FlashError::NotFound { path: "a".into() }));
    assert!(matches!(run(&mut flash, "delete disk0:/../etc"), Err(FlashError::BadPath { .. })));
}

#[test]
fn flash_file_command_parser_never_panics() {
    let words = [
        "write",
        "memory",
        "all",
        "copy",
        "run",
        "start",
        "delete",
        "rename",
        "mkdir",
        "rmdir",
        "/noconfirm",
        "disk0:/",
        "disk0:/a",
        "flash:b/c",
        "..",
        "\u{00e9}",
        "/",
        "wr",
        "mem",
        "erase",
        "",
    ];
    let mut rng = Rng(7);
    let rc = running("primary");
    let mut flash = Flash::new(MB);
    for _ in 0..20_000 {
        let line: Vec<&str> = (0..rng.below(5)).map(|_| words[rng.index(words.len())]).collect();
        if let Ok(Some(cmd)) = FileCommand::parse(&line.join(" ")) {
            let _ = flash.execute(&cmd, &rc, &Space::System);
        }
    }
}

fn ur() -> License {
    License { kind: LicenseKind::Unrestricted, features: Features { contexts: 20, vpn_peers: 750 } }
}

#[test]
fn flash_activation_key_survives_a_power_cycle() {
    let mut flash = Flash::new(64 * MB);
    assert_eq!(flash.license(SERIAL), License::BASE, "no key: base Restricted license");
    let key = generate_key(SERIAL, &ur()).to_string();
    assert_eq!(flash.install_activation_key(SERIAL, &format!("activation-key {key}")), Ok(ur()));
    let (kept, _) = power_cycle(&flash);
    assert_eq!(kept.license(SERIAL), ur());
    assert_eq!(kept.activation_key().map(|k| k.to_string()), Some(key));
}

#[test]
fn flash_activation_key_for_another_unit_is_not_stored() {
    let mut flash = Flash::new(64 * MB);
    let good = generate_key(SERIAL, &ur()).to_string();
    flash.install_activation_key(SERIAL, &good).unwrap();
    let other = generate_key("JMX9999Z9ZZ", &License { kind: LicenseKind::FailoverOnlyActiveActive, ..ur() });
    let err = flash.install_activation_key(SERIAL, &other.to_string()).unwrap_err();
    assert_eq!(err, LicenseError::OtherSerial { serial: SERIAL.into() });
    assert_eq!(flash.license(SERIAL), ur(), "the previous key stays");
    assert!(matches!(flash.install_activation_key(SERIAL, "0x12"), Err(LicenseError::Malformed { .. })));
}

#[test]
fn flash_moved_to_another_unit_gives_the_base_license() {
    let mut flash = Flash::new(64 * MB);
    flash.install_activation_key(SERIAL, &generate_key(SERIAL, &ur()).to_string()).unwrap();
    assert_eq!(flash.license("JMX0000A0AA"), License::BASE);
}

#[test]
fn flash_rommon_erase_loses_startup_config_files_and_activation_key() {
    let mut flash = Flash::new(64 * MB);
    flash.write_memory_all(&running("primary")).unwrap();
    flash.mkdir("disk0:/backup").unwrap();
    flash.install_activation_key(SERIAL, &generate_key(SERIAL, &ur()).to_string()).unwrap();
    flash.erase();
    let (kept, booted) = power_cycle(&flash);
    assert_eq!(booted, RunningConfig::new(), "boots with an empty config");
    assert_eq!(kept.activation_key(), None);
    assert_eq!(kept.license(SERIAL), License::BASE, "back to the base Restricted license until the key is entered");
    assert_eq!(kept.used_bytes(), 0);
    assert_eq!(kept.size_bytes(), 64 * MB);
    assert!(!kept.is_dir("disk0:/backup"));
}
