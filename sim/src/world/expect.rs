//! `expect` steps of a scenario file: each key checked against the world as
//! the checkers see it, with what was observed; a failed one is a violation.

use super::{Core, ExpectResult};
use crate::schedule::{ActiveOn, Expect, OnOff, Step, UnitName};
use fover_protocol::types::{Group, GroupState};
use fover_traces::Event as TEvent;
use std::collections::BTreeSet;

impl Core {
    /// The unit whose connections an expectation needs (`connections_survived`):
    /// the unit active for the context's group, and the context.
    pub(super) fn expect_carrier(&self, e: &Expect) -> Option<(UnitName, String)> {
        e.connections_survived?;
        let context = e.context.clone()?;
        let g = self.traffic.group_of(&context)?;
        self.traffic.carrier(g).map(|(u, _)| (u, context))
    }

    /// Checks an expectation; `known`: the connection ids of its context that
    /// the unit of [`Core::expect_carrier`] holds.
    pub(super) fn check_expect_with(&mut self, t_ns: u64, e: &Expect, known: Option<(UnitName, BTreeSet<u64>)>) {
        let mut failures = Vec::new();
        let mut observed = Vec::new();
        let mut described = Vec::new();
        let units = UnitName::BOTH;
        if let Some(gid) = e.group {
            let Some(group) = Group::from_code(gid) else {
                failures.push(format!("group {gid} does not exist"));
                return self.push_expect(t_ns, e, failures, observed, described);
            };
            let g = group.index();
            let states: Vec<GroupState> = self.views.iter().map(|v| v.states[g]).collect();
            let powered: Vec<bool> = self.views.iter().map(|v| v.powered).collect();
            let show = |u: usize| if powered[u] { states[u].as_str() } else { "powered off" };
            observed.push(format!("group {gid}: primary {}, secondary {}", show(0), show(1)));
            if let Some(active) = e.active {
                described.push(format!("group {gid} active on {active:?}").to_lowercase());
                let on: Vec<bool> = self.views.iter().map(|v| v.active(group)).collect();
                let got = match (on[0], on[1]) {
                    (true, true) => ActiveOn::Both,
                    (true, false) => ActiveOn::Primary,
                    (false, true) => ActiveOn::Secondary,
                    (false, false) => ActiveOn::None,
                };
                if got != active {
                    failures.push(format!("expected group {gid} active on {active:?}, got {got:?}").to_lowercase());
                }
            }
            if let Some(st) = &e.state {
                for (u, want) in [(0, st.primary), (1, st.secondary)] {
                    if let Some(want) = want {
                        described.push(format!("group {gid} {} on the {}", want, units[u]));
                        if !powered[u] || states[u] != want {
                            failures.push(format!("expected group {gid} {want} on the {}, got {}", units[u], show(u)));
                        }
                    }
                }
            }
        } else if e.active.is_some() || e.state.is_some() {
            failures.push("`active` and `state` need `group`".into());
        }
        if let Some(f) = e.failover {
            let targets: Vec<UnitName> = e.unit.map(|u| vec![u]).unwrap_or(units.to_vec());
            for u in targets {
                let on = self.views[u.index()].failover_on;
                described.push(format!("failover {f:?} on the {u}").to_lowercase());
                observed.push(format!("failover {} on the {u}", if on { "on" } else { "off" }));
                if on != (f == OnOff::On) {
                    failures.push(format!("expected failover {f:?} on the {u}").to_lowercase());
                }
            }
        }
        if let Some(want) = e.powered {
            let targets: Vec<UnitName> = e.unit.map(|u| vec![u]).unwrap_or(units.to_vec());
            let word = |on: bool| if on { "powered" } else { "powered off" };
            for u in targets {
                let on = self.views[u.index()].powered;
                // Why it is off tells a power-off apart from a unit that never booted.
                let now = match (&self.down_why[u.index()], on) {
                    (_, true) => word(true).to_owned(),
                    (Some(why), false) => format!("powered off ({why})"),
                    (None, false) => "powered off (never booted)".to_owned(),
                };
                described.push(format!("the {u} {}", word(want)));
                observed.push(format!("the {u} {now}"));
                if on != want {
                    failures.push(format!("expected the {u} {}, it is {now}", word(want)));
                }
            }
        }
        if let Some(id) = e.syslog {
            let targets: Vec<UnitName> = e.unit.map(|u| vec![u]).unwrap_or(units.to_vec());
            for u in targets {
                described.push(format!("syslog {id} logged on the {u}"));
                let seen = self.syslog_seen[u.index()].get(&id).is_some_and(|&at| at <= t_ns);
                observed.push(format!("syslog {id} on the {u}: {}", if seen { "logged" } else { "not logged" }));
                if !seen {
                    failures.push(format!("syslog {id} was not logged on the {u}"));
                }
            }
        }
        self.check_expect_config(e, &mut failures, &mut observed, &mut described);
        if e.pairing.is_some() || e.reason.is_some() {
            self.check_expect_pairing(e, &mut failures, &mut observed, &mut described);
        }
        if let Some(want) = e.connections_survived {
            self.check_expect_connections(e, want, known, &mut failures, &mut observed, &mut described);
        }
        self.push_expect(t_ns, e, failures, observed, described);
    }

    /// `connections_survived`: every connection opened in the context and not
    /// closed is known to the unit active for the context's group (none was
    /// lost at a failover).
    fn check_expect_connections(
        &self,
        e: &Expect,
        want: bool,
        known: Option<(UnitName, BTreeSet<u64>)>,
        failures: &mut Vec<String>,
        observed: &mut Vec<String>,
        described: &mut Vec<String>,
    ) {
        let Some(context) = e.context.as_deref() else {
            failures.push("`connections_survived` needs `context`".into());
            return;
        };
        described.push(format!("connections in {context} {}", if want { "survived" } else { "did not all survive" }));
        let (open, lost) = self.traffic.in_context(context);
        let total = open.len() as u64 + lost;
        if total == 0 {
            failures.push(format!("no connection was opened in {context} (and left open): nothing to survive"));
            return;
        }
        let got = match known {
            None => {
                observed.push(format!("{total} connections in {context}; no unit is active for its group"));
                false
            }
            Some((unit, ids)) => {
                let held = open.iter().filter(|c| ids.contains(&c.id)).count() as u64;
                let reset = if lost == 0 { String::new() } else { format!(" ({lost} found reset by their clients)") };
                observed.push(format!(
                    "{total} connections in {context}: {held} known on the {unit} (active), {} not{reset}",
                    total - held
                ));
                held == total
            }
        };
        if got != want {
            failures.push(format!(
                "expected the connections in {context} to {}survive: {}",
                if want { "" } else { "not all " },
                observed.last().map(String::as_str).unwrap_or("")
            ));
        }
    }

    /// `pairing = "refused" | "ok"` and `reason` (a word the refusal names):
    /// of `unit`, or of either unit when none is named.
    fn check_expect_pairing(
        &self,
        e: &Expect,
        failures: &mut Vec<String>,
        observed: &mut Vec<String>,
        described: &mut Vec<String>,
    ) {
        let targets: Vec<UnitName> = e.unit.map(|u| vec![u]).unwrap_or(UnitName::BOTH.to_vec());
        let refusals: Vec<(UnitName, &str)> = targets
            .iter()
            .filter(|u| self.views[u.index()].pairing_refused)
            .filter_map(|u| self.pairing_refusal[u.index()].as_deref().map(|r| (*u, r)))
            .collect();
        for (u, r) in &refusals {
            observed.push(format!("the {u} refused to pair: {r}"));
        }
        if refusals.is_empty() {
            observed.push("no refusal to pair".into());
        }
        match e.pairing.as_deref() {
            Some("refused") => {
                described.push("pairing refused".into());
                if refusals.is_empty() {
                    failures.push("expected a refusal to pair, and there is none".into());
                }
            }
            Some("ok") => {
                described.push("pairing accepted".into());
                if !refusals.is_empty() {
                    failures.push("expected the units to pair, and pairing was refused".into());
                }
            }
            Some(other) => failures.push(format!("pairing = {other:?}: expected \"refused\" or \"ok\"")),
            None => {}
        }
        if let Some(word) = &e.reason {
            described.push(format!("the refusal names {word:?}"));
            let named = refusals.iter().any(|(_, r)| r.to_lowercase().contains(&word.to_lowercase()));
            if !named {
                failures.push(format!("no refusal to pair names {word:?}"));
            }
        }
    }

    /// The configuration keys of an `expect` step.
    fn check_expect_config(
        &self,
        e: &Expect,
        failures: &mut Vec<String>,
        observed: &mut Vec<String>,
        described: &mut Vec<String>,
    ) {
        let units = UnitName::BOTH;
        let targets: Vec<UnitName> = e.unit.map(|u| vec![u]).unwrap_or(units.to_vec());
        let space = match e.context.as_deref() {
            None | Some("system") => fover_protocol::types::Space::System,
            Some(c) => fover_protocol::types::Space::Context(c.to_owned()),
        };
        for (line, want) in [(&e.config_has, true), (&e.config_lacks, false)] {
            let Some(line) = line else { continue };
            for u in &targets {
                let verb = if want { "has" } else { "lacks" };
                described.push(format!("the {u}'s running config of {space} {verb} {line:?}"));
                let Some(running) = self.running[u.index()].as_ref().filter(|_| self.views[u.index()].powered) else {
                    failures.push(format!("the {u} is powered off: its running config cannot be read"));
                    continue;
                };
                let text = running.render(&space).unwrap_or_default();
                let has = text.lines().any(|l| l.trim() == line.trim());
                observed.push(format!("the {u}'s running config of {space} {} it", if has { "has" } else { "lacks" }));
                if has != want {
                    failures.push(format!(
                        "expected the {u}'s running config of {space} to {} {line:?}",
                        if want { "have" } else { "lack" }
                    ));
                }
            }
        }
        if let Some(want) = e.config_in_sync {
            described.push(format!("running configs {}in sync", if want { "" } else { "not " }));
            let [p, s] = &self.views;
            if !(p.powered && s.powered) {
                failures.push("config_in_sync needs both units powered".into());
            } else {
                let same = p.config_digest == s.config_digest;
                observed.push(format!(
                    "running configs {} (digest {:08x} on the primary, {:08x} on the secondary)",
                    if same { "equal" } else { "differ" },
                    p.config_digest,
                    s.config_digest
                ));
                if same != want {
                    failures.push(format!("expected the running configs {}", if want { "equal" } else { "to differ" }));
                }
            }
        }
        if let Some(want) = e.saved_config_in_sync {
            described.push(format!("saved configs {}in sync", if want { "" } else { "not " }));
            let saved = |u: usize| self.flashes[u].boot().map_err(|err| err.to_string());
            match (saved(0), saved(1)) {
                (Ok(p), Ok(s)) => {
                    let same = p.eq_ignoring_bootstrap(&s);
                    observed.push(format!("saved configs {}", if same { "equal" } else { "differ" }));
                    if same != want {
                        failures
                            .push(format!("expected the saved configs {}", if want { "equal" } else { "to differ" }));
                    }
                }
                (Err(err), _) | (_, Err(err)) => failures.push(format!("a saved config does not load: {err}")),
            }
        }
    }

    fn push_expect(
        &mut self,
        t_ns: u64,
        e: &Expect,
        failures: Vec<String>,
        observed: Vec<String>,
        described: Vec<String>,
    ) {
        let pass = failures.is_empty();
        let description = if described.is_empty() { "expectation".into() } else { described.join(", ") };
        let observed = if pass { observed.join("; ") } else { failures.join("; ") };
        let step = serde_json::to_value(Step::Expect(e.clone())).unwrap_or_default();
        self.record(t_ns, TEvent::Expect { step, pass, observed: observed.clone() });
        self.checkers.expectation(t_ns, (!pass).then(|| format!("at {} ms: {description}: {observed}", e.at_ms)));
        self.expectations.push(ExpectResult { at_ms: e.at_ms, description, pass, observed });
    }
}
