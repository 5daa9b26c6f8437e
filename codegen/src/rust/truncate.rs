//! Fields WeCom cuts instead of refusing (`truncate = true`): `impl rt::Truncate` for every model
//! and union that holds one (directly or nested), and `Endpoint::truncate` for such requests.

use super::*;

impl Gen<'_> {
    /// Whether a value of this type holds a field WeCom truncates.
    pub(super) fn needs_truncation(&self, ty: &Ty, seen: &mut Vec<String>) -> bool {
        self.reaches(ty, seen, &|m| m.fields.values().any(|f| f.truncate))
    }

    /// The statements that truncate the fields of a struct (`self.<field>`).
    fn truncate_fields(&self, infos: &[FieldInfo]) -> Vec<TokenStream> {
        let mut out = Vec::new();
        for fi in infos {
            let id = &fi.ident;
            let wire = fi.wire;
            if fi.spec.truncate {
                let (limit, unit) = match (fi.spec.bytes, fi.spec.chars) {
                    (Some(b), _) => (b[1], quote!(::wecom_core_auth::LengthUnit::Bytes)),
                    (None, Some(c)) => (c[1], quote!(::wecom_core_auth::LengthUnit::Chars)),
                    // check.rs refuses `truncate` without a bound.
                    (None, None) => continue,
                };
                let limit = u64_lit(limit);
                out.push(if fi.optional {
                    quote! {
                        if let Some(value) = &mut self.#id {
                            rt::truncate_str(#wire, value, #limit, #unit, apply, out);
                        }
                    }
                } else {
                    quote!(rt::truncate_str(#wire, &mut self.#id, #limit, #unit, apply, out);)
                });
            } else if self.needs_truncation(&fi.ty, &mut Vec::new()) {
                out.push(if fi.spec.flatten {
                    quote!(rt::Truncate::truncate(&mut self.#id, apply, out);)
                } else {
                    quote!(rt::truncate_nested(#wire, &mut self.#id, apply, out);)
                });
            }
        }
        out
    }

    /// `impl rt::Truncate` for a model or request, when it holds a truncated field.
    pub(super) fn truncate_impl(&self, type_name: &Ident, infos: &[FieldInfo]) -> TokenStream {
        let body = self.truncate_fields(infos);
        if body.is_empty() {
            return quote!();
        }
        quote! {
            impl rt::Truncate for #type_name {
                fn truncate(&mut self, apply: bool, out: &mut ::std::vec::Vec<::wecom_core_auth::Truncated>) {
                    #(#body)*
                }
            }
        }
    }

    /// `Endpoint::truncate` of a request that holds a truncated field.
    pub(super) fn endpoint_truncate(&self, infos: &[FieldInfo]) -> TokenStream {
        if self.truncate_fields(infos).is_empty() {
            return quote!();
        }
        quote! {
            fn truncate(&mut self, apply: bool) -> ::std::vec::Vec<::wecom_core_auth::Truncated> {
                rt::truncate_request(self, apply)
            }
        }
    }
}
