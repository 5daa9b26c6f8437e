//! Models and response structs. Both are `#[non_exhaustive]` (WeCom adds fields), whatever the
//! features: outside their crate (the sandbox included) they are built with `new(required..)`
//! and a setter per optional field.

use super::*;

impl Gen<'_> {
    pub(super) fn model(&self, m: &LModel) -> TokenStream {
        let id = format_ident!("{}", m.name);
        let infos = self.field_infos(&m.fields);
        let fields: Vec<TokenStream> = infos.iter().map(|fi| self.struct_field(fi, true)).collect();
        let doc = docs(if m.doc.is_empty() { m.name } else { m.doc });
        let ctors = self.constructors(&id, &infos, "A value", true);
        let validate = self.validate_impl(&id, &infos, m.rules, m.check);
        let truncate = self.truncate_impl(&id, &infos);
        let ne = non_exhaustive();
        quote! {
            #doc
            #[derive(Debug, Clone, PartialEq, Default, ::serde::Serialize, ::serde::Deserialize)]
            #ne
            pub struct #id {
                #(#fields)*
            }
            #ctors
            #validate
            #truncate
        }
    }

    /// The answer struct of an endpoint, when it has its own.
    pub(super) fn response(&self, ep: &LEndpoint) -> TokenStream {
        let LResponse::Generated { name, fields } = &ep.response else {
            return quote!();
        };
        let resp_name = format_ident!("{}", name);
        let handle = self.handle();
        let rinfos = self.field_infos(fields);
        let rfields: Vec<TokenStream> = rinfos
            .iter()
            .map(|fi| self.struct_field(fi, true))
            .collect();
        let doc = docs(&format!(
            "Answer of [`{handle}::{}`] (besides `errcode`/`errmsg`). Fields WeCom adds later are ignored.",
            ep.name
        ));
        let ctors = self.constructors(&resp_name, &rinfos, "An answer", true);
        let ne = non_exhaustive();
        quote! {
            #doc
            #[derive(Debug, Clone, PartialEq, Default, ::serde::Serialize, ::serde::Deserialize)]
            #ne
            pub struct #resp_name {
                #(#rfields)*
            }
            #ctors
        }
    }
}
