//! Splitting of an inline command line or a config-file line into arguments, with Redis's
//! quoting rules (`sdssplitargs`): double quotes with C escapes and `\xHH`, single quotes with
//! only `\'`, and a closing quote that must be followed by a space or the end of the line.

/// Why a line could not be split: Redis reports both as unbalanced quotes.
#[derive(Debug, PartialEq, Eq)]
pub struct UnbalancedQuotes;

/// Splits `line` into arguments the way `sdssplitargs` does.
pub fn split_args(line: &[u8]) -> Result<Vec<Vec<u8>>, UnbalancedQuotes> {
    let mut args = Vec::new();
    let mut i = 0;
    let n = line.len();
    loop {
        while i < n && is_space(line[i]) {
            i += 1;
        }
        if i >= n {
            return Ok(args);
        }
        let mut current = Vec::new();
        let mut in_double = false;
        let mut in_single = false;
        loop {
            if in_double {
                if i >= n {
                    return Err(UnbalancedQuotes);
                }
                let c = line[i];
                if c == b'\\'
                    && i + 3 < n
                    && line[i + 1] == b'x'
                    && is_hex(line[i + 2])
                    && is_hex(line[i + 3])
                {
                    current.push(hex(line[i + 2]) * 16 + hex(line[i + 3]));
                    i += 3;
                } else if c == b'\\' && i + 1 < n {
                    i += 1;
                    current.push(match line[i] {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 8,
                        b'a' => 7,
                        other => other,
                    });
                } else if c == b'"' {
                    // The closing quote must be followed by a space or nothing.
                    if i + 1 < n && !is_space(line[i + 1]) {
                        return Err(UnbalancedQuotes);
                    }
                    i += 1;
                    break;
                } else {
                    current.push(c);
                }
            } else if in_single {
                if i >= n {
                    return Err(UnbalancedQuotes);
                }
                let c = line[i];
                if c == b'\\' && i + 1 < n && line[i + 1] == b'\'' {
                    i += 1;
                    current.push(b'\'');
                } else if c == b'\'' {
                    if i + 1 < n && !is_space(line[i + 1]) {
                        return Err(UnbalancedQuotes);
                    }
                    i += 1;
                    break;
                } else {
                    current.push(c);
                }
            } else {
                if i >= n {
                    break;
                }
                match line[i] {
                    b' ' | b'\n' | b'\r' | b'\t' | 0 => break,
                    b'"' => in_double = true,
                    b'\'' => in_single = true,
                    c => current.push(c),
                }
            }
            i += 1;
        }
        args.push(current);
    }
}

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\n' | b'\r' | b'\t' | 0x0b | 0x0c)
}

fn is_hex(c: u8) -> bool {
    c.is_ascii_hexdigit()
}

fn hex(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        _ => c - b'A' + 10,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(s: &str) -> Vec<String> {
        split_args(s.as_bytes())
            .unwrap()
            .into_iter()
            .map(|a| String::from_utf8(a).unwrap())
            .collect()
    }

    #[test]
    fn splits_on_whitespace() {
        assert_eq!(split("  set a   b "), vec!["set", "a", "b"]);
        assert!(split("   ").is_empty());
    }

    #[test]
    fn double_quotes_take_escapes() {
        assert_eq!(split(r#"set "a b" "x\n\x41""#), vec!["set", "a b", "x\nA"]);
        assert_eq!(split(r#""""#), vec![""]);
    }

    #[test]
    fn single_quotes_take_only_escaped_quote() {
        assert_eq!(split(r"'it\'s' '\n'"), vec!["it's", "\\n"]);
    }

    #[test]
    fn unbalanced_or_glued_quotes_are_rejected() {
        assert_eq!(split_args(b"set \"a"), Err(UnbalancedQuotes));
        assert_eq!(split_args(b"set 'a"), Err(UnbalancedQuotes));
        assert_eq!(split_args(b"set \"a\"b"), Err(UnbalancedQuotes));
    }
}
