//! Repeated member names: found as the members come ([`Repeats`]), with exactly the answer
//! of the reference ([`find_duplicate`]).

#[allow(clippy::wildcard_imports)]
use super::*;

/// Sets each member's `id` with `id_of` (its classification of the name: 0 for an unknown
/// name) and returns the first name repeated among them, with exactly the answer of
/// [`find_duplicate`].
///
/// The repeat check is [`Repeats`]'; when it finds a possible repeat, the exact reference
/// answer (which name to report) is computed the slow way.
pub(crate) fn classify<'t>(
    members: &mut [Member],
    text: Text<'t>,
    id_of: impl Fn(NameKey, &[u8]) -> u8,
) -> Option<&'t str> {
    for m in members.iter_mut() {
        m.id = id_of(name_key(text, m.name), text.bytes(m.name));
    }
    repeated(members, text)
}

/// [`classify`] for members whose ids are set already (by a sink that
/// [classifies](MemberSink::CLASSIFIES)).
pub(crate) fn repeated<'t>(members: &[Member], text: Text<'t>) -> Option<&'t str> {
    let mut repeats = Repeats::default();
    for m in members {
        repeats.note(m.id, m.name, text);
    }
    if !repeats.possible {
        return None;
    }
    find_duplicate(members.iter().map(|m| text.get(m.name)))
}

/// The name repeated in the object `body`, with exactly the answer of [`classify`], for a
/// reader whose [`Repeats`] found a possible repeat: the members are read again into a list
/// (rare: an error path).
///
/// # Errors
///
/// What [`read_object_str`] says of `body` (the reader already read it without error).
pub(crate) fn repeated_name(
    body: &str,
    id_of: impl Fn(NameKey, &[u8]) -> u8,
) -> Result<Option<String>, ObjectError> {
    let mut side = String::new();
    let mut members = Members::<40>::default();
    read_object_str(body, &mut side, &mut members)?;
    Ok(classify(members.as_mut_slice(), Text::new(body, &side), id_of).map(str::to_owned))
}

/// The repeated-name check of [`classify`], one member at a time, for readers that type
/// members as they come.
///
/// The ids of known names (1..64) are unique per name, so those are checked with a bit set;
/// only the other names (up to sixteen, an id of 0 or from 64 up) are compared with each
/// other. `possible` is
/// set when a name repeats, or when there are too many other names to tell cheaply: then
/// [`classify`] over the whole list gives the exact answer.
#[derive(Default)]
pub(crate) struct Repeats {
    /// The known ids seen, one bit each (every reader's ids are below 64).
    seen: u64,
    others: [Span; 16],
    n_others: usize,
    /// A name may repeat.
    pub(crate) possible: bool,
}

impl Repeats {
    /// Notes one member's name, classified as `id`. The texts are read only for a name that
    /// is not known (see [`DocText`]).
    #[inline(always)]
    pub(crate) fn note<'t>(&mut self, id: u8, name: Span, text: impl Into<Text<'t>>) {
        if (1..64).contains(&id) {
            let bit = 1u64 << id;
            self.possible |= self.seen & bit != 0;
            self.seen |= bit;
        } else if self.n_others == self.others.len() {
            self.possible = true;
        } else {
            let text = text.into();
            let bytes = text.bytes(name);
            self.possible |= self.others[..self.n_others].iter().any(|&o| text.bytes(o) == bytes);
            self.others[self.n_others] = name;
            self.n_others += 1;
        }
    }
}
