//! `forge pin`: write each image's repository and digest into Helm values files, changing
//! nothing else. The file is parsed with a real YAML parser (so invalid YAML is refused and
//! keys are found structurally, whatever the indentation, flow style or anchors), and only the
//! byte ranges of the `<component>.image.repository` and `<component>.image.digest` scalars
//! are replaced, in their original quoting style. Comments, key order, anchors and every
//! other byte stay as they were; the result is written atomically.

use std::path::{Path, PathBuf};

use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// The image one chart component should run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pin {
    /// Top-level key in the values file (= recipe name: backend, frontend, postgres).
    pub component: String,
    pub repository: String,
    pub digest: String,
}

/// Why a values file could not be pinned; each names the file and the key.
#[derive(Debug, thiserror::Error)]
pub enum PinError {
    #[error("{file}: not valid YAML: {reason}; fix the file (helm would refuse it too)")]
    InvalidYaml { file: PathBuf, reason: String },
    #[error("{file}: no `{key}` found; add an image block (`{component}: {{image: {{repository: ..., digest: \"\"}}}}`) or leave {component} out of the pin")]
    MissingKey { file: PathBuf, key: String, component: String },
    #[error("{file}:{line}: `{key}` {reason}; write it as a plain or quoted scalar")]
    UnsupportedScalar { file: PathBuf, line: usize, key: String, reason: String },
    #[error("{file}: {source}")]
    Io { file: PathBuf, #[source] source: std::io::Error },
}

/// One value a pin changes: where it sits and what it becomes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub key: String,
    pub line: usize,
    pub old: String,
    pub new: String,
}

/// A scalar found at a watched path: its parsed value, style and byte range in the source.
#[derive(Debug, Clone)]
struct Located {
    key: String,
    value: String,
    style: TScalarStyle,
    line: usize,
    /// Byte range of the scalar token (including quotes) in the source.
    start: usize,
    end: usize,
}

/// Rewrites `text` (the content of `file`) so each pin's repository and digest hold the new
/// values. Returns the new text and the list of changed values (empty when already pinned).
pub fn apply(file: &Path, text: &str, pins: &[Pin]) -> Result<(String, Vec<Change>), PinError> {
    let mut watched = Vec::new();
    for pin in pins {
        watched.push((format!("{}.image.repository", pin.component), pin.repository.clone()));
        watched.push((format!("{}.image.digest", pin.component), pin.digest.clone()));
    }
    let found = locate(file, text, &watched.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>())?;
    let mut edits = Vec::new();
    let mut changes = Vec::new();
    for (key, new_value) in &watched {
        let located = found.iter().find(|l| &l.key == key).ok_or_else(|| PinError::MissingKey {
            file: file.to_path_buf(),
            key: key.clone(),
            component: key.split('.').next().unwrap_or_default().to_string(),
        })?;
        if &located.value != new_value {
            let mut replacement = render(located.style, new_value, &located.key, file, located.line)?;
            if located.start == located.end {
                // `key:` with no value: the new one goes right after the colon.
                replacement.insert(0, ' ');
            }
            edits.push((located.start, located.end, replacement));
            changes.push(Change { key: key.clone(), line: located.line, old: located.value.clone(), new: new_value.clone() });
        }
    }
    edits.sort_by_key(|(start, _, _)| std::cmp::Reverse(*start));
    let mut out = text.to_string();
    for (start, end, replacement) in edits {
        out.replace_range(start..end, &replacement);
    }
    Ok((out, changes))
}

/// Pins `file` in place (atomically); returns the changes made.
pub fn pin_file(file: &Path, pins: &[Pin]) -> Result<Vec<Change>, PinError> {
    let io = |source| PinError::Io { file: file.to_path_buf(), source };
    let text = std::fs::read_to_string(file).map_err(io)?;
    let (new_text, changes) = apply(file, &text, pins)?;
    if !changes.is_empty() {
        crate::atomic::write(file, new_text.as_bytes()).map_err(io)?;
    }
    Ok(changes)
}

/// The changes pinning `file` would make, without writing (for `forge pin --check`).
pub fn check_file(file: &Path, pins: &[Pin]) -> Result<Vec<Change>, PinError> {
    let text = std::fs::read_to_string(file).map_err(|source| PinError::Io { file: file.to_path_buf(), source })?;
    Ok(apply(file, &text, pins)?.1)
}

/// The `repository` and `digest` currently set for `component` in `text` (the content of `file`).
pub fn current_image(file: &Path, text: &str, component: &str) -> Result<(String, String), PinError> {
    let keys = [format!("{component}.image.repository"), format!("{component}.image.digest")];
    let found = locate(file, text, &[keys[0].as_str(), keys[1].as_str()])?;
    let get = |key: &String| {
        found.iter().find(|l| &l.key == key).map(|l| l.value.clone()).ok_or_else(|| PinError::MissingKey {
            file: file.to_path_buf(),
            key: key.clone(),
            component: component.to_string(),
        })
    };
    Ok((get(&keys[0])?, get(&keys[1])?))
}

/// Components of a chart: top-level keys whose value has an `image.repository` (read from the
/// chart's base values.yaml).
pub fn components(file: &Path, text: &str) -> Result<Vec<String>, PinError> {
    let tops = top_level_keys(file, text)?;
    let paths: Vec<String> = tops.iter().map(|t| format!("{t}.image.repository")).collect();
    let found = locate(file, text, &paths.iter().map(String::as_str).collect::<Vec<_>>())?;
    Ok(tops.into_iter().filter(|t| found.iter().any(|l| l.key == format!("{t}.image.repository"))).collect())
}

fn invalid(file: &Path, reason: impl ToString) -> PinError {
    PinError::InvalidYaml { file: file.to_path_buf(), reason: reason.to_string() }
}

/// Byte offset of a parser marker (line 1-based, column 0-based in chars).
fn offset(line_starts: &[usize], text: &str, mark: &Marker) -> usize {
    let start = line_starts[mark.line().saturating_sub(1).min(line_starts.len() - 1)];
    text[start..].char_indices().nth(mark.col()).map_or(text.len(), |(i, _)| start + i)
}

enum Frame {
    /// A mapping: the key awaiting its value, if any.
    Map(Option<String>),
    Seq,
}

/// Walks the YAML event stream, returning every scalar whose dotted path is in `paths`.
fn locate(file: &Path, text: &str, paths: &[&str]) -> Result<Vec<Located>, PinError> {
    let mut line_starts = vec![0];
    line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
    let mut parser = Parser::new_from_str(text);
    let mut stack: Vec<Frame> = Vec::new();
    let mut path: Vec<String> = Vec::new();
    let mut found = Vec::new();
    let mut documents = 0;
    loop {
        let (event, mark) = parser.next_token().map_err(|e| invalid(file, e))?;
        // A node in value position consumes the pending key; returns the node's dotted path.
        let value_path = |stack: &mut Vec<Frame>, path: &Vec<String>| -> Option<String> {
            match stack.last_mut() {
                Some(Frame::Map(pending @ Some(_))) => {
                    let key = pending.take().expect("matched Some");
                    // path[0] is the document root, which has no key.
                    let mut p = path.get(1..).unwrap_or_default().to_vec();
                    p.push(key);
                    Some(p.join("."))
                }
                _ => None,
            }
        };
        match event {
            Event::StreamEnd => break,
            Event::DocumentStart => {
                documents += 1;
                if documents > 1 {
                    return Err(invalid(file, "holds more than one YAML document; a Helm values file is one mapping"));
                }
            }
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                let is_map = matches!(event, Event::MappingStart(..));
                let key = match stack.last_mut() {
                    Some(Frame::Map(pending @ Some(_))) => pending.take(),
                    _ => None,
                };
                // Inside sequences paths stop mattering: push a marker no watched path matches.
                path.push(key.unwrap_or_else(|| "[]".to_string()));
                stack.push(if is_map { Frame::Map(None) } else { Frame::Seq });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                stack.pop();
                path.pop();
            }
            Event::Scalar(value, style, _, _) => {
                if let Some(Frame::Map(pending @ None)) = stack.last_mut() {
                    *pending = Some(value);
                    continue;
                }
                if let Some(key) = value_path(&mut stack, &path) {
                    if paths.contains(&key.as_str()) {
                        let line = mark.line();
                        let (start, end) = scalar_span(text, offset(&line_starts, text, &mark), style, &value)
                            .map_err(|reason| PinError::UnsupportedScalar { file: file.to_path_buf(), line, key: key.clone(), reason })?;
                        found.push(Located { key, value, style, line, start, end });
                    }
                }
            }
            Event::Alias(_) => {
                if let Some(key) = value_path(&mut stack, &path) {
                    if paths.contains(&key.as_str()) {
                        return Err(PinError::UnsupportedScalar {
                            file: file.to_path_buf(),
                            line: mark.line(),
                            key,
                            reason: "is an alias (*name); pinning it would change every node sharing the anchor".into(),
                        });
                    }
                }
            }
            Event::Nothing | Event::StreamStart | Event::DocumentEnd => {}
        }
    }
    Ok(found)
}

fn top_level_keys(file: &Path, text: &str) -> Result<Vec<String>, PinError> {
    let mut parser = Parser::new_from_str(text);
    let mut depth = 0usize;
    let mut expecting_key = false;
    let mut keys = Vec::new();
    loop {
        let (event, _) = parser.next_token().map_err(|e| invalid(file, e))?;
        match event {
            Event::StreamEnd => break,
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                if depth == 1 {
                    expecting_key = true;
                }
                depth += 1;
                if depth == 1 {
                    expecting_key = true;
                }
            }
            Event::MappingEnd | Event::SequenceEnd => depth -= 1,
            Event::Scalar(value, ..) if depth == 1 => {
                if expecting_key {
                    keys.push(value);
                }
                expecting_key = !expecting_key;
            }
            Event::Alias(_) if depth == 1 => expecting_key = !expecting_key,
            _ => {}
        }
    }
    Ok(keys)
}

/// The byte range of the scalar token that starts at (or, after an anchor or tag, near)
/// `at`. Multi-line and block scalars are refused: forge never writes them and rewriting
/// them in place is not safe.
fn scalar_span(text: &str, at: usize, style: TScalarStyle, value: &str) -> Result<(usize, usize), String> {
    let mut start = at;
    // Skip `&anchor ` / `!tag ` properties if the marker points at them.
    while matches!(text[start..].chars().next(), Some('&') | Some('!')) {
        let rest = &text[start..];
        let token_end = rest.find([' ', '\t']).ok_or("has a property but no value")?;
        start += token_end + rest[token_end..].len() - rest[token_end..].trim_start_matches([' ', '\t']).len();
    }
    let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
    let line = &text[start..line_end];
    let end = match style {
        TScalarStyle::Plain => {
            if value.is_empty() || value == "~" || value == "null" {
                // `digest:` with nothing after it: the parser's marker may sit on the next
                // token, so empty plain values are located from the key instead.
                return plain_null_span(text, at, value);
            }
            let content = match line.find(" #") {
                Some(i) => &line[..i],
                None => line,
            };
            let content = content.trim_end();
            if content.trim_end_matches([',', '}', ']']).trim_end() != value && content != value {
                // Flow context (`{repository: x, digest: y}`): the scalar ends at , } or ].
                let flow_end = line.find([',', '}', ']']).unwrap_or(line.len());
                if line[..flow_end].trim_end() != value {
                    return Err("is a multi-line plain scalar".into());
                }
                return Ok((start, start + line[..flow_end].trim_end().len()));
            }
            start + value.len()
        }
        TScalarStyle::SingleQuoted => {
            let mut chars = line.char_indices().skip(1).peekable();
            let mut close = None;
            while let Some((i, c)) = chars.next() {
                if c == '\'' {
                    if chars.peek().map(|(_, n)| *n) == Some('\'') {
                        chars.next();
                    } else {
                        close = Some(i);
                        break;
                    }
                }
            }
            start + close.ok_or("is a multi-line quoted scalar")? + 1
        }
        TScalarStyle::DoubleQuoted => {
            let mut escaped = false;
            let mut close = None;
            for (i, c) in line.char_indices().skip(1) {
                match (escaped, c) {
                    (true, _) => escaped = false,
                    (false, '\\') => escaped = true,
                    (false, '"') => {
                        close = Some(i);
                        break;
                    }
                    _ => {}
                }
            }
            start + close.ok_or("is a multi-line quoted scalar")? + 1
        }
        TScalarStyle::Literal | TScalarStyle::Folded => return Err("is a block scalar (| or >)".into()),
    };
    Ok((start, end))
}

/// Span of an empty plain value. The marker of an empty scalar may point past the key's
/// colon; walk back to the colon and replace what lies between it and the end of the value.
fn plain_null_span(text: &str, at: usize, value: &str) -> Result<(usize, usize), String> {
    if !value.is_empty() && text[at..].starts_with(value) {
        return Ok((at, at + value.len()));
    }
    let colon = text[..at].rfind(':').ok_or("has an empty value the parser could not place")?;
    // Keep one space after the colon; the new value goes right after it.
    Ok((colon + 1, colon + 1))
}

/// The new scalar text in the original style.
fn render(style: TScalarStyle, value: &str, key: &str, file: &Path, line: usize) -> Result<String, PinError> {
    let unsupported = |reason: &str| PinError::UnsupportedScalar { file: file.to_path_buf(), line, key: key.to_string(), reason: reason.to_string() };
    let safe_plain = !value.is_empty()
        && value.chars().all(|c| c.is_ascii_alphanumeric() || "-._:/@".contains(c))
        && !value.contains(": ");
    match style {
        TScalarStyle::Plain if safe_plain => Ok(value.to_string()),
        TScalarStyle::Plain | TScalarStyle::DoubleQuoted => Ok(format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))),
        TScalarStyle::SingleQuoted => Ok(format!("'{}'", value.replace('\'', "''"))),
        _ => Err(unsupported("is a block scalar (| or >)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pins() -> Vec<Pin> {
        vec![
            Pin { component: "backend".into(), repository: "forge.local/backend".into(), digest: format!("sha256:{}", "b".repeat(64)) },
            Pin { component: "frontend".into(), repository: "127.0.0.1:5000/taskflow/frontend".into(), digest: format!("sha256:{}", "f".repeat(64)) },
        ]
    }

    const INPUT: &str = include_str!("../tests/testdata/pin/values.input.yaml");
    const GOLDEN: &str = include_str!("../tests/testdata/pin/values.golden.yaml");

    /// The golden diff test: comments, anchors, aliases elsewhere, flow style, odd quoting
    /// and key order survive; only the repository/digest scalars change.
    #[test]
    fn golden_pin_changes_only_the_image_scalars() {
        let (out, changes) = apply(Path::new("values.input.yaml"), INPUT, &pins()).unwrap();
        assert_eq!(out, GOLDEN, "pinned output differs from tests/testdata/pin/values.golden.yaml");
        let keys: Vec<_> = changes.iter().map(|c| c.key.as_str()).collect();
        assert_eq!(keys, ["backend.image.digest", "frontend.image.repository", "frontend.image.digest"]);
        // Line by line, only lines holding a changed value differ.
        let changed: Vec<usize> = INPUT.lines().zip(out.lines()).enumerate().filter(|(_, (a, b))| a != b).map(|(i, _)| i + 1).collect();
        let mut change_lines: Vec<usize> = changes.iter().map(|c| c.line).collect();
        change_lines.dedup();
        assert_eq!(changed, change_lines);
        assert_eq!(INPUT.lines().count(), out.lines().count());
    }

    /// The chart's own values files: pinning every component changes exactly its digest lines.
    #[test]
    fn real_chart_values_change_only_digest_lines() {
        let chart = Path::new(env!("CARGO_MANIFEST_DIR")).join("../charts/todo-app");
        let base = std::fs::read_to_string(chart.join("values.yaml")).expect("charts/todo-app/values.yaml is part of the repository");
        let components = components(&chart.join("values.yaml"), &base).unwrap();
        assert!(components.contains(&"backend".to_string()) && components.contains(&"frontend".to_string()), "{components:?}");
        for env in ["values-dev.yaml", "values-prod.yaml"] {
            let file = chart.join(env);
            let text = std::fs::read_to_string(&file).unwrap();
            let pins: Vec<Pin> = components
                .iter()
                .filter(|c| current_image(&file, &text, c).is_ok())
                .map(|c| {
                    let (repository, _) = current_image(&file, &text, c).unwrap();
                    Pin { component: c.clone(), repository, digest: format!("sha256:{}", "c".repeat(64)) }
                })
                .collect();
            assert!(!pins.is_empty(), "{env} has no image blocks");
            let (out, changes) = apply(&file, &text, &pins).unwrap();
            assert_eq!(changes.len(), pins.len(), "{env}: one digest per component");
            for (before, after) in text.lines().zip(out.lines()).filter(|(a, b)| a != b) {
                assert!(before.trim_start().starts_with("digest:") && after.contains(&"c".repeat(64)), "{env}: {before:?} -> {after:?}");
            }
            assert_eq!(text.lines().count(), out.lines().count());
        }
    }

    #[test]
    fn empty_and_anchored_values_are_pinned_in_place() {
        let text = "backend:\n  image:\n    repository: &repo forge.local/old   # anchored\n    digest:\n    tag: x\nmirror: *repo\n";
        let pins = &pins()[..1];
        let (out, _) = apply(Path::new("v.yaml"), text, pins).unwrap();
        assert_eq!(
            out,
            format!("backend:\n  image:\n    repository: &repo forge.local/backend   # anchored\n    digest: sha256:{}\n    tag: x\nmirror: *repo\n", "b".repeat(64))
        );
        let (again, changes) = apply(Path::new("v.yaml"), &out, pins).unwrap();
        assert!(changes.is_empty() && again == out);
    }

    #[test]
    fn pinning_twice_changes_nothing() {
        let (once, _) = apply(Path::new("v.yaml"), INPUT, &pins()).unwrap();
        let (twice, changes) = apply(Path::new("v.yaml"), &once, &pins()).unwrap();
        assert_eq!(once, twice);
        assert!(changes.is_empty());
    }

    #[test]
    fn invalid_yaml_names_the_file() {
        let err = apply(Path::new("charts/x/values-dev.yaml"), "backend:\n  image: [unclosed\n", &pins()).unwrap_err().to_string();
        assert!(err.starts_with("charts/x/values-dev.yaml: not valid YAML"), "{err}");
    }

    #[test]
    fn missing_image_block_names_file_and_key() {
        let text = "backend:\n  image:\n    repository: a\n    digest: \"\"\nfrontend:\n  replicaCount: 1\n";
        let err = apply(Path::new("values-dev.yaml"), text, &pins()).unwrap_err().to_string();
        assert!(err.contains("values-dev.yaml: no `frontend.image.repository` found"), "{err}");
        assert!(err.contains("add an image block"), "{err}");
    }

    #[test]
    fn alias_value_is_refused() {
        let text = "x: &d \"\"\nbackend:\n  image: {repository: a, digest: *d}\nfrontend:\n  image: {repository: a, digest: \"\"}\n";
        let err = apply(Path::new("v.yaml"), text, &pins()).unwrap_err().to_string();
        assert!(err.contains("v.yaml:3: `backend.image.digest` is an alias"), "{err}");
    }

    #[test]
    fn block_scalar_is_refused() {
        let text = "backend:\n  image:\n    repository: |\n      forge.local/backend\n    digest: \"\"\n";
        let err = apply(Path::new("v.yaml"), text, &pins()[..1]).unwrap_err().to_string();
        assert!(err.contains("`backend.image.repository` is a block scalar"), "{err}");
    }

    #[test]
    fn second_document_is_refused() {
        let text = "backend: {image: {repository: a, digest: b}}\n---\nother: 1\n";
        let err = apply(Path::new("v.yaml"), text, &pins()[..1]).unwrap_err().to_string();
        assert!(err.contains("more than one YAML document"), "{err}");
    }

    #[test]
    fn components_are_top_level_keys_with_an_image() {
        let text = "global: {x: 1}\nbackend:\n  image: {repository: a}\npostgres:\n  enabled: true\n  image:\n    repository: p\nlist: [1, 2]\n";
        assert_eq!(components(Path::new("v.yaml"), text).unwrap(), ["backend", "postgres"]);
    }
}
