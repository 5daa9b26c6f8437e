//! Offset cursors: the paging the sandbox's list endpoints answer where WeCom's cursor is opaque
//! (the client only hands back what the previous page answered).

use crate::error::ApiError;

/// A page of `items` from the offset in `cursor` (empty: the first page), with the next cursor
/// (empty after the last page).
pub(crate) fn page<T: Clone>(
    items: &[T],
    cursor: Option<&str>,
    size: usize,
) -> Result<(Vec<T>, String), ApiError> {
    let start = match cursor.filter(|c| !c.is_empty()) {
        None => 0,
        Some(c) => c.parse::<usize>().map_err(|_| {
            ApiError::invalid_parameter(format!("cursor {c:?} is not one this API answered"))
        })?,
    };
    let end = start.saturating_add(size).min(items.len());
    let slice = items.get(start..end).unwrap_or_default().to_vec();
    let next = if end < items.len() {
        end.to_string()
    } else {
        String::new()
    };
    Ok((slice, next))
}
