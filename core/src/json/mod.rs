//! Strict JSON reading shared by the response parser, the ID-token decoder and discovery.
//!
//! Two readers, one verdict:
//!
//! - **The scanner** ([`read_object`]): a purpose-built, single-pass, strict RFC 8259 reader
//!   for the flat objects of this protocol (a token response, a JOSE header, a claims set).
//!   It finds quotes and backslashes with `memchr` (and eight bytes at a time for short
//!   strings), keeps every member as a [`Span`] into the input, unescapes a string only
//!   when it holds an escape (into a side buffer), and validates nested values in place:
//!   syntax, duplicate names, surrogate pairs, depth. It allocates nothing unless a name
//!   holds an escape or an object has more than [`INLINE_MEMBERS`] members.
//! - **serde_json** (the functions taking a [`RawValue`] or returning [`RawMember`]s): the
//!   reference. Whenever the scanner meets anything it does not accept — a syntax error,
//!   invalid UTF-8, nesting deeper than its own bound — serde_json re-reads the input and its
//!   answer is the answer, with its position-only message. A nested value the scanner is
//!   unsure about (a repeated or escaped name in a nested object, a lone surrogate in a
//!   nested string, a number that may overflow an `f64`) is marked [`Flags::CHECK`] and walked by
//!   [`check_text`], exactly as before the scanner existed. So the scanner decides only
//!   what it is sure of, and never disagrees with serde_json (`tests/core_differential.rs`
//!   and the fuzz targets check that).
//!
//! On top of either, the protocol's rules: the top level must be an object, a member name may
//! appear only once per object (at any depth, so that two parsers never disagree on which
//! value counts).

use std::borrow::Cow;
use std::fmt;

use memchr::{memchr, memchr2};
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

mod inline;
mod member;
mod names;
mod read;
mod reference;
mod repeats;
mod scan;
mod span;
mod strings;
mod swar;
#[cfg(test)]
mod tests;

// Every item of the submodules, for the submodules (`use super::*`).
#[allow(clippy::wildcard_imports)]
use {inline::*, member::*, names::*, read::*, reference::*, scan::*, span::*, strings::*, swar::*};

// What the parsers of the protocol's objects use, and nothing else.
pub(crate) use inline::InlineVec;
pub(crate) use member::{Kind, Member, MemberSink, Members};
#[cfg(test)]
pub(crate) use names::word;
pub(crate) use names::{NameKey, NameTable, known_names};
pub(crate) use read::{read_object, read_object_str};
#[cfg(feature = "verify")]
pub(crate) use reference::CowStr;
pub(crate) use reference::{ObjectError, Raw, as_str, check_text, is_null, parse_object, raw_value};
pub(crate) use repeats::{Repeats, repeated, repeated_name};
pub(crate) use scan::scan_members;
pub(crate) use span::{Doc, OptSpan, Span, Text};
pub(crate) use strings::{member_is_str_or_str_list, str_list};
pub(crate) use swar::{fold_bytes, non_digits};
