//! `wecom api`: any endpoint of the spec by name or path, with its fields checked by the typed
//! request's own `validate()` before the call (through the generated `CALLS` tables); `--list`
//! and `ENDPOINT --help` from the embedded catalogue; `--raw METHOD PATH` for a path the spec
//! does not have yet, through `Client::raw`.

use std::io::Read as _;

use serde_json::{Map, Value, json};
use wecom::auth::{CredentialKind, Method, SystemApp};

use super::Ctx;
use crate::catalogue::{self, Endpoint, Place};
use crate::cli::{ApiArgs, Command};
use crate::error::CliError;
use crate::output::{table, write_stdout};

/// Shown after `wecom api --help`.
pub const AFTER_HELP: &str = "\
Examples:
  wecom api --list contacts
  wecom api user_get --help
  wecom api user_get -f userid=zhangsan
  wecom api user/create -f userid=lisi -f name=李四 -f 'department:=[1]' -f mobile=13800000001
  wecom api message_send --body msg.json -f agentid:=1000002
  wecom api --raw GET user/get -q userid=zhangsan --credential app-or-contact
  wecom api --raw POST externalcontact/get_follow_user_list

The token is chosen by the endpoint's credential kind (--raw: --credential, default the app's),
cached and refreshed by the SDK. An errcode in the answer is explained (`wecom errcode N`).
A group robot's endpoints (webhook_send) take the robot's key from WECOM_ROBOT_KEY. Secret fields
(gettoken's corpsecret) are refused on the command line: put them in --body FILE or --body -.";

/// Whether this `api` invocation needs no configuration (listing, help).
pub fn offline(command: &Command) -> bool {
    matches!(command, Command::Api(a) if a.list.is_some() || a.help)
}

pub async fn run(ctx: &Ctx, args: ApiArgs) -> Result<(), CliError> {
    if let Some(area) = &args.list {
        return list(ctx, area);
    }
    if args.raw {
        if args.help {
            return help_text();
        }
        return raw(ctx, &args).await;
    }
    let Some(target) = args.target.first() else {
        return help_text();
    };
    if args.target.len() > 1 {
        return Err(CliError::Usage(format!(
            "unexpected `{}` after the endpoint; fields are given with -f NAME=VALUE (a raw call is `--raw METHOD PATH`)",
            args.target[1]
        )));
    }
    let endpoint = catalogue::find(target).ok_or_else(|| unknown(target))?;
    if args.help {
        return describe(ctx, endpoint);
    }
    if endpoint.uploads() || endpoint.binary {
        return Err(CliError::Usage(format!(
            "`{}` {}, which `wecom api` does not handle; use `wecom media` (or `wecom proxy` with curl)",
            endpoint.name,
            if endpoint.binary {
                "answers a file"
            } else {
                "uploads a file"
            }
        )));
    }
    let fields = collect_fields(&args, Some(endpoint))?;
    let mut client = downstream(ctx.client()?, &args)?;
    if endpoint.credential == "robot_key" {
        client = client.robot(robot_key()?);
    }
    let typed = wecom::json_endpoints().find(|e| e.meta.name == endpoint.name);
    let answer = match typed {
        Some(call) => (call.call)(&client, Value::Object(fields)).await?,
        None => {
            // An endpoint of an area this build does not include: sent raw, unchecked.
            eprintln!(
                "warning: `{}` is not compiled into this wecom binary; sending it raw, without the spec's checks",
                endpoint.name
            );
            let method = method_of(endpoint.method)?;
            let mut call = client
                .raw(method, endpoint.path.clone())
                .credential(credential_of(&endpoint.credential));
            let mut body = Map::new();
            for (name, value) in fields {
                match endpoint
                    .fields
                    .iter()
                    .find(|f| f.name == name)
                    .map(|f| f.place)
                {
                    Some(Place::Query) => call = call.query(name, scalar_text(&value)),
                    _ if method == Method::Get => call = call.query(name, scalar_text(&value)),
                    _ => {
                        body.insert(name, value);
                    }
                }
            }
            if method == Method::Post {
                call = call.json(Value::Object(body));
            }
            call.idempotent(endpoint.retry == "idempotent")
                .send()
                .await?
        }
    };
    let answer = if args.reveal {
        answer
    } else {
        mask_secrets(answer, &endpoint.secret_answers)
    };
    print_answer(ctx, &answer)
}

/// The answer with its secret fields (tokens, tickets, session keys) replaced by their length.
fn mask_secrets(mut answer: Value, secret_fields: &[String]) -> Value {
    if let Value::Object(map) = &mut answer {
        for name in secret_fields {
            if let Some(Value::String(v)) = map.get(name) {
                let shown = format!("*** ({} bytes; --reveal prints it)", v.len());
                map.insert(name.clone(), Value::String(shown));
            }
        }
    }
    answer
}

/// A group robot's key, from `WECOM_ROBOT_KEY` (a secret: never a command-line value).
fn robot_key() -> Result<wecom::Secret, CliError> {
    match std::env::var("WECOM_ROBOT_KEY") {
        // The client masks the key in every URL it shows (`key=***`).
        Ok(k) if !k.trim().is_empty() => Ok(wecom::Secret::new(k.trim())),
        _ => Err(CliError::config(
            "a group robot's endpoint needs the robot's key",
            "export WECOM_ROBOT_KEY (the `key=` of the robot's webhook URL)",
        )),
    }
}

/// `wecom api --raw METHOD PATH`.
async fn raw(ctx: &Ctx, args: &ApiArgs) -> Result<(), CliError> {
    let [method, path] = args.target.as_slice() else {
        return Err(CliError::Usage(
            "--raw needs METHOD and PATH, e.g. `wecom api --raw POST wedoc/smartsheet/get_sheet`"
                .into(),
        ));
    };
    let method = method_of(&method.to_ascii_uppercase())?;
    let fields = collect_fields(args, None)?;
    let client = downstream(ctx.client()?, args)?;
    let credential = args.credential.unwrap_or(CredentialKind::App);
    let mut call = client.raw(method, path.clone()).credential(credential);
    for q in &args.query {
        let (name, value) = q
            .split_once('=')
            .ok_or_else(|| CliError::Usage(format!("--query `{q}` is not NAME=VALUE")))?;
        call = call.query(name, value);
    }
    if method == Method::Get {
        for (name, value) in fields {
            call = call.query(name, scalar_text(&value));
        }
    } else {
        call = call.json(Value::Object(fields));
    }
    if args.idempotent {
        call = call.idempotent(true);
    }
    let answer = call.send().await?;
    // A path of the spec called raw: its secret answers are masked all the same.
    let answer = match catalogue::find(path) {
        Some(known) if !args.reveal => mask_secrets(answer, &known.secret_answers),
        _ => answer,
    };
    print_answer(ctx, &answer)
}

fn print_answer(ctx: &Ctx, answer: &Value) -> Result<(), CliError> {
    if ctx.out.json {
        ctx.out.json_line(answer)
    } else {
        let text = serde_json::to_string_pretty(answer)
            .map_err(|e| CliError::Failed(format!("cannot print the answer: {e}")))?;
        write_stdout(&format!("{text}\n"))
    }
}

fn method_of(m: &str) -> Result<Method, CliError> {
    match m {
        "GET" => Ok(Method::Get),
        "POST" => Ok(Method::Post),
        other => Err(CliError::Usage(format!(
            "method `{other}`: WeCom's API uses GET and POST only"
        ))),
    }
}

/// The credential kind the catalogue names (a system app's name for its own secret, which the
/// client uses when configured, else the app's token); the app's token for a kind this build
/// does not know.
pub fn credential_of(kind: &str) -> CredentialKind {
    match kind {
        "none" => CredentialKind::None,
        "contact" => CredentialKind::Contact,
        "app_or_contact" => CredentialKind::AppOrContact,
        "robot_key" => CredentialKind::RobotKey,
        other => {
            SystemApp::from_name(other).map_or(CredentialKind::App, CredentialKind::SystemOrApp)
        }
    }
}

/// `--credential KIND` of `wecom api --raw`.
pub fn parse_credential(kind: &str) -> Result<CredentialKind, String> {
    let kind = kind.trim().replace('-', "_");
    match kind.as_str() {
        "app" | "none" | "contact" | "app_or_contact" => Ok(credential_of(&kind)),
        other => SystemApp::from_name(other)
            .map(CredentialKind::SystemOrApp)
            .ok_or_else(|| {
                format!(
                    "`{other}` is no credential kind: use app, contact, app-or-contact, none, or a system app ({})",
                    SystemApp::ALL.map(SystemApp::name).join(", ")
                )
            }),
    }
}

/// A JSON value as a query string value.
fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(scalar_text).collect::<Vec<_>>().join("|"),
        other => other.to_string(),
    }
}

fn unknown(target: &str) -> CliError {
    let close = catalogue::suggest(target);
    let hint = if close.is_empty() {
        "`wecom api --list` shows every endpoint; `wecom api --raw METHOD PATH` calls one the spec does not have".to_owned()
    } else {
        format!(
            "did you mean {}? (`wecom api --list` shows all; --raw calls a path the spec does not have)",
            close.join(", ")
        )
    };
    CliError::Usage(format!("no endpoint `{target}` in the spec; {hint}"))
}

/// The JSON object of fields: --body first, then each --field.
fn collect_fields(
    args: &ApiArgs,
    endpoint: Option<&Endpoint>,
) -> Result<Map<String, Value>, CliError> {
    let mut fields = match &args.body {
        Some(path) => {
            let text = if path.as_os_str() == "-" {
                let mut s = String::new();
                std::io::stdin()
                    .read_to_string(&mut s)
                    .map_err(|e| CliError::io("cannot read the body from stdin", e))?;
                s
            } else {
                std::fs::read_to_string(path).map_err(|e| {
                    CliError::io(format!("cannot read the body file {}", path.display()), e)
                })?
            };
            match serde_json::from_str::<Value>(&text) {
                Ok(Value::Object(map)) => map,
                Ok(_) => {
                    return Err(CliError::Usage(
                        "--body must hold a JSON object of the endpoint's fields".into(),
                    ));
                }
                Err(e) => return Err(CliError::Usage(format!("--body is not JSON: {e}"))),
            }
        }
        None => Map::new(),
    };
    for f in &args.fields {
        let (name, value) = parse_field(f, endpoint)?;
        set_path(&mut fields, &name, value)?;
    }
    Ok(fields)
}

/// `name=text` or `name:=JSON`; a non-text field of the spec reads `name=VALUE` as JSON.
fn parse_field(arg: &str, endpoint: Option<&Endpoint>) -> Result<(String, Value), CliError> {
    let usage = || {
        CliError::Usage(format!(
            "--field `{arg}` is not NAME=VALUE (text) or NAME:=JSON (numbers, lists, objects)"
        ))
    };
    let (name, raw_value, json) = match (arg.find(":="), arg.find('=')) {
        (Some(i), Some(j)) if i < j => (&arg[..i], &arg[i + 2..], true),
        (_, Some(j)) => (&arg[..j], &arg[j + 1..], false),
        _ => return Err(usage()),
    };
    if name.is_empty() {
        return Err(usage());
    }
    let top = name.split('.').next().unwrap_or(name);
    let known = endpoint.and_then(|e| e.fields.iter().find(|f| f.name == top));
    if let (Some(endpoint), None) = (endpoint, known) {
        let names: Vec<&str> = endpoint.fields.iter().map(|f| f.name.as_str()).collect();
        return Err(CliError::Usage(format!(
            "`{}` has no field `{top}`; its fields: {}",
            endpoint.name,
            names.join(", ")
        )));
    }
    if let Some(f) = known.filter(|f| f.secret) {
        return Err(CliError::Usage(format!(
            "field `{}` is a secret: secrets are never taken from the command line; put it in a JSON file and pass --body FILE (or --body - and stdin)",
            f.name
        )));
    }
    let as_json = json || known.is_some_and(|f| !f.is_string && !name.contains('.'));
    let list = !json && !name.contains('.') && known.is_some_and(|f| f.ty.starts_with("array of"));
    let value = if list && !raw_value.trim_start().starts_with('[') {
        // `department=1,2` and `userid_list=zhangsan` are lists.
        let text = known.is_some_and(|f| f.ty == "array of string");
        let items: Result<Vec<Value>, _> = raw_value
            .split(',')
            .map(|item| {
                let item = item.trim();
                if text {
                    Ok(Value::String(item.to_owned()))
                } else {
                    serde_json::from_str(item)
                }
            })
            .collect();
        match items {
            Ok(items) => Value::Array(items),
            Err(e) => {
                return Err(CliError::Usage(format!(
                    "field `{name}` takes {}; `{raw_value}` is not a comma-separated list of them ({e})",
                    known.map_or("JSON", |f| f.ty.as_str())
                )));
            }
        }
    } else if as_json {
        match serde_json::from_str(raw_value) {
            Ok(v) => v,
            Err(e) => {
                let ty = known.map_or("JSON", |f| f.ty.as_str());
                return Err(CliError::Usage(format!(
                    "field `{name}` takes {ty}; `{raw_value}` is not JSON ({e})"
                )));
            }
        }
    } else {
        Value::String(raw_value.to_owned())
    };
    Ok((name.to_owned(), value))
}

/// Sets `a.b.c` in `fields`, creating objects on the way.
fn set_path(fields: &mut Map<String, Value>, name: &str, value: Value) -> Result<(), CliError> {
    let mut parts = name.split('.').peekable();
    let mut map = fields;
    while let Some(part) = parts.next() {
        if part.is_empty() {
            return Err(CliError::Usage(format!("field `{name}` has an empty part")));
        }
        if parts.peek().is_none() {
            map.insert(part.to_owned(), value);
            return Ok(());
        }
        let entry = map
            .entry(part.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        map = match entry {
            Value::Object(m) => m,
            _ => {
                return Err(CliError::Usage(format!(
                    "field `{name}`: `{part}` is already set to a value that is not an object"
                )));
            }
        };
    }
    Ok(())
}

fn help_text() -> Result<(), CliError> {
    use clap::CommandFactory as _;
    let mut cmd = crate::cli::Cli::command();
    let help = cmd
        .find_subcommand_mut("api")
        .map(|c| {
            let mut c = c.clone().bin_name("wecom api");
            c.render_long_help().to_string()
        })
        .unwrap_or_default();
    write_stdout(&help)
}

fn list(ctx: &Ctx, area: &str) -> Result<(), CliError> {
    let all = catalogue::all();
    let chosen: Vec<&Endpoint> = all
        .iter()
        .filter(|e| area.is_empty() || e.area == area)
        .collect();
    if chosen.is_empty() {
        let mut areas: Vec<&str> = all.iter().map(|e| e.area.as_str()).collect();
        areas.dedup();
        return Err(CliError::Usage(format!(
            "no area `{area}`; the areas are: {}",
            areas.join(", ")
        )));
    }
    let value: Vec<Value> = chosen
        .iter()
        .map(|e| {
            json!({
                "name": e.name, "area": e.area, "method": e.method, "path": format!("/cgi-bin/{}", e.path),
                "credential": e.credential, "summary": e.summary, "doc_url": e.doc_url,
            })
        })
        .collect();
    ctx.out.emit(&value, || {
        let rows: Vec<Vec<String>> = chosen
            .iter()
            .map(|e| {
                vec![
                    e.name.clone(),
                    e.method.to_owned(),
                    e.path.clone(),
                    e.credential.clone(),
                    e.summary.clone(),
                ]
            })
            .collect();
        let mut t = table(&["ENDPOINT", "METHOD", "PATH", "TOKEN", "WHAT"], &rows);
        t.push_str(&format!(
            "{} endpoints. `wecom api ENDPOINT --help` shows one's fields.",
            chosen.len()
        ));
        t
    })
}

fn describe(ctx: &Ctx, e: &Endpoint) -> Result<(), CliError> {
    let fields: Vec<Value> = e
        .fields
        .iter()
        .map(|f| {
            json!({"name": f.name, "in": f.place.as_str(), "required": f.required, "type": f.ty,
                   "limits": f.limits, "doc": f.doc})
        })
        .collect();
    let value = json!({
        "name": e.name, "area": e.area, "method": e.method, "path": format!("/cgi-bin/{}", e.path),
        "credential": e.credential, "retry": e.retry, "doc": e.description, "doc_url": e.doc_url,
        "fields": fields,
    });
    ctx.out.emit(&value, || {
        let mut t = format!(
            "{} — {}\n\n  {} /cgi-bin/{}\n  token: {}   retry: {}\n  docs: {}\n\n{}\n\n",
            e.name, e.summary, e.method, e.path, e.credential, e.retry, e.doc_url, e.description
        );
        if e.fields.is_empty() {
            t.push_str("No fields.\n");
        } else {
            let rows: Vec<Vec<String>> = e
                .fields
                .iter()
                .map(|f| {
                    vec![
                        f.name.clone(),
                        f.place.as_str().to_owned(),
                        if f.required { "yes" } else { "" }.to_owned(),
                        f.ty.clone(),
                        f.limits.join("; "),
                        f.doc.clone(),
                    ]
                })
                .collect();
            t.push_str(&table(
                &["FIELD", "IN", "REQUIRED", "TYPE", "LIMITS", "DOC"],
                &rows,
            ));
        }
        t.push_str(&format!(
            "\nCall it: wecom api {} -f NAME=VALUE ... (NAME:=JSON for numbers and lists)",
            e.name
        ));
        t
    })
}

/// `--downstream CORPID --downstream-agent AGENTID [--business-type 0|1]`: the client acting as
/// that downstream corp (its token fetched with the selected app's, cached like app tokens).
fn downstream(client: wecom::Client, args: &ApiArgs) -> Result<wecom::Client, CliError> {
    match (&args.downstream, args.downstream_agent) {
        (Some(corpid), Some(agentid)) => {
            let link = if args.business_type == 0 {
                wecom::BusinessType::Group
            } else {
                wecom::BusinessType::Chain
            };
            Ok(client.downstream_with(corpid, agentid, link)?)
        }
        _ => Ok(client),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_read_text_json_and_nested_names() {
        let send = catalogue::find("message_send").unwrap();
        let (n, v) = parse_field("agentid=1000002", Some(send)).unwrap();
        assert_eq!((n.as_str(), v), ("agentid", json!(1000002)));
        let (_, v) = parse_field("touser=zhangsan|lisi", Some(send)).unwrap();
        assert_eq!(v, json!("zhangsan|lisi"));
        let (n, v) = parse_field("text.content=hi=there", Some(send)).unwrap();
        assert_eq!((n.as_str(), v), ("text.content", json!("hi=there")));
        let (_, v) = parse_field("x:=[1,2]", None).unwrap();
        assert_eq!(v, json!([1, 2]));
        assert!(parse_field("agentid=ten", Some(send)).is_err());
        let create = catalogue::find("user_create").unwrap();
        assert_eq!(
            parse_field("department=1,2", Some(create)).unwrap().1,
            json!([1, 2])
        );
        assert_eq!(
            parse_field("department=[3]", Some(create)).unwrap().1,
            json!([3])
        );
        assert_eq!(
            parse_field("direct_leader=a,b", Some(create)).unwrap().1,
            json!(["a", "b"])
        );
        assert!(parse_field("nosuchfield=1", Some(send)).is_err());
        assert!(parse_field("novalue", None).is_err());
        assert_eq!(
            parse_credential("external-contact"),
            Ok(CredentialKind::SystemOrApp(SystemApp::ExternalContact))
        );
        assert_eq!(
            parse_credential("app-or-contact"),
            Ok(CredentialKind::AppOrContact)
        );
        assert!(parse_credential("robot_key").is_err());
        assert_eq!(
            credential_of("kf"),
            CredentialKind::SystemOrApp(SystemApp::Kf)
        );
        let gettoken = catalogue::find("gettoken").unwrap();
        let e = parse_field("corpsecret=s3cret", Some(gettoken)).unwrap_err();
        assert!(e.to_string().contains("--body"), "{e}");
        let masked = mask_secrets(
            json!({"access_token": "abcd", "expires_in": 7200}),
            &gettoken.secret_answers,
        );
        assert_eq!(
            masked,
            json!({"access_token": "*** (4 bytes; --reveal prints it)", "expires_in": 7200})
        );
        let mut m = Map::new();
        set_path(&mut m, "text.content", json!("a")).unwrap();
        set_path(&mut m, "msgtype", json!("text")).unwrap();
        assert_eq!(
            Value::Object(m.clone()),
            json!({"text": {"content": "a"}, "msgtype": "text"})
        );
        assert!(set_path(&mut m, "msgtype.x", json!(1)).is_err());
    }

    #[test]
    fn every_catalogue_endpoint_without_an_upload_is_callable_typed() {
        // A new area must add its CALLS table to `wecom::json_endpoints()` (crates/wecom/src/lib.rs).
        let typed: Vec<&str> = wecom::json_endpoints().map(|e| e.meta.name).collect();
        for e in catalogue::all() {
            if !e.uploads() && !e.binary {
                assert!(
                    typed.contains(&e.name.as_str()),
                    "`{}` (area {}) is in spec/openapi.json but not in wecom::json_endpoints(): add the area's CALLS table there",
                    e.name,
                    e.area
                );
            }
        }
    }
}
