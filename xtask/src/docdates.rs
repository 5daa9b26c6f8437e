//! The doc-date warnings of `cargo xtask gen`: endpoints of `spec/` whose WeCom page date
//! (`doc_updated`) is missing or more than a year old. Warnings only: the run still succeeds.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use wecom_codegen::Input;

use crate::XtaskError;

/// One line per endpoint of the workspace spec whose doc date is missing or older than a year,
/// measured against today's date (UTC) from the system clock.
pub fn doc_date_warnings(root: &Path) -> Result<Vec<String>, XtaskError> {
    let specs = crate::read_specs(root, "spec", &["errcodes.toml"])?;
    let inputs: Vec<Input<'_>> = specs
        .iter()
        .map(|(p, t)| Input { path: p, text: t })
        .collect();
    let today = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| (d.as_secs() / 86_400) as i64);
    Ok(wecom_codegen::docdates::stale_doc_dates(&inputs, today))
}
