//! Paths and file helpers shared by the tests.

use std::path::{Path, PathBuf};

/// `codegen/`.
pub fn codegen_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    codegen_dir()
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(codegen_dir)
}

/// `codegen/tests/fixtures/<rel>`.
pub fn fixtures(rel: &str) -> PathBuf {
    codegen_dir().join("tests/fixtures").join(rel)
}

pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The `*.toml` files of a directory, sorted, as (relative path, text).
pub fn tomls(dir: &Path, prefix: &str) -> Vec<(String, String)> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".toml"))
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|n| (format!("{prefix}{n}"), read(&dir.join(&n))))
        .collect()
}

/// Whether snapshots should be rewritten instead of compared (`WECOM_BLESS=1`).
pub fn blessing() -> bool {
    std::env::var_os("WECOM_BLESS").is_some_and(|v| v != "0" && !v.is_empty())
}
