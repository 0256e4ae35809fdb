//! Parsing a study file past its unknown fields, so that a misspelt field does not
//! hide the other problems of the file.
//!
//! Every schema struct denies unknown fields. When the parser stops at one, the field
//! (its name, the colon and its value up to the next comma or closing bracket at the
//! same depth) is blanked out — spaces, newlines kept, so every later line number
//! stays right — and the text is parsed again. Each field set aside becomes a
//! [`Problem`] with its line; any other syntax error still stops the parse.

use ron::error::{Error as RonError, Position, SpannedError};

use super::load::Problem;
use super::schema::Study;

/// The error that stopped the parse, and the unknown fields set aside before it.
pub type Stopped = (SpannedError, Vec<Problem>);

/// Most unknown fields set aside before giving up (each costs a parse).
const MAX_UNKNOWN_FIELDS: usize = 64;

/// Parses `text`, setting aside unknown fields; returns the study and one problem per
/// field set aside, or the first error that is not an unknown field (with the
/// problems found before it).
pub fn parse_past_unknown_fields(text: &str) -> Result<(Study, Vec<Problem>), Box<Stopped>> {
    let options =
        ron::Options::default().with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME);
    let mut text = text.to_owned();
    let mut set_aside = Vec::new();
    loop {
        let error = match options.from_str::<Study>(&text) {
            Ok(study) => return Ok((study, set_aside)),
            Err(error) => error,
        };
        let RonError::NoSuchStructField { found, outer, .. } = &error.code else {
            return Err(Box::new((error, set_aside)));
        };
        if set_aside.len() >= MAX_UNKNOWN_FIELDS {
            return Err(Box::new((error, set_aside)));
        }
        let Some(blanked) = blank_field(&text, error.span.start, found) else {
            return Err(Box::new((error, set_aside)));
        };
        set_aside.push(Problem {
            line: Some(error.span.start.line),
            field: outer
                .as_ref()
                .map_or_else(|| found.clone(), |o| format!("{o}.{found}")),
            message: format!("{}; the field was ignored and the rest checked", error.code),
        });
        text = blanked;
    }
}

/// `text` with the field `name` near `at` (its name, colon, value and trailing comma)
/// replaced by spaces; `None` when it cannot be found there.
fn blank_field(text: &str, at: Position, name: &str) -> Option<String> {
    let line_start: usize = text
        .split_inclusive('\n')
        .take(at.line.saturating_sub(1))
        .map(str::len)
        .sum();
    let line_end = text[line_start..]
        .find('\n')
        .map_or(text.len(), |n| line_start + n);
    let line = &text[line_start..line_end];
    // The occurrence of the name on that line nearest to the reported column.
    let column = at.col.saturating_sub(1);
    let start = line
        .match_indices(name)
        .map(|(i, _)| i)
        .filter(|&i| {
            let before = line[..i].chars().next_back();
            let after = line[i + name.len()..].chars().next();
            !before.is_some_and(is_ident_char) && !after.is_some_and(is_ident_char)
        })
        .min_by_key(|&i| i.abs_diff(column))?
        + line_start;
    let end = field_end(text, start + name.len())?;
    let blanked: String = text[start..end]
        .chars()
        .map(|c| if c == '\n' { '\n' } else { ' ' })
        .collect();
    Some(format!("{}{blanked}{}", &text[..start], &text[end..]))
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Where the field whose name ends at `from` ends: after its value and the comma that
/// follows it, or before the bracket that closes its struct.
fn field_end(text: &str, from: usize) -> Option<usize> {
    let rest = &text[from..];
    let colon = rest.find(|c: char| !c.is_whitespace())?;
    if !rest[colon..].starts_with(':') {
        return None;
    }
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (i, c) in rest.char_indices().skip(colon + 1) {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' if depth == 0 => return Some(from + i),
            ')' | ']' | '}' => depth -= 1,
            ',' if depth == 0 => return Some(from + i + 1),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn position(line: usize, col: usize) -> Position {
        Position { line, col }
    }

    #[test]
    fn a_field_is_blanked_with_its_value_and_comma_keeping_lines() {
        let text = "(a: 1, colour: (1, \"x, y\"), b: 2)\n(c: 3)";
        let blanked = blank_field(text, position(1, 8), "colour").unwrap();
        assert_eq!(blanked.len(), text.len());
        assert_eq!(blanked.lines().count(), 2);
        assert!(blanked.starts_with("(a: 1, "), "{blanked}");
        assert!(blanked.contains("b: 2)"), "{blanked}");
        assert!(
            !blanked.contains("colour") && !blanked.contains("x, y"),
            "{blanked}"
        );
        // The last field of a struct: up to its closing bracket.
        let blanked = blank_field("(a: 1, z: [1, 2])", position(1, 8), "z").unwrap();
        assert_eq!(blanked, format!("(a: 1, {})", " ".repeat(9)));
        // A multi-line value keeps its newlines.
        let blanked = blank_field(
            "(a: 1,\n  notes: [\n 1,\n 2],\n b: 2)",
            position(2, 3),
            "notes",
        )
        .unwrap();
        assert_eq!(blanked.lines().count(), 5);
        assert!(blanked.contains("b: 2"));
    }

    #[test]
    fn a_name_that_is_only_part_of_another_word_is_not_taken() {
        assert_eq!(blank_field("(bcolour: 1)", position(1, 2), "colour"), None);
        assert_eq!(blank_field("(colour 1)", position(1, 2), "colour"), None);
    }
}
