//! Printing: text for people, one JSON document per result with `--json`.

use std::io::Write as _;

use serde::Serialize;

use crate::error::CliError;

/// How results are printed.
#[derive(Debug, Clone, Copy)]
pub struct Out {
    /// `--json`: machine-readable output.
    pub json: bool,
}

impl Out {
    /// Prints `value` as one line of JSON with `--json`, else the text `text` builds.
    pub fn emit<T: Serialize>(
        &self,
        value: &T,
        text: impl FnOnce() -> String,
    ) -> Result<(), CliError> {
        if self.json {
            self.json_line(value)
        } else {
            let mut t = text();
            if !t.ends_with('\n') {
                t.push('\n');
            }
            write_stdout(&t)
        }
    }

    /// Prints `value` as one line of JSON, whatever the mode.
    pub fn json_line<T: Serialize>(&self, value: &T) -> Result<(), CliError> {
        let mut line = serde_json::to_string(value)
            .map_err(|e| CliError::Failed(format!("cannot encode the result as JSON: {e}")))?;
        line.push('\n');
        write_stdout(&line)
    }
}

/// Writes to stdout; a closed pipe (`wecom ... | head`) is not an error.
pub fn write_stdout(text: &str) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(CliError::io("cannot write to stdout", e))
        }
        _ => Ok(()),
    }
}

/// Display width of a string on a terminal (CJK characters take two columns).
pub fn width(s: &str) -> usize {
    s.chars()
        .map(|c| match u32::from(c) {
            0x1100..=0x115F
            | 0x2E80..=0xA4CF
            | 0xAC00..=0xD7A3
            | 0xF900..=0xFAFF
            | 0xFE30..=0xFE4F
            | 0xFF00..=0xFF60
            | 0xFFE0..=0xFFE6
            | 0x1F300..=0x1FAFF
            | 0x20000..=0x3FFFD => 2,
            _ => 1,
        })
        .sum()
}

/// A table with aligned columns.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| width(h)).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(width(cell));
            }
        }
    }
    let mut out = String::new();
    let mut push_row = |cells: &mut dyn Iterator<Item = &str>| {
        let mut line = String::new();
        for (i, cell) in cells.enumerate() {
            if i > 0 {
                line.push_str("  ");
            }
            line.push_str(cell);
            let pad = widths
                .get(i)
                .copied()
                .unwrap_or(0)
                .saturating_sub(width(cell));
            line.push_str(&" ".repeat(pad));
        }
        out.push_str(line.trim_end());
        out.push('\n');
    };
    push_row(&mut headers.iter().copied());
    for row in rows {
        push_row(&mut row.iter().map(String::as_str));
    }
    out
}
