//! # wecom-wedrive
//!
//! 微盘 (WeDrive) for a WeCom (企业微信) self-built app: spaces, their members and settings,
//! files and folders, file members and sharing, uploads and downloads; and the 文档 (wedoc)
//! basics (create, rename, delete, base info, share link).
//!
//! The endpoints are generated from `spec/wedrive.toml` ([`generated::wedrive`], re-exported
//! here) and reachable as `client.wedrive()` ([`WedriveExt`]). On top of them this crate adds
//! what moving large files needs:
//!
//! - [`Drive::upload_path`] / [`Drive::upload_reader`]: WeCom's block upload
//!   (`file_upload_init` / `file_upload_part` / `file_upload_finish`), streamed from a file or any
//!   `AsyncRead` in 2 MB blocks, never the whole file in memory; the block hashes computed as the
//!   page defines them ([`blocks`]), and the upload skipped when WeCom already has the content;
//! - [`Drive::download`] / [`Drive::download_to_path`]: `file_download`'s URL fetched with its
//!   cookie in ranges (1 MiB by default), streamed into any `AsyncWrite`, resumable from any offset;
//! - [`Drive::list_all`]: every entry of a folder, paging `file_list` for you;
//! - every rule of the pages that field constraints cannot say checked before any I/O
//!   ([`rules`]): file names of at most 255 (ASCII counts 1, others 2), `spaceid`+`fatherid` or a
//!   `selected_ticket` but not both, at most 3 space administrators, 10 MB for a whole upload,
//!   2 MB blocks.
//!
//! Which secret: the pages say the access_token must come from an app the admin listed under
//! 微盘 (文档 for wedoc) -> 可调用接口的应用; build the [`Client`](wecom_core_auth::Client) with
//! that app.
//!
//! ```no_run
//! use wecom_wedrive::{Drive, WedriveExt};
//! # async fn demo(client: &wecom_core_auth::Client) -> Result<(), wecom_wedrive::DriveError> {
//! let space = client.wedrive().space_create("Reports").await?.spaceid;
//! let drive = Drive::new(client);
//! let uploaded = drive.upload_path(&space, &space, "q3.pdf").await?; // streamed, 2 MB blocks
//! let bytes = drive.download_to_path(&uploaded.fileid, "q3-copy.pdf").await?; // ranged
//! # let _ = bytes; Ok(()) }
//! ```

pub mod blocks;
mod drive;
pub mod generated;
pub mod rules;

pub use drive::{DEFAULT_RANGE, Drive, DriveError, Progress, Uploaded, WHOLE_UPLOAD_MAX};
pub use generated::wedrive::*;
