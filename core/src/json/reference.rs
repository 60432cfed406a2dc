//! The serde_json reader: the reference every answer of the scanner agrees with, the reader
//! of what the scanner leaves to it, and the classifier of every error.

#[allow(clippy::wildcard_imports)]
use super::*;

/// One member of a JSON object as serde_json reads it: its (unescaped) name and its value
/// as raw JSON text.
pub(crate) type RawMember<'a> = (Cow<'a, str>, &'a RawValue);

/// Why a body could not be read as one JSON object.
#[derive(Debug)]
pub(crate) enum ObjectError {
    /// Not JSON at all; the parser's position-only message.
    NotJson(String),
    /// JSON, but not an object.
    NotAnObject,
    /// A member name repeated in one object.
    Duplicate(String),
}

/// Reads `bytes` as exactly one JSON object (surrounding whitespace allowed) and returns its
/// members in order, rejecting duplicate names at the top level. Nested objects are checked
/// by [`check_value`] when a reader keeps them.
pub(crate) fn parse_object(bytes: &[u8]) -> Result<Vec<RawMember<'_>>, ObjectError> {
    let members = parse_members(bytes)?;
    if let Some(name) = find_duplicate(members.iter().map(|(k, _)| k.as_ref())) {
        return Err(ObjectError::Duplicate(name.to_owned()));
    }
    Ok(members)
}

/// Like [`parse_object`] but leaves the duplicate check to the caller, which may need to
/// look at the members first (R18 rotated-token-survives-broken-response).
pub(crate) fn parse_members(bytes: &[u8]) -> Result<Vec<RawMember<'_>>, ObjectError> {
    match serde_json::from_slice(bytes).map_err(|e| ObjectError::NotJson(position_only(&e)))? {
        Top::NotObject => Err(ObjectError::NotAnObject),
        Top::Object(members) => Ok(members),
    }
}

/// Checks a raw value kept verbatim: no object inside it may repeat a member name.
#[cfg(test)]
pub(crate) fn check_value(raw: &RawValue) -> Result<(), ObjectError> {
    check_text(raw.get())
}

/// [`check_value`] on the text of a value (already known to be valid JSON).
pub(crate) fn check_text(text: &str) -> Result<(), ObjectError> {
    // Scalars cannot hold an object or nest; anything with a bracket is walked, which also
    // bounds its depth (serde_json's recursion limit), arrays of arrays included.
    if !text.contains(['{', '[']) {
        return Ok(());
    }
    let mut de = serde_json::Deserializer::from_str(text);
    match DupWalk(0).deserialize(&mut de) {
        Ok(None) => Ok(()),
        Ok(Some(name)) => Err(ObjectError::Duplicate(name)),
        Err(e) => Err(ObjectError::NotJson(position_only(&e))),
    }
}

/// serde_json's message for syntax errors names a position, never input text; data errors
/// could quote input, so they are replaced by a generic message.
pub(super) fn position_only(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    match e.classify() {
        Category::Syntax | Category::Eof | Category::Io => e.to_string(),
        Category::Data => format!("invalid value at line {} column {}", e.line(), e.column()),
    }
}

/// The first name that occurs twice, if any.
pub(crate) fn find_duplicate<'n>(names: impl ExactSizeIterator<Item = &'n str> + Clone) -> Option<&'n str> {
    let n = names.len();
    if n <= 24 {
        let all: Vec<&str> = names.collect();
        for (i, a) in all.iter().enumerate() {
            if all[i + 1..].contains(a) {
                return Some(a);
            }
        }
        None
    } else {
        let mut seen = std::collections::HashSet::with_capacity(n);
        names.into_iter().find(|name| !seen.insert(*name))
    }
}

/// `null` counts as absent for every known member.
pub(crate) fn is_null(raw: &RawValue) -> bool {
    raw.get() == "null"
}

/// The value as a string, unescaped (borrowed when it holds no escapes); `None` if the
/// value is not a string.
pub(crate) fn as_str(raw: &RawValue) -> Option<Cow<'_, str>> {
    if !raw.get().starts_with('"') {
        return None;
    }
    serde_json::from_str::<CowStr<'_>>(raw.get()).ok().map(|s| s.0)
}

/// The text of a value the scanner has validated, as a [`RawValue`] borrowing it.
///
/// serde_json offers no infallible borrowed constructor, so this re-reads the value; for a
/// validated value that cannot fail, and `null` stands in if it ever did.
pub(crate) fn raw_value(text: &str) -> &RawValue {
    serde_json::from_str::<&RawValue>(text).unwrap_or(RawValue::NULL)
}

/// A string that borrows from the input when it can.
pub(crate) struct CowStr<'a>(pub(crate) Cow<'a, str>);

impl<'de> de::Deserialize<'de> for CowStr<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = CowStr<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(CowStr(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(CowStr(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(CowStr(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(V)
    }
}

/// The top level of a body: an object's members, or a note that it is something else.
pub(super) enum Top<'a> {
    Object(Vec<RawMember<'a>>),
    NotObject,
}

impl<'de> de::Deserialize<'de> for Top<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Top<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut members = Vec::with_capacity(map.size_hint().unwrap_or(8));
                while let Some(CowStr(name)) = map.next_key::<CowStr<'de>>()? {
                    let value: &'de RawValue = map.next_value()?;
                    members.push((name, value));
                }
                Ok(Top::Object(members))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Top::NotObject)
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(Top::NotObject)
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
                Ok(Top::NotObject)
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
                Ok(Top::NotObject)
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                Ok(Top::NotObject)
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
                Ok(Top::NotObject)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Top::NotObject)
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// How deep a value kept verbatim may nest (arrays and objects). Deeper values are refused:
/// every JSON reader has a limit (serde_json's `Value` reader stops at 128 for a whole
/// document), and output must stay readable by them.
pub(crate) const MAX_KEPT_DEPTH: u16 = 64;

/// Walks a value and reports the first member name repeated within one object; refuses
/// nesting deeper than [`MAX_KEPT_DEPTH`]. The field is the depth of the value walked.
pub(super) struct DupWalk(u16);

impl DupWalk {
    fn enter<E: de::Error>(&self) -> Result<DupWalk, E> {
        if self.0 >= MAX_KEPT_DEPTH {
            return Err(E::custom("nesting too deep"));
        }
        Ok(DupWalk(self.0 + 1))
    }
}

impl<'de> DeserializeSeed<'de> for DupWalk {
    type Value = Option<String>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for DupWalk {
    type Value = Option<String>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let child = self.enter()?;
        let mut names: Vec<Cow<'de, str>> = Vec::new();
        let mut found = None;
        while let Some(CowStr(name)) = map.next_key::<CowStr<'de>>()? {
            let inner = map.next_value_seed(DupWalk(child.0))?;
            if found.is_none() {
                if names.contains(&name) {
                    found = Some(name.clone().into_owned());
                } else {
                    found = inner;
                }
            }
            names.push(name);
        }
        Ok(found)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let child = self.enter()?;
        let mut found = None;
        while let Some(inner) = seq.next_element_seed(DupWalk(child.0))? {
            if found.is_none() {
                found = inner;
            }
        }
        Ok(found)
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
}

/// An owned raw JSON value kept verbatim, comparable by its text.
#[derive(Clone, Debug)]
pub(crate) struct Raw(Box<RawValue>);

impl Raw {
    pub(crate) fn new(value: &RawValue) -> Self {
        Self(value.to_owned())
    }
}

impl std::ops::Deref for Raw {
    type Target = RawValue;
    fn deref(&self) -> &RawValue {
        &self.0
    }
}

impl PartialEq for Raw {
    fn eq(&self, other: &Self) -> bool {
        self.0.get() == other.0.get()
    }
}

impl serde::Serialize for Raw {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}
