//! [fover] Both active after a heal (PROTOCOL.md section 7).

mod common;

use common::*;

/// heal: both active, same number of failed interfaces (the preferred unit keeps the group; the other goes standby through Cold Standby).
#[test]
fn heal_both_active_tie_preferred_unit_keeps_group() {
    heal_both_active_tie_preferred_keeps(None).unwrap();
}

/// heal: both active, the unit with fewer failed interfaces keeps the group (even if not preferred).
#[test]
fn heal_both_active_fewer_failed_interfaces_keeps_group() {
    heal_both_active_fewer_failed_keeps(None).unwrap();
}

/// heal: the failover link alone heals (data links still cut): resolved as well.
#[test]
fn heal_failover_link_only_resolves_both_active() {
    let mut pair = settled(1, None, |_| {}).unwrap();
    split(&mut pair).unwrap();
    pair.heal_both(fover_protocol::unit::Link::Failover);
    pair.run_for(secs(1));
    expect_placement(&pair, "after the failover link healed", Some(P), Some(S)).unwrap();
}
