//! serde_json as the independent reader of JSON: what a body is, which names repeat (at
//! every depth, even past the numbers serde_json's `Value` cannot hold), and the helpers the
//! oracles use to compare JSON values.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

/// What serde_json (an independent reader) makes of a body.
#[derive(Clone, Debug)]
pub struct BodyRef {
    /// `None` when serde_json refuses it (not JSON, a number out of f64 range, nesting past
    /// 128); the core may still read some of those, so no claim is made about them.
    pub value: Option<Value>,
    /// A member name repeats in the top-level object.
    pub top_dup: bool,
    /// A member name repeats in some object, at any depth.
    pub any_dup: bool,
    /// The top-level names that repeat.
    pub top_dup_names: BTreeSet<String>,
}

impl BodyRef {
    /// Reads `body`.
    #[must_use]
    pub fn of(body: &[u8]) -> Self {
        let value = serde_json::from_slice::<Value>(body).ok();
        let dups = if value.is_some() { duplicates(body) } else { Dups::default() };
        Self { value, top_dup: dups.top, any_dup: dups.any, top_dup_names: dups.top_names }
    }

    /// The body as a JSON object, when it is one.
    #[must_use]
    pub fn object(&self) -> Option<&Map<String, Value>> {
        self.value.as_ref().and_then(Value::as_object)
    }

    /// The body as a JSON object that is strict JSON by the contract: no name repeated at any
    /// depth, no member nested deeper than the core keeps (64 levels).
    #[must_use]
    pub fn strict_object(&self) -> Option<&Map<String, Value>> {
        self.object().filter(|body| !self.any_dup && body.values().all(|v| depth(v) <= 64))
    }
}

/// Repeated member names in a JSON text (see [`duplicates`]).
#[derive(Clone, Debug, Default)]
pub struct Dups {
    /// A name repeats in the top-level object.
    pub top: bool,
    /// A name repeats in some object, at any depth.
    pub any: bool,
    /// The repeated top-level names.
    pub top_names: BTreeSet<String>,
}

/// Repeated member names, at the top level and at any depth, found by walking the JSON text
/// with serde (names unescaped, so `"a"` and `"\u0061"` are the same name).
///
/// One pass converts scalars, which fails on a number beyond f64 or past serde_json's depth
/// limit; then a second walk keeps every value raw and rescans each nested container on its
/// own (slower, but no value is ever converted).
#[must_use]
pub fn duplicates(json: &[u8]) -> Dups {
    let mut found = Dups::default();
    if scan(json, true, false, &mut found) {
        return found;
    }
    let mut found = Dups::default();
    scan(json, true, true, &mut found);
    found
}

/// Walks `json`; `false` when serde_json stopped early.
fn scan(json: &[u8], top: bool, raw: bool, found: &mut Dups) -> bool {
    let mut de = serde_json::Deserializer::from_slice(json);
    DupScan { top, raw, found }.deserialize(&mut de).is_ok()
}

struct DupScan<'a> {
    top: bool,
    /// Keep nested values raw and rescan containers separately.
    raw: bool,
    found: &'a mut Dups,
}

/// Rescans a raw nested value on its own, when it is a container.
fn rescan(value: &RawValue, found: &mut Dups) {
    if value.get().starts_with(['{', '[']) {
        scan(value.get().as_bytes(), false, true, found);
    }
}

impl<'de> DeserializeSeed<'de> for DupScan<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for DupScan<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let DupScan { top, raw, found } = self;
        let mut names = BTreeSet::new();
        while let Some(name) = map.next_key::<String>()? {
            if raw {
                rescan(map.next_value::<&'de RawValue>()?, found);
            } else {
                map.next_value_seed(DupScan { top: false, raw, found: &mut *found })?;
            }
            if !names.contains(&name) {
                names.insert(name);
            } else {
                found.any = true;
                if top {
                    found.top = true;
                    found.top_names.insert(name);
                }
            }
        }
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let DupScan { raw, found, .. } = self;
        if raw {
            while let Some(item) = seq.next_element::<&'de RawValue>()? {
                rescan(item, found);
            }
        } else {
            while seq.next_element_seed(DupScan { top: false, raw, found: &mut *found })?.is_some() {}
        }
        Ok(())
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
}

/// Serialises `value` and reads it back: it must be exactly one JSON object with no repeated
/// name (panics otherwise). It is read with raw members, as the core itself reads JSON
/// (DESIGN.md: unknown members are kept verbatim, so numbers beyond f64 survive); each member
/// is then given as a `serde_json::Value` when serde_json's `Value` can hold it.
pub fn json_object_of<T: serde::Serialize + fmt::Debug>(value: &T, what: &str) -> Map<String, Value> {
    let text = match serde_json::to_string(value) {
        Ok(text) => text,
        Err(e) => panic!("{what} does not serialise: {e} ({value:?})"),
    };
    assert!(!duplicates(text.as_bytes()).any, "{what} JSON repeats a name: {text}");
    let members = match serde_json::from_str::<BTreeMap<String, Box<RawValue>>>(&text) {
        Ok(members) => members,
        Err(e) => panic!("{what} JSON does not read back as a JSON object: {e} in {text}"),
    };
    members.into_iter().filter_map(|(k, v)| serde_json::from_str(v.get()).ok().map(|v| (k, v))).collect()
}

/// How deeply a value nests: 0 for a scalar, 1 for `[]`, ...
#[must_use]
pub fn depth(v: &Value) -> usize {
    match v {
        Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        Value::Object(members) => 1 + members.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// The strings of an array of strings (`None` for anything else).
#[must_use]
pub fn string_list(v: &Value) -> Option<Vec<String>> {
    v.as_array()?.iter().map(|s| s.as_str().map(str::to_owned)).collect()
}

/// Every key and string (and number, as text) anywhere in a JSON value.
pub fn collect_strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Number(n) => out.push(n.to_string()),
        Value::Array(items) => items.iter().for_each(|i| collect_strings(i, out)),
        Value::Object(map) => {
            for (k, v) in map {
                out.push(k.clone());
                collect_strings(v, out);
            }
        }
        Value::Bool(_) | Value::Null => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_are_found_at_every_depth_even_past_f64_numbers() {
        let found = |s: &str| {
            let d = duplicates(s.as_bytes());
            (d.top, d.any, d.top_names.into_iter().collect::<Vec<_>>())
        };
        assert_eq!(found(r#"{"a":1,"b":2}"#), (false, false, vec![]));
        assert_eq!(found(r#"{"a":1,"\u0061":2}"#), (true, true, vec!["a".to_owned()]));
        assert_eq!(found(r#"{"x":[{"k":1,"k":2}]}"#), (false, true, vec![]));
        // Past serde_json's f64 range: the raw rescan still finds them.
        assert_eq!(found(r#"{"big":1e400,"x":{"k":1,"k":2}}"#), (false, true, vec![]));
        assert_eq!(found(r#"{"big":1e400,"r":1,"r":2}"#), (true, true, vec!["r".to_owned()]));
    }

    #[test]
    fn strict_objects() {
        let deep = |n: usize| format!(r#"{{"x":{}{}}}"#, "[".repeat(n), "]".repeat(n));
        assert!(BodyRef::of(deep(64).as_bytes()).strict_object().is_some());
        assert!(BodyRef::of(deep(65).as_bytes()).strict_object().is_none());
        assert!(BodyRef::of(br#"{"x":{"k":1,"k":2}}"#).strict_object().is_none());
        assert!(BodyRef::of(b"[]").strict_object().is_none());
        assert_eq!(string_list(&serde_json::json!(["a", "b"])), Some(vec!["a".to_owned(), "b".to_owned()]));
        assert_eq!(string_list(&serde_json::json!(["a", 1])), None);
    }
}
