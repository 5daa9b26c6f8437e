//! Masking of secrets in text that may reach a log or an error message.

/// Query parameters whose values are credentials.
pub const SECRET_QUERY_KEYS: &[&str] = &[
    "access_token",
    "corpsecret",
    "key",
    "secret",
    "ticket",
    "jsapi_ticket",
    "user_ticket",
];

/// JSON keys whose string values are credentials.
const SECRET_JSON_KEYS: &[&str] = &[
    "access_token",
    "ticket",
    "user_ticket",
    "session_key",
    "corpsecret",
    "secret",
];

/// Returns `url` with the values of credential query parameters replaced by `***`.
///
/// ```
/// use wecom_core_auth::redact::mask_url;
/// let url = "https://qyapi.weixin.qq.com/cgi-bin/user/get?access_token=abc&userid=zhangsan";
/// assert_eq!(mask_url(url), "https://qyapi.weixin.qq.com/cgi-bin/user/get?access_token=***&userid=zhangsan");
/// ```
pub fn mask_url(url: &str) -> String {
    let url = mask_userinfo(url);
    let Some((base, rest)) = url.split_once('?') else {
        return url;
    };
    let (query, fragment) = match rest.split_once('#') {
        Some((q, f)) => (q, Some(f)),
        None => (rest, None),
    };
    let mut out = String::with_capacity(url.len());
    out.push_str(base);
    out.push('?');
    for (i, pair) in query.split('&').enumerate() {
        if i > 0 {
            out.push('&');
        }
        match pair.split_once('=') {
            Some((k, _)) if SECRET_QUERY_KEYS.iter().any(|s| s.eq_ignore_ascii_case(k)) => {
                out.push_str(k);
                out.push_str("=***");
            }
            _ => out.push_str(pair),
        }
    }
    if let Some(f) = fragment {
        out.push('#');
        out.push_str(f);
    }
    out
}

/// Replaces the userinfo of every URL in `text` (`scheme://user:password@host`) by `***`, so a
/// base URL or proxy with credentials in it can be shown.
///
/// ```
/// use wecom_core_auth::redact::mask_userinfo;
/// assert_eq!(mask_userinfo("see http://bob:hunter2@proxy:3128/x"), "see http://***@proxy:3128/x");
/// assert_eq!(mask_userinfo("http://h/a@b"), "http://h/a@b");
/// ```
pub fn mask_userinfo(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find("://") {
        let authority_start = pos + 3;
        out.push_str(&rest[..authority_start]);
        let after = &rest[authority_start..];
        let authority_len = after
            .find(['/', '?', '#', ' ', ')', '"', '\'', '\n', '\t'])
            .unwrap_or(after.len());
        match after[..authority_len].rfind('@') {
            Some(at) => {
                out.push_str("***");
                out.push_str(&after[at..authority_len]);
            }
            None => out.push_str(&after[..authority_len]),
        }
        rest = &after[authority_len..];
    }
    out.push_str(rest);
    out
}

/// The first `max` bytes of a response body as text (lossy UTF-8, cut on a character boundary),
/// with the string values of credential keys (`"access_token":"..."`) masked.
pub fn body_excerpt(body: &[u8], max: usize) -> String {
    let text = String::from_utf8_lossy(body);
    let masked = mask_json_secrets(&text);
    if masked.len() <= max {
        return masked;
    }
    let mut end = max;
    while !masked.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes in all)", &masked[..end], body.len())
}

/// Masks `"key": "value"` pairs of credential keys in JSON-ish text, without parsing it
/// (the text may be truncated or invalid).
pub fn mask_json_secrets(text: &str) -> String {
    let mut out = text.to_owned();
    for key in SECRET_JSON_KEYS {
        let needle = format!("\"{key}\"");
        let mut search_from = 0;
        while let Some(pos) = out[search_from..].find(&needle) {
            let after_key = search_from + pos + needle.len();
            let rest = &out[after_key..];
            let trimmed = rest.trim_start_matches([' ', '\t', '\n', '\r', ':']);
            let colon_skipped = rest.len() - trimmed.len();
            if !rest[..colon_skipped].contains(':') || !trimmed.starts_with('"') {
                search_from = after_key;
                continue;
            }
            let value_start = after_key + colon_skipped + 1;
            let mut end = value_start;
            let bytes = out.as_bytes();
            while end < bytes.len() && bytes[end] != b'"' {
                end += if bytes[end] == b'\\' { 2 } else { 1 };
            }
            let end = end.min(out.len());
            out.replace_range(value_start..end, "***");
            search_from = value_start + 3;
        }
    }
    out
}

/// Masks credentials anywhere in free text (an HTTP stack's message, an `errmsg`): the values of
/// credential query parameters (`access_token=...` up to the next `&`, space or quote) and of
/// credential JSON keys.
///
/// ```
/// use wecom_core_auth::redact::mask_text;
/// assert_eq!(mask_text("error sending request for url (http://h/x?a=1&access_token=abc): closed"),
///            "error sending request for url (http://h/x?a=1&access_token=***): closed");
/// ```
pub fn mask_text(text: &str) -> String {
    let owned = mask_userinfo(text);
    let text = owned.as_str();
    let mut out = String::with_capacity(text.len());
    let bytes = text.as_bytes();
    let mut i = 0;
    let mut copied = 0;
    while i < bytes.len() {
        let at_boundary = i == 0
            || matches!(
                bytes[i - 1],
                b'?' | b'&' | b' ' | b'(' | b'"' | b'\'' | b'\t' | b'\n'
            );
        if at_boundary
            && let Some(key) = SECRET_QUERY_KEYS.iter().find(|k| {
                let end = i + k.len();
                end < bytes.len()
                    && bytes[end] == b'='
                    && bytes[i..end].eq_ignore_ascii_case(k.as_bytes())
            })
        {
            let value_start = i + key.len() + 1;
            let mut end = value_start;
            while end < bytes.len()
                && !matches!(
                    bytes[end],
                    b'&' | b' ' | b'"' | b'\'' | b')' | b'#' | b'\n' | b'\t' | b','
                )
            {
                end += 1;
            }
            if end > value_start {
                out.push_str(&text[copied..value_start]);
                out.push_str("***");
                copied = end;
            }
            i = end.max(i + 1);
            continue;
        }
        i += 1;
    }
    out.push_str(&text[copied..]);
    if out.contains('"') {
        mask_json_secrets(&out)
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_credentials_in_urls() {
        assert_eq!(
            mask_url("http://h/cgi-bin/gettoken?corpid=ww1&corpsecret=s3cr3t"),
            "http://h/cgi-bin/gettoken?corpid=ww1&corpsecret=***"
        );
        assert_eq!(
            mask_url("http://h/cgi-bin/webhook/send?key=abc#x"),
            "http://h/cgi-bin/webhook/send?key=***#x"
        );
        assert_eq!(mask_url("http://h/no-query"), "http://h/no-query");
        assert_eq!(
            mask_url("http://user:pa55@h:8080/cgi-bin/x?access_token=t"),
            "http://***@h:8080/cgi-bin/x?access_token=***"
        );
        assert_eq!(
            mask_text("error sending request for url (http://u:pa55@h/x): refused"),
            "error sending request for url (http://***@h/x): refused"
        );
    }

    #[test]
    fn masks_credentials_in_bodies() {
        let body = br#"{"errcode":0,"access_token": "tok\"en","expires_in":7200}"#;
        let excerpt = body_excerpt(body, 512);
        assert!(!excerpt.contains(r#"tok\"en"#), "{excerpt}");
        assert!(excerpt.contains("\"access_token\": \"***\""), "{excerpt}");
        assert!(excerpt.contains("7200"));
    }

    #[test]
    fn masks_credentials_in_free_text() {
        assert_eq!(
            mask_text("key=abc and monkey=1 access_token=t0k&x=1"),
            "key=*** and monkey=1 access_token=***&x=1"
        );
        assert_eq!(mask_text("no secrets here"), "no secrets here");
        assert_eq!(
            mask_text("{\"access_token\":\"t\"} url?corpsecret=s"),
            "{\"access_token\":\"***\"} url?corpsecret=***"
        );
        assert_eq!(
            mask_text("ends with access_token="),
            "ends with access_token="
        );
    }

    #[test]
    fn truncated_bodies_stay_valid_text() {
        let body = "错误".repeat(100);
        let excerpt = body_excerpt(body.as_bytes(), 10);
        assert!(excerpt.starts_with("错误错"));
        assert!(excerpt.ends_with("(600 bytes in all)"));
    }
}
