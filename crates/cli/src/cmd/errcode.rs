//! `wecom errcode N`: what a WeCom errcode means, its class and what to do.

use serde_json::json;
use wecom::ErrorCode;

use super::Ctx;
use crate::cli::ErrcodeArgs;
use crate::error::CliError;

/// WeCom's own lookup page for a code.
fn lookup_url(code: i64) -> String {
    format!("https://open.work.weixin.qq.com/devtool/query?e={code}")
}

pub fn run(ctx: &Ctx, args: ErrcodeArgs) -> Result<(), CliError> {
    let code = ErrorCode::new(args.code);
    if !code.is_known() {
        return Err(CliError::Failed(format!(
            "errcode {} is not one this version knows; WeCom's lookup: {}",
            args.code,
            lookup_url(args.code)
        )));
    }
    let value = json!({
        "errcode": args.code,
        "meaning": code.meaning(),
        "zh": code.zh(),
        "class": code.class().as_str(),
        "fix": code.fix(),
        "retryable": code.class() == wecom::ErrorClass::Transient,
        "lookup": lookup_url(args.code),
    });
    ctx.out.emit(&value, || {
        let mut t = format!("errcode {}: {}\n", args.code, code.meaning());
        if let Some(zh) = code.zh() {
            t.push_str(&format!("  official name: {zh}\n"));
        }
        t.push_str(&format!("  class: {}", code.class().as_str()));
        t.push_str(match code.class() {
            wecom::ErrorClass::Transient => " (retrying later can help)\n",
            wecom::ErrorClass::RateLimit => {
                " (back off for the window; retrying at once extends the ban)\n"
            }
            wecom::ErrorClass::Token => " (a credential problem)\n",
            _ => " (retrying will not help)\n",
        });
        if let Some(fix) = code.fix() {
            t.push_str(&format!("  what to do: {fix}\n"));
        }
        t.push_str(&format!("  more: {}", lookup_url(args.code)));
        t
    })
}
