//! A run as a whole: the pair, its groups and contexts, and the timed steps.
//! This is the scenario-file format (TOML) and also what the nemesis draws
//! from a seed and what a trace's header stores.

use crate::checker::Timing;
use crate::fabric::MS;
use crate::pair::{self, ContextSpec, GroupSpec, PairSpec};
use crate::schedule::{Step, UnitName};
use fover_protocol::UnitConfig;
use fover_protocol::planted::PlantedBug;
use fover_protocol::types::Group;
use serde::{Deserialize, Serialize};

fn yes() -> bool {
    true
}

/// One run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// `area: fault (detail)`.
    pub name: String,
    pub duration_ms: u64,
    /// Latency jitter and anything else random.
    #[serde(default)]
    pub seed: u64,
    #[serde(default)]
    pub pair: PairSpec,
    #[serde(default, rename = "group", skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<GroupSpec>,
    #[serde(default, rename = "context", skip_serializing_if = "Vec::is_empty")]
    pub contexts: Vec<ContextSpec>,
    /// Background traffic through each context's active unit (section 8).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traffic: Option<crate::workload::TrafficSpec>,
    #[serde(default, rename = "step")]
    pub steps: Vec<Step>,
    /// A planted bug (tests only; not part of the file format).
    #[serde(skip)]
    pub planted_bug: Option<PlantedBug>,
    /// Run each unit's `invariants()` after every input.
    #[serde(skip, default = "yes")]
    pub check_invariants: bool,
}

/// Why a scenario file was refused. Parse and validation errors carry the
/// 1-based line and column of the key or value at fault when the reader
/// knows it, and print as `file:line:column: message`.
#[derive(Debug)]
pub enum ScenarioError {
    Io {
        file: String,
        source: std::io::Error,
    },
    /// Not TOML, or not the scenario format (unknown key, wrong type, bad value).
    Parse {
        file: String,
        at: Option<(usize, usize)>,
        message: String,
    },
    /// Well-formed, but inconsistent (a time after the end, an interface the pair has not...).
    Invalid {
        file: String,
        at: Option<(usize, usize)>,
        message: String,
    },
}

impl ScenarioError {
    /// The file the error is about.
    pub fn file(&self) -> &str {
        match self {
            ScenarioError::Io { file, .. }
            | ScenarioError::Parse { file, .. }
            | ScenarioError::Invalid { file, .. } => file,
        }
    }
    /// The line (1-based) of the key or value at fault, if known.
    pub fn line(&self) -> Option<usize> {
        match self {
            ScenarioError::Io { .. } => None,
            ScenarioError::Parse { at, .. } | ScenarioError::Invalid { at, .. } => at.map(|(line, _)| line),
        }
    }
    /// The message without the location.
    pub fn message(&self) -> String {
        match self {
            ScenarioError::Io { source, .. } => source.to_string(),
            ScenarioError::Parse { message, .. } | ScenarioError::Invalid { message, .. } => message.clone(),
        }
    }
}

impl std::fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ScenarioError::Io { file, source } => write!(f, "{file}: {source}"),
            ScenarioError::Parse { file, at, message } | ScenarioError::Invalid { file, at, message } => match at {
                Some((line, column)) => write!(f, "{file}:{line}:{column}: {message}"),
                None => write!(f, "{file}: {message}"),
            },
        }
    }
}

impl std::error::Error for ScenarioError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ScenarioError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// Where in a scenario a validation problem lies.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Place {
    /// A top-level key, e.g. `duration_ms`.
    Top(&'static str),
    /// Step `index` (0-based, file order), at `key` if given.
    Step { index: usize, key: Option<&'static str> },
    /// The `[[group]]` with this id.
    Group(u8),
    /// The `[[context]]` with this name.
    Context(String),
    /// `[pair]`, or a key in it.
    Pair(Option<&'static str>),
}

/// One validation problem: where, and what.
#[derive(Clone, Debug)]
struct Problem {
    place: Place,
    /// Complete text, naming the step and key.
    message: String,
}

impl Scenario {
    /// Parses and validates the text of a scenario file. An error names the
    /// file, the line and column, the step and the key at fault.
    pub fn from_toml(file: &str, text: &str) -> Result<Scenario, ScenarioError> {
        let parse_err =
            |at: Option<(usize, usize)>, message: String| ScenarioError::Parse { file: file.into(), at, message };
        let doc = toml::de::DeTable::parse(text)
            .map_err(|e| parse_err(e.span().map(|s| line_col(text, s.start)), e.message().to_owned()))?;
        let doc = doc.get_ref();
        // Steps first, key by key: serde's tagged enum would report neither the
        // key nor its line.
        reader::check_steps(text, doc)
            .map_err(|(span, message)| parse_err(Some(line_col(text, span.start)), message))?;
        let scenario: Scenario = toml::from_str(text).map_err(|e| {
            let message = plain(e.message());
            match e.span() {
                Some(span) => {
                    let path = reader::key_path(doc, span.start);
                    let named = path.last().is_some_and(|k| message.contains(&format!("`{k}`")));
                    let message =
                        if path.is_empty() || named { message } else { format!("`{}`: {message}", path.join(".")) };
                    parse_err(Some(line_col(text, span.start)), message)
                }
                None => parse_err(None, message),
            }
        })?;
        scenario.problems().map_err(|p| ScenarioError::Invalid {
            file: file.into(),
            at: reader::place_span(doc, &p.place).map(|s| line_col(text, s.start)),
            message: p.message,
        })?;
        Ok(scenario)
    }

    /// Reads, parses and validates a scenario file.
    pub fn load(path: &std::path::Path) -> Result<Scenario, ScenarioError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Io { file: file.clone(), source })?;
        Scenario::from_toml(&file, &text)
    }

    /// The TOML text of this scenario.
    pub fn to_toml(&self) -> Result<String, toml::ser::Error> {
        toml::to_string(self)
    }

    /// Checks everything that can be checked before running.
    pub fn validate(&self) -> Result<(), String> {
        self.problems().map_err(|p| p.message)
    }

    fn problems(&self) -> Result<(), Problem> {
        if self.duration_ms == 0 {
            return Err(Problem {
                place: Place::Top("duration_ms"),
                message: "`duration_ms`: must be more than 0".into(),
            });
        }
        let configs = self.unit_configs().map_err(|message| Problem { place: config_place(&message), message })?;
        if let Some(t) = &self.traffic {
            t.validate().map_err(|message| Problem { place: Place::Top("traffic"), message })?;
        }
        let interfaces: Vec<String> = configs[0].interfaces.iter().map(|i| i.qualified_name()).collect();
        let contexts: Vec<&str> = configs[0].contexts.iter().map(|c| c.name.as_str()).collect();
        for (i, step) in self.steps.iter().enumerate() {
            let at = step.at_ms();
            let fail = |key: &'static str, what: String| Problem {
                place: Place::Step { index: i, key: Some(key) },
                message: format!("step {} (do = \"{}\", at_ms = {at}): `{key}`: {what}", i + 1, step.name()),
            };
            if at > self.duration_ms {
                return Err(fail(
                    "at_ms",
                    format!("{at} is after the end of the run (duration_ms = {})", self.duration_ms),
                ));
            }
            let check_iface = |key: &'static str, name: &str| {
                if interfaces.iter().any(|n| n == name) {
                    Ok(())
                } else {
                    Err(fail(key, format!("no interface {name:?}; the pair has {}", interfaces.join(", "))))
                }
            };
            let check_prob = |p: f64| {
                if (0.0..=1.0).contains(&p) {
                    Ok(())
                } else {
                    Err(fail("probability", format!("{p} is not between 0 and 1")))
                }
            };
            let check_until = |u: &Option<u64>| match u {
                Some(u) if *u < at => Err(fail("until_ms", format!("{u} is before at_ms = {at}"))),
                _ => Ok(()),
            };
            let check_link = |l: &crate::schedule::LinkName| match l {
                crate::schedule::LinkName::Data(name) => check_iface("link", name),
                _ => Ok(()),
            };
            let check_context = |context: &str| {
                if contexts.contains(&context) {
                    Ok(())
                } else {
                    Err(fail("context", format!("no context {context:?}; the pair has {}", contexts.join(", "))))
                }
            };
            match step {
                Step::InterfaceDown { interface, .. }
                | Step::InterfaceUp { interface, .. }
                | Step::InterfaceSilent { interface, .. } => check_iface("interface", interface)?,
                Step::Cut { link, .. } | Step::Heal { link, .. } => check_link(link)?,
                Step::Loss { link, probability, until_ms, .. }
                | Step::Duplicate { link, probability, until_ms, .. }
                | Step::Reorder { link, probability, until_ms, .. }
                | Step::Corrupt { link, probability, until_ms, .. } => {
                    check_link(link)?;
                    check_prob(*probability)?;
                    check_until(until_ms)?;
                }
                Step::Delay { link, until_ms, .. } | Step::Drop { link, until_ms, .. } => {
                    check_link(link)?;
                    check_until(until_ms)?;
                }
                Step::Command { context, line, .. } => {
                    if context != "system" {
                        check_context(context)?;
                    }
                    if line.trim().is_empty() {
                        return Err(fail("line", "is empty".into()));
                    }
                }
                Step::Connect { context, .. } => check_context(context)?,
                Step::ClockDrift { ppm, .. } if ppm.abs() > fover_protocol::clock::DRIFT_PPM_MAX => {
                    return Err(fail("ppm", format!("{ppm} is not within ±{}", fover_protocol::clock::DRIFT_PPM_MAX)));
                }
                Step::Expect(e) => {
                    if let Some(g) = e.group {
                        if Group::from_code(g).is_none() {
                            return Err(fail("group", format!("{g}: there are only groups 1 and 2")));
                        }
                    }
                    if e.group.is_none() {
                        if e.active.is_some() {
                            return Err(fail("active", "needs `group` (which group?)".into()));
                        }
                        if e.state.is_some() {
                            return Err(fail("state", "needs `group` (which group?)".into()));
                        }
                    }
                    // The system space holds configuration too (`config_has`), but no connections.
                    if let Some(context) =
                        e.context.as_deref().filter(|c| *c != "system" || e.connections_survived.is_some())
                    {
                        check_context(context)?;
                    }
                    if e.connections_survived.is_some() && e.context.is_none() {
                        return Err(fail(
                            "connections_survived",
                            "needs `context` (connections of which context?)".into(),
                        ));
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Both units' settings.
    pub fn unit_configs(&self) -> Result<[UnitConfig; 2], String> {
        pair::unit_configs(&self.pair, &self.groups, &self.contexts)
    }

    /// The steps in time order (stable for equal times).
    pub fn sorted_steps(&self) -> Vec<Step> {
        let mut steps = self.steps.clone();
        steps.sort_by_key(Step::at_ms);
        steps
    }

    /// What the checkers need to know of the run's timing.
    pub fn timing(&self, configs: &[UnitConfig; 2]) -> Timing {
        let c = &configs[0];
        let delay_max_ms = self
            .steps
            .iter()
            .map(|s| match s {
                Step::Delay { delay_ms, jitter_ms, .. } => delay_ms + jitter_ms,
                Step::Reorder { .. } => 50,
                Step::Duplicate { .. } => 5,
                _ => 0,
            })
            .max()
            .unwrap_or(0);
        let drift = self
            .steps
            .iter()
            .map(|s| match s {
                Step::ClockDrift { ppm, .. } => ppm.unsigned_abs(),
                _ => 0,
            })
            .max()
            .unwrap_or(0);
        let iface_hold = c.groups.iter().map(|g| g.interface_holdtime).max().unwrap_or_default();
        let iface_poll = c.groups.iter().map(|g| g.interface_polltime).max().unwrap_or_default();
        Timing {
            unit_polltime_ns: c.unit_polltime.as_nanos() as u64,
            unit_holdtime_ns: c.unit_holdtime.as_nanos() as u64,
            interface_polltime_ns: iface_poll.as_nanos() as u64,
            interface_holdtime_ns: iface_hold.as_nanos() as u64,
            delay_max_ns: delay_max_ms * MS,
            preempt_ns: [0, 1].map(|g| c.groups[g].preempt_delay.map(|d| d.as_nanos() as u64)),
            preferred: [0, 1].map(|g| UnitName::from_role(c.groups[g].preferred)),
            policy: [0, 1].map(|g| c.groups[g].interface_policy),
            drift_ppm_max: drift,
            keys_match: self.pair.keys_match(),
            context_groups: c.contexts.iter().map(|ctx| (ctx.name.clone(), ctx.group)).collect(),
        }
    }
}

/// The place of a `unit_configs` error, from the way it begins.
fn config_place(message: &str) -> Place {
    if let Some(rest) = message.strip_prefix("group ") {
        if let Some(id) = rest.split(|c: char| !c.is_ascii_digit()).next().and_then(|n| n.parse().ok()) {
            return Place::Group(id);
        }
    }
    if let Some(rest) = message.strip_prefix("context ") {
        if let Some((name, _)) = rest.split_once(':') {
            return Place::Context(name.to_owned());
        }
    }
    if message.starts_with("state_link") {
        return Place::Pair(Some("state_link"));
    }
    Place::Pair(None)
}

/// serde's words for the file's: a field is a key, a variant a value.
fn plain(message: &str) -> String {
    message
        .replace("unknown field", "unknown key")
        .replace("missing field", "missing key")
        .replace("unknown variant", "unknown value")
}

/// 1-based line and column (in characters) of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// The reader's checks on the parsed document, with spans.
mod reader {
    use super::Place;
    use crate::schedule::{ActiveOn, Direction, LinkName, OnOff, STEP_KEYS, StatePair, UnitName, step_keys};
    use serde::Deserialize;
    use std::ops::Range;
    use toml::Spanned;
    use toml::de::{DeTable, DeValue, ValueDeserializer};

    type Entry<'a, 'i> = (&'a Spanned<std::borrow::Cow<'i, str>>, &'a Spanned<DeValue<'i>>);

    /// A table's entries in file order.
    fn entries<'a, 'i>(table: &'a DeTable<'i>) -> Vec<Entry<'a, 'i>> {
        let mut v: Vec<Entry<'a, 'i>> = table.iter().collect();
        v.sort_by_key(|(k, _)| k.span().start);
        v
    }

    fn get<'a, 'i>(table: &'a DeTable<'i>, key: &str) -> Option<Entry<'a, 'i>> {
        table.iter().find(|(k, _)| k.get_ref() == key)
    }

    /// The `[[step]]` tables, with the span of each.
    fn steps<'a, 'i>(doc: &'a DeTable<'i>) -> Vec<(Range<usize>, &'a DeTable<'i>)> {
        let Some((_, v)) = get(doc, "step") else { return Vec::new() };
        let Some(array) = v.get_ref().as_array() else { return Vec::new() };
        array.iter().filter_map(|item| item.get_ref().as_table().map(|t| (item.span(), t))).collect()
    }

    /// The `[[name]]` table whose `key` is `value`.
    fn table_where<'a, 'i>(doc: &'a DeTable<'i>, name: &str, key: &str, value: &str) -> Option<Range<usize>> {
        let (_, v) = get(doc, name)?;
        v.get_ref().as_array()?.iter().find_map(|item| {
            let t = item.get_ref().as_table()?;
            let (_, val) = get(t, key)?;
            let text = match val.get_ref() {
                DeValue::String(s) => s.to_string(),
                DeValue::Integer(i) => i.as_str().to_owned(),
                _ => return None,
            };
            (text == value).then(|| item.span())
        })
    }

    /// Where a validation problem lies in the file.
    pub(super) fn place_span(doc: &DeTable<'_>, place: &Place) -> Option<Range<usize>> {
        match place {
            Place::Top(key) => get(doc, key).map(|(k, _)| k.span()),
            Place::Step { index, key } => {
                let steps = steps(doc);
                let (span, table) = steps.get(*index)?;
                let at = key.and_then(|key| get(table, key)).map(|(_, v)| v.span());
                Some(at.unwrap_or_else(|| span.clone()))
            }
            Place::Group(id) => table_where(doc, "group", "id", &id.to_string()),
            Place::Context(name) => table_where(doc, "context", "name", name),
            Place::Pair(key) => {
                let (k, v) = get(doc, "pair")?;
                let inner = key.and_then(|key| get(v.get_ref().as_table()?, key)).map(|(k, _)| k.span());
                Some(inner.unwrap_or_else(|| k.span()))
            }
        }
    }

    /// The innermost key (as a path) whose key or value covers `offset`.
    pub(super) fn key_path(doc: &DeTable<'_>, offset: usize) -> Vec<String> {
        let mut path = Vec::new();
        let mut table = doc;
        'down: loop {
            for (k, v) in table.iter() {
                let covers = |r: Range<usize>| r.start <= offset && offset < r.end.max(r.start + 1);
                if !(covers(k.span()) || covers(v.span())) {
                    continue;
                }
                path.push(k.get_ref().to_string());
                match v.get_ref() {
                    DeValue::Table(t) => {
                        table = t;
                        continue 'down;
                    }
                    DeValue::Array(items) => {
                        for (i, item) in items.iter().enumerate() {
                            if let DeValue::Table(t) = item.get_ref() {
                                if covers(item.span()) || t.iter().any(|(k, v)| covers(k.span()) || covers(v.span())) {
                                    if let Some(last) = path.last_mut() {
                                        last.push_str(&format!("[{}]", i + 1));
                                    }
                                    table = t;
                                    continue 'down;
                                }
                            }
                        }
                        break 'down;
                    }
                    _ => break 'down,
                }
            }
            break;
        }
        path
    }

    type Bad = (Range<usize>, String);

    fn list(items: &[&str]) -> String {
        items.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ")
    }

    /// Checks every `[[step]]` table: a known `do`, only the keys that kind
    /// takes, each value of the right type, every required key present.
    pub(super) fn check_steps(text: &str, doc: &DeTable<'_>) -> Result<(), Bad> {
        let kinds: Vec<&str> = STEP_KEYS.iter().map(|k| k.kind).collect();
        for (i, (span, table)) in steps(doc).into_iter().enumerate() {
            let n = i + 1;
            let Some((_, do_value)) = get(table, "do") else {
                return Err((span, format!("step {n}: missing key `do` (the step kind: {})", kinds.join(", "))));
            };
            let Some(kind) = do_value.get_ref().as_str() else {
                let got = do_value.get_ref().type_str();
                return Err((
                    do_value.span(),
                    format!("step {n}: `do`: expected a step kind in quotes, e.g. \"boot\"; got a {got}"),
                ));
            };
            let Some(keys) = step_keys(kind) else {
                return Err((
                    do_value.span(),
                    format!("step {n}: `do`: unknown step kind {kind:?}; expected one of {}", kinds.join(", ")),
                ));
            };
            let here = format!("step {n} (do = \"{kind}\")");
            for (k, v) in entries(table) {
                let key = k.get_ref().as_ref();
                if key == "do" {
                    continue;
                }
                if !keys.takes(key) {
                    return Err((
                        k.span(),
                        format!("{here}: unknown key `{key}`; `{kind}` takes {}", list(&keys.all())),
                    ));
                }
                check_value(text, kind, key, v).map_err(|(span, m)| (span, format!("{here}: `{key}`: {m}")))?;
            }
            if let Some(missing) = keys.required.iter().find(|key| get(table, key).is_none()) {
                return Err((span, format!("{here}: missing key `{missing}`")));
            }
        }
        Ok(())
    }

    /// Deserialises one value as the type its key has in [`crate::schedule::Step`].
    fn typed<T: for<'de> Deserialize<'de>>(v: &Spanned<DeValue<'_>>) -> Result<T, Bad> {
        T::deserialize(ValueDeserializer::from(v.clone()))
            .map_err(|e| (e.span().unwrap_or_else(|| v.span()), super::plain(e.message())))
    }

    /// A whole number within `min..=max`.
    fn whole(text: &str, v: &Spanned<DeValue<'_>>, min: i128, max: i128, what: &str) -> Result<(), Bad> {
        let raw = text.get(v.span()).unwrap_or("?").trim();
        let got = match v.get_ref() {
            DeValue::Integer(_) => {
                let n = typed::<i64>(v).map(i128::from).or_else(|_| typed::<u64>(v).map(i128::from));
                match n {
                    Ok(n) if (min..=max).contains(&n) => return Ok(()),
                    _ => raw.to_owned(),
                }
            }
            DeValue::Float(_) => format!("{raw}, which is not a whole number"),
            other => format!("{raw}, a {}", other.type_str()),
        };
        Err((v.span(), format!("expected {what}; got {got}")))
    }

    fn check_value(text: &str, kind: &str, key: &str, v: &Spanned<DeValue<'_>>) -> Result<(), Bad> {
        const MS: &str = "a whole number of milliseconds, 0 or more";
        match key {
            "at_ms" | "reboot_after_ms" | "until_ms" | "delay_ms" | "jitter_ms" => {
                whole(text, v, 0, u64::MAX.into(), MS)
            }
            "count" if kind == "connect" => whole(text, v, 0, u32::MAX.into(), "a number of connections, 0 or more"),
            "count" => whole(text, v, 0, u64::MAX.into(), "a number of frames, 0 or more"),
            "ms" => {
                whole(text, v, i64::MIN.into(), i64::MAX.into(), "a whole number of milliseconds (negative: backward)")
            }
            "ppm" => whole(text, v, i64::MIN.into(), i64::MAX.into(), "a whole number of parts per million"),
            "group" => whole(text, v, 0, u8::MAX.into(), "a group number, 1 or 2"),
            "syslog" => whole(text, v, 0, u32::MAX.into(), "a syslog message id, e.g. 104001"),
            "unit" => typed::<UnitName>(v).map(drop),
            "link" => typed::<LinkName>(v).map(drop),
            "direction" => typed::<Direction>(v).map(drop),
            "kind" => typed::<MessageKind>(v).map(drop),
            "probability" => typed::<f64>(v).map(drop),
            "active" => typed::<ActiveOn>(v).map(drop),
            "state" => typed::<StatePair>(v).map(drop),
            "failover" => typed::<OnOff>(v).map(drop),
            "config_in_sync" | "saved_config_in_sync" | "connections_survived" | "powered" => {
                typed::<bool>(v).map(drop)
            }
            _ => typed::<String>(v).map(drop),
        }
    }

    /// A message kind, as `drop` names it.
    struct MessageKind;

    impl<'de> Deserialize<'de> for MessageKind {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<MessageKind, D::Error> {
            crate::schedule::kind_name::deserialize(d).map(|_| MessageKind)
        }
    }
}
