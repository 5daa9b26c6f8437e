//! `wecom mail send`: a mail from the app (应用发送邮件) to addresses and members, with files
//! attached. A recipient with `@` is an address, otherwise a member's userid. The page's limits
//! (a recipient in --to, at most 200 files, files plus body at most 50 MB) are checked before
//! anything is sent.

use std::path::PathBuf;

use clap::Args;
use serde_json::json;
use wecom::oa::{MailAttachment, MailRecipients, OaExt as _};

use super::Ctx;
use crate::error::CliError;

/// `wecom mail`
#[derive(Debug, clap::Subcommand)]
pub enum MailCmd {
    /// Send a mail.
    Send(SendArgs),
}

/// `wecom mail send`
#[derive(Debug, Args)]
pub struct SendArgs {
    /// A recipient: an address or a userid (repeatable, at least one).
    #[arg(long = "to", required = true)]
    to: Vec<String>,
    /// Copy to an address or userid (repeatable).
    #[arg(long = "cc")]
    cc: Vec<String>,
    /// Blind copy to an address or userid (repeatable).
    #[arg(long = "bcc")]
    bcc: Vec<String>,
    /// Subject.
    #[arg(long)]
    subject: String,
    /// Body (HTML unless --text).
    #[arg(
        long,
        conflicts_with = "content_file",
        required_unless_present = "content_file"
    )]
    content: Option<String>,
    /// Read the body from this file.
    #[arg(long)]
    content_file: Option<PathBuf>,
    /// The body is plain text.
    #[arg(long)]
    text: bool,
    /// Attach a file (repeatable).
    #[arg(long = "attach")]
    attach: Vec<PathBuf>,
}

fn recipients(list: &[String]) -> MailRecipients {
    let (emails, userids): (Vec<&String>, Vec<&String>) =
        list.iter().partition(|r| r.contains('@'));
    MailRecipients::new()
        .emails(emails.into_iter().cloned())
        .userids(userids.into_iter().cloned())
}

fn read(path: &PathBuf) -> Result<Vec<u8>, CliError> {
    std::fs::read(path).map_err(|e| CliError::Usage(format!("cannot read {}: {e}", path.display())))
}

pub async fn run(ctx: &Ctx, cmd: MailCmd) -> Result<(), CliError> {
    let MailCmd::Send(args) = cmd;
    let content = match (&args.content, &args.content_file) {
        (Some(c), _) => c.clone(),
        (None, Some(p)) => String::from_utf8(read(p)?)
            .map_err(|_| CliError::Usage(format!("{} is not UTF-8 text", p.display())))?,
        (None, None) => return Err(CliError::Usage("give --content or --content-file".into())),
    };
    let mut files = Vec::with_capacity(args.attach.len());
    for p in &args.attach {
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| CliError::Usage(format!("{} names no file", p.display())))?;
        files.push(MailAttachment::from_bytes(name, &read(p)?));
    }
    let client = ctx.client()?;
    let mut call = client
        .oa()
        .mail_compose_send(recipients(&args.to), args.subject.as_str(), content)
        .attachment_list(files);
    if !args.cc.is_empty() {
        call = call.cc(recipients(&args.cc));
    }
    if !args.bcc.is_empty() {
        call = call.bcc(recipients(&args.bcc));
    }
    if args.text {
        call = call.content_type("text");
    }
    call.await?;
    let n = args.to.len() + args.cc.len() + args.bcc.len();
    ctx.out.emit(
        &json!({"sent": true, "recipients": n, "attachments": args.attach.len()}),
        || {
            format!(
                "sent to {n} recipient(s) with {} attachment(s)",
                args.attach.len()
            )
        },
    )
}
