//! The replication classifier of PROTOCOL.md section 6 and the [fover] sync refusal.

use fover_protocol::config::replication::{
    Classification, CommandKind, SyncDirection, SyncInProgress, admit, authority_group, check_sync, classify,
    command_kind, is_authoritative,
};
use fover_protocol::config::running::RunningConfig;
use fover_protocol::types::{Group, Space};

fn ctx(name: &str) -> Space {
    Space::Context(name.into())
}

#[test]
fn replication_not_replicated_commands_of_the_spec() {
    for line in [
        "show failover",
        "sh run",
        "show running-config all failover",
        "debug fover switch",
        "undebug all",
        "no debug all",
        "mode multiple",
        "mode single",
        "firewall transparent",
        "no firewall transparent",
        "failover lan unit primary",
        "failover lan unit secondary",
        "terminal pager 0",
        "term pager 24",
    ] {
        assert_eq!(classify(&Space::System, line, true), Classification::NotReplicated, "{line}");
        assert_eq!(classify(&Space::System, line, false), Classification::NotReplicated, "{line}");
    }
}

#[test]
fn replication_replicated_commands_of_the_spec() {
    let system = [
        "hostname fw1",
        "failover group 1",
        " preempt 30",
        "context ctx3",
        "failover polltime unit msec 200 holdtime msec 800",
        "failover key s3cret",
        "copy running-config startup-config",
        "copy /noconfirm run start",
        "write memory",
        "write memory all",
        "wr mem",
        "write",
        "write erase",
        "delete disk0:/old.cfg",
        "delete /noconfirm disk0:/old.cfg",
        "rename disk0:/a.cfg disk0:/b.cfg",
        "mkdir disk0:/backup",
        "rmdir disk0:/backup",
        "clear configure all",
    ];
    for line in system {
        assert_eq!(classify(&Space::System, line, true), Classification::Replicated, "{line}");
    }
    for line in [
        "access-list a extended permit ip any any",
        "interface inside",
        " nameif inside",
        "no monitor-interface outside",
    ] {
        assert_eq!(classify(&ctx("ctx2"), line, true), Classification::Replicated, "{line}");
    }
}

#[test]
fn replication_exec_commands_and_local_actions_are_not_replicated() {
    let cases = [
        ("failover active group 1", CommandKind::Exec),
        ("no failover active group 2", CommandKind::Exec),
        ("failover reset", CommandKind::Exec),
        ("failover exec mate show version", CommandKind::Exec),
        ("changeto context ctx2", CommandKind::Exec),
        ("configure terminal", CommandKind::Exec),
        ("conf t", CommandKind::Exec),
        ("write terminal", CommandKind::Exec),
        ("ping 10.0.0.1", CommandKind::Exec),
        ("clear xlate", CommandKind::Exec),
        ("reload", CommandKind::Exec),
        ("write standby", CommandKind::WriteStandby),
        ("activation-key 0x1 0x2 0x3 0x4", CommandKind::LocalAction),
        ("copy tftp://10.0.0.9/asa.bin disk0:/asa.bin", CommandKind::LocalAction),
        ("copy running-config disk0:/backup.cfg", CommandKind::LocalAction),
        ("erase disk0:", CommandKind::LocalAction),
        ("", CommandKind::Empty),
        ("! comment", CommandKind::Empty),
    ];
    for (line, kind) in cases {
        assert_eq!(command_kind(line), kind, "{line}");
        assert_eq!(classify(&Space::System, line, true), Classification::NotReplicated, "{line}");
    }
}

#[test]
fn replication_command_on_the_non_authoritative_unit_is_local_and_marks_out_of_sync() {
    let Classification::LocalOnly { out_of_sync, warning } = classify(&ctx("ctx2"), "hostname web", false) else {
        panic!("expected LocalOnly");
    };
    assert!(out_of_sync);
    assert!(warning.starts_with("WARNING:"), "{warning}");
    assert!(warning.contains("context ctx2"), "{warning}");
    assert!(warning.contains("not replicated"), "{warning}");
    let Classification::LocalOnly { warning, .. } = classify(&Space::System, "hostname fw", false) else {
        panic!("expected LocalOnly");
    };
    assert!(warning.contains("the system space"), "{warning}");
}

#[test]
fn replication_file_command_on_the_non_authoritative_unit_runs_locally_without_marking_out_of_sync() {
    let c = classify(&Space::System, "write memory", false);
    assert!(matches!(c, Classification::LocalOnly { out_of_sync: false, .. }), "{c:?}");
}

#[test]
fn replication_authority_follows_group_one_for_system_and_admin() {
    let rc = RunningConfig::parse("context admin\ncontext ctx2\n join-failover-group 2\ncontext ctx3\n", []).unwrap();
    let groups = rc.context_groups();
    assert_eq!(authority_group(&Space::System, &groups), Group::One);
    assert_eq!(authority_group(&ctx("admin"), &groups), Group::One);
    assert_eq!(authority_group(&ctx("ctx2"), &groups), Group::Two);
    assert_eq!(authority_group(&ctx("ctx3"), &groups), Group::One);
    assert_eq!(authority_group(&ctx("unknown"), &groups), Group::One);

    // Group 1 active here, group 2 on the mate.
    let here = [Group::One];
    assert!(is_authoritative(&Space::System, &groups, &here));
    assert!(is_authoritative(&ctx("admin"), &groups, &here));
    assert!(!is_authoritative(&ctx("ctx2"), &groups, &here));
    // Group 2 active here only.
    let here = [Group::Two];
    assert!(!is_authoritative(&Space::System, &groups, &here));
    assert!(is_authoritative(&ctx("ctx2"), &groups, &here));
    // Both active here (mate failed); neither (both standby).
    assert!(is_authoritative(&ctx("ctx2"), &groups, &[Group::One, Group::Two]));
    assert!(!is_authoritative(&Space::System, &groups, &[]));
}

#[test]
fn replication_authority_with_a_renamed_admin_context() {
    let rc =
        RunningConfig::parse("admin-context main\ncontext main\ncontext other\n join-failover-group 2\n", []).unwrap();
    let groups = rc.context_groups();
    assert_eq!(authority_group(&ctx("main"), &groups), Group::One);
    assert!(!is_authoritative(&ctx("other"), &groups, &[Group::One]));
}

fn syncing(direction: SyncDirection) -> SyncInProgress {
    SyncInProgress { direction, lines_done: 120, lines_total: 480 }
}

#[test]
fn replication_configuration_commands_are_refused_during_a_full_sync() {
    for direction in [SyncDirection::Sending, SyncDirection::Receiving] {
        let sync = syncing(direction);
        for line in [
            "hostname fw2",
            "access-list a extended permit ip any any",
            "write memory",
            "failover lan unit secondary",
            "write standby",
            "activation-key 0x1 0x2 0x3 0x4",
        ] {
            let err = check_sync(line, Some(&sync)).unwrap_err();
            let text = err.to_string();
            assert!(text.contains("full configuration synchronisation is in progress"), "{text}");
            assert!(text.contains("120 of 480 lines"), "{text}");
            let end = match direction {
                SyncDirection::Sending => "retry after \"End Configuration Replication to mate.\"",
                SyncDirection::Receiving => "retry after \"End Configuration Replication from mate.\"",
            };
            assert!(text.contains(end), "{text}");
        }
        for line in ["show failover", "debug fover", "failover active group 2", "terminal pager 0", "ping 10.0.0.1"] {
            assert_eq!(check_sync(line, Some(&sync)), Ok(()), "{line}");
        }
    }
}

#[test]
fn replication_admit_applies_the_sync_rule_before_classifying() {
    let sync = syncing(SyncDirection::Receiving);
    assert!(admit(&Space::System, "hostname fw2", true, Some(&sync)).is_err());
    assert_eq!(admit(&Space::System, "hostname fw2", true, None), Ok(Classification::Replicated));
    assert_eq!(admit(&Space::System, "show version", false, Some(&sync)), Ok(Classification::NotReplicated));
}
