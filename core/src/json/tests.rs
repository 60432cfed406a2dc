//! The JSON readers, tested against their reference.

use super::repeats::classify;
use super::*;

fn names(body: &str) -> Vec<String> {
    match parse_object(body.as_bytes()) {
        Ok(m) => m.into_iter().map(|(k, _)| k.into_owned()).collect(),
        Err(e) => vec![format!("{e:?}")],
    }
}

/// What the scanner makes of a body: names and raw values, or `None` when it bails.
fn scanned(body: &str) -> Option<Vec<(String, String, Kind, Flags)>> {
    let mut side = String::new();
    let mut members = Members::<40>::default();
    scan_object(body, &mut side, &mut members).ok()?;
    let text = Text::new(body, &side);
    Some(
        members
            .as_slice()
            .iter()
            .map(|m| (text.get(m.name).to_owned(), text.get(m.value).to_owned(), m.kind, m.flags))
            .collect(),
    )
}

#[test]
fn digit_runs_end_where_the_first_non_digit_is() {
    for c in 0..=255u8 {
        for len in 0..20 {
            for tail in [c, b'0', b'9'] {
                let mut b = vec![b'7'; len];
                b.push(c);
                b.extend_from_slice(&[tail; 9]);
                let want = b.iter().position(|x| !x.is_ascii_digit()).unwrap_or(b.len());
                assert_eq!(skip_digits(&b, 0), want, "{b:?}");
            }
        }
    }
}

#[test]
fn arrays_of_strings_are_noted_and_agree_with_the_exact_check() {
    let body =
        r#"{"a":["x","y\n"],"b":[],"c":["x",1],"d":[["x"]],"e":[ "x" , "\u00e9" ],"f":["\udc00"],"g":"s"}"#;
    let got = scanned(body).expect("the scanner reads it");
    let marked: Vec<(&str, bool)> =
        got.iter().map(|(n, _, _, f)| (n.as_str(), f.contains(Flags::STRINGS))).collect();
    assert_eq!(
        marked,
        [("a", true), ("b", true), ("c", false), ("d", false), ("e", true), ("f", false), ("g", false)]
    );
    for (_, value, kind, flags) in &got {
        let m = Member { kind: *kind, flags: *flags, ..Member::default() };
        assert_eq!(member_is_str_or_str_list(&m, value), is_str_or_str_list(value, *kind), "{value}");
    }
}

#[test]
fn reads_members_in_order_and_unescapes_names() {
    assert_eq!(names(r#" {"b":1, "a\u0062":[2], "c" : {"x":null}} "#), ["b", "ab", "c"]);
    let got = scanned(r#" {"b":1, "a\u0062":[2], "c" : {"x":null}} "#).expect("the scanner reads it");
    let got: Vec<(&str, &str)> = got.iter().map(|(n, v, _, _)| (n.as_str(), v.as_str())).collect();
    assert_eq!(got, [("b", "1"), ("ab", "[2]"), ("c", r#"{"x":null}"#)]);
}

#[test]
fn raw_values_have_no_surrounding_whitespace() {
    let m = parse_object(br#"{ "a" :  "x"  , "b":  null  }"#).expect("serde_json reads it");
    assert_eq!(m[0].1.get(), "\"x\"");
    assert!(is_null(m[1].1));
    let s = scanned(r#"{ "a" :  "x"  , "b":  null  }"#).expect("the scanner reads it");
    assert_eq!(s[0].1, "\"x\"");
    assert_eq!(s[1].2, Kind::Null);
}

#[test]
fn rejects_duplicates_even_when_escaped_differently() {
    assert!(matches!(parse_object(br#"{"a":1,"\u0061":2}"#), Err(ObjectError::Duplicate(n)) if n == "a"));
    let mut side = String::new();
    let mut members = Members::<8>::default();
    let body = r#"{"a":1,"\u0061":2}"#;
    assert!(scan_object(body, &mut side, &mut members).is_ok());
    assert_eq!(classify(members.as_mut_slice(), Text::new(body, &side), |_, _| 0), Some("a"));
    assert_eq!(
        classify(members.as_mut_slice(), Text::new(body, &side), |_, n| u8::from(n == b"a")),
        Some("a")
    );
}

#[test]
fn finds_nested_duplicates() {
    let raw: Box<RawValue> =
        serde_json::from_str(r#"[{"x":{"y":1,"y":2}}]"#).unwrap_or_else(|_| RawValue::NULL.to_owned());
    assert!(matches!(check_value(&raw), Err(ObjectError::Duplicate(n)) if n == "y"));
    let ok: Box<RawValue> =
        serde_json::from_str(r#"{"x":{"y":1},"y":2}"#).unwrap_or_else(|_| RawValue::NULL.to_owned());
    assert!(check_value(&ok).is_ok());
    // The scanner marks the first for serde_json's walk and passes the second.
    let s = scanned(r#"{"a":[{"x":{"y":1,"y":2}}],"b":{"x":{"y":1},"y":2}}"#).expect("the scanner reads it");
    assert!(s[0].3.contains(Flags::CHECK));
    assert!(!s[1].3.contains(Flags::CHECK));
}

#[test]
fn classifies_non_objects_and_non_json() {
    assert!(matches!(parse_object(b"[1,2]"), Err(ObjectError::NotAnObject)));
    assert!(matches!(parse_object(b"\"x\""), Err(ObjectError::NotAnObject)));
    assert!(matches!(parse_object(b"null"), Err(ObjectError::NotAnObject)));
    assert!(matches!(parse_object(b""), Err(ObjectError::NotJson(_))));
    assert!(matches!(parse_object(b"{} x"), Err(ObjectError::NotJson(_))));
    assert!(matches!(parse_object(b"<html>"), Err(ObjectError::NotJson(_))));
    assert!(matches!(parse_object(b"{\"a\":\"\xff\"}"), Err(ObjectError::NotJson(_))));
}

#[test]
fn many_members_use_the_hash_path() {
    let body: String =
        format!("{{{}}}", (0..40).map(|i| format!("\"k{i}\":{i}")).collect::<Vec<_>>().join(","));
    assert_eq!(names(&body).len(), 40);
    let dup = body.replace("\"k39\"", "\"k3\"");
    assert!(matches!(parse_object(dup.as_bytes()), Err(ObjectError::Duplicate(n)) if n == "k3"));
    let many: String =
        format!("{{{}}}", (0..100).map(|i| format!("\"k{i}\":{i}")).collect::<Vec<_>>().join(","));
    assert_eq!(scanned(&many).map(|m| m.len()), Some(100));
}

#[test]
fn the_scanner_refuses_what_serde_json_refuses() {
    for bad in [
        "",
        "{",
        "{}x",
        "{,}",
        r#"{"a":1,}"#,
        r#"{"a" 1}"#,
        r#"{"a":01}"#,
        r#"{"a":-}"#,
        r#"{"a":1.}"#,
        r#"{"a":1e}"#,
        r#"{"a":.5}"#,
        r#"{"a":+1}"#,
        r#"{"a":tru}"#,
        r#"{"a":nul}"#,
        r#"{"a":"\x"}"#,
        r#"{"a":"\u12"}"#,
        r#"{"a":"\u12g4"}"#,
        "{\"a\":\"\t\"}",
        "{\"a\":\"\u{1}\"}",
        r#"{"a":[1,]}"#,
        r#"{"a":[1 2]}"#,
        r#"{"a":{"b"}}"#,
        r#"{"a":{"b":1,}}"#,
        r#"{"\ud800":1}"#,
        r#"{'a':1}"#,
        "[]",
        "1",
    ] {
        assert!(scanned(bad).is_none(), "{bad:?}");
        assert!(parse_members(bad.as_bytes()).is_err(), "{bad:?}");
    }
}

#[test]
fn strings_long_and_short_with_escapes_anywhere() {
    for len in [0, 1, 7, 8, 9, 31, 32, 33, 40, 100, 5000] {
        let plain = "x".repeat(len);
        let body = format!(r#"{{"k":"{plain}","e":"{plain}\n{plain}","q":"{plain}\"","c":1}}"#);
        let s = scanned(&body).expect("the scanner reads it");
        assert_eq!(s.len(), 4, "{len}");
        assert_eq!(s[0].3, Flags::NONE);
        assert_eq!(s[1].3, Flags::ESCAPED);
        let bad = format!("{{\"k\":\"{plain}\u{1f}\"}}");
        assert!(scanned(&bad).is_none(), "{len}");
    }
}

#[test]
fn unescaping_follows_serde_json() {
    for (escaped, want) in [
        (r#"a\"b\\c\/d\b\f\n\r\t"#, Some("a\"b\\c/d\u{8}\u{c}\n\r\t")),
        (r"\u00e9\u0000", Some("é\u{0}")),
        (r"\ud83d\ude00!", Some("😀!")),
        (r"\ud83d", None),
        (r"\ude00", None),
        (r"\ud83d\u0041", None),
        (r"\ud83dx", None),
    ] {
        let mut out = String::new();
        let ok = unescape_into(escaped, &mut out);
        assert_eq!(ok.then_some(out.as_str()), want, "{escaped}");
        let serde: Option<String> = serde_json::from_str(&format!("\"{escaped}\"")).ok();
        assert_eq!(serde.as_deref(), want, "{escaped}");
    }
}

#[test]
fn risky_nested_numbers_and_surrogates_are_left_to_serde_json() {
    let s = scanned(
        r#"{"a":[1e400],"b":[1.5],"c":["\ud800"],"d":["\ud83d\ude00"],"e":1e400,"f":"{\ud800","g":"\ud800"}"#,
    )
    .expect("the scanner reads it");
    let flags: Vec<bool> = s.iter().map(|m| m.3.contains(Flags::CHECK)).collect();
    // A string is walked only when, like "f", it holds a bracket (as the reference does).
    assert_eq!(flags, [true, false, true, false, false, true, false]);
}

#[test]
fn deep_nesting_is_left_to_serde_json() {
    let deep = format!(r#"{{"a":{}{}}}"#, "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
    assert!(scanned(&deep).is_none());
    let ok = format!(r#"{{"a":{}{}}}"#, "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
    assert!(scanned(&ok).is_some());
    let mut side = String::new();
    let mut members = Members::<40>::default();
    // serde_json reads the deeper one, and its members come back as spans.
    assert!(read_object(deep.as_bytes(), &mut side, &mut members).is_ok());
    assert_eq!(members.as_slice().len(), 1);
    assert_eq!(members.as_slice()[0].flags, Flags::CHECK);
}

#[test]
fn the_masks_find_the_first_special_byte_and_whether_it_is_a_quote() {
    // Every byte value at every position, after plain bytes and before bytes that would
    // confuse the masks' borrows (specials, 0x01, 0x21, 0x23, 0x5D).
    for p in 0..8 {
        for c in 0..=255u8 {
            for after in [b'"', b'\\', 0x00, 0x01, 0x21, 0x23, 0x5D, b'a'] {
                let mut w = [b'a'; 8];
                w[p] = c;
                for x in w.iter_mut().skip(p + 1) {
                    *x = after;
                }
                let (m, q) = special_and_quote(u64::from_le_bytes(w));
                let first = w.iter().position(|&x| is_special(x));
                let got = (m != 0).then(|| m.trailing_zeros() as usize / 8);
                assert_eq!(got, first, "{w:?}");
                if let Some(k) = first {
                    assert_eq!(m & m.wrapping_neg() & q != 0, w[k] == b'"', "{w:?}");
                }
            }
        }
    }
}

/// A multiplier that puts every name of `names` (up to sixteen bytes each) in its own
/// slot of a `SLOTS`-slot [`NameTable`]: for when a new name makes a table's fail.
fn find_multiplier<const SLOTS: usize>(names: &[&str]) -> Option<u64> {
    let mut mul: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..1_000_000 {
        let table = NameTable::<SLOTS>::new(mul);
        let mut slots: Vec<usize> =
            names.iter().map(|n| table.slot(word(n.as_bytes(), 0), word(n.as_bytes(), 8))).collect();
        slots.sort_unstable();
        slots.dedup();
        if slots.len() == names.len() {
            return Some(mul);
        }
        mul = mul.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407) | 1;
    }
    None
}

#[test]
fn name_tables_find_every_name_and_only_those() {
    let owned: Vec<String> = (0..60).map(|i| format!("claim_{i}")).collect();
    let names: Vec<&'static str> = owned.into_iter().map(|n| &*Box::leak(n.into_boxed_str())).collect();
    let mul = find_multiplier::<128>(&names).expect("a multiplier for 60 names in 128 slots");
    let mut table = NameTable::<128>::new(mul);
    for (i, name) in names.iter().enumerate() {
        table = table.with(name, u8::try_from(i + 1).unwrap_or(u8::MAX));
    }
    table = table.with("a_name_longer_than_sixteen_bytes", 200).with("another_name_longer_than_sixteen", 201);
    for (i, name) in names.iter().enumerate() {
        assert_eq!(usize::from(table.id_of(name)), i + 1, "{name}");
    }
    assert_eq!(table.id_of("a_name_longer_than_sixteen_bytes"), 200);
    assert_eq!(table.id_of("another_name_longer_than_sixteen"), 201);
    for other in [
        "",
        "claim_",
        "claim_60",
        "Claim_1",
        "a_name_longer_than_sixteen_byte",
        "a_name_longer_than_sixteen_bytes_",
    ] {
        assert_eq!(table.id_of(other), 0, "{other:?}");
    }
    // A name that differs from a known one only by trailing NULs has the same words.
    assert_eq!(table.id_of("claim_1\u{0}"), 0);
}

#[test]
fn control_characters_are_found_at_every_place_and_length() {
    for len in [0, 1, 31, 63, 64, 65, 127, 128, 129, 200] {
        let plain = vec![b'a'; len];
        assert!(!has_control(&plain), "{len}");
        for at in 0..len {
            for c in [0x00, 0x1F] {
                let mut b = plain.clone();
                b[at] = c;
                assert!(has_control(&b), "{len} {at} {c}");
            }
            let mut b = plain.clone();
            b[at] = 0x20;
            assert!(!has_control(&b), "{len} {at}");
        }
    }
}

#[test]
fn name_keys_agree_whatever_the_surroundings() {
    for name in ["", "a", "iss", "abcdefgh", "abcdefghi", "given_name_xyz16", "preferred_username"] {
        let spaced = format!("\"{name}\"{}", " ".repeat(20));
        let tight = format!("\"{name}\"");
        let span = Span::new(1, 1 + name.len());
        let want = (name.len(), word(name.as_bytes(), 0), word(name.as_bytes(), 8));
        assert_eq!(name_key(Text::new(&spaced, ""), span), want, "{name}");
        assert_eq!(name_key(Text::new(&tight, ""), span), want, "{name}");
    }
}

#[test]
fn string_lists() {
    assert!(is_str_or_str_list(r#"["a", "b\u00e9"]"#, Kind::Array));
    assert_eq!(str_list(r#"["a", "b\u00e9"]"#), ["a", "bé"]);
    assert_eq!(str_list(r#""x\ty""#), ["x\ty"]);
    assert!(is_str_or_str_list("[]", Kind::Array));
    assert!(!is_str_or_str_list(r#"["a",1]"#, Kind::Array));
    assert!(!is_str_or_str_list(r#"[["a"]]"#, Kind::Array));
    assert!(!is_str_or_str_list(r#"["\udc00"]"#, Kind::Array));
    assert!(!is_str_or_str_list("1", Kind::Number));
}
