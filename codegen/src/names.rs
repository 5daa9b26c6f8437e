//! Identifier helpers: case conversion, keyword escaping, "did you mean" suggestions.

/// Rust keywords (strict and reserved, 2024 edition) that cannot name a field without `r#`.
const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern",
    "false", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut",
    "pub", "ref", "return", "self", "Self", "static", "struct", "super", "trait", "true", "type",
    "unsafe", "use", "where", "while", "abstract", "become", "box", "do", "final", "macro",
    "override", "priv", "try", "typeof", "unsized", "virtual", "yield",
];

/// Keywords that cannot even be raw identifiers.
const NOT_RAW: &[&str] = &["crate", "self", "Self", "super", "_"];

/// Whether `s` is a Rust keyword.
pub fn is_keyword(s: &str) -> bool {
    KEYWORDS.contains(&s)
}

/// Whether `s` can be written as an identifier (possibly raw).
pub fn usable_as_ident(s: &str) -> bool {
    is_ident_chars(s) && !NOT_RAW.contains(&s)
}

fn is_ident_chars(s: &str) -> bool {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if c == '_' || c.is_ascii_alphabetic() => {}
        _ => return false,
    }
    chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

/// `snake_case`: lowercase ASCII letters, digits and underscores, starting with a letter.
pub fn is_snake(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase())
        && chars.all(|c| c == '_' || c.is_ascii_lowercase() || c.is_ascii_digit())
        && !s.contains("__")
        && !s.ends_with('_')
}

/// `PascalCase`: starts with an uppercase ASCII letter, then letters and digits.
pub fn is_pascal(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_uppercase())
        && chars.all(|c| c.is_ascii_alphanumeric())
}

/// `user_get` -> `UserGet`, `media/upload` -> `MediaUpload`, `text_notice` -> `TextNotice`.
pub fn to_pascal(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut upper = true;
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            if upper {
                out.push(c.to_ascii_uppercase());
            } else {
                out.push(c);
            }
            upper = c.is_ascii_digit();
        } else {
            upper = true;
        }
    }
    out
}

/// `UserId` -> `user_id`, `Location_X` -> `location_x`, `msgtype` -> `msgtype`.
pub fn to_snake(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    let chars: Vec<char> = s.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() {
            let prev = i.checked_sub(1).map(|j| chars[j]);
            let next = chars.get(i + 1).copied();
            let boundary = match prev {
                Some(p) if p.is_ascii_lowercase() || p.is_ascii_digit() => true,
                Some(p) if p.is_ascii_uppercase() => next.is_some_and(|n| n.is_ascii_lowercase()),
                _ => false,
            };
            if boundary && !out.ends_with('_') {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else if c == '-' || c == '.' || c == ' ' {
            if !out.ends_with('_') {
                out.push('_');
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Edit distance (Levenshtein, case-insensitive).
pub fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.to_lowercase().chars().collect();
    let b: Vec<char> = b.to_lowercase().chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// The candidate closest to `wanted`, when it is close enough to be a plausible typo.
pub fn closest<'a>(wanted: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (wanted.chars().count() / 3).max(2);
    candidates
        .into_iter()
        .map(|c| (distance(wanted, c), c))
        .filter(|&(d, c)| d <= limit || c.eq_ignore_ascii_case(wanted))
        .min_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(b.1)))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_conversion() {
        assert_eq!(to_pascal("user_get"), "UserGet");
        assert_eq!(
            to_pascal("miniprogram_jscode2session"),
            "MiniprogramJscode2Session"
        );
        assert_eq!(to_pascal("text_notice"), "TextNotice");
        assert_eq!(to_pascal("mpnews"), "Mpnews");
        assert_eq!(to_snake("UserId"), "user_id");
        assert_eq!(to_snake("Location_X"), "location_x");
        assert_eq!(to_snake("msgtype"), "msgtype");
        assert_eq!(to_snake("HTTPCode"), "http_code");
        assert_eq!(to_snake("external-userid"), "external_userid");
    }

    #[test]
    fn identifiers() {
        assert!(is_snake("user_get"));
        assert!(!is_snake("UserGet"));
        assert!(!is_snake("user__get"));
        assert!(is_pascal("UserGet"));
        assert!(!is_pascal("user_get"));
        assert!(is_keyword("type"));
        assert!(usable_as_ident("type"));
        assert!(!usable_as_ident("self"));
        assert!(!usable_as_ident("1st"));
    }

    #[test]
    fn suggestions() {
        assert_eq!(
            closest("Departmnt", ["Department", "Tag", "Member"]),
            Some("Department")
        );
        assert_eq!(closest("strng", ["string", "u32"]), Some("string"));
        assert_eq!(closest("Zebra", ["Department", "Tag"]), None);
    }
}
