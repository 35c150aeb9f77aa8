//! Real mode: the same driver on real tokio, two units on loopback UDP. They
//! elect (each group active on its preferred unit) and, when one is stopped,
//! the other takes over every group. Bounded: a few seconds of wall time.
#![cfg(not(madsim))]

use fover_protocol::driver::{self, Addressing, Control, RealHooks, RuntimeClock};
use fover_protocol::types::{Group, GroupState};
use fover_protocol::{Instant, Unit};
use fover_sim::pair::{self, PairSpec};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

async fn states(ctl: &mpsc::UnboundedSender<Control>) -> [GroupState; 2] {
    let (tx, rx) = oneshot::channel();
    let f = move |u: &mut Unit, _now: Instant| {
        let _ = tx.send([u.group(Group::One).state(), u.group(Group::Two).state()]);
    };
    ctl.send(Control::With(Box::new(f))).expect("driver running");
    rx.await.expect("driver answered")
}

#[tokio::test(flavor = "current_thread")]
async fn real_mode_two_units_on_loopback_elect_and_fail_over() {
    let configs = pair::unit_configs(&PairSpec::default(), &[], &[]).unwrap();
    let lo = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let base = 40_000 + (std::process::id() % 2_000) as u16 * 10;
    let ports = [base, base + 5_000];
    let mut controls = Vec::new();
    let mut tasks = Vec::new();
    for (i, cfg) in configs.into_iter().enumerate() {
        let unit = Unit::new(cfg, 0x1000 + i as u64, Instant::ZERO).unwrap();
        let addressing =
            Addressing { local_ip: lo, peer_ip: lo, local_base_port: ports[i], peer_base_port: ports[1 - i] };
        let (tx, rx) = mpsc::unbounded_channel();
        let hooks = RealHooks { verbose: false, name: format!("unit{i}") };
        tasks.push(tokio::spawn(driver::run(unit, addressing, Arc::new(RuntimeClock::new()), hooks, rx)));
        controls.push(tx);
    }
    // Simultaneous boot: each group on its preferred unit (group 1 primary, group 2 secondary).
    let mut elected = false;
    for _ in 0..40 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let (p, s) = (states(&controls[0]).await, states(&controls[1]).await);
        if p == [GroupState::Active, GroupState::StandbyReady] && s == [GroupState::StandbyReady, GroupState::Active] {
            elected = true;
            break;
        }
    }
    assert!(
        elected,
        "no election within 4 s: primary {:?}, secondary {:?}",
        states(&controls[0]).await,
        states(&controls[1]).await
    );
    // Stop the primary: the secondary takes over group 1 within the holdtime and a bit.
    controls[0].send(Control::Shutdown).unwrap();
    let mut took_over = false;
    for _ in 0..40 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if states(&controls[1]).await.iter().all(|s| s.is_active()) {
            took_over = true;
            break;
        }
    }
    assert!(took_over, "the secondary did not take over: {:?}", states(&controls[1]).await);
    controls[1].send(Control::Shutdown).unwrap();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
}
