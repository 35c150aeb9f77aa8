//! The madsim engine (built only with `--cfg madsim`).

use super::Outcome;
use crate::scenario::Scenario;
use crate::world::RecordLevel;

/// Plays a scenario on the madsim world.
pub fn run(_scenario: &Scenario, _level: RecordLevel) -> Result<Outcome, String> {
    Err("the madsim engine is not built yet".into())
}
