//! The field type grammar (see the `spec` module docs): scalars, names, `[T]` and `pipe[T]`.

use std::fmt;

/// A built-in scalar type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scalar {
    String,
    Bool,
    I32,
    I64,
    U32,
    U64,
    F64,
    Json,
    Flag,
    Secret,
    Upload,
}

impl Scalar {
    pub const ALL: [Scalar; 11] = [
        Scalar::String,
        Scalar::Bool,
        Scalar::I32,
        Scalar::I64,
        Scalar::U32,
        Scalar::U64,
        Scalar::F64,
        Scalar::Json,
        Scalar::Flag,
        Scalar::Secret,
        Scalar::Upload,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Scalar::String => "string",
            Scalar::Bool => "bool",
            Scalar::I32 => "i32",
            Scalar::I64 => "i64",
            Scalar::U32 => "u32",
            Scalar::U64 => "u64",
            Scalar::F64 => "f64",
            Scalar::Json => "json",
            Scalar::Flag => "flag",
            Scalar::Secret => "secret",
            Scalar::Upload => "upload",
        }
    }

    pub fn from_name(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == s)
    }

    /// Integer types.
    pub fn is_int(self) -> bool {
        matches!(self, Scalar::I32 | Scalar::I64 | Scalar::U32 | Scalar::U64)
    }

    /// Integers and `f64`.
    pub fn is_numeric(self) -> bool {
        self.is_int() || self == Scalar::F64
    }

    /// Strings (`string`, `secret`).
    pub fn is_text(self) -> bool {
        matches!(self, Scalar::String | Scalar::Secret)
    }
}

/// A parsed field type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ty {
    Scalar(Scalar),
    Named(String),
    List(Box<Ty>),
    Pipe(Box<Ty>),
}

impl Ty {
    /// Parses a type expression.
    pub fn parse(s: &str) -> Result<Ty, String> {
        let t = s.trim();
        if t.is_empty() {
            return Err("empty type".into());
        }
        if let Some(inner) = t.strip_prefix("pipe[").and_then(|r| r.strip_suffix(']')) {
            return Ok(Ty::Pipe(Box::new(Ty::parse(inner)?)));
        }
        if let Some(inner) = t.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
            return Ok(Ty::List(Box::new(Ty::parse(inner)?)));
        }
        if let Some(k) = Scalar::from_name(t) {
            return Ok(Ty::Scalar(k));
        }
        let mut chars = t.chars();
        let ident = matches!(chars.next(), Some(c) if c.is_ascii_alphabetic())
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
        if ident {
            Ok(Ty::Named(t.to_owned()))
        } else {
            Err(format!("`{t}` is not a type"))
        }
    }

    /// The element type of a list or pipe, or the type itself.
    pub fn item(&self) -> &Ty {
        match self {
            Ty::List(t) | Ty::Pipe(t) => t,
            t => t,
        }
    }

    pub fn is_list(&self) -> bool {
        matches!(self, Ty::List(_) | Ty::Pipe(_))
    }

    pub fn scalar(&self) -> Option<Scalar> {
        match self {
            Ty::Scalar(k) => Some(*k),
            _ => None,
        }
    }

    /// Every name referenced by this type.
    pub fn names(&self) -> Vec<&str> {
        match self {
            Ty::Scalar(_) => vec![],
            Ty::Named(n) => vec![n.as_str()],
            Ty::List(t) | Ty::Pipe(t) => t.names(),
        }
    }
}

impl fmt::Display for Ty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ty::Scalar(k) => f.write_str(k.name()),
            Ty::Named(n) => f.write_str(n),
            Ty::List(t) => write!(f, "[{t}]"),
            Ty::Pipe(t) => write!(f, "pipe[{t}]"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grammar() {
        assert_eq!(Ty::parse("string"), Ok(Ty::Scalar(Scalar::String)));
        assert_eq!(
            Ty::parse(" [u32] "),
            Ok(Ty::List(Box::new(Ty::Scalar(Scalar::U32))))
        );
        assert_eq!(
            Ty::parse("pipe[string]"),
            Ok(Ty::Pipe(Box::new(Ty::Scalar(Scalar::String))))
        );
        assert_eq!(
            Ty::parse("[[Article]]").map(|t| t.to_string()),
            Ok("[[Article]]".into())
        );
        assert_eq!(Ty::parse("Department"), Ok(Ty::Named("Department".into())));
        assert!(Ty::parse("[u32").is_err());
        assert!(Ty::parse("a b").is_err());
        assert!(Ty::parse("").is_err());
    }
}
