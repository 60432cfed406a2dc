//! Showing text a server wrote without leaking what it echoed: bounded, control characters
//! replaced, credential-like runs masked. Every error that quotes a server goes through here.

use std::fmt;

/// Text written by the server, made safe to show: at most `max` characters, control
/// characters replaced, and runs of 24 or more token-like characters masked, so that a
/// credential echoed in an error description or an HTML page never reaches a log.
pub(crate) struct Sanitized<'a>(pub(crate) &'a str, pub(crate) usize);

impl fmt::Display for Sanitized<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&sanitize(self.0, self.1))
    }
}

pub(crate) fn sanitize(text: &str, max: usize) -> String {
    const MASK_RUN: usize = 24;
    fn token_like(c: char) -> bool {
        c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~' | '+' | '/' | '=')
    }
    let mut out = String::with_capacity(text.len().min(max) + 4);
    let mut run = String::new();
    // A long run is masked when it looks like a credential: it holds a digit, an upper-case
    // letter or a base64 symbol, or is very long. Long lower-case identifiers such as the
    // error code `invalid_authorization_details` stay readable.
    let looks_secret = |run: &str| {
        run.len() >= 64
            || run.bytes().any(|b| b.is_ascii_digit() || b.is_ascii_uppercase() || b"+/=~".contains(&b))
    };
    let flush = |run: &mut String, out: &mut String| {
        if run.chars().count() >= MASK_RUN && looks_secret(run) {
            out.push_str("[masked]");
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for (count, c) in text.chars().enumerate() {
        if count == max {
            // A run cut by the bound may be the start of a longer token: mask it unless
            // it is too short to matter.
            if token_like(c) && run.len() >= 8 {
                run.clear();
                out.push_str("[masked]");
            }
            flush(&mut run, &mut out);
            out.push('…');
            return out;
        }
        if token_like(c) {
            run.push(c);
            continue;
        }
        flush(&mut run, &mut out);
        out.push(if c.is_control() { ' ' } else { c });
    }
    flush(&mut run, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitize_masks_token_like_runs_and_bounds_length() {
        assert_eq!(sanitize("bad token abcdefghijklmnopqrstuvwxyz0123 here", 100), "bad token [masked] here");
        assert_eq!(sanitize("short words stay", 100), "short words stay");
        assert_eq!(sanitize("a\nb\u{7}c", 100), "a b c");
        assert_eq!(sanitize("abcdef", 3), "abc…");
        // A token cut by the bound is still masked when the cut part is long enough.
        let long = "x".repeat(100);
        assert_eq!(sanitize(&long, 50), "[masked]…");
        let cut = format!("error {}", "y".repeat(20));
        assert_eq!(sanitize(&cut, 16), "error [masked]…");
        // Long lower-case identifiers (OAuth error codes) stay; credential-like runs do not.
        assert_eq!(sanitize("invalid_authorization_details", 100), "invalid_authorization_details");
        assert_eq!(sanitize("token 0123456789abcdef0123456789abcdef!", 100), "token [masked]!");
        assert_eq!(sanitize("SECRETRTxxxxxxxxxxxxxxxxxxxxxxxx", 100), "[masked]");
        assert_eq!(sanitize(&"a".repeat(70), 100), "[masked]");
    }
}
