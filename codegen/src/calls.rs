//! The `CALLS` table generated into every area: one [`JsonEndpoint`] row per endpoint that can be
//! called with JSON in and JSON out (a JSON answer and no file upload), so a tool (the `wecom api`
//! command) calls any endpoint by name with the typed request's own `validate()`. New endpoints
//! get their row from the spec alone.
//!
//! The table is a `const`: the functions its rows point at are compiled only in a crate that uses
//! it, so it costs nothing to crates that do not.
//!
//! [`JsonEndpoint`]: https://docs.rs/wecom-core-auth (wecom_core_auth::raw::JsonEndpoint)

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::lower::{LArea, LEndpoint, LResponse};

/// Whether an endpoint can be called with JSON: its answer is JSON and it uploads no file.
pub(crate) fn json_callable(ep: &LEndpoint<'_>) -> bool {
    !ep.multipart && !matches!(ep.response, LResponse::Binary)
}

/// The `CALLS` table of an area, for its `mod.rs`.
pub(crate) fn table(area: &LArea<'_>) -> TokenStream {
    let rows: Vec<TokenStream> = area
        .endpoints
        .iter()
        .filter(|ep| json_callable(ep))
        .map(|ep| {
            let req = format_ident!("{}", ep.request_type);
            quote! {
                ::wecom_core_auth::raw::JsonEndpoint {
                    meta: <#req as ::wecom_core_auth::Endpoint>::META,
                    call: ::wecom_core_auth::raw::json_call::<#req>,
                }
            }
        })
        .collect();
    let skipped: Vec<&str> = area
        .endpoints
        .iter()
        .filter(|ep| !json_callable(ep))
        .map(|ep| ep.name)
        .collect();
    let mut text = "Every endpoint of this area callable with JSON (a JSON answer, no file upload): the request\nread from a JSON object of its fields, checked by its `validate()`, sent with `Client::execute`,\nthe answer given back as JSON. Used by tools that call endpoints by name (`wecom api`).".to_owned();
    if !skipped.is_empty() {
        text.push_str(&format!(
            "\n\nLeft out (a file upload or a binary answer): `{}`.",
            skipped.join("`, `")
        ));
    }
    let doc = crate::rust::docs(&text);
    quote! {
        #doc
        pub const CALLS: &[::wecom_core_auth::raw::JsonEndpoint] = &[#(#rows),*];
    }
}
