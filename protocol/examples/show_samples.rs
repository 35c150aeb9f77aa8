//! Writes the output of every `show` command, on both units, for a few
//! states of a two-group, three-context pair, to `DIR/<sample>/<unit>/<command>.txt`:
//!
//! ```text
//! cargo run -p fover-protocol --example show_samples -- target/show-samples
//! python3 tools/textfsm_check.py target/show-samples
//! ```
//!
//! The samples (see [`samples`]): `steady` (group 1 active on the primary,
//! group 2 on the secondary), `both_on_primary` (`failover active group 2` on
//! the primary), `failed_group` (a group 1 interface down on the primary:
//! group 1 is Failed there and active on the secondary) and `peer_down` (the
//! secondary powered off). `protocol/tests/show_golden.rs` uses the same
//! pair for its goldens.

#![allow(dead_code)] // also compiled into protocol/tests/show_golden.rs, which uses part of it

use core::time::Duration;
use fover_protocol::config::command::Command;
use fover_protocol::config::license::{Features, License, LicenseKind, generate_key};
use fover_protocol::config::settings::{ContextConfig, InterfaceConfig, StateLink, UnitConfig};
use fover_protocol::show::{DeviceInfo, SHOW_COMMANDS};
use fover_protocol::testing::Pair;
use fover_protocol::types::{Group, Role};
use fover_protocol::unit::IfaceId;
use std::path::Path;

/// Contexts and their groups: `admin` and `ctx1` in group 1, `ctx2` in group 2.
pub const CONTEXTS: [(&str, Group); 3] = [("admin", Group::One), ("ctx1", Group::One), ("ctx2", Group::Two)];

/// The pair's configurations: the contexts above with an `inside` and an
/// `outside` interface each, unit polltime 200 ms and holdtime 800 ms, the
/// default interface times (5 s, 25 s), a shared state link, group 1 with
/// `preempt` and `replication http`.
pub fn configs() -> (UnitConfig, UnitConfig) {
    let mut c = UnitConfig {
        unit_polltime: Duration::from_millis(200),
        unit_holdtime: Duration::from_millis(800),
        state_link: StateLink::SharedWithFailover,
        contexts: CONTEXTS.iter().map(|(name, group)| ContextConfig { name: (*name).into(), group: *group }).collect(),
        ..UnitConfig::default()
    };
    for (context, _) in CONTEXTS {
        for name in ["outside", "inside"] {
            c.interfaces.push(InterfaceConfig { context: context.into(), name: name.into(), monitored: true });
        }
    }
    c.groups[0].preempt_delay = Some(Duration::ZERO);
    c.groups[0].replication_http = true;
    (UnitConfig { role: Role::Primary, ..c.clone() }, UnitConfig { role: Role::Secondary, ..c })
}

/// What each unit's flash and hardware would say: a serial number, a license
/// (UR on the primary, FO_AA on the secondary) and its activation key, and
/// numbered interface addresses.
pub fn device(role: Role) -> DeviceInfo {
    let (serial, kind) = match role {
        Role::Primary => ("JMX1234P001", LicenseKind::Unrestricted),
        Role::Secondary => ("JMX1234S002", LicenseKind::FailoverOnlyActiveActive),
    };
    let license = License { kind, features: Features { contexts: 20, vpn_peers: 750 } };
    DeviceInfo {
        hostname: format!("fw-{}", role.as_lower()),
        serial: Some(serial.into()),
        license,
        activation_key: Some(generate_key(serial, &license)),
        ..DeviceInfo::numbered(CONTEXTS.len() * 2)
    }
}

/// The pair booted together and run to a steady state (one minute: every
/// interface has been tested).
pub fn steady() -> Pair {
    let (p, s) = configs();
    let mut pair = Pair::new(p, s);
    pair.run_for(Duration::from_secs(60));
    pair
}

/// Every sample: its name and the pair in that state.
pub fn samples() -> Vec<(&'static str, Pair)> {
    let mut out = vec![("steady", steady())];

    let mut pair = steady();
    pair.command(Role::Primary, Command::FailoverActive(Some(Group::Two))).expect("failover active group 2");
    pair.run_for(Duration::from_secs(5));
    out.push(("both_on_primary", pair));

    let mut pair = steady();
    pair.set_interface_link(Role::Primary, IfaceId(0), false);
    pair.run_for(Duration::from_secs(10));
    out.push(("failed_group", pair));

    let mut pair = steady();
    pair.power_off(Role::Secondary);
    pair.run_for(Duration::from_secs(5));
    out.push(("peer_down", pair));
    out
}

/// A file name for a command: `show failover state` → `show_failover_state`.
pub fn slug(command: &str) -> String {
    command.replace([' ', '-'], "_")
}

/// Every show command's output on a powered unit of `pair`.
pub fn outputs(pair: &Pair, role: Role) -> Vec<(&'static str, String)> {
    let unit = pair.unit(role).expect("the unit is powered");
    let now = pair.local_now(role);
    let device = device(role);
    SHOW_COMMANDS.iter().map(|c| (*c, unit.show_with(now, c, &device).unwrap_or_else(|e| panic!("{c}: {e}")))).collect()
}

fn main() -> std::io::Result<()> {
    let dir = std::env::args().nth(1).unwrap_or_else(|| "target/show-samples".into());
    let dir = Path::new(&dir);
    for (name, pair) in samples() {
        for role in [Role::Primary, Role::Secondary] {
            if !pair.is_powered(role) {
                continue;
            }
            let unit_dir = dir.join(name).join(role.as_lower());
            std::fs::create_dir_all(&unit_dir)?;
            for (command, text) in outputs(&pair, role) {
                std::fs::write(unit_dir.join(format!("{}.txt", slug(command))), text)?;
            }
        }
    }
    println!("wrote the show samples to {}", dir.display());
    Ok(())
}
