//! `wecom callback decrypt|encrypt|serve`.
//!
//! The Token and EncodingAESKey are secrets: they come from `--token-file`/`--key-file`,
//! `WECOM_CALLBACK_TOKEN`/`WECOM_CALLBACK_AES_KEY`, or the selected app of the profile, never
//! from a command-line value. The receive id (the corp id) is not secret: `--receive-id`.

use std::io::Read as _;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};
use wecom::Secret;
use wecom::callback::router::CallbackRouter;
use wecom::callback::xml::Element;
use wecom::callback::{CallbackCrypto, Envelope, EventKind, Format, Inbound, MessageBody, Reply};

use super::Ctx;
use crate::cli::{CallbackCmd, CallbackKeys};
use crate::config::{env, read_secret_file};
use crate::error::CliError;
use crate::output::write_stdout;

pub async fn run(ctx: &Ctx, cmd: CallbackCmd) -> Result<(), CliError> {
    match cmd {
        CallbackCmd::Decrypt {
            input,
            msg_signature,
            timestamp,
            nonce,
            query,
            keys,
        } => {
            let query = query.as_deref().map(parse_query).unwrap_or_default();
            let pick = |flag: Option<String>, name: &str| {
                flag.or_else(|| {
                    query
                        .iter()
                        .find(|(k, _)| k == name)
                        .map(|(_, v)| v.clone())
                })
            };
            let signed = Signed {
                msg_signature: pick(msg_signature, "msg_signature"),
                timestamp: pick(timestamp, "timestamp"),
                nonce: pick(nonce, "nonce"),
            };
            let echostr = query
                .iter()
                .find(|(k, _)| k == "echostr")
                .map(|(_, v)| v.clone());
            decrypt(ctx, &input, signed, echostr, &keys)
        }
        CallbackCmd::Encrypt {
            input,
            timestamp,
            nonce,
            delivery,
            keys,
        } => encrypt(ctx, &input, timestamp, nonce, delivery, &keys),
        CallbackCmd::Serve {
            port,
            bind,
            path,
            reply_text,
            keys,
        } => serve(ctx, port, bind, path, reply_text, &keys).await,
    }
}

/// The signature parameters of a request's query string.
#[derive(Debug, Default)]
struct Signed {
    msg_signature: Option<String>,
    timestamp: Option<String>,
    nonce: Option<String>,
}

/// The Token (if any), the EncodingAESKey and the receive id, from files, env or the profile.
fn keys(ctx: &Ctx, keys: &CallbackKeys) -> Result<(Option<Secret>, Secret, String), CliError> {
    let env_secret = |name: &str| {
        std::env::var(name)
            .ok()
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
            .map(Secret::new)
    };
    let (profile_token, profile_key) = ctx.config.app_callback()?;
    let token = match &keys.token_file {
        Some(p) => Some(read_secret_file(p, "the callback token")?),
        None => env_secret(env::CALLBACK_TOKEN).or(profile_token),
    };
    let key = match &keys.key_file {
        Some(p) => Some(read_secret_file(p, "the callback EncodingAESKey")?),
        None => env_secret(env::CALLBACK_AES_KEY).or(profile_key),
    };
    let key = key.ok_or_else(|| {
        CliError::config(
            "no callback EncodingAESKey configured",
            format!(
                "export {} (the 43 characters from the app's \"receive messages\" settings), pass --key-file FILE, or set callback_aes_key in the profile",
                env::CALLBACK_AES_KEY
            ),
        )
    })?;
    let receive_id = keys
        .receive_id
        .clone()
        .or_else(|| {
            std::env::var(env::CALLBACK_RECEIVE_ID)
                .ok()
                .filter(|v| !v.trim().is_empty())
        })
        .or_else(|| ctx.config.corp_id.clone())
        .ok_or_else(|| {
            CliError::config(
                "no receive id: callbacks of a self-built app carry the corp id",
                format!(
                    "pass --receive-id CORPID, or export {} or {}",
                    env::CALLBACK_RECEIVE_ID,
                    env::CORP_ID
                ),
            )
        })?;
    Ok((token, key, receive_id))
}

fn need_token(token: Option<Secret>) -> Result<Secret, CliError> {
    token.ok_or_else(|| {
        CliError::config(
            "no callback Token configured (needed to sign or check signatures)",
            format!(
                "export {} (the Token from the app's \"receive messages\" settings), pass --token-file FILE, or set callback_token in the profile",
                env::CALLBACK_TOKEN
            ),
        )
    })
}

fn read_input(path: &Path) -> Result<String, CliError> {
    if path == Path::new("-") {
        if std::io::IsTerminal::is_terminal(&std::io::stdin()) {
            eprintln!("reading the input from stdin (end it with Ctrl-D; or give a FILE)");
        }
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| CliError::io("cannot read stdin", e))?;
        Ok(s)
    } else {
        std::fs::read_to_string(path)
            .map_err(|e| CliError::io(format!("cannot read {}", path.display()), e))
    }
}

/// `a=1&b=2` (or a whole URL) into pairs, percent-decoded (`+` is kept: base64 uses it).
fn parse_query(query: &str) -> Vec<(String, String)> {
    let query = query.split_once('?').map_or(query, |(_, q)| q);
    let query = query.split_once('#').map_or(query, |(q, _)| q);
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn unix_now() -> String {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
        .to_string()
}

fn random_nonce() -> String {
    rand::random::<u32>().to_string()
}

/// What the input was.
#[derive(Debug, Clone, Copy)]
enum InputKind {
    /// A POSTed delivery envelope (XML or JSON), or a sealed passive reply.
    Envelope(Format),
    /// A bare base64 text: an echostr or an `Encrypt` value.
    Encrypted,
}

fn decrypt(
    ctx: &Ctx,
    input: &Path,
    mut signed: Signed,
    echostr: Option<String>,
    keys_args: &CallbackKeys,
) -> Result<(), CliError> {
    let text = read_input(input)?;
    let text = text.trim();
    let (kind, encrypted) = if text.is_empty() {
        match echostr {
            Some(e) => (InputKind::Encrypted, e),
            None => {
                return Err(CliError::Usage(format!(
                    "nothing to decrypt: {} is empty (give a callback body, an Encrypt value or an echostr, or --query with an echostr)",
                    if input == Path::new("-") {
                        "stdin".to_owned()
                    } else {
                        input.display().to_string()
                    }
                )));
            }
        }
    } else if text.starts_with('<') || text.starts_with('{') {
        let envelope = Envelope::parse(text.as_bytes())?;
        // A sealed passive reply carries its own signature, timestamp and nonce.
        if text.starts_with('<')
            && let Ok(root) = Element::parse(text)
        {
            let field = |n: &str| root.text_of(n).map(str::to_owned);
            signed.msg_signature = signed.msg_signature.or_else(|| field("MsgSignature"));
            signed.timestamp = signed.timestamp.or_else(|| field("TimeStamp"));
            signed.nonce = signed.nonce.or_else(|| field("Nonce"));
        }
        (InputKind::Envelope(envelope.format), envelope.encrypt)
    } else {
        (InputKind::Encrypted, text.to_owned())
    };

    let (token, key, receive_id) = keys(ctx, keys_args)?;
    let verified = signed.msg_signature.is_some();
    let plaintext = match (&signed.msg_signature, &signed.timestamp, &signed.nonce) {
        (Some(sig), Some(ts), Some(nonce)) => {
            let token = need_token(token)?;
            CallbackCrypto::new(token.expose(), key.expose(), receive_id)?
                .decrypt(sig, ts, nonce, &encrypted)?
        }
        (Some(_), _, _) => {
            return Err(CliError::Usage(
                "--msg-signature needs --timestamp and --nonce too (or pass the whole --query)"
                    .into(),
            ));
        }
        _ => {
            let token = token.map(|t| t.expose().to_owned()).unwrap_or_default();
            if !ctx.out.json {
                eprintln!(
                    "note: signature not checked (give --msg-signature, --timestamp and --nonce, or --query, to check it)"
                );
            }
            CallbackCrypto::new(token, key.expose(), receive_id)?.decrypt_unverified(&encrypted)?
        }
    };
    if !ctx.out.json {
        return write_stdout(&format!("{plaintext}\n"));
    }
    let kind_name = match kind {
        InputKind::Envelope(Format::Xml) => "xml",
        InputKind::Envelope(Format::Json) => "json",
        InputKind::Encrypted => "encrypted",
    };
    let mut value = json!({
        "input": kind_name,
        "verified": verified,
        "plaintext": plaintext,
    });
    let looks_structured =
        plaintext.trim_start().starts_with('<') || plaintext.trim_start().starts_with('{');
    if looks_structured && let Ok(inbound) = Inbound::parse(&plaintext) {
        value["callback"] = inbound_json(&inbound, &plaintext);
    }
    ctx.out.json_line(&value)
}

fn encrypt(
    ctx: &Ctx,
    input: &Path,
    timestamp: Option<String>,
    nonce: Option<String>,
    delivery: Option<u32>,
    keys_args: &CallbackKeys,
) -> Result<(), CliError> {
    let plaintext = read_input(input)?;
    let plaintext = plaintext.trim_end_matches(['\n', '\r']);
    let (token, key, receive_id) = keys(ctx, keys_args)?;
    let token = need_token(token)?;
    let crypto = CallbackCrypto::new(token.expose(), key.expose(), receive_id.clone())?;
    let timestamp = timestamp.unwrap_or_else(unix_now);
    let nonce = nonce.unwrap_or_else(random_nonce);
    match delivery {
        None => {
            let reply = crypto.seal_reply(plaintext, &timestamp, &nonce);
            ctx.out.emit(
                &json!({"reply": reply, "timestamp": timestamp, "nonce": nonce}),
                || reply.clone(),
            )
        }
        Some(agent_id) => {
            let (body, signature) =
                crypto.seal_delivery(plaintext, &receive_id, agent_id, &timestamp, &nonce);
            let query = format!("msg_signature={signature}&timestamp={timestamp}&nonce={nonce}");
            ctx.out.emit(
                &json!({
                    "body": body,
                    "msg_signature": signature,
                    "timestamp": timestamp,
                    "nonce": nonce,
                    "query": query,
                }),
                || format!("{query}\n{body}"),
            )
        }
    }
}

async fn serve(
    ctx: &Ctx,
    port: u16,
    bind: Option<IpAddr>,
    path: String,
    reply_text: Option<String>,
    keys_args: &CallbackKeys,
) -> Result<(), CliError> {
    let (token, key, receive_id) = keys(ctx, keys_args)?;
    let token = need_token(token)?;
    let crypto = CallbackCrypto::new(token.expose(), key.expose(), receive_id)?;
    let path = if path.starts_with('/') {
        path
    } else {
        format!("/{path}")
    };
    let reply_text = Arc::new(reply_text);
    let router = CallbackRouter::new(crypto, move |inbound: Inbound| {
        let reply_text = Arc::clone(&reply_text);
        async move {
            let plaintext = inbound.to_xml();
            let line = inbound_json(&inbound, &plaintext).to_string();
            // Each event is one line on stdout; a closed stdout must not stop the server.
            let _ = write_stdout(&format!("{line}\n"));
            match (&inbound, reply_text.as_ref()) {
                (Inbound::Message(m), Some(text)) if matches!(m.body, MessageBody::Text { .. }) => {
                    Some(Reply::text(text.clone()))
                }
                _ => None,
            }
        }
    })
    .path(path.clone())
    .into_router();
    let addr = SocketAddr::new(bind.unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST)), port);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| CliError::io(format!("cannot listen on {addr}"), e))?;
    let local = listener
        .local_addr()
        .map_err(|e| CliError::io("cannot read the listening address", e))?;
    eprintln!(
        "callback server listening on http://{local}{path} (one JSON line per callback on stdout; Ctrl-C stops)"
    );
    axum::serve(listener, router)
        .with_graceful_shutdown(super::shutdown_signal())
        .await
        .map_err(|e| CliError::io("the callback server failed", e))
}

/// A callback as one JSON object: what it is (from the typed [`Inbound`]) and every field of
/// its XML (`fields`, element names as keys; repeated elements become arrays).
pub fn inbound_json(inbound: &Inbound, plaintext: &str) -> Value {
    let mut v = Map::new();
    match inbound {
        Inbound::Message(m) => {
            v.insert("type".into(), json!("message"));
            v.insert("msg_type".into(), json!(m.body.msg_type()));
            v.insert("msg_id".into(), json!(m.msg_id));
        }
        Inbound::Event(e) => {
            v.insert("type".into(), json!("event"));
            v.insert("event".into(), json!(e.kind.name()));
            if let Some(key) = e.kind.event_key() {
                v.insert("event_key".into(), json!(key));
            }
            if let EventKind::ChangeContact(change) = &e.kind {
                v.insert("change_type".into(), json!(change.change_type()));
            }
        }
        Inbound::Unknown(u) => {
            v.insert("type".into(), json!("unknown"));
            v.insert("msg_type".into(), json!(u.msg_type));
            if let Some(event) = &u.event {
                v.insert("event".into(), json!(event));
            }
        }
        _ => {
            v.insert("type".into(), json!("unknown"));
        }
    }
    if let Some(h) = inbound.header() {
        v.insert("from".into(), json!(h.from_user_name));
        v.insert("to".into(), json!(h.to_user_name));
        v.insert("create_time".into(), json!(h.create_time));
        if let Some(agent) = h.agent_id {
            v.insert("agent_id".into(), json!(agent));
        }
    }
    let fields = if plaintext.trim_start().starts_with('{') {
        serde_json::from_str(plaintext).unwrap_or(Value::Null)
    } else {
        Element::parse(plaintext).map_or(Value::Null, |root| element_json(&root))
    };
    v.insert("fields".into(), fields);
    Value::Object(v)
}

fn element_json(e: &Element) -> Value {
    if e.children.is_empty() {
        return json!(e.text);
    }
    let mut map = Map::new();
    for child in &e.children {
        let value = element_json(child);
        match map.get_mut(&child.name) {
            Some(Value::Array(items)) => items.push(value),
            Some(existing) => {
                let first = existing.take();
                *existing = json!([first, value]);
            }
            None => {
                map.insert(child.name.clone(), value);
            }
        }
    }
    Value::Object(map)
}
