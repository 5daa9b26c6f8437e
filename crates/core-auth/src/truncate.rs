//! Fields WeCom cuts instead of refusing ("超过将截断"): the spec marks them `truncate = true`
//! with their limit and unit. By default the client cuts such a field itself, on a character
//! boundary (WeCom's own cut counts bytes and can split a UTF-8 character), records the cut as a
//! [`Truncated`] (a `tracing` warning, and in `wecom-messages`' `Receipt`), and sends the rest; a
//! client built with [`ClientBuilder::strict_lengths`](crate::ClientBuilder::strict_lengths)
//! refuses the request instead, before any I/O.

use std::fmt;

/// The unit of a WeCom length limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LengthUnit {
    /// UTF-8 bytes (a Chinese character is 3).
    Bytes,
    /// Unicode characters.
    Chars,
}

impl LengthUnit {
    /// `bytes` or `characters`.
    pub const fn as_str(self) -> &'static str {
        match self {
            LengthUnit::Bytes => "bytes",
            LengthUnit::Chars => "characters",
        }
    }

    /// The length of `s` in this unit.
    pub fn len(self, s: &str) -> u64 {
        match self {
            LengthUnit::Bytes => s.len() as u64,
            LengthUnit::Chars => s.chars().count() as u64,
        }
    }
}

impl fmt::Display for LengthUnit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One field longer than WeCom keeps: cut by the client (or, in strict mode, the reason for a
/// refusal).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Truncated {
    /// The field's path in the request, as in errors: `textcard.title`, `news.articles[2].title`.
    pub field: String,
    /// WeCom's limit.
    pub limit: u64,
    /// The limit's unit.
    pub unit: LengthUnit,
    /// The length before the cut, in the same unit.
    pub length: u64,
}

impl Truncated {
    /// A record of a cut.
    pub fn new(field: impl Into<String>, limit: u64, unit: LengthUnit, length: u64) -> Self {
        Self {
            field: field.into(),
            limit,
            unit,
            length,
        }
    }

    /// The same record with `parent` before its field path.
    pub fn under(mut self, parent: &str) -> Self {
        self.field = crate::error::field_under(parent, &self.field);
        self
    }
}

impl fmt::Display for Truncated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` is {} {}; WeCom keeps the first {}",
            self.field, self.length, self.unit, self.limit
        )
    }
}

/// Cuts `value` to at most `limit` units, on a character boundary. Returns the length before the
/// cut when it cut anything.
pub fn cut(value: &mut String, limit: u64, unit: LengthUnit) -> Option<u64> {
    let length = unit.len(value);
    if length <= limit {
        return None;
    }
    let end = match unit {
        LengthUnit::Bytes => {
            let mut end = usize::try_from(limit)
                .unwrap_or(usize::MAX)
                .min(value.len());
            while !value.is_char_boundary(end) {
                end -= 1;
            }
            end
        }
        LengthUnit::Chars => value
            .char_indices()
            .nth(usize::try_from(limit).unwrap_or(usize::MAX))
            .map_or(value.len(), |(i, _)| i),
    };
    value.truncate(end);
    Some(length)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_are_cut_on_a_character_boundary() {
        let mut s = "中文字".to_owned(); // 9 bytes
        assert_eq!(cut(&mut s, 7, LengthUnit::Bytes), Some(9));
        assert_eq!(s, "中文", "the third character would be split at 7 bytes");
        let mut s = "abc".to_owned();
        assert_eq!(cut(&mut s, 3, LengthUnit::Bytes), None);
        assert_eq!(s, "abc");
        let mut s = "中".to_owned();
        assert_eq!(cut(&mut s, 2, LengthUnit::Bytes), Some(3));
        assert_eq!(s, "");
    }

    #[test]
    fn characters_are_counted_as_characters() {
        let mut s = "中文字abc".to_owned();
        assert_eq!(cut(&mut s, 4, LengthUnit::Chars), Some(6));
        assert_eq!(s, "中文字a");
        let mut s = "中文".to_owned();
        assert_eq!(cut(&mut s, 2, LengthUnit::Chars), None);
    }

    #[test]
    fn paths_read_like_error_paths() {
        let t = Truncated::new("title", 128, LengthUnit::Bytes, 200)
            .under("[2]")
            .under("articles")
            .under("news");
        assert_eq!(t.field, "news.articles[2].title");
        assert_eq!(
            t.to_string(),
            "`news.articles[2].title` is 200 bytes; WeCom keeps the first 128"
        );
    }
}
