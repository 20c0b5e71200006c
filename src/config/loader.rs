//! Reading a configuration the way redis-server reads it.
//!
//! redis-server turns its command line into config-file lines (`--port 7000 --save ""`
//! becomes `port "7000"` and `save ""`), appends them to the file's text and reads the whole
//! as one file. Doing the same here, rather than letting a generic argument parser read the
//! command line, keeps Redis's rules that such a parser gets wrong: every word after
//! `--bind` up to the next `--name` is an address even when it starts with `-` (`-::1`, an
//! optional address), the word right after `--name` is its value even when it starts with
//! `--`, names are case-insensitive, `include` reads another file in place, and a bad line
//! is reported with its number and text, as Redis reports it.

use crate::protocol::split::split_args;

/// One directive: its words (the name first), and where it came from for error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub words: Vec<String>,
    /// The line as Redis shows it after `>>>`: as written in a file, quoted for the command line.
    pub text: String,
    /// Its line number in the text Redis would have read it from.
    pub number: usize,
}

impl Line {
    /// Redis's report of a line it refused (`*** FATAL CONFIG FILE ERROR ***`).
    pub fn fatal(&self, why: &str) -> String {
        format!(
            "\n*** FATAL CONFIG FILE ERROR (Redis {}) ***\nReading the configuration file, at line {}\n>>> '{}'\n{why}",
            crate::command::connection::REDIS_VERSION,
            self.number,
            self.text
        )
    }
}

/// How deep `include` may nest; Redis has no bound and recurses until its stack runs out.
const MAX_INCLUDE_DEPTH: usize = 16;

/// The directives of a config file's `text`, numbered by line, `include`s read in place.
pub fn file_lines(text: &str, depth: usize) -> Result<Vec<Line>, String> {
    let mut lines = Vec::new();
    for (index, raw) in text.split('\n').enumerate() {
        let trimmed = raw.trim_matches([' ', '\t', '\r', '\n']);
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let line = |words| Line {
            words,
            text: trimmed.to_owned(),
            number: index + 1,
        };
        let words = split_args(trimmed.as_bytes())
            .map_err(|_| line(Vec::new()).fatal("Unbalanced quotes in configuration line"))?;
        let words = words
            .into_iter()
            .map(|w| String::from_utf8_lossy(&w).into_owned())
            .collect();
        lines.extend(included(line(words), depth)?);
    }
    Ok(lines)
}

/// The directives of redis-server's command line after the config file (`args` without the
/// program and the file), numbered as Redis numbers them: after the file's `file_newlines`
/// line breaks and the one it adds between the two.
pub fn command_line_lines(args: &[String], file_newlines: usize) -> Result<Vec<Line>, String> {
    let mut directives: Vec<Vec<String>> = Vec::new();
    // Whether the last word was a value (or nothing yet): only then does `--name` start a
    // directive; right after a name, the next word is its value whatever it looks like.
    let mut after_value = true;
    for (i, arg) in args.iter().enumerate() {
        match arg.strip_prefix("--") {
            Some(name) if after_value => {
                // "--port 6380" as one argument is a name and its value.
                let words: Vec<String> = name
                    .split(' ')
                    .filter(|w| !w.is_empty())
                    .map(str::to_owned)
                    .collect();
                after_value = words.len() > 1;
                let is_save = name.eq_ignore_ascii_case("save");
                let next_is_name = args.get(i + 1).is_some_and(|a| a.starts_with("--"));
                directives.push(words);
                // `--save` followed by another option or by nothing means `save ""` (Redis
                // 7.0.1 restored this for command lines generated from an empty list).
                if is_save && (next_is_name || i + 1 == args.len()) {
                    if let Some(d) = directives.last_mut() {
                        d.push(String::new());
                    }
                    after_value = true;
                }
            }
            _ => {
                match directives.last_mut() {
                    Some(d) => d.push(arg.clone()),
                    None => {
                        return Err(Line {
                            words: vec![arg.clone()],
                            text: repr(arg),
                            number: file_newlines + 2,
                        }
                        .fatal("Bad directive or wrong number of arguments"))
                    }
                }
                after_value = true;
            }
        }
    }
    let mut lines = Vec::new();
    for (k, words) in directives.into_iter().enumerate() {
        let mut text = words.first().cloned().unwrap_or_default();
        for value in &words[1..] {
            text.push(' ');
            text.push_str(&repr(value));
        }
        lines.extend(included(
            Line {
                words,
                text,
                number: file_newlines + 2 + k,
            },
            0,
        )?);
    }
    Ok(lines)
}

/// `line` itself, or the directives of the file it includes.
fn included(line: Line, depth: usize) -> Result<Vec<Line>, String> {
    let is_include = line
        .words
        .first()
        .is_some_and(|w| w.eq_ignore_ascii_case("include"));
    if !is_include || line.words.len() != 2 {
        return Ok(vec![line]);
    }
    if depth >= MAX_INCLUDE_DEPTH {
        return Err(line.fatal("include nesting is too deep"));
    }
    let mut lines = Vec::new();
    for path in included_paths(&line.words[1]) {
        lines.extend(file_lines(&read_config_file(&path)?, depth + 1)?);
    }
    Ok(lines)
}

/// The files an `include` names. A path with `*`, `?` or `[` in its last part is a pattern:
/// every matching file, in name order, and none is no error (an empty `conf.d` directory),
/// as Redis's `glob`. Any other path is one file, which must exist.
fn included_paths(path: &str) -> Vec<String> {
    let (dir, pattern) = match path.rsplit_once('/') {
        Some((dir, pattern)) => (if dir.is_empty() { "/" } else { dir }, pattern),
        None => (".", path),
    };
    if !pattern.contains(['*', '?', '[']) {
        return vec![path.to_owned()];
    }
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                // Like glob(3), a leading dot must be matched explicitly.
                .filter(|name| !name.starts_with('.') || pattern.starts_with('.'))
                .filter(|name| crate::glob::matches(pattern.as_bytes(), name.as_bytes()))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
        .into_iter()
        .map(|name| match path.rsplit_once('/') {
            Some(_) => format!("{}/{name}", dir.trim_end_matches('/')),
            None => name,
        })
        .collect()
}

/// A config file's text, with Redis's message when it cannot be read.
pub fn read_config_file(path: &str) -> Result<String, String> {
    std::fs::read(path)
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .map_err(|e| format!("Fatal error, can't open config file '{path}': {e}"))
}

/// A value quoted as Redis quotes it (`sdscatrepr`): in the report of a bad line, and in a
/// rewritten config file.
pub(super) fn repr(value: &str) -> String {
    let mut out = Vec::new();
    crate::state::repr_into(&mut out, value.as_bytes());
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn includes_read_files_in_place_and_patterns_in_name_order() {
        let dir = std::env::temp_dir().join(format!("herald-include-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("conf.d")).unwrap();
        std::fs::write(dir.join("conf.d/b.conf"), "hz 20\n").unwrap();
        std::fs::write(dir.join("conf.d/a.conf"), "hz 15\ntimeout 3\n").unwrap();
        std::fs::write(dir.join("conf.d/.hidden.conf"), "hz 99\n").unwrap();
        std::fs::write(dir.join("main.conf"), "port 7000\n").unwrap();
        let d = dir.display();
        let text = format!(
            "include {d}/main.conf\ninclude {d}/conf.d/*.conf\ninclude {d}/none/*.conf\nhz 30\n"
        );
        let words: Vec<Vec<String>> = file_lines(&text, 0)
            .unwrap()
            .into_iter()
            .map(|l| l.words)
            .collect();
        assert_eq!(
            words,
            [
                vec!["port", "7000"],
                vec!["hz", "15"],
                vec!["timeout", "3"],
                vec!["hz", "20"],
                vec!["hz", "30"]
            ]
        );
        assert!(file_lines(&format!("include {d}/missing.conf\n"), 0)
            .unwrap_err()
            .contains("can't open config file"));
        std::fs::write(dir.join("loop.conf"), format!("include {d}/loop.conf\n")).unwrap();
        assert!(file_lines(&format!("include {d}/loop.conf\n"), 0)
            .unwrap_err()
            .contains("too deep"));
        std::fs::remove_dir_all(dir).unwrap();
    }

    fn words(args: &[&str]) -> Vec<Vec<String>> {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        command_line_lines(&args, 0)
            .unwrap()
            .into_iter()
            .map(|l| l.words)
            .collect()
    }

    #[test]
    fn command_lines_group_as_redis_server_groups_them() {
        assert_eq!(
            words(&["--bind", "127.0.0.1", "-::1", "--port", "7000"]),
            vec![vec!["bind", "127.0.0.1", "-::1"], vec!["port", "7000"]]
        );
        // The word after a name is its value even when it looks like a name.
        assert_eq!(
            words(&["--requirepass", "--secret", "--port", "1"]),
            vec![vec!["requirepass", "--secret"], vec!["port", "1"]]
        );
        assert_eq!(words(&["--port 7000"]), vec![vec!["port", "7000"]]);
        assert_eq!(
            words(&["--save", "--port", "1", "--save"]),
            vec![vec!["save", ""], vec!["port", "1"], vec!["save", ""]]
        );
        assert_eq!(
            words(&[
                "--client-output-buffer-limit",
                "pubsub",
                "1mb",
                "0",
                "0",
                "--hz",
                "5"
            ]),
            vec![
                vec!["client-output-buffer-limit", "pubsub", "1mb", "0", "0"],
                vec!["hz", "5"]
            ]
        );
    }

    #[test]
    fn errors_name_the_line_as_redis_does() {
        let args = vec!["--port".to_string(), "x y".to_string()];
        let lines = command_line_lines(&args, 1).unwrap();
        assert_eq!(lines[0].number, 3);
        assert_eq!(lines[0].text, "port \"x y\"");
        assert!(lines[0]
            .fatal("why")
            .contains("at line 3\n>>> 'port \"x y\"'\nwhy"));
        let lines = file_lines("# c\n\nhz  10\n", 0).unwrap();
        assert_eq!(lines[0].words, ["hz", "10"]);
        assert_eq!((lines[0].number, lines[0].text.as_str()), (3, "hz  10"));
        assert!(file_lines("port \"7000\n", 0)
            .unwrap_err()
            .contains("Unbalanced quotes"));
    }
}
