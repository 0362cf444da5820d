//! deb822 control-file syntax (deb822(5)), shared by Release, Packages and a .deb's `control`:
//! paragraphs separated by blank lines, `Field: value` lines, continuation lines that start
//! with a space or tab. Parsing borrows from the input; multi-line values keep their raw
//! continuation lines.

/// One paragraph: its fields in file order, with the 1-based line it starts on.
#[derive(Debug, Clone)]
pub struct Paragraph<'a> {
    pub line: usize,
    fields: Vec<(&'a str, &'a str)>,
}

impl<'a> Paragraph<'a> {
    /// The value of a field (names compare case-insensitively, as deb822 says), trimmed.
    pub fn get(&self, name: &str) -> Option<&'a str> {
        self.fields
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim())
    }
}

/// Malformed control text.
#[derive(Debug, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct ControlError {
    pub line: usize,
    pub reason: String,
}

/// Splits control text into paragraphs. PGP armour is not handled here: callers pass the
/// verified signed text.
pub fn parse(text: &str) -> Result<Vec<Paragraph<'_>>, ControlError> {
    let mut paragraphs = Vec::new();
    let mut current: Option<Paragraph<'_>> = None;
    // Byte range of the field currently being read, so continuation lines extend it in place.
    let mut open_field: Option<(&str, usize, usize)> = None;
    let mut offset = 0;
    fn flush<'a>(
        text: &'a str,
        current: &mut Option<Paragraph<'a>>,
        open: &mut Option<(&'a str, usize, usize)>,
    ) {
        if let (Some(p), Some((name, start, end))) = (current.as_mut(), open.take()) {
            p.fields.push((name, &text[start..end]));
        }
    }
    for (index, raw_line) in text.split_inclusive('\n').enumerate() {
        let line_no = index + 1;
        let line = raw_line.trim_end_matches(['\n', '\r']);
        let line_start = offset;
        offset += raw_line.len();
        if line.trim().is_empty() {
            flush(text, &mut current, &mut open_field);
            if let Some(p) = current.take() {
                paragraphs.push(p);
            }
            continue;
        }
        if line.starts_with('#') && open_field.is_none() {
            continue;
        }
        if line.starts_with([' ', '\t']) {
            match open_field.as_mut() {
                Some((_, _, end)) => *end = line_start + line.len(),
                None => {
                    return Err(ControlError {
                        line: line_no,
                        reason: "continuation line without a field".into(),
                    })
                }
            }
            continue;
        }
        flush(text, &mut current, &mut open_field);
        let Some(colon) = line.find(':') else {
            return Err(ControlError {
                line: line_no,
                reason: format!("expected `Field: value`, found `{line}`"),
            });
        };
        let name = &line[..colon];
        if name.is_empty() || name.contains(char::is_whitespace) {
            return Err(ControlError {
                line: line_no,
                reason: format!("bad field name `{name}`"),
            });
        }
        let paragraph = current.get_or_insert_with(|| Paragraph {
            line: line_no,
            fields: Vec::new(),
        });
        if paragraph
            .fields
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case(name))
        {
            return Err(ControlError {
                line: line_no,
                reason: format!("duplicate field `{name}`"),
            });
        }
        open_field = Some((name, line_start + colon + 1, line_start + line.len()));
    }
    flush(text, &mut current, &mut open_field);
    if let Some(p) = current.take() {
        paragraphs.push(p);
    }
    Ok(paragraphs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_fields_and_continuations() {
        let text =
            "Package: a\nVersion: 1\nDescription: short\n long line\n .\n more\n\n\nPackage: b\r\nVersion: 2\r\n";
        let ps = parse(text).unwrap();
        assert_eq!(ps.len(), 2);
        assert_eq!(ps[0].get("package"), Some("a"));
        assert_eq!(
            ps[0].get("Description"),
            Some("short\n long line\n .\n more")
        );
        assert_eq!(ps[1].get("Version"), Some("2"));
        assert_eq!(ps[1].line, 9);
    }

    #[test]
    fn malformed_lines_name_the_line() {
        let err = parse("Package: a\nnot a field\n").unwrap_err();
        assert_eq!(err.line, 2);
        let err = parse(" orphan\n").unwrap_err();
        assert_eq!(err.line, 1);
        let err = parse("Package: a\nPackage: b\n").unwrap_err();
        assert!(err.reason.contains("duplicate"));
    }
}
