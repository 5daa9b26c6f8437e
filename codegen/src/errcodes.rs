//! spec/errcodes.toml -> `ErrorCode` and `ErrorClass` (generated into core-auth).

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

use crate::diag::{Diagnostic, Source};
use crate::spec::{ErrcodesFile, ErrorClass};

/// Named constants on `ErrorCode`: the codes worth knowing by heart (and those the SDK's own
/// logic and the sandbox branch on). The names live here because the errcodes.toml format is fixed.
pub const NAMED: &[(&str, i64)] = &[
    ("SYSTEM_BUSY", -1),
    ("OK", 0),
    ("DATA_VERSION_CONFLICT", 6000),
    ("INVALID_SECRET", 40001),
    ("INVALID_USERID", 40003),
    ("INVALID_MEDIA_TYPE", 40004),
    ("INVALID_MEDIA_ID", 40007),
    ("INVALID_MSGTYPE", 40008),
    ("INVALID_CORPID", 40013),
    ("INVALID_ACCESS_TOKEN", 40014),
    ("INVALID_BUTTON_COUNT", 40016),
    ("INVALID_OAUTH_CODE", 40029),
    ("INVALID_USERID_LIST", 40031),
    ("INVALID_AGENTID", 40056),
    ("INVALID_PARAMETER", 40058),
    ("EMPTY_PARAMETER", 40063),
    ("ALL_TAG_TARGETS_INVALID", 40070),
    ("BATCH_RESULT_CLEARED", 40089),
    ("MISSING_ACCESS_TOKEN", 41001),
    ("MISSING_CORPID", 41002),
    ("MISSING_SECRET", 41004),
    ("ACCESS_TOKEN_EXPIRED", 42001),
    ("JSAPI_TICKET_UNAVAILABLE", 42012),
    ("OAUTH_CODE_USED", 42022),
    ("MSGID_EXPIRED", 42052),
    ("USER_NOT_BOUND_TO_WECHAT", 43004),
    ("EMPTY_TEXT_CONTENT", 44004),
    ("CONTENT_TOO_LONG", 45002),
    ("TOO_MANY_ARTICLES", 45008),
    ("API_FREQUENCY_LIMIT", 45009),
    ("DELETE_PROTECTION", 45026),
    ("RESPONSE_TOO_LARGE", 45029),
    ("API_CONCURRENCY_LIMIT", 45033),
    ("USER_NOT_FOUND", 46004),
    ("API_FORBIDDEN", 48002),
    ("CONTACT_SYNC_NEW_IP", 48009),
    ("REDIRECT_URI_NOT_TRUSTED", 50001),
    ("DEPARTMENT_NOT_FOUND", 60003),
    ("DEPARTMENT_HAS_MEMBERS", 60005),
    ("DEPARTMENT_HAS_CHILDREN", 60006),
    ("CANNOT_DELETE_ROOT_DEPARTMENT", 60007),
    ("DEPARTMENT_CYCLE", 60010),
    ("NO_PRIVILEGE", 60011),
    ("IP_NOT_TRUSTED", 60020),
    ("USERID_EXISTS", 60102),
    ("MOBILE_EXISTS", 60104),
    ("TOO_MANY_DEPARTMENTS", 60110),
    ("USERID_NOT_FOUND", 60111),
    ("MOBILE_AND_EMAIL_EMPTY", 60129),
    ("LEADER_FLAGS_MISMATCH", 60132),
    ("ALL_RECIPIENTS_INVALID", 81013),
    ("NO_RECIPIENT", 82001),
    ("CHATID_NOT_FOUND", 86003),
    ("INVALID_ROBOT_KEY", 93000),
    ("NO_APP_PERMISSION", 301002),
    ("IMPORT_JOB_RUNNING", 302008),
    ("DOWNLOAD_TOO_LARGE", 830002),
];

const CLASSES: &[(ErrorClass, &str, &str)] = &[
    (ErrorClass::Ok, "Ok", "Success (0)."),
    (
        ErrorClass::Transient,
        "Transient",
        "A temporary failure: retry with backoff (idempotent calls only).",
    ),
    (
        ErrorClass::Token,
        "Token",
        "A credential problem: refresh the token, or fix the secret.",
    ),
    (
        ErrorClass::RateLimit,
        "RateLimit",
        "A frequency or concurrency limit: back off for the window; retrying at once extends the ban.",
    ),
    (
        ErrorClass::Permission,
        "Permission",
        "Not allowed for this app, secret or IP: change the configuration in the admin console.",
    ),
    (
        ErrorClass::Input,
        "Input",
        "Bad request data: fix the request.",
    ),
    (
        ErrorClass::NotFound,
        "NotFound",
        "The thing referred to does not exist (or is outside the app's visible scope).",
    ),
    (
        ErrorClass::Conflict,
        "Conflict",
        "Already exists, or conflicts with the current state.",
    ),
    (
        ErrorClass::Other,
        "Other",
        "Anything else, and codes this version does not know.",
    ),
];

fn class_name(c: ErrorClass) -> &'static str {
    CLASSES
        .iter()
        .find(|(k, _, _)| *k == c)
        .map(|(_, n, _)| *n)
        .unwrap_or("Other")
}

fn snake(n: &str) -> String {
    crate::names::to_snake(n)
}

/// Checks that every named constant's code is listed.
pub(crate) fn check_named(src: &Source, file: &ErrcodesFile) -> Vec<Diagnostic> {
    let missing: Vec<String> = NAMED
        .iter()
        .filter(|(_, code)| !file.code.iter().any(|c| *c.code.get_ref() == *code))
        .map(|(name, code)| format!("{code} (ErrorCode::{name})"))
        .collect();
    if missing.is_empty() {
        return Vec::new();
    }
    vec![src.diag(
        0..0,
        format!("{} code{} named by the generator {} missing: {}", missing.len(), if missing.len() == 1 { "" } else { "s" }, if missing.len() == 1 { "is" } else { "are" }, missing.join(", ")),
        Some("add a [[code]] table for each, or remove the name from NAMED in codegen/src/errcodes.rs".to_owned()),
    )]
}

/// The tokens of `errcodes.rs`.
pub(crate) fn generate(src: &Source, file: &ErrcodesFile) -> TokenStream {
    let mut codes: Vec<_> = file.code.iter().collect();
    codes.sort_by_key(|c| *c.code.get_ref());
    let consts = NAMED.iter().map(|(name, code)| {
        let id = format_ident!("{}", name);
        let lit = Literal::i64_unsuffixed(*code);
        let entry = codes.iter().find(|c| *c.code.get_ref() == *code);
        let doc = match entry {
            Some(e) => format!(" `{code}`: {} ({}).", e.en.trim(), e.zh.trim()),
            None => format!(" `{code}`."),
        };
        quote!(#[doc = #doc] pub const #id: ErrorCode = ErrorCode(#lit);)
    });
    let class_variants = CLASSES.iter().map(|(_, name, doc)| {
        let id = format_ident!("{}", name);
        let doc = format!(" {doc}");
        quote!(#[doc = #doc] #id,)
    });
    let class_strs = CLASSES.iter().map(|(_, name, _)| {
        let id = format_ident!("{}", name);
        let s = snake(name);
        quote!(ErrorClass::#id => #s,)
    });
    let module_doc = format!(
        " WeCom's error codes ({} of them, from `{}`): meaning, official Chinese name, class and fix.",
        codes.len(),
        src.path
    );
    quote! {
        #![doc = #module_doc]

        /// What a caller should do about an error code.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorClass {
            #(#class_variants)*
        }

        impl ErrorClass {
            /// The class as written in `spec/errcodes.toml` (`rate_limit`).
            pub const fn as_str(self) -> &'static str {
                match self {
                    #(#class_strs)*
                }
            }
        }

        impl ::std::fmt::Display for ErrorClass {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        /// A WeCom `errcode`. Any number is representable; the known ones (every code in
        /// `spec/errcodes.toml`) have a meaning, their official Chinese name, a class and often a fix.
        ///
        /// ```
        /// use wecom_core_auth::generated::errcodes::{ErrorClass, ErrorCode};
        /// let code = ErrorCode::new(60020);
        /// assert_eq!(code, ErrorCode::IP_NOT_TRUSTED);
        /// assert_eq!(code.class(), ErrorClass::Permission);
        /// assert!(code.to_string().starts_with("60020 ("));
        /// assert!(!ErrorCode::new(123_456_789).is_known());
        /// ```
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, ::serde::Serialize, ::serde::Deserialize)]
        #[serde(transparent)]
        pub struct ErrorCode(i64);

        impl ErrorCode {
            #(#consts)*

            /// The code `code`, known or not.
            pub const fn new(code: i64) -> Self {
                Self(code)
            }

            /// The number.
            pub const fn code(self) -> i64 {
                self.0
            }

            fn entry(self) -> ::std::option::Option<&'static Entry> {
                ENTRIES.binary_search_by_key(&self.0, |e| e.0).ok().map(|i| &ENTRIES[i])
            }

            /// Whether `spec/errcodes.toml` lists this code.
            pub fn is_known(self) -> bool {
                self.entry().is_some()
            }

            /// What the code means, in English (`"unknown error code"` for codes not listed).
            pub fn meaning(self) -> &'static str {
                self.entry().map_or("unknown error code", |e| e.1)
            }

            /// WeCom's official Chinese name of the code.
            pub fn zh(self) -> ::std::option::Option<&'static str> {
                self.entry().map(|e| e.2)
            }

            /// What kind of failure it is (`Other` for codes not listed).
            pub fn class(self) -> ErrorClass {
                self.entry().map_or(ErrorClass::Other, |e| e.3)
            }

            /// What to do about it, when known.
            pub fn fix(self) -> ::std::option::Option<&'static str> {
                self.entry().and_then(|e| e.4)
            }

            /// Every listed code, in ascending order.
            pub fn all() -> impl ::std::iter::Iterator<Item = ErrorCode> {
                ENTRIES.iter().map(|e| ErrorCode(e.0))
            }
        }

        impl ::std::convert::From<i64> for ErrorCode {
            fn from(code: i64) -> Self {
                Self(code)
            }
        }

        impl ::std::convert::From<ErrorCode> for i64 {
            fn from(code: ErrorCode) -> Self {
                code.0
            }
        }

        impl ::std::fmt::Display for ErrorCode {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                write!(f, "{} ({})", self.0, self.meaning())
            }
        }

        /// code, English meaning, Chinese name, class, fix.
        #[derive(Debug)]
        struct Entry(i64, &'static str, &'static str, ErrorClass, ::std::option::Option<&'static str>);

    }
}

/// The table of `errcodes.rs`, one line per code (written directly: through prettyplease each
/// entry would take seven lines, and formatting 1,251 of them is the slowest part of generation).
pub(crate) fn table(file: &ErrcodesFile) -> String {
    let mut codes: Vec<_> = file.code.iter().collect();
    codes.sort_by_key(|c| *c.code.get_ref());
    let mut out = String::new();
    out.push_str("/// Sorted by code (binary search).\n");
    out.push_str(&format!("static ENTRIES: [Entry; {}] = [\n", codes.len()));
    for c in codes {
        let fix = match c.fix.as_deref().map(str::trim).filter(|f| !f.is_empty()) {
            Some(f) => format!("Some({f:?})"),
            None => "None".to_owned(),
        };
        out.push_str(&format!(
            "    Entry({}, {:?}, {:?}, ErrorClass::{}, {fix}),\n",
            c.code.get_ref(),
            c.en.trim(),
            c.zh.trim(),
            class_name(c.class)
        ));
    }
    out.push_str("];\n");
    out
}
