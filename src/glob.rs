//! Redis's glob-style matching (`stringmatchlen`): `*`, `?`, `[abc]`, `[^a]`, `[a-z]` and
//! backslash escapes, used by KEYS, SCAN MATCH, CONFIG GET, PSUBSCRIBE and PUBSUB CHANNELS.
//!
//! The rules are Redis's to the letter, corner cases included (an unterminated `[` matches what
//! it has read so far; a reversed range `[z-a]` is swapped; bytes compare as C's signed `char`),
//! because a pattern must select the same channels and keys here as in Redis. Two guards keep a
//! pathological pattern such as `a*a*a*a*...b` from stalling the server: a nesting limit, and
//! Redis's "skip longer matches" cut-off, which makes matching polynomial instead of exponential.

/// Whether `string` matches the glob `pattern`.
pub fn matches(pattern: &[u8], string: &[u8]) -> bool {
    let mut skip_longer = false;
    match_impl(pattern, string, false, &mut skip_longer, 0)
}

/// Case-insensitive matching, as CONFIG GET uses for parameter names.
pub fn matches_nocase(pattern: &[u8], string: &[u8]) -> bool {
    let mut skip_longer = false;
    match_impl(pattern, string, true, &mut skip_longer, 0)
}

/// Whether a pattern has no special characters, so it can only match itself.
pub fn is_literal(pattern: &[u8]) -> bool {
    !pattern
        .iter()
        .any(|b| matches!(b, b'*' | b'?' | b'[' | b'\\'))
}

fn match_impl(pat: &[u8], s: &[u8], nocase: bool, skip_longer: &mut bool, nesting: u32) -> bool {
    if nesting > 1000 {
        return false;
    }
    // Reads past the end see a NUL, as the C code reads the string's terminator.
    let at = |i: usize| pat.get(i).copied().unwrap_or(0);
    let fold = |c: u8| if nocase { c.to_ascii_lowercase() } else { c };
    let (mut p, mut i) = (0usize, 0usize);
    while p < pat.len() && i < s.len() {
        match pat[p] {
            b'*' => {
                while p < pat.len() && at(p + 1) == b'*' {
                    p += 1;
                }
                if pat.len() - p == 1 {
                    return true;
                }
                while i < s.len() {
                    if match_impl(&pat[p + 1..], &s[i..], nocase, skip_longer, nesting + 1) {
                        return true;
                    }
                    if *skip_longer {
                        return false;
                    }
                    i += 1;
                }
                *skip_longer = true;
                return false;
            }
            b'?' => i += 1,
            b'[' => {
                p += 1;
                let negate = at(p) == b'^';
                if negate {
                    p += 1;
                }
                let c = s[i];
                let mut matched = false;
                loop {
                    let remaining = pat.len().saturating_sub(p);
                    if at(p) == b'\\' && remaining >= 2 {
                        p += 1;
                        if at(p) == c {
                            matched = true;
                        }
                    } else if at(p) == b']' {
                        break;
                    } else if remaining == 0 {
                        p -= 1;
                        break;
                    } else if remaining >= 3 && at(p + 1) == b'-' {
                        // C compares `char`, which is signed on the platforms Redis ships for.
                        let signed = |b: u8| i32::from(fold(b) as i8);
                        let (mut start, mut end) = (signed(at(p)), signed(at(p + 2)));
                        if start > end {
                            std::mem::swap(&mut start, &mut end);
                        }
                        p += 2;
                        let v = signed(c);
                        if v >= start && v <= end {
                            matched = true;
                        }
                    } else if fold(at(p)) == fold(c) {
                        matched = true;
                    }
                    p += 1;
                }
                if negate {
                    matched = !matched;
                }
                if !matched {
                    return false;
                }
                i += 1;
            }
            other => {
                let mut expected = other;
                if other == b'\\' && pat.len() - p >= 2 {
                    p += 1;
                    expected = pat[p];
                }
                if fold(expected) != fold(s[i]) {
                    return false;
                }
                i += 1;
            }
        }
        p += 1;
        if i == s.len() {
            while at(p) == b'*' {
                p += 1;
            }
            break;
        }
    }
    p >= pat.len() && i == s.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_redis_glob_rules() {
        let table: &[(&str, &str, bool)] = &[
            ("*", "", false), // as in Redis: PUBLISH "" reaches no `*` subscriber
            ("*", "anything", true),
            ("h?llo", "hello", true),
            ("h?llo", "hllo", false),
            ("h*llo", "heeeello", true),
            ("h[ae]llo", "hallo", true),
            ("h[ae]llo", "hillo", false),
            ("h[^e]llo", "hallo", true),
            ("h[^e]llo", "hello", false),
            ("h[a-b]llo", "hbllo", true),
            ("h[b-a]llo", "hallo", true),
            ("h[a-b]llo", "hcllo", false),
            ("h\\*llo", "h*llo", true),
            ("h\\*llo", "hello", false),
            ("news.*", "news.sport", true),
            ("news.*", "news", false),
            ("a*", "a", true),
            ("a**b", "axxb", true),
            ("[abc", "a", true),
            ("[abc", "b", true),
            ("[\\]]", "]", true),
            ("a\\", "a\\", true),
            ("", "", true),
            ("", "a", false),
            ("a", "", false),
            ("abc", "ab", false),
            ("*a", "ba", true),
            ("?", "", false),
        ];
        for (pattern, string, expected) in table {
            assert_eq!(
                matches(pattern.as_bytes(), string.as_bytes()),
                *expected,
                "{pattern:?} ~ {string:?}"
            );
        }
    }

    #[test]
    fn nocase_folds_ascii() {
        assert!(matches_nocase(b"MAX*", b"maxclients"));
        assert!(!matches(b"MAX*", b"maxclients"));
    }

    #[test]
    fn pathological_pattern_finishes_quickly() {
        let pattern = "a*".repeat(40) + "b";
        let string = "a".repeat(200);
        assert!(!matches(pattern.as_bytes(), string.as_bytes()));
        let deep = "*?".repeat(2000);
        assert!(!matches(deep.as_bytes(), "x".repeat(10).as_bytes()));
    }

    #[test]
    fn literal_patterns_are_recognised() {
        assert!(is_literal(b"news.sport"));
        assert!(!is_literal(b"news.*"));
    }
}
