//! What a plane of the unit asks the unit to do: the planes own their state
//! and decide; [`super::Unit`] routes what they return, in order.

use super::Event;
use crate::wire::Control;

/// One thing a plane asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Effect {
    /// Queue a control message for the mate on the reliable channel (the
    /// config plane's outbox).
    Send(Control),
    /// Log a syslog message.
    Syslog { id: u32, text: String },
    /// Tell the caller.
    Event(Event),
}

/// The effects of one call on a plane, in the order they were asked for.
#[derive(Debug, Default)]
pub(super) struct Effects {
    list: Vec<Effect>,
    sent: usize,
}

impl Effects {
    pub(super) fn push(&mut self, effect: Effect) {
        if matches!(effect, Effect::Send(_)) {
            self.sent += 1;
        }
        self.list.push(effect);
    }

    /// How many [`Effect::Send`] there are so far: what they add to the outbox.
    pub(super) fn sent(&self) -> usize {
        self.sent
    }

    pub(super) fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
}

impl IntoIterator for Effects {
    type Item = Effect;
    type IntoIter = std::vec::IntoIter<Effect>;
    fn into_iter(self) -> Self::IntoIter {
        self.list.into_iter()
    }
}
