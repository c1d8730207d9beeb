//! Texts whose figures come from measurements: a template holds placeholders in braces
//! (`{dead@preset}`, `{learning_rate}`), each filled from a measurement or a setting when the
//! text is read, so no figure a user reads is typed by hand. A digit outside a placeholder is
//! refused unless it is part of a phrase the template's owner allows (a formula, a citation).

use std::fmt;

/// A piece of a template: text as written, or a placeholder's key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Piece<'a> {
    /// Text as written.
    Literal(&'a str),
    /// What is between the braces.
    Placeholder(&'a str),
}

/// Why a template cannot be read or filled.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    /// A `{` without its `}`, or a `}` alone.
    #[error("an unmatched brace at byte {at} of {template:?}")]
    Brace {
        /// The template.
        template: String,
        /// Where.
        at: usize,
    },
    /// A figure typed by hand: a digit outside every placeholder and allowed phrase.
    #[error("{figure:?} in {template:?} is typed by hand: write it as a placeholder such as {{dead@preset}}")]
    TypedFigure {
        /// The template.
        template: String,
        /// The word holding the digit.
        figure: String,
    },
    /// A placeholder that names nothing known, or a figure of the wrong kind.
    #[error("{{{key}}} in {template:?}: {reason}")]
    Placeholder {
        /// The template.
        template: String,
        /// The placeholder.
        key: String,
        /// Why it cannot be filled.
        reason: String,
    },
}

/// The pieces of `template`, in order.
pub fn pieces(template: &str) -> Result<Vec<Piece<'_>>, TextError> {
    let brace = |at| TextError::Brace { template: template.to_owned(), at };
    let mut pieces = Vec::new();
    let mut rest = template;
    let mut offset = 0;
    while let Some(open) = rest.find(['{', '}']) {
        if rest.as_bytes()[open] == b'}' {
            return Err(brace(offset + open));
        }
        let close = rest[open..].find('}').ok_or_else(|| brace(offset + open))? + open;
        if rest[open + 1..close].contains('{') {
            return Err(brace(offset + open));
        }
        if open > 0 {
            pieces.push(Piece::Literal(&rest[..open]));
        }
        pieces.push(Piece::Placeholder(&rest[open + 1..close]));
        offset += close + 1;
        rest = &rest[close + 1..];
    }
    if !rest.is_empty() {
        pieces.push(Piece::Literal(rest));
    }
    Ok(pieces)
}

/// Checks that `template` has no digit outside its placeholders, except inside one of the
/// `allowed` phrases.
pub fn check_no_typed_figures(template: &str, allowed: &[&str]) -> Result<(), TextError> {
    for piece in pieces(template)? {
        let Piece::Literal(text) = piece else { continue };
        let mut text = text.to_owned();
        for phrase in allowed {
            text = text.replace(phrase, " ");
        }
        if let Some(word) = text.split_whitespace().find(|word| word.chars().any(|c| c.is_ascii_digit())) {
            return Err(TextError::TypedFigure { template: template.to_owned(), figure: word.to_owned() });
        }
    }
    Ok(())
}

/// `template` with every placeholder replaced by what `fill` gives for its key; the first one
/// it cannot fill is the error.
pub fn render(template: &str, mut fill: impl FnMut(&str) -> Result<String, String>) -> Result<String, TextError> {
    let mut text = String::with_capacity(template.len());
    for piece in pieces(template)? {
        match piece {
            Piece::Literal(literal) => text.push_str(literal),
            Piece::Placeholder(key) => text.push_str(&fill(key).map_err(|reason| TextError::Placeholder {
                template: template.to_owned(),
                key: key.to_owned(),
                reason,
            })?),
        }
    }
    Ok(text)
}

/// The placeholders of `template`.
pub fn placeholders(template: &str) -> Result<Vec<&str>, TextError> {
    Ok(pieces(template)?
        .into_iter()
        .filter_map(|piece| match piece {
            Piece::Placeholder(key) => Some(key),
            Piece::Literal(_) => None,
        })
        .collect())
}

impl fmt::Display for Piece<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Literal(text) => f.write_str(text),
            Self::Placeholder(key) => write!(f, "{{{key}}}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_filled_and_typed_figures_refused() {
        let template = "After {preset.step} steps {dead@preset} of {neurons} are dead.";
        assert_eq!(placeholders(template).unwrap(), ["preset.step", "dead@preset", "neurons"]);
        let text = render(template, |key| {
            Ok(match key {
                "preset.step" => "3000",
                "dead@preset" => "7 to 10",
                _ => "16",
            }
            .to_owned())
        })
        .unwrap();
        assert_eq!(text, "After 3000 steps 7 to 10 of 16 are dead.");
        assert!(check_no_typed_figures(template, &[]).is_ok());
        let typed = "After 3000 steps {dead@preset} are dead.";
        assert!(
            matches!(check_no_typed_figures(typed, &[]), Err(TextError::TypedFigure { figure, .. }) if figure == "3000")
        );
        assert!(check_no_typed_figures("ReLU is max(0, z).", &["max(0, z)"]).is_ok());
        let missing = render("{nothing}", |_| Err("names no figure".to_owned())).unwrap_err();
        assert_eq!(missing.to_string(), "{nothing} in \"{nothing}\": names no figure");
        assert!(matches!(pieces("a {b"), Err(TextError::Brace { at: 2, .. })));
        assert!(matches!(pieces("a } b"), Err(TextError::Brace { at: 2, .. })));
    }
}
