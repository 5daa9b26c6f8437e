//! Sandbox resources declared in the spec (`[endpoint.resource]`): their checks, and the
//! `RESOURCES` table generated into each area (behind the `server` feature) for the sandbox's
//! generic resource engine.

use std::collections::HashSet;

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::check::Project;
use crate::lower::LArea;
use crate::spec::{Endpoint, Field, IdFrom, ListItems, Resource, ResourceErrcode, ResourceOp};
use crate::ty::{Scalar, Ty};

/// The JSON type of a resource id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum IdKind {
    String,
    Integer,
}

fn op_name(op: ResourceOp) -> &'static str {
    match op {
        ResourceOp::Create => "create",
        ResourceOp::Get => "get",
        ResourceOp::Update => "update",
        ResourceOp::Delete => "delete",
        ResourceOp::List => "list",
    }
}

/// The field an id path names: `cal_id` in the query or body, `calendar.cal_id` through body
/// models. `Err` says what is wrong.
fn request_field<'p>(
    project: &'p Project,
    ep: &'p Endpoint,
    path: &str,
) -> Result<&'p Field, String> {
    let mut segments = path.split('.');
    let first = segments.next().unwrap_or_default();
    let mut field = ep
        .query
        .get(first)
        .or_else(|| ep.body.get(first))
        .ok_or_else(|| format!("its id `{path}` names no query or body field `{first}`"))?;
    for seg in segments {
        let ty = Ty::parse(field.ty.get_ref()).map_err(|e| format!("id `{path}`: {e}"))?;
        let Ty::Named(model) = ty else {
            return Err(format!(
                "its id `{path}` goes through `{}`, which is not a model",
                field.ty.get_ref()
            ));
        };
        field = project
            .model(&model)
            .and_then(|m| m.fields.get(seg))
            .ok_or_else(|| format!("its id `{path}`: model `{model}` has no field `{seg}`"))?;
    }
    Ok(field)
}

fn id_kind(field: &Field, path: &str) -> Result<IdKind, String> {
    match Ty::parse(field.ty.get_ref()) {
        Ok(Ty::Scalar(Scalar::String)) => Ok(IdKind::String),
        Ok(Ty::Scalar(s)) if s.is_int() => Ok(IdKind::Integer),
        _ => Err(format!(
            "its id `{path}` has type `{}`; an id is a `string` or an integer",
            field.ty.get_ref()
        )),
    }
}

/// The id field's JSON type, resolved from where the spec says the id is.
fn resolve_id(project: &Project, ep: &Endpoint, res: &Resource) -> Result<IdKind, String> {
    if res.op == ResourceOp::Create && res.id_from == Some(IdFrom::Response) {
        let field = ep.response.get(res.id.as_str()).ok_or_else(|| {
            format!(
                "its id `{}` (id_from = \"response\") is no field of [endpoint.response]",
                res.id
            )
        })?;
        return id_kind(field, &res.id);
    }
    id_kind(request_field(project, ep, &res.id)?, &res.id)
}

fn check_errcode(
    what: &str,
    e: &ResourceErrcode,
    known: Option<&HashSet<i64>>,
    out: &mut Vec<(String, String)>,
) {
    match (&e.doc_url, &e.generic) {
        (Some(_), Some(_)) | (None, None) => out.push((
            format!("[endpoint.resource]: its `{what}` errcode {} needs exactly one of `doc_url` and `generic`", e.code),
            "doc_url = the WeCom page naming this code for this resource; generic = what the page leaves unsaid (then the code is a generic one)".to_owned(),
        )),
        _ => {}
    }
    if let Some(url) = &e.doc_url
        && !url.starts_with("https://developer.work.weixin.qq.com/")
    {
        out.push((
            format!("[endpoint.resource]: its `{what}` doc_url `{url}` is not a WeCom documentation page"),
            "cite the page on developer.work.weixin.qq.com that names the code".to_owned(),
        ));
    }
    if let Some(known) = known
        && !known.contains(&e.code)
    {
        out.push((
            format!(
                "its `{what}` errcode {} is not listed in spec/errcodes.toml",
                e.code
            ),
            "add it to spec/errcodes.toml, or fix the number".to_owned(),
        ));
    }
}

/// Checks one endpoint's `[endpoint.resource]`: each problem as (message, help).
pub(crate) fn check(project: &Project, ep: &Endpoint) -> Vec<(String, String)> {
    let Some(res) = &ep.resource else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut bad =
        |m: String, h: &str| out.push((format!("[endpoint.resource]: {m}"), h.to_owned()));
    let name = res.name.get_ref();
    if !crate::names::is_snake(name) {
        bad(
            format!("resource name `{name}` is not snake_case"),
            "write it like name = \"meeting_room\"",
        );
    }
    if !ep.multipart.is_empty() {
        bad(
            "a multipart endpoint cannot be a resource operation".into(),
            "write a handler in the sandbox instead",
        );
    }
    if ep.response_kind != crate::spec::ResponseKind::Json {
        bad(
            "a binary endpoint cannot be a resource operation".into(),
            "write a handler in the sandbox instead",
        );
    }
    let op = op_name(res.op);
    if res.id_from.is_some() != (res.op == ResourceOp::Create) {
        bad(
            format!("`id_from` is for create, and create needs it (this is a {op})"),
            "id_from = \"request\" when the caller names the id, \"response\" when WeCom assigns it",
        );
    }
    if res.items.is_some() && res.op != ResourceOp::List {
        bad(format!("`items` is for list (this is a {op})"), "remove it");
    }
    match res.op {
        ResourceOp::List => match &res.field {
            None => bad(
                "a list needs `field`, the response field holding the list".into(),
                "e.g. field = \"cal_id_list\"",
            ),
            Some(f) if !ep.response.contains_key(f.as_str()) => bad(
                format!("its list field `{f}` is no field of [endpoint.response]"),
                "declare it in [endpoint.response], as a list",
            ),
            Some(_) => {}
        },
        ResourceOp::Get => {
            if let Some(f) = &res.field
                && !ep.response.contains_key(f.as_str())
            {
                bad(
                    format!("its object field `{f}` is no field of [endpoint.response]"),
                    "declare it in [endpoint.response], or drop `field` when the object's fields are the answer",
                );
            }
        }
        _ => {
            if res.field.is_some() {
                bad(
                    format!("`field` is for get and list (this is a {op})"),
                    "remove it",
                );
            }
        }
    }
    if matches!(
        res.op,
        ResourceOp::Get | ResourceOp::Update | ResourceOp::Delete
    ) && res.not_found.is_none()
    {
        bad(
            format!("a {op} needs `not_found`, the errcode for an unknown id"),
            "not_found = { code = N, doc_url = \"...\" } as the page documents it, or { code = N, generic = \"...\" } when the page is silent",
        );
    }
    if res.duplicate.is_some()
        && !(res.op == ResourceOp::Create && res.id_from == Some(IdFrom::Request))
    {
        bad(
            "`duplicate` is for a create whose caller names the id".into(),
            "remove it: only a caller-named id can collide",
        );
    }
    // A list answers the stored ids as they are; its `id` only names the resource's id field.
    if res.op != ResourceOp::List
        && let Err(m) = resolve_id(project, ep, res)
    {
        bad(
            m,
            "name a string or integer field (dotted for a nested body field)",
        );
    }
    let known: Option<HashSet<i64>> = project
        .errcodes
        .as_ref()
        .map(|(_, f)| f.code.iter().map(|c| *c.code.get_ref()).collect());
    if let Some(e) = &res.not_found {
        check_errcode("not_found", e, known.as_ref(), &mut out);
    }
    if let Some(e) = &res.duplicate {
        check_errcode("duplicate", e, known.as_ref(), &mut out);
    }
    out
}

fn errcode_tokens(e: Option<&ResourceErrcode>) -> TokenStream {
    match e {
        None => quote!(::std::option::Option::None),
        Some(e) => {
            let code = e.code;
            let documented = e.doc_url.is_some();
            quote!(::std::option::Option::Some(::wecom_core_auth::__private::ResourceErrcode {
                code: #code,
                documented: #documented,
            }))
        }
    }
}

/// The `RESOURCES` table of an area (empty when it declares none), for its `mod.rs`.
pub(crate) fn table(project: &Project, area: &LArea<'_>) -> TokenStream {
    let spec_eps: Vec<&Endpoint> = project
        .files
        .iter()
        .filter(|u| u.spec.area.name.get_ref() == area.name)
        .flat_map(|u| u.spec.endpoint.iter())
        .collect();
    let mut rows = Vec::new();
    for lep in &area.endpoints {
        let Some(res) = lep.resource else { continue };
        let Some(ep) = spec_eps.iter().find(|e| e.name.get_ref() == lep.name) else {
            continue;
        };
        let req = format_ident!("{}", lep.request_type);
        let name = res.name.get_ref();
        let op = format_ident!(
            "{}",
            match res.op {
                ResourceOp::Create => "Create",
                ResourceOp::Get => "Get",
                ResourceOp::Update => "Update",
                ResourceOp::Delete => "Delete",
                ResourceOp::List => "List",
            }
        );
        let id = &res.id;
        let kind = match resolve_id(project, ep, res) {
            Ok(IdKind::Integer) => quote!(Integer),
            _ => quote!(String),
        };
        let source = match res.id_from {
            Some(IdFrom::Response) => quote!(Generated(#id)),
            _ => quote!(Caller),
        };
        let field = match &res.field {
            Some(f) => quote!(::std::option::Option::Some(#f)),
            None => quote!(::std::option::Option::None),
        };
        let items = match res.items {
            Some(ListItems::Objects) => quote!(Objects),
            _ => quote!(Ids),
        };
        let not_found = errcode_tokens(res.not_found.as_ref());
        let duplicate = errcode_tokens(res.duplicate.as_ref());
        rows.push(quote! {
            ::wecom_core_auth::__private::ResourceDecl {
                meta: <#req as ::wecom_core_auth::Endpoint>::META,
                resource: #name,
                op: ::wecom_core_auth::__private::ResourceOp::#op,
                id: #id,
                id_kind: ::wecom_core_auth::__private::IdKind::#kind,
                id_source: ::wecom_core_auth::__private::IdSource::#source,
                field: #field,
                items: ::wecom_core_auth::__private::ListItems::#items,
                not_found: #not_found,
                duplicate: #duplicate,
                check: ::wecom_core_auth::__private::check_wire::<#req>,
            }
        });
    }
    let doc = crate::rust::docs(&format!(
        "The endpoints of this area that the sandbox serves with its generic resource engine\n(`[endpoint.resource]` in `{}`): {} declared. Server side only (the `server` feature).",
        area.source,
        rows.len()
    ));
    quote! {
        #doc
        #[cfg(feature = "server")]
        pub const RESOURCES: &[::wecom_core_auth::__private::ResourceDecl] = &[#(#rows),*];
    }
}
