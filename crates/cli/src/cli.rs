//! The command line, declared with clap.

use std::net::IpAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const AFTER_HELP: &str = "\
Configuration (secrets are never accepted as command-line values and never printed):
  WECOM_CORP_ID          the corp's id (ww...)
  WECOM_AGENT_ID         the app's AgentId
  WECOM_SECRET           the app's secret
  WECOM_CONTACT_SECRET   the contact-sync (通讯录同步) secret, for directory writes
  WECOM_BASE_URL         another API host, e.g. the sandbox's http://127.0.0.1:PORT
  WECOM_PROFILE, WECOM_APP, WECOM_CONFIG   same as --profile, --app, --config
  WECOM_CALLBACK_TOKEN, WECOM_CALLBACK_AES_KEY   the callback Token and EncodingAESKey
  WECOM_CALLBACK_RECEIVE_ID                      the callbacks' receive id (default: the corp id)
  WECOM_JSAPI_TICKET     a ticket for `wecom jssdk sign` (else fetched with the app)
  or a profile file (~/.config/wecom/config.toml; see `wecom config --help`),
  or --secret-file FILE / --contact-secret-file FILE (`-` reads stdin).

Try it without a corp: `wecom demo`, or `wecom sandbox` and export the values it prints.
Exit status: 0 success, 1 failure (the error line says why), 2 bad usage or configuration.";

const CONFIG_HELP: &str = "\
The profile file (TOML), by default ~/.config/wecom/config.toml (or $XDG_CONFIG_HOME/wecom/config.toml):

  default_profile = \"prod\"

  [profiles.prod]
  corp_id = \"ww0123456789abcdef\"
  contact_secret = { env = \"PROD_CONTACT_SECRET\" }   # or { file = \"secrets/contact\" } or \"the value\"
  default_app = \"approval\"

  [profiles.prod.apps.approval]
  agent_id = 1000002
  secret = { file = \"/run/secrets/approval\" }
  callback_token = { env = \"APPROVAL_CB_TOKEN\" }      # for `wecom callback ...`
  callback_aes_key = { env = \"APPROVAL_CB_KEY\" }

  [profiles.prod.apps.weekly]
  agent_id = 1000003
  secret = { env = \"WEEKLY_SECRET\" }

  [profiles.sandbox]
  corp_id = \"ww5a9c0de1b2f34a01\"
  base_url = \"http://127.0.0.1:8088\"
  ...

Select with --profile NAME and --app NAME (or an AgentId). Relative file paths are relative to the
profile file. Values written in the file itself are allowed: keep the file private (chmod 600).
Environment variables override the profile's values.";

/// `wecom`: WeCom (企业微信) from the command line.
#[derive(Debug, Parser)]
#[command(name = "wecom", version, about, after_help = AFTER_HELP)]
pub struct Cli {
    /// Print machine-readable JSON (one document per result) instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    /// Show what happens (tracing spans and events) on stderr; RUST_LOG refines it.
    #[arg(long, short, global = true)]
    pub verbose: bool,
    /// The profile of the profile file to use.
    #[arg(
        long,
        global = true,
        env = "WECOM_PROFILE",
        hide_env_values = true,
        value_name = "NAME"
    )]
    pub profile: Option<String>,
    /// The app to act as: its name in the profile, or its AgentId.
    #[arg(
        long,
        global = true,
        env = "WECOM_APP",
        hide_env_values = true,
        value_name = "NAME|AGENTID"
    )]
    pub app: Option<String>,
    /// The profile file (default ~/.config/wecom/config.toml; also $WECOM_CONFIG).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Read the app's secret from FILE (`-`: stdin).
    #[arg(long, global = true, value_name = "FILE")]
    pub secret_file: Option<PathBuf>,
    /// Read the contact-sync secret from FILE (`-`: stdin).
    #[arg(long, global = true, value_name = "FILE")]
    pub contact_secret_file: Option<PathBuf>,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a local WeCom (the sandbox) until stopped; the first stdout line is JSON with its
    /// base_url, corp_id, apps and secrets (the sandbox's own fake ones) and page URL.
    Sandbox(SandboxArgs),
    /// Run the whole story against an embedded sandbox: token, directory, visible scope, every
    /// message type, media, a callback received and answered.
    Demo(DemoArgs),
    /// Get an access token (shows its length and expiry; `--reveal` prints it).
    Token(TokenArgs),
    /// Departments.
    #[command(subcommand)]
    Department(DepartmentCmd),
    /// Members.
    #[command(subcommand)]
    User(UserCmd),
    /// Tags.
    #[command(subcommand)]
    Tag(TagCmd),
    /// Apps (agents).
    #[command(subcommand)]
    Agent(AgentCmd),
    /// Who is in the app's visible scope, and why (or why not, with --user).
    Scope(ScopeArgs),
    /// Calendars, schedules and meeting-room bookings (日程, 会议室).
    #[command(subcommand)]
    Schedule(crate::cmd::schedule::ScheduleCmd),
    /// Meetings the app books (会议): create, get, cancel, list a member's.
    #[command(subcommand)]
    Meeting(crate::cmd::meeting::MeetingCmd),
    /// 健康上报: report jobs, a day's answers, usage statistics.
    #[command(subcommand)]
    Health(crate::cmd::health::HealthCmd),
    /// Mail from the app (应用发送邮件).
    #[command(subcommand)]
    Mail(crate::cmd::mail::MailCmd),
    /// Hand customers over to another member (在职/离职继承) and follow the transfers.
    #[command(subcommand)]
    Transfer(TransferCmd),
    /// 获客助手: customer acquisition links, the customers they brought, the usage left.
    #[command(subcommand)]
    Acquisition(crate::cmd::acquisition::AcquisitionCmd),
    /// Send an app message.
    Send(SendArgs),
    /// Upload and download media.
    #[command(subcommand)]
    Media(MediaCmd),
    /// 微盘 (WeDrive): upload (2 MB blocks, streamed), download (ranged, resumable), list.
    #[command(subcommand)]
    Drive(DriveCmd),
    /// The whole directory.
    #[command(subcommand)]
    Contacts(ContactsCmd),
    /// Callback crypto: decrypt, encrypt, and a server that prints each event.
    #[command(subcommand)]
    Callback(CallbackCmd),
    /// JS-SDK signatures.
    #[command(subcommand)]
    Jssdk(JssdkCmd),
    /// 微信客服: accounts, reading messages, answering customers.
    #[command(subcommand)]
    Kf(crate::cmd::kf::KfCmd),
    /// 会话内容存档 (HTTP part): archived members, customers' agreement, archived groups.
    #[command(subcommand)]
    Msgaudit(crate::cmd::msgaudit::MsgauditCmd),
    /// 电子发票: read an invoice a member chose, lock / unlock / close it.
    #[command(subcommand)]
    Invoice(crate::cmd::invoice::InvoiceCmd),
    /// 家校沟通: students, parents and classes of the school directory.
    #[command(subcommand)]
    School(crate::cmd::school::SchoolCmd),
    /// 上下游 / 企业互联: the downstream corps the app is shared with (`wecom api --downstream`
    /// calls any endpoint as one of them).
    #[command(subcommand)]
    Corpgroup(crate::cmd::corpgroup::CorpgroupCmd),
    /// Approvals (审批): templates, applications.
    #[command(subcommand)]
    Approval(ApprovalCmd),
    /// Check-in (打卡): records and reports over any range, split and fetched concurrently.
    #[command(subcommand)]
    Checkin(CheckinCmd),
    /// Customers (客户联系): list, get, remark, tag.
    #[command(subcommand)]
    Customer(crate::cmd::customer::CustomerCmd),
    /// Corp customer tags (企业客户标签).
    #[command(subcommand, name = "corp-tag")]
    CorpTag(crate::cmd::customer::CorpTagCmd),
    /// 联系我 contact ways.
    #[command(subcommand, name = "contact-way")]
    ContactWay(crate::cmd::customer::ContactWayCmd),
    /// Explain a WeCom errcode: meaning, class, what to do.
    Errcode(ErrcodeArgs),
    /// Call any endpoint of the spec by name or path (fields checked against the spec before the
    /// call), list them (--list), or call a path the spec does not have yet (--raw METHOD PATH).
    #[command(disable_help_flag = true, after_help = crate::cmd::api::AFTER_HELP)]
    Api(ApiArgs),
    /// A local HTTP proxy for Postman, curl or a browser: forwards /cgi-bin/... to WeCom (or a
    /// sandbox) with the right access_token added, so the caller never handles a token.
    Proxy(ProxyArgs),
    /// Show the configuration in effect (secrets shown as set or missing, never their values).
    #[command(after_help = CONFIG_HELP)]
    Config,
}

/// `wecom sandbox`
#[derive(Debug, Args)]
pub struct SandboxArgs {
    /// Port on 127.0.0.1 (default: any free port).
    #[arg(long)]
    pub port: Option<u16>,
    /// Listen on this address instead of 127.0.0.1 (e.g. 0.0.0.0 in a container).
    #[arg(long, value_name = "IP")]
    pub bind: Option<IpAddr>,
    /// The corp to serve (TOML or JSON; a `[school]` table makes it an education corp), or
    /// `school-demo` for the demo education corp (家校沟通); the demo corp otherwise.
    #[arg(long, value_name = "FILE")]
    pub corp: Option<PathBuf>,
    /// Lifetime of access tokens in seconds (default 7200).
    #[arg(long, value_name = "SECS")]
    pub token_ttl: Option<u64>,
    /// Print the demo corp as TOML (a starting point for --corp FILE) and exit.
    #[arg(long, conflicts_with_all = ["port", "bind", "corp", "token_ttl"])]
    pub dump_corp: bool,
}

/// `wecom api`
#[derive(Debug, Args)]
pub struct ApiArgs {
    /// The endpoint's name (`user_get`) or path (`user/get`); with --raw, METHOD and PATH.
    #[arg(value_name = "ENDPOINT", num_args = 0..=2)]
    pub target: Vec<String>,
    /// A field: `name=text`, or `name:=JSON` for a number, list or object (`department:=[1,2]`);
    /// `a.b=x` sets a nested field. Repeatable. Non-text fields of the spec accept JSON after `=`.
    #[arg(long = "field", short = 'f', value_name = "NAME=VALUE")]
    pub fields: Vec<String>,
    /// A JSON object of fields from FILE (`-`: stdin); --field values override it.
    #[arg(long, value_name = "FILE|-")]
    pub body: Option<PathBuf>,
    /// List the endpoints (of one area: auth, contacts, messages ...).
    #[arg(long, value_name = "AREA", num_args = 0..=1, default_missing_value = "")]
    pub list: Option<String>,
    /// Call a path the spec does not have (yet): `--raw POST wedoc/smartsheet/get_sheet`.
    #[arg(long)]
    pub raw: bool,
    /// With --raw: a query parameter `name=value` (repeatable). GET fields go to the query too.
    #[arg(
        long = "query",
        short = 'q',
        value_name = "NAME=VALUE",
        requires = "raw"
    )]
    pub query: Vec<String>,
    /// With --raw: which token to add: app (default), contact, app-or-contact, none, or a system
    /// app's name (external_contact, kf, approval, checkin, journal, wedrive, school, msg_audit, dial).
    #[arg(long, requires = "raw", value_name = "KIND", value_parser = crate::cmd::api::parse_credential)]
    pub credential: Option<wecom::auth::CredentialKind>,
    /// With --raw: the call is safe to send twice, so it is retried after a transient failure
    /// (a GET always is).
    #[arg(long, requires = "raw")]
    pub idempotent: bool,
    /// Print tokens, tickets and keys in the answer (masked otherwise). Handle them like passwords.
    #[arg(long)]
    pub reveal: bool,
    /// Call as downstream corp CORPID (上下游 / 企业互联) with its token, fetched with the app's
    /// (the upstream app shared with it; `wecom corpgroup apps` lists them). Needs --downstream-agent.
    #[arg(long, value_name = "CORPID", requires = "downstream_agent")]
    pub downstream: Option<String>,
    /// With --downstream: the shared app's AgentId in the downstream corp.
    #[arg(long, value_name = "AGENTID", requires = "downstream")]
    pub downstream_agent: Option<u32>,
    /// With --downstream: 1 上下游 (default) or 0 企业互联 / 局校互联.
    #[arg(long, value_name = "0|1", default_value_t = 1, value_parser = clap::value_parser!(u32).range(0..=1))]
    pub business_type: u32,
    /// Show the endpoint's fields, limits and doc link (or this help without an endpoint).
    #[arg(long, short = 'h')]
    pub help: bool,
}

/// `wecom proxy`
#[derive(Debug, Args)]
pub struct ProxyArgs {
    /// Port on 127.0.0.1 (default: any free port; the first stdout line says which).
    #[arg(long)]
    pub port: Option<u16>,
    /// Listen on this address instead of 127.0.0.1. Anyone who reaches it calls WeCom as your app.
    #[arg(long, value_name = "IP")]
    pub bind: Option<IpAddr>,
    /// Where to forward (default: the profile's base URL, else https://qyapi.weixin.qq.com),
    /// e.g. a sandbox's http://127.0.0.1:PORT.
    #[arg(long, value_name = "URL")]
    pub upstream: Option<String>,
}

/// `wecom demo`
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Keep the sandbox running at the end (until Ctrl-C) to look at its page.
    #[arg(long)]
    pub keep: bool,
}

/// `wecom token`
#[derive(Debug, Args)]
pub struct TokenArgs {
    /// The contact-sync secret's token instead of the app's.
    #[arg(long)]
    pub contact: bool,
    /// Print the token itself (for scripts). It grants API access for up to 2 hours: handle it
    /// like a password.
    #[arg(long)]
    pub reveal: bool,
}

/// `wecom department ...`
#[derive(Debug, Subcommand)]
pub enum DepartmentCmd {
    /// A department and every department below it.
    List {
        /// The top department (default: the whole tree visible to the app).
        #[arg(long)]
        id: Option<u32>,
        /// Ids only (department/simplelist), for contact-sync secrets on new IPs.
        #[arg(long)]
        simple: bool,
    },
    /// One department.
    Get {
        /// The department id.
        id: u32,
    },
    /// Create a department (needs the contact-sync secret).
    Create {
        /// Name (1-32 characters, none of \:*?"<>|).
        #[arg(long)]
        name: String,
        /// The parent department's id.
        #[arg(long)]
        parent: u32,
        /// English name.
        #[arg(long)]
        name_en: Option<String>,
        /// Order among siblings (larger first).
        #[arg(long)]
        order: Option<u32>,
        /// The id to give it (> 1); WeCom picks one otherwise.
        #[arg(long)]
        id: Option<u32>,
    },
    /// Change a department (needs the contact-sync secret).
    Update {
        /// The department id.
        id: u32,
        /// New name.
        #[arg(long)]
        name: Option<String>,
        /// New English name.
        #[arg(long)]
        name_en: Option<String>,
        /// New parent.
        #[arg(long)]
        parent: Option<u32>,
        /// New order.
        #[arg(long)]
        order: Option<u32>,
    },
    /// Delete an empty department (needs the contact-sync secret).
    Delete {
        /// The department id.
        id: u32,
    },
}

/// `wecom user ...`
#[derive(Debug, Subcommand)]
pub enum UserCmd {
    /// One member.
    Get {
        /// The userid.
        userid: String,
    },
    /// The members of a department.
    List {
        /// The department id.
        #[arg(long, default_value_t = 1)]
        department: u32,
        /// userid, name and departments only (user/simplelist).
        #[arg(long)]
        simple: bool,
    },
    /// Create a member (needs the contact-sync secret).
    Create(UserFields),
    /// Change a member (needs the contact-sync secret); only the given fields change.
    Update(UserFields),
    /// Delete members (needs the contact-sync secret); several ids use user/batchdelete.
    Delete {
        /// The userids.
        #[arg(required = true)]
        userids: Vec<String>,
    },
    /// Find a member's userid by mobile or email.
    Find {
        /// The mobile number.
        #[arg(long, conflicts_with = "email", required_unless_present = "email")]
        mobile: Option<String>,
        /// The (corp) email address.
        #[arg(long)]
        email: Option<String>,
    },
}

/// Member fields of `user create` / `user update`.
#[derive(Debug, Args)]
pub struct UserFields {
    /// The userid (1-64 of letters, digits, _-@.).
    pub userid: String,
    /// Name.
    #[arg(long)]
    pub name: Option<String>,
    /// Departments, comma-separated (create: required).
    #[arg(long, value_delimiter = ',')]
    pub department: Vec<u32>,
    /// Mobile number (create: this or --email).
    #[arg(long)]
    pub mobile: Option<String>,
    /// Email.
    #[arg(long)]
    pub email: Option<String>,
    /// Position.
    #[arg(long)]
    pub position: Option<String>,
    /// Alias.
    #[arg(long)]
    pub alias: Option<String>,
    /// Gender: 1 male, 2 female.
    #[arg(long)]
    pub gender: Option<String>,
    /// Enable (true) or disable (false) the member.
    #[arg(long)]
    pub enable: Option<bool>,
}

/// `wecom tag ...`
#[derive(Debug, Subcommand)]
pub enum TagCmd {
    /// Every tag.
    List,
    /// A tag's members and departments.
    Get {
        /// The tag id.
        id: u32,
    },
    /// Create a tag.
    Create {
        /// Name (up to 32 characters, unique).
        #[arg(long)]
        name: String,
        /// The id to give it.
        #[arg(long)]
        id: Option<u32>,
    },
    /// Rename a tag.
    Update {
        /// The tag id.
        id: u32,
        /// New name.
        #[arg(long)]
        name: String,
    },
    /// Delete a tag.
    Delete {
        /// The tag id.
        id: u32,
    },
    /// Add members and departments to a tag.
    Add(TagItems),
    /// Remove members and departments from a tag.
    Remove(TagItems),
}

/// Members and departments of `tag add` / `tag remove`.
#[derive(Debug, Args)]
pub struct TagItems {
    /// The tag id.
    pub id: u32,
    /// userids, comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub users: Vec<String>,
    /// Department ids, comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub parties: Vec<u32>,
}

/// `wecom agent ...`
#[derive(Debug, Subcommand)]
pub enum AgentCmd {
    /// An app's settings and visible scope (default: the selected app).
    Get {
        /// The AgentId.
        agentid: Option<u32>,
    },
    /// The apps this secret can see.
    List,
}

/// `wecom transfer ...`
#[derive(Debug, Subcommand)]
pub enum TransferCmd {
    /// Start handing customers over (each moves after 24 hours unless they refuse; a customer of a
    /// member in office at most twice in 90 days).
    Start {
        /// The member who follows the customers now (with --resigned: who left).
        #[arg(long)]
        from: String,
        /// The member who takes them over.
        #[arg(long)]
        to: String,
        /// The customers' external_userids, at most 100.
        #[arg(required = true)]
        customers: Vec<String>,
        /// The member left the corp (离职继承).
        #[arg(long)]
        resigned: bool,
        /// Message to the customers after the transfer, at most 200 characters (not with --resigned).
        #[arg(long, conflicts_with = "resigned")]
        message: Option<String>,
    },
    /// The state of the transfers from one member to another.
    Status {
        /// The member who followed the customers.
        #[arg(long)]
        from: String,
        /// The member who takes them over.
        #[arg(long)]
        to: String,
        /// The member left the corp (离职继承).
        #[arg(long)]
        resigned: bool,
    },
    /// Customers of members who left, waiting for a new follower.
    Unassigned,
    /// Hand customer groups to a new owner (在职继承; 离职继承 with --resigned), at once.
    Group {
        /// The new owner.
        #[arg(long)]
        to: String,
        /// The groups' chat_ids, 1 to 100.
        #[arg(required = true)]
        chats: Vec<String>,
        /// The owner left the corp (离职继承).
        #[arg(long)]
        resigned: bool,
    },
}

/// `wecom scope`
#[derive(Debug, Args)]
pub struct ScopeArgs {
    /// Explain whether this member is in the scope, and by which rule.
    #[arg(long)]
    pub user: Option<String>,
}

/// `wecom send`
#[derive(Debug, Args)]
#[command(
    subcommand_negates_reqs = true,
    override_usage = "wecom send --to USERIDS [--party IDS] [--tag IDS] <TYPE> ...\n       wecom send --json FILE"
)]
pub struct SendArgs {
    /// A complete message/send body as JSON (`-`: stdin); `agentid` defaults to the selected app.
    /// Written `wecom send --json FILE` (the result is then JSON too) or `wecom send FILE`.
    #[arg(value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Recipients: userids separated by `,` or `|`, or `@all`.
    #[arg(long, global = true, value_name = "USERIDS")]
    pub to: Option<String>,
    /// Recipient departments, comma-separated.
    #[arg(long, global = true, value_delimiter = ',', value_name = "IDS")]
    pub party: Vec<u32>,
    /// Recipient tags, comma-separated.
    #[arg(long, global = true, value_delimiter = ',', value_name = "IDS")]
    pub tag: Vec<u32>,
    /// 1: no sharing and a watermark; 2: in-corp sharing only (mpnews).
    #[arg(long, global = true)]
    pub safe: Option<u8>,
    /// Deliver even if the same message went to the same recipients recently (by default WeCom's
    /// duplicate check answers such a repeat without delivering it, 30 minutes).
    #[arg(long, global = true, conflicts_with = "duplicate_window")]
    pub no_duplicate_check: bool,
    /// The duplicate-check window in seconds (at most 14400).
    #[arg(long, global = true, value_name = "SECS")]
    pub duplicate_window: Option<u64>,
    /// The message type and its content.
    #[command(subcommand)]
    pub kind: Option<SendKind>,
}

/// A media message's content: an uploaded media_id or a file to upload first.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct MediaSource {
    /// An uploaded media's id.
    #[arg(long)]
    pub media_id: Option<String>,
    /// A file to upload first.
    #[arg(long, value_name = "PATH")]
    pub file: Option<PathBuf>,
}

/// Message types of `wecom send`.
#[derive(Debug, Subcommand)]
pub enum SendKind {
    /// Text (up to 2048 bytes; `-` reads stdin).
    Text {
        /// The text.
        content: String,
    },
    /// Markdown (WeCom's subset; `-` reads stdin).
    Markdown {
        /// The markdown.
        content: String,
    },
    /// An image (JPG/PNG).
    Image(MediaSource),
    /// A voice message (AMR).
    Voice(MediaSource),
    /// A video (MP4).
    Video {
        /// The video.
        #[command(flatten)]
        media: MediaSource,
        /// Title.
        #[arg(long)]
        title: Option<String>,
        /// Description.
        #[arg(long)]
        description: Option<String>,
    },
    /// A file.
    File(MediaSource),
    /// A text card with a link.
    Textcard {
        /// Title (up to 128 characters; WeCom cuts a longer one).
        #[arg(long)]
        title: String,
        /// Description (up to 512 characters, WeCom cuts a longer one; a little HTML allowed).
        #[arg(long)]
        description: String,
        /// The link.
        #[arg(long)]
        url: String,
        /// Button text (up to 4 characters; WeCom cuts a longer one).
        #[arg(long)]
        btntxt: Option<String>,
    },
    /// A news message with one article (several: use `wecom send --json FILE`).
    News {
        /// Title.
        #[arg(long)]
        title: String,
        /// The link.
        #[arg(long)]
        url: String,
        /// Description.
        #[arg(long)]
        description: Option<String>,
        /// Picture URL.
        #[arg(long)]
        picurl: Option<String>,
    },
    /// An mpnews message with one article, stored by WeCom.
    Mpnews {
        /// Title.
        #[arg(long)]
        title: String,
        /// The article's HTML.
        #[arg(long)]
        content: String,
        /// The cover: an uploaded image's media_id or a file.
        #[command(flatten)]
        thumb: MediaSource,
        /// Author.
        #[arg(long)]
        author: Option<String>,
        /// Digest.
        #[arg(long)]
        digest: Option<String>,
    },
    /// A mini-program notice.
    MiniprogramNotice {
        /// The mini-program's appid.
        #[arg(long)]
        appid: String,
        /// Title (4-12 characters).
        #[arg(long)]
        title: String,
        /// The page to open.
        #[arg(long)]
        page: Option<String>,
        /// Description (4-12 characters).
        #[arg(long)]
        description: Option<String>,
        /// Content items, `key=value` (up to 10).
        #[arg(long = "item", value_name = "KEY=VALUE")]
        items: Vec<String>,
    },
    /// A template card, given as the JSON of its `template_card` object (`-`: stdin).
    TemplateCard {
        /// The card's JSON file.
        card: PathBuf,
    },
}

/// `wecom drive ...`
#[derive(Debug, Subcommand)]
pub enum DriveCmd {
    /// Upload a file with 微盘's block upload (streamed in 2 MB blocks, up to 20 GB); prints
    /// its fileid.
    Upload {
        /// The file.
        file: PathBuf,
        /// The space's spaceid.
        #[arg(long)]
        space: String,
        /// The folder's fileid (default: the space's root).
        #[arg(long)]
        folder: Option<String>,
        /// The name in 微盘 (default: the file's name).
        #[arg(long)]
        name: Option<String>,
        /// Blocks sent at once (1 to 10; about 8 MB of memory each).
        #[arg(long, default_value_t = 1)]
        concurrency: usize,
    },
    /// Download a file by fileid, in ranges.
    Download {
        /// The fileid.
        fileid: String,
        /// Where to write it (`-`: stdout).
        #[arg(short, long, value_name = "FILE")]
        output: PathBuf,
        /// Continue a partial download: keep the bytes FILE has and fetch the rest.
        #[arg(long)]
        resume: bool,
    },
    /// List a folder (every entry; pages for you).
    Ls {
        /// The space's spaceid.
        #[arg(long)]
        space: String,
        /// The folder's fileid (default: the space's root).
        #[arg(long)]
        folder: Option<String>,
    },
}

/// `wecom media ...`
#[derive(Debug, Subcommand)]
pub enum MediaCmd {
    /// Upload a temporary media (valid 3 days); prints its media_id.
    Upload {
        /// The file.
        file: PathBuf,
        /// The media type.
        #[arg(long = "type", value_enum)]
        kind: MediaKind,
    },
    /// Download a media by id.
    Get {
        /// The media_id.
        media_id: String,
        /// Where to write it (`-`: stdout).
        #[arg(short, long, value_name = "FILE")]
        output: PathBuf,
    },
}

/// What `wecom contacts export --async` exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AsyncExportKind {
    /// export/simple_user: userid, name, departments.
    SimpleUser,
    /// export/user: members with their details.
    User,
    /// export/department: departments.
    Department,
    /// export/taguser: a tag's members and departments (needs --tagid).
    Taguser,
}

/// Media types.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum MediaKind {
    /// JPG/PNG, up to 10 MB.
    Image,
    /// AMR, up to 2 MB and 60 s.
    Voice,
    /// MP4, up to 10 MB.
    Video,
    /// Any file, up to 20 MB.
    File,
}

impl MediaKind {
    /// WeCom's name.
    pub fn as_str(self) -> &'static str {
        match self {
            MediaKind::Image => "image",
            MediaKind::Voice => "voice",
            MediaKind::Video => "video",
            MediaKind::File => "file",
        }
    }
}

/// `wecom contacts ...`
#[derive(Debug, Subcommand)]
pub enum ContactsCmd {
    /// Export every department and member the secret can see, with a progress bar.
    Export {
        /// The file format.
        #[arg(long, value_enum, default_value_t = ExportFormat::Csv)]
        format: ExportFormat,
        /// Where to write it (`-`: stdout).
        #[arg(short, long, value_name = "FILE")]
        output: PathBuf,
        /// Use WeCom's asynchronous export (export/*): one job, its encrypted files downloaded
        /// and decrypted as a stream, records written as they arrive (CSV, or JSON Lines with
        /// `--format json`).
        #[arg(long = "async")]
        async_export: bool,
        /// With --async: what to export.
        #[arg(long, value_enum, default_value_t = AsyncExportKind::SimpleUser, requires = "async_export")]
        kind: AsyncExportKind,
        /// With --async --kind taguser: the tag.
        #[arg(long, requires = "async_export")]
        tagid: Option<u32>,
        /// With --async: records per result file, 10,000 to 1,000,000 (WeCom's default 1,000,000).
        #[arg(long, requires = "async_export")]
        block_size: Option<u32>,
    },
}

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// One row per member: userid, name, departments, position, status...
    Csv,
    /// `{departments: [...], members: [...]}`
    Json,
}

/// Where the callback Token and EncodingAESKey come from (never from a command-line value).
#[derive(Debug, Args)]
pub struct CallbackKeys {
    /// Read the Token from FILE (else $WECOM_CALLBACK_TOKEN, else the app's profile).
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// Read the EncodingAESKey from FILE (else $WECOM_CALLBACK_AES_KEY, else the app's profile).
    #[arg(long, value_name = "FILE")]
    pub key_file: Option<PathBuf>,
    /// The receive id messages must carry: the corp id for a self-built app
    /// (else $WECOM_CALLBACK_RECEIVE_ID, else the configured corp id).
    #[arg(long, value_name = "ID")]
    pub receive_id: Option<String>,
}

/// `wecom callback ...`
#[derive(Debug, Subcommand)]
pub enum CallbackCmd {
    /// Decrypt a callback: a POSTed body (XML or JSON envelope), an Encrypt value or an echostr,
    /// from FILE or stdin. Prints the plaintext; the signature is checked when given.
    Decrypt {
        /// The input (default `-`: stdin).
        #[arg(default_value = "-")]
        input: PathBuf,
        /// The request's msg_signature (checked when given).
        #[arg(long)]
        msg_signature: Option<String>,
        /// The request's timestamp.
        #[arg(long)]
        timestamp: Option<String>,
        /// The request's nonce.
        #[arg(long)]
        nonce: Option<String>,
        /// The request's whole query string (`msg_signature=..&timestamp=..&nonce=..[&echostr=..]`),
        /// in place of the three flags; an echostr in it is decrypted when there is no input.
        #[arg(long, value_name = "QUERY")]
        query: Option<String>,
        /// Token, key and receive id.
        #[command(flatten)]
        keys: CallbackKeys,
    },
    /// Encrypt and sign a plaintext from FILE or stdin: prints the passive-reply XML
    /// (or, with --delivery, what WeCom POSTs to a callback URL and its query string).
    Encrypt {
        /// The plaintext (default `-`: stdin).
        #[arg(default_value = "-")]
        input: PathBuf,
        /// Timestamp to sign with (default: now).
        #[arg(long)]
        timestamp: Option<String>,
        /// Nonce to sign with (default: random).
        #[arg(long)]
        nonce: Option<String>,
        /// Produce a delivery (`<xml><ToUserName/><AgentID/><Encrypt/></xml>`) for this AgentId
        /// instead of a reply.
        #[arg(long, value_name = "AGENTID")]
        delivery: Option<u32>,
        /// Token, key and receive id.
        #[command(flatten)]
        keys: CallbackKeys,
    },
    /// Serve a callback URL on loopback: answers the URL check, prints each typed event as a
    /// JSON line, acknowledges (or replies with --reply-text).
    Serve {
        /// Port (default: any free port; the URL is printed on stderr).
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// Listen on this address instead of 127.0.0.1.
        #[arg(long, value_name = "IP")]
        bind: Option<IpAddr>,
        /// The URL path.
        #[arg(long, default_value = "/")]
        path: String,
        /// Answer every text message with this text (passive reply).
        #[arg(long, value_name = "TEXT")]
        reply_text: Option<String>,
        /// Token, key and receive id.
        #[command(flatten)]
        keys: CallbackKeys,
    },
}

/// `wecom jssdk ...`
#[derive(Debug, Subcommand)]
pub enum JssdkCmd {
    /// Sign a page URL for wx.config (or wx.agentConfig with --agent).
    Sign {
        /// The page's URL (its #fragment is ignored).
        #[arg(long)]
        url: String,
        /// The jsapi_ticket (else $WECOM_JSAPI_TICKET, else fetched with the configured app).
        /// A ticket only signs pages for 2 hours and grants no API access, so it may be given here.
        #[arg(long)]
        ticket: Option<String>,
        /// The nonce (default: random).
        #[arg(long)]
        noncestr: Option<String>,
        /// The timestamp (default: now).
        #[arg(long)]
        timestamp: Option<u64>,
        /// Sign with the app's agent_config ticket (wx.agentConfig) when fetching one.
        #[arg(long)]
        agent: bool,
    },
}

/// `wecom errcode`
#[derive(Debug, Args)]
pub struct ErrcodeArgs {
    /// The errcode (e.g. 60020, or -1).
    #[arg(allow_negative_numbers = true)]
    pub code: i64,
}

/// `wecom approval ...`
#[derive(Debug, Subcommand)]
pub enum ApprovalCmd {
    /// A template's controls (id, type, title, required, options).
    Template {
        /// The template id.
        template_id: String,
    },
    /// Submit an application built from the template; values are checked against each
    /// control's type before anything is sent.
    Apply {
        /// The template id.
        template_id: String,
        /// The applicant's userid.
        #[arg(long)]
        creator: String,
        /// A control's value: `TITLE=VALUE` (title or control id); repeat per control.
        #[arg(long = "set", value_name = "TITLE=VALUE")]
        set: Vec<String>,
        /// Approvers instead of the template's flow (repeatable).
        #[arg(long)]
        approver: Vec<String>,
    },
    /// Application numbers submitted in a range (Unix seconds or YYYY-MM-DD).
    List {
        /// Start.
        #[arg(long)]
        from: String,
        /// End.
        #[arg(long)]
        to: String,
    },
    /// One application.
    Get {
        /// The application number.
        sp_no: String,
    },
}

/// `wecom checkin ...`
#[derive(Debug, Subcommand)]
pub enum CheckinCmd {
    /// Check-in records of members over days (YYYY-MM-DD or Unix seconds, `--to` inclusive);
    /// `--json` prints one record per line.
    Records {
        /// First day.
        #[arg(long)]
        from: String,
        /// Last day.
        #[arg(long)]
        to: String,
        /// Members, comma-separated (repeatable).
        #[arg(long, required = true)]
        users: Vec<String>,
        /// Calls in flight at most.
        #[arg(long, default_value_t = 8)]
        concurrency: usize,
    },
    /// Day or month reports of members.
    Report {
        /// `day` or `month`.
        #[arg(value_enum)]
        kind: ReportKind,
        /// First day.
        #[arg(long)]
        from: String,
        /// Last day.
        #[arg(long)]
        to: String,
        /// Members, comma-separated (repeatable).
        #[arg(long, required = true)]
        users: Vec<String>,
        /// Calls in flight at most.
        #[arg(long, default_value_t = 8)]
        concurrency: usize,
    },
}

/// Check-in report kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportKind {
    /// One row per member and day.
    Day,
    /// Totals per member over the range.
    Month,
}
