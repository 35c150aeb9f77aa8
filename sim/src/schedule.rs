//! A run as data: the pair's settings and a timed list of steps (boots, faults,
//! commands, expectations).
//!
//! The same types serve the seed-drawn schedules of the nemesis, the TOML
//! scenario files users write, the header of a trace (so a trace replays from
//! its schedule, not only its seed) and the shrinker (which edits the list).

use fover_protocol::types::{GroupState, Role};
use fover_protocol::wire::Kind;
use serde::{Deserialize, Serialize};
use std::fmt;

/// `"primary"` or `"secondary"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UnitName {
    Primary,
    Secondary,
}

impl UnitName {
    pub const BOTH: [UnitName; 2] = [UnitName::Primary, UnitName::Secondary];

    pub fn role(self) -> Role {
        match self {
            UnitName::Primary => Role::Primary,
            UnitName::Secondary => Role::Secondary,
        }
    }
    pub fn from_role(role: Role) -> UnitName {
        match role {
            Role::Primary => UnitName::Primary,
            Role::Secondary => UnitName::Secondary,
        }
    }
    pub fn index(self) -> usize {
        self as usize
    }
    pub fn other(self) -> UnitName {
        match self {
            UnitName::Primary => UnitName::Secondary,
            UnitName::Secondary => UnitName::Primary,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            UnitName::Primary => "primary",
            UnitName::Secondary => "secondary",
        }
    }
}

impl fmt::Display for UnitName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A link between the units: `"failover"`, `"state"`, `"data:context/interface"`,
/// `"data:*"` (every data interface) or `"all"`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum LinkName {
    Failover,
    State,
    Data(String),
    /// Every data interface (`"data:*"`).
    AllData,
    All,
}

impl TryFrom<String> for LinkName {
    type Error = String;
    fn try_from(s: String) -> Result<LinkName, String> {
        match s.as_str() {
            "failover" => Ok(LinkName::Failover),
            "state" => Ok(LinkName::State),
            "all" => Ok(LinkName::All),
            "data:*" => Ok(LinkName::AllData),
            other => match other.strip_prefix("data:") {
                Some(iface) if iface.split_once('/').is_some_and(|(c, i)| !c.is_empty() && !i.is_empty()) => {
                    Ok(LinkName::Data(iface.to_owned()))
                }
                _ => Err(format!(
                    "bad link {other:?}: expected \"failover\", \"state\", \"data:context/interface\", \"data:*\" or \"all\""
                )),
            },
        }
    }
}

impl From<LinkName> for String {
    fn from(l: LinkName) -> String {
        l.to_string()
    }
}

impl fmt::Display for LinkName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LinkName::Failover => f.write_str("failover"),
            LinkName::State => f.write_str("state"),
            LinkName::Data(i) => write!(f, "data:{i}"),
            LinkName::AllData => f.write_str("data:*"),
            LinkName::All => f.write_str("all"),
        }
    }
}

/// Which direction(s) of a link a fault affects.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Direction {
    #[default]
    #[serde(rename = "both")]
    Both,
    #[serde(rename = "primary->secondary")]
    PrimaryToSecondary,
    #[serde(rename = "secondary->primary")]
    SecondaryToPrimary,
}

impl Direction {
    /// Whether a frame sent by `from` is affected.
    pub fn covers(self, from: UnitName) -> bool {
        match self {
            Direction::Both => true,
            Direction::PrimaryToSecondary => from == UnitName::Primary,
            Direction::SecondaryToPrimary => from == UnitName::Secondary,
        }
    }
    pub fn is_both(&self) -> bool {
        *self == Direction::Both
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Direction::Both => "both",
            Direction::PrimaryToSecondary => "primary->secondary",
            Direction::SecondaryToPrimary => "secondary->primary",
        })
    }
}

/// A group's expected states, per unit.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatePair {
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_state")]
    pub primary: Option<GroupState>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_state")]
    pub secondary: Option<GroupState>,
}

mod opt_state {
    use fover_protocol::types::GroupState;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &Option<GroupState>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(st) => s.serialize_str(st.as_str()),
            None => s.serialize_none(),
        }
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<GroupState>, D::Error> {
        let text = String::deserialize(d)?;
        GroupState::parse(&text).map(Some).ok_or_else(|| {
            let names: Vec<&str> = GroupState::ALL.iter().map(|s| s.as_str()).collect();
            serde::de::Error::custom(format!("unknown group state {text:?}; expected one of {}", names.join(", ")))
        })
    }
}

/// Which unit(s) an expectation says a group is active on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ActiveOn {
    Primary,
    Secondary,
    Both,
    None,
}

/// `"on"` or `"off"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnOff {
    On,
    Off,
}

/// What an `expect` step checks. Every field is optional; all given ones must hold.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    #[serde(default)]
    pub at_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<ActiveOn>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<StatePair>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_in_sync: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub saved_config_in_sync: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_has: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_lacks: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<UnitName>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connections_survived: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failover: Option<OnOff>,
    /// The unit (or both, without `unit`) has power: a check that needs no
    /// protocol behaviour, e.g. that a unit rebooted after a crash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub powered: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub syslog: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pairing: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

fn is_zero(v: &u64) -> bool {
    *v == 0
}

/// One timed step. `at_ms` is simulated milliseconds from the start of the run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "do", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Step {
    Boot {
        at_ms: u64,
        unit: UnitName,
    },
    PowerOff {
        at_ms: u64,
        unit: UnitName,
    },
    /// A software failure; the unit reboots after `reboot_after_ms` if given.
    Crash {
        at_ms: u64,
        unit: UnitName,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reboot_after_ms: Option<u64>,
    },
    /// Loses the startup config and activation key; takes effect at the next boot.
    EraseFlash {
        at_ms: u64,
        unit: UnitName,
    },
    Cut {
        at_ms: u64,
        link: LinkName,
        #[serde(default, skip_serializing_if = "Direction::is_both")]
        direction: Direction,
    },
    /// Ends every fault on the link (cut, loss, delay, duplicate, reorder, corrupt, drop).
    Heal {
        at_ms: u64,
        link: LinkName,
        #[serde(default, skip_serializing_if = "Direction::is_both")]
        direction: Direction,
    },
    Loss {
        at_ms: u64,
        link: LinkName,
        #[serde(default, skip_serializing_if = "Direction::is_both")]
        direction: Direction,
        probability: f64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        until_ms: Option<u64>,
    },
    Delay {
        at_ms: u64,
        link: LinkName,
        #[serde(default, skip_serializing_if = "Direction::is_both")]
        direction: Direction,
        delay_ms: u64,
        #[serde(default, skip_serializing_if = "is_zero")]
        jitter_ms: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        until_ms: Option<u64>,
    },
    Duplicate {
        at_ms: u64,
        link: LinkName,
        #[serde(default, skip_serializing_if = "Direction::is_both")]
        direction: Direction,
        probability: f64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        until_ms: Option<u64>,
    },
    Reorder {
        at_ms: u64,
        link: LinkName,
        #[serde(default, skip_serializing_if = "Direction::is_both")]
        direction: Direction,
        probability: f64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        until_ms: Option<u64>,
    },
    Corrupt {
        at_ms: u64,
        link: LinkName,
        #[serde(default, skip_serializing_if = "Direction::is_both")]
        direction: Direction,
        probability: f64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        until_ms: Option<u64>,
    },
    /// Drops frames of one message kind (e.g. `"hello"`).
    Drop {
        at_ms: u64,
        link: LinkName,
        #[serde(default, skip_serializing_if = "Direction::is_both")]
        direction: Direction,
        #[serde(with = "kind_name")]
        kind: Kind,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        count: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        until_ms: Option<u64>,
    },
    InterfaceDown {
        at_ms: u64,
        unit: UnitName,
        interface: String,
    },
    InterfaceUp {
        at_ms: u64,
        unit: UnitName,
        interface: String,
    },
    /// The link stays up, but no traffic passes.
    InterfaceSilent {
        at_ms: u64,
        unit: UnitName,
        interface: String,
    },
    ClockStep {
        at_ms: u64,
        unit: UnitName,
        ms: i64,
    },
    ClockDrift {
        at_ms: u64,
        unit: UnitName,
        ppm: i64,
    },
    Command {
        at_ms: u64,
        unit: UnitName,
        #[serde(default = "system", skip_serializing_if = "is_system")]
        context: String,
        line: String,
    },
    Connect {
        at_ms: u64,
        context: String,
        count: u32,
    },
    Show {
        at_ms: u64,
        unit: UnitName,
        command: String,
    },
    Expect(Expect),
}

fn system() -> String {
    "system".to_owned()
}

fn is_system(s: &String) -> bool {
    s == "system"
}

pub(crate) mod kind_name {
    use fover_protocol::wire::Kind;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(k: &Kind, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(k.as_str())
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Kind, D::Error> {
        let text = String::deserialize(d)?;
        Kind::parse(&text).ok_or_else(|| {
            let names: Vec<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
            serde::de::Error::custom(format!("unknown message kind {text:?}; expected one of {}", names.join(", ")))
        })
    }
}

/// The keys of one step kind besides `do`: those it requires and those it may have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StepKeys {
    /// The `do = "..."` value.
    pub kind: &'static str,
    pub required: &'static [&'static str],
    pub optional: &'static [&'static str],
}

impl StepKeys {
    /// Whether a step of this kind takes `key`.
    pub fn takes(&self, key: &str) -> bool {
        self.required.contains(&key) || self.optional.contains(&key)
    }
    /// Every key, required first, for messages.
    pub fn all(&self) -> Vec<&'static str> {
        self.required.iter().chain(self.optional).copied().collect()
    }
}

const FAULT_KEYS: &[&str] = &["direction", "until_ms"];

/// Every step kind with its keys, in the order of [`Step`]. The scenario
/// reader checks steps against this table first, so that an error names the
/// key and its line (serde's tagged enums lose both); a test keeps the table
/// and the enum in step.
pub const STEP_KEYS: &[StepKeys] = &[
    StepKeys { kind: "boot", required: &["at_ms", "unit"], optional: &[] },
    StepKeys { kind: "power-off", required: &["at_ms", "unit"], optional: &[] },
    StepKeys { kind: "crash", required: &["at_ms", "unit"], optional: &["reboot_after_ms"] },
    StepKeys { kind: "erase-flash", required: &["at_ms", "unit"], optional: &[] },
    StepKeys { kind: "cut", required: &["at_ms", "link"], optional: &["direction"] },
    StepKeys { kind: "heal", required: &["at_ms", "link"], optional: &["direction"] },
    StepKeys { kind: "loss", required: &["at_ms", "link", "probability"], optional: FAULT_KEYS },
    StepKeys {
        kind: "delay",
        required: &["at_ms", "link", "delay_ms"],
        optional: &["direction", "jitter_ms", "until_ms"],
    },
    StepKeys { kind: "duplicate", required: &["at_ms", "link", "probability"], optional: FAULT_KEYS },
    StepKeys { kind: "reorder", required: &["at_ms", "link", "probability"], optional: FAULT_KEYS },
    StepKeys { kind: "corrupt", required: &["at_ms", "link", "probability"], optional: FAULT_KEYS },
    StepKeys { kind: "drop", required: &["at_ms", "link", "kind"], optional: &["direction", "count", "until_ms"] },
    StepKeys { kind: "interface-down", required: &["at_ms", "unit", "interface"], optional: &[] },
    StepKeys { kind: "interface-up", required: &["at_ms", "unit", "interface"], optional: &[] },
    StepKeys { kind: "interface-silent", required: &["at_ms", "unit", "interface"], optional: &[] },
    StepKeys { kind: "clock-step", required: &["at_ms", "unit", "ms"], optional: &[] },
    StepKeys { kind: "clock-drift", required: &["at_ms", "unit", "ppm"], optional: &[] },
    StepKeys { kind: "command", required: &["at_ms", "unit", "line"], optional: &["context"] },
    StepKeys { kind: "connect", required: &["at_ms", "context", "count"], optional: &[] },
    StepKeys { kind: "show", required: &["at_ms", "unit", "command"], optional: &[] },
    StepKeys {
        kind: "expect",
        required: &[],
        optional: &[
            "at_ms",
            "group",
            "active",
            "state",
            "config_in_sync",
            "saved_config_in_sync",
            "config_has",
            "config_lacks",
            "context",
            "unit",
            "connections_survived",
            "failover",
            "syslog",
            "pairing",
            "reason",
            "powered",
        ],
    },
];

/// The keys of a step kind, if it exists.
pub fn step_keys(kind: &str) -> Option<&'static StepKeys> {
    STEP_KEYS.iter().find(|k| k.kind == kind)
}

impl Step {
    /// When the step happens.
    pub fn at_ms(&self) -> u64 {
        match self {
            Step::Boot { at_ms, .. }
            | Step::PowerOff { at_ms, .. }
            | Step::Crash { at_ms, .. }
            | Step::EraseFlash { at_ms, .. }
            | Step::Cut { at_ms, .. }
            | Step::Heal { at_ms, .. }
            | Step::Loss { at_ms, .. }
            | Step::Delay { at_ms, .. }
            | Step::Duplicate { at_ms, .. }
            | Step::Reorder { at_ms, .. }
            | Step::Corrupt { at_ms, .. }
            | Step::Drop { at_ms, .. }
            | Step::InterfaceDown { at_ms, .. }
            | Step::InterfaceUp { at_ms, .. }
            | Step::InterfaceSilent { at_ms, .. }
            | Step::ClockStep { at_ms, .. }
            | Step::ClockDrift { at_ms, .. }
            | Step::Command { at_ms, .. }
            | Step::Connect { at_ms, .. }
            | Step::Show { at_ms, .. }
            | Step::Expect(Expect { at_ms, .. }) => *at_ms,
        }
    }

    /// Moves the step to another time (the shrinker uses it).
    pub fn set_at_ms(&mut self, t: u64) {
        match self {
            Step::Boot { at_ms, .. }
            | Step::PowerOff { at_ms, .. }
            | Step::Crash { at_ms, .. }
            | Step::EraseFlash { at_ms, .. }
            | Step::Cut { at_ms, .. }
            | Step::Heal { at_ms, .. }
            | Step::Loss { at_ms, .. }
            | Step::Delay { at_ms, .. }
            | Step::Duplicate { at_ms, .. }
            | Step::Reorder { at_ms, .. }
            | Step::Corrupt { at_ms, .. }
            | Step::Drop { at_ms, .. }
            | Step::InterfaceDown { at_ms, .. }
            | Step::InterfaceUp { at_ms, .. }
            | Step::InterfaceSilent { at_ms, .. }
            | Step::ClockStep { at_ms, .. }
            | Step::ClockDrift { at_ms, .. }
            | Step::Command { at_ms, .. }
            | Step::Connect { at_ms, .. }
            | Step::Show { at_ms, .. }
            | Step::Expect(Expect { at_ms, .. }) => *at_ms = t,
        }
    }

    /// The kebab-case name of the step kind (`do = "..."`).
    pub fn name(&self) -> &'static str {
        match self {
            Step::Boot { .. } => "boot",
            Step::PowerOff { .. } => "power-off",
            Step::Crash { .. } => "crash",
            Step::EraseFlash { .. } => "erase-flash",
            Step::Cut { .. } => "cut",
            Step::Heal { .. } => "heal",
            Step::Loss { .. } => "loss",
            Step::Delay { .. } => "delay",
            Step::Duplicate { .. } => "duplicate",
            Step::Reorder { .. } => "reorder",
            Step::Corrupt { .. } => "corrupt",
            Step::Drop { .. } => "drop",
            Step::InterfaceDown { .. } => "interface-down",
            Step::InterfaceUp { .. } => "interface-up",
            Step::InterfaceSilent { .. } => "interface-silent",
            Step::ClockStep { .. } => "clock-step",
            Step::ClockDrift { .. } => "clock-drift",
            Step::Command { .. } => "command",
            Step::Connect { .. } => "connect",
            Step::Show { .. } => "show",
            Step::Expect(_) => "expect",
        }
    }

    /// A fault injected into the pair (as opposed to boots, commands and checks).
    pub fn is_fault(&self) -> bool {
        !matches!(
            self,
            Step::Boot { .. } | Step::Command { .. } | Step::Connect { .. } | Step::Show { .. } | Step::Expect(_)
        )
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The JSON form is short, exact and what a scenario file would say.
        match serde_json::to_string(self) {
            Ok(s) => f.write_str(&s),
            Err(_) => write!(f, "{} @{}ms", self.name(), self.at_ms()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_roundtrip_through_json() {
        let steps = vec![
            Step::Boot { at_ms: 0, unit: UnitName::Primary },
            Step::Cut {
                at_ms: 5,
                link: LinkName::Data("ctx2/outside".into()),
                direction: Direction::PrimaryToSecondary,
            },
            Step::Drop {
                at_ms: 7,
                link: LinkName::Failover,
                direction: Direction::Both,
                kind: Kind::UnitHello,
                count: Some(3),
                until_ms: None,
            },
            Step::Expect(Expect { at_ms: 9, group: Some(2), active: Some(ActiveOn::Primary), ..Expect::default() }),
        ];
        let text = serde_json::to_string(&steps).unwrap();
        let back: Vec<Step> = serde_json::from_str(&text).unwrap();
        assert_eq!(back, steps);
    }

    #[test]
    fn unknown_expect_key_is_refused() {
        let err = serde_json::from_str::<Step>(r#"{"do":"expect","at_ms":1,"grop":2}"#).unwrap_err();
        assert!(err.to_string().contains("grop"), "{err}");
    }

    /// A value of the right type for each key, for the table test.
    fn sample(kind: &str, key: &str) -> &'static str {
        match key {
            "unit" => "\"primary\"",
            "link" => "\"failover\"",
            "direction" => "\"both\"",
            "kind" => "\"hello\"",
            "probability" => "0.5",
            "interface" | "context" => "\"admin/inside\"",
            "line" | "command" | "config_has" | "config_lacks" | "pairing" | "reason" => "\"x\"",
            "active" => "\"primary\"",
            "state" => "{ primary = \"Active\" }",
            "failover" => "\"on\"",
            "config_in_sync" | "saved_config_in_sync" | "connections_survived" | "powered" => "true",
            "ms" | "ppm" => "-3",
            "group" => "1",
            _ if kind == "connect" && key == "count" => "4",
            _ => "7",
        }
    }

    fn step_text(kind: &str, keys: &[&str]) -> String {
        let mut text = format!("do = \"{kind}\"\n");
        for key in keys {
            text.push_str(&format!("{key} = {}\n", sample(kind, key)));
        }
        text
    }

    #[test]
    fn step_keys_table_matches_the_step_enum() {
        assert_eq!(STEP_KEYS.len(), 21);
        for k in STEP_KEYS {
            let all = k.all();
            let step: Step = toml::from_str(&step_text(k.kind, &all))
                .unwrap_or_else(|e| panic!("{}: every listed key is accepted: {e}", k.kind));
            assert_eq!(step.name(), k.kind);
            for missing in k.required {
                let keys: Vec<&str> = all.iter().copied().filter(|x| x != missing).collect();
                let err = toml::from_str::<Step>(&step_text(k.kind, &keys)).unwrap_err();
                assert!(err.to_string().contains(missing), "{}: `{missing}` is required: {err}", k.kind);
            }
            for optional in k.optional {
                let keys: Vec<&str> = all.iter().copied().filter(|x| x != optional).collect();
                toml::from_str::<Step>(&step_text(k.kind, &keys))
                    .unwrap_or_else(|e| panic!("{}: `{optional}` is optional: {e}", k.kind));
            }
            // A key no kind lists is refused by serde too.
            let mut text = step_text(k.kind, &all);
            text.push_str("colour = 1\n");
            assert!(toml::from_str::<Step>(&text).is_err(), "{}", k.kind);
        }
    }

    #[test]
    fn bad_link_is_a_clear_error() {
        let err = serde_json::from_str::<Step>(r#"{"do":"cut","at_ms":1,"link":"data:outside"}"#).unwrap_err();
        assert!(err.to_string().contains("data:context/interface"), "{err}");
    }
}
