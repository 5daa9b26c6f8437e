//! Struct fields, docs, constructors, setters and `validate()`: shared by requests, responses and models.

use super::*;

impl Gen<'_> {
    // ----------------------------------------------------------------------------------------
    // Docs

    pub(super) fn constraint_text(&self, f: &Field) -> String {
        let mut parts = Vec::new();
        let span = |b: [u64; 2], unit: &str| {
            if b[0] == b[1] {
                format!("exactly {} {unit}", b[0])
            } else if b[0] == 0 {
                format!("at most {} {unit}", b[1])
            } else {
                format!("{} to {} {unit}", b[0], b[1])
            }
        };
        if let Some(b) = f.bytes {
            parts.push(span(b, "bytes"));
        }
        if let Some(c) = f.chars {
            parts.push(span(c, "characters"));
        }
        if let Some(i) = f.items {
            parts.push(span(i, "items"));
        }
        if let Some(r) = f.range {
            parts.push(format!("from {} to {}", r[0], r[1]));
        }
        if let Some(p) = &f.pattern {
            parts.push(format!("matches `{p}`"));
        }
        if let Some(v) = &f.values {
            parts.push(format!(
                "one of {}",
                v.iter()
                    .map(|v| format!("`{}`", value_text(v)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if !parts.is_empty()
            && let Some(c) = f.errcode
        {
            let last = parts.len() - 1;
            parts[last] = format!("{} (errcode {c})", parts[last]);
        }
        if let Some(e) = &f.each {
            let mut each = Vec::new();
            if let Some(b) = e.bytes {
                each.push(span(b, "bytes"));
            }
            if let Some(c) = e.chars {
                each.push(span(c, "characters"));
            }
            if let Some(r) = e.range {
                each.push(format!("from {} to {}", r[0], r[1]));
            }
            if let Some(p) = &e.pattern {
                each.push(format!("matches `{p}`"));
            }
            if !each.is_empty() {
                let code = e
                    .errcode
                    .map(|c| format!(" (errcode {c})"))
                    .unwrap_or_default();
                parts.push(format!("each item {}{code}", each.join(", ")));
            }
        }
        if parts.is_empty() {
            return String::new();
        }
        format!("Limits: {}.", parts.join("; "))
    }

    pub(super) fn field_doc(&self, fi: &FieldInfo) -> TokenStream {
        let mut text = fi.spec.doc.trim().to_owned();
        if text.is_empty() {
            text = format!("`{}`.", fi.wire);
        }
        let limits = self.constraint_text(fi.spec);
        let mut notes = Vec::new();
        match fi.table {
            Table::Query => notes.push(format!("Query parameter `{}`.", fi.wire)),
            Table::Multipart => notes.push(format!("Multipart part `{}`.", fi.wire)),
            Table::Body | Table::Other => {
                if fi.wire != fi.ident.to_string().trim_start_matches("r#") {
                    notes.push(format!("JSON key `{}`.", fi.wire));
                }
            }
        }
        if matches!(fi.ty, Ty::Pipe(_)) {
            notes.push("Sent as one string joined with `|`.".to_owned());
        }
        if !limits.is_empty() {
            notes.push(limits);
        }
        if !notes.is_empty() {
            text = format!("{text}\n\n{}", notes.join(" "));
        }
        docs(&text)
    }

    // ----------------------------------------------------------------------------------------
    // Struct fields and serde attributes

    pub(super) fn struct_field(&self, fi: &FieldInfo, with_serde: bool) -> TokenStream {
        let doc = self.field_doc(fi);
        let id = &fi.ident;
        let vt = &fi.value_ty;
        let ty = if fi.optional {
            quote!(::std::option::Option<#vt>)
        } else {
            vt.clone()
        };
        let mut serde = Vec::new();
        if id.to_string().trim_start_matches("r#") != fi.wire {
            let w = lit_str(fi.wire);
            serde.push(quote!(rename = #w));
        }
        if fi.spec.flatten {
            serde.push(quote!(flatten));
        }
        let flag = fi.ty == Ty::Scalar(Scalar::Flag);
        let flag_list = matches!(&fi.ty, Ty::List(t) if t.scalar() == Some(Scalar::Flag));
        match &fi.ty {
            Ty::Pipe(_) => {
                serde.push(quote!(default, with = "::wecom_core_auth::__private::pipe"));
                if !fi.spec.required {
                    serde.push(quote!(skip_serializing_if = "::std::vec::Vec::is_empty"));
                }
            }
            Ty::List(_) => {
                serde.push(quote!(default));
                if flag_list {
                    serde.push(quote!(with = "::wecom_core_auth::__private::flag::list"));
                }
                if !fi.spec.required {
                    serde.push(quote!(skip_serializing_if = "::std::vec::Vec::is_empty"));
                }
            }
            _ if fi.optional => {
                serde.push(quote!(
                    default,
                    skip_serializing_if = "::std::option::Option::is_none"
                ));
                if flag {
                    serde.push(quote!(with = "::wecom_core_auth::__private::flag::option"));
                }
            }
            _ => {
                if flag {
                    serde.push(quote!(with = "::wecom_core_auth::__private::flag"));
                }
            }
        }
        let serde_attr = if serde.is_empty() || !with_serde {
            quote!()
        } else {
            quote!(#[serde(#(#serde),*)])
        };

        quote! {
            #doc
            #serde_attr
            pub #id: #ty,
        }
    }

    // ----------------------------------------------------------------------------------------
    // Constructors and setters

    /// Parameter type and conversion of a value for `new()` and setters.
    pub(super) fn param(&self, fi: &FieldInfo) -> (TokenStream, TokenStream) {
        let id = &fi.ident;
        // Numbers and booleans are taken as they are: with `impl Into<u32>` a bare literal
        // (`new(1000002)`) would not compile, since `u32: From<i32>` does not hold.
        let plain = matches!(fi.ty.item(), Ty::Scalar(k) if k.is_numeric() || matches!(k, Scalar::Bool | Scalar::Flag));
        if plain {
            let item = self.rust_ty(fi.ty.item());
            return if fi.ty.is_list() {
                (
                    quote!(impl ::std::iter::IntoIterator<Item = #item>),
                    quote!(#id.into_iter().collect()),
                )
            } else {
                (quote!(#item), quote!(#id))
            };
        }
        if fi.ty.is_list() {
            let item = self.rust_ty(fi.ty.item());
            (
                quote!(impl ::std::iter::IntoIterator<Item = impl ::std::convert::Into<#item>>),
                quote!(#id.into_iter().map(Into::into).collect()),
            )
        } else {
            let vt = &fi.value_ty;
            (quote!(impl ::std::convert::Into<#vt>), quote!(#id.into()))
        }
    }

    pub(super) fn fixed_value(&self, fi: &FieldInfo, v: &toml::Value) -> TokenStream {
        match (v, &fi.ty) {
            (toml::Value::String(s), Ty::Scalar(Scalar::String)) => {
                quote!(String::from(#s))
            }
            (toml::Value::String(s), _) => quote!(From::from(#s)),
            (toml::Value::Integer(n), Ty::Named(_)) => {
                let n = Literal::i64_unsuffixed(*n);
                quote!(From::from(#n))
            }
            (toml::Value::Integer(n), _) => {
                let n = Literal::i64_unsuffixed(*n);
                quote!(#n)
            }
            _ => quote!(Default::default()),
        }
    }

    /// `new(required...)`, setters, and (for requests) `From` for a single scalar.
    pub(super) fn constructors(
        &self,
        type_name: &Ident,
        infos: &[FieldInfo],
        what: &str,
        derives_default: bool,
    ) -> TokenStream {
        let args: Vec<&FieldInfo> = infos
            .iter()
            .filter(|f| f.spec.required && f.fixed.is_none())
            .collect();
        let mut params = Vec::new();
        let mut inits = Vec::new();
        for fi in infos {
            let id = &fi.ident;
            if let Some(v) = &fi.fixed {
                let value = self.fixed_value(fi, v);
                inits.push(quote!(#id: #value));
            } else if fi.spec.required {
                let (pt, conv) = self.param(fi);
                params.push(quote!(#id: #pt));
                if conv.to_string() == *id.to_string() {
                    inits.push(quote!(#id));
                } else {
                    inits.push(quote!(#id: #conv));
                }
            } else if fi.ty.is_list() {
                inits.push(quote!(#id: Vec::new()));
            } else {
                inits.push(quote!(#id: None));
            }
        }
        let new_doc = if args.is_empty() {
            format!("{what} with every optional field unset.")
        } else {
            format!(
                "{what} with its required fields ({}); set optional ones with the methods below.",
                args.iter()
                    .map(|f| format!("`{}`", f.wire))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        let new_doc = docs(&new_doc);
        let allow = if params.len() > 7 {
            quote!(#[allow(clippy::too_many_arguments)])
        } else {
            quote!()
        };
        let setters: Vec<TokenStream> = infos
            .iter()
            .filter(|f| !f.spec.required)
            .map(|fi| {
                let id = &fi.ident;
                let (pt, conv) = self.param(fi);
                let assign = if fi.ty.is_list() {
                    quote!(self.#id = #conv;)
                } else {
                    quote!(self.#id = Some(#conv);)
                };
                self.setter(fi, &pt, assign)
            })
            .collect();
        let default_impl = if params.is_empty() && !derives_default {
            quote! {
                impl ::std::default::Default for #type_name {
                    fn default() -> Self {
                        Self::new()
                    }
                }
            }
        } else {
            quote!()
        };
        quote! {
            impl #type_name {
                #new_doc
                #allow
                pub fn new(#(#params),*) -> Self {
                    Self { #(#inits),* }
                }
                #(#setters)*
            }
            #default_impl
        }
    }

    /// `From<&str>`/`From<String>`/`From<u32>`.. for a request with one required scalar field.
    pub(super) fn single_from(&self, type_name: &Ident, infos: &[FieldInfo]) -> TokenStream {
        let args: Vec<&FieldInfo> = infos
            .iter()
            .filter(|f| f.spec.required && f.fixed.is_none())
            .collect();
        let [only] = args.as_slice() else {
            return quote!();
        };
        let sources: Vec<TokenStream> = match &only.ty {
            Ty::Scalar(Scalar::String) => vec![quote!(&str), quote!(::std::string::String)],
            Ty::Scalar(Scalar::Secret) => vec![
                quote!(&str),
                quote!(::std::string::String),
                quote!(::wecom_core_auth::Secret),
            ],
            Ty::Scalar(k) if k.is_int() => vec![self.rust_ty(&only.ty)],
            Ty::Named(n) if matches!(self.low.kind(n), Some(TypeKind::Enum(_))) => {
                vec![self.type_path(n)]
            }
            _ => return quote!(),
        };
        let doc = docs(&format!("A request for this `{}`.", only.wire));
        sources
            .into_iter()
            .map(|src| {
                quote! {
                    impl ::std::convert::From<#src> for #type_name {
                        #doc
                        fn from(value: #src) -> Self {
                            Self::new(value)
                        }
                    }
                }
            })
            .collect()
    }

    /// A setter: `pub fn <setter>(mut self, <field>: <param type>) -> Self { <assign> self }`.
    fn setter(&self, fi: &FieldInfo, param_ty: &TokenStream, assign: TokenStream) -> TokenStream {
        let id = &fi.ident;
        let setter = &fi.setter;
        let doc = docs(&format!(
            "Sets `{}`: {}",
            fi.wire,
            first_sentence(&fi.spec.doc, fi.wire)
        ));
        quote! {
            #doc
            pub fn #setter(mut self, #id: #param_ty) -> Self {
                #assign
                self
            }
        }
    }

    /// The setters of a call builder: the request's optional fields, passed on to the request.
    pub(super) fn call_setters(&self, infos: &[FieldInfo]) -> Vec<TokenStream> {
        infos
            .iter()
            .filter(|f| !f.spec.required)
            .map(|fi| {
                let id = &fi.ident;
                let setter = &fi.setter;
                let (pt, _) = self.param(fi);
                self.setter(fi, &pt, quote!(self.request = self.request.#setter(#id);))
            })
            .collect()
    }

    /// The parameters of `new()` (required fields without a fixed value) and their names.
    pub(super) fn new_params(&self, infos: &[FieldInfo]) -> (Vec<TokenStream>, Vec<Ident>) {
        infos
            .iter()
            .filter(|f| f.spec.required && f.fixed.is_none())
            .map(|fi| {
                let id = &fi.ident;
                let (pt, _) = self.param(fi);
                (quote!(#id: #pt), id.clone())
            })
            .unzip()
    }

    // ----------------------------------------------------------------------------------------
    // Validation

    /// Whether validating a value of this type checks anything (models/unions with constraints).
    pub(super) fn needs_validation(&self, ty: &Ty, seen: &mut Vec<String>) -> bool {
        self.reaches(ty, seen, &|m| {
            !m.rules.is_empty() || m.check.is_some() || m.fields.values().any(has_constraints)
        })
    }

    /// Whether a value of this type is, or holds through fields, lists and union variants, a
    /// model for which `direct` holds.
    pub(super) fn reaches(
        &self,
        ty: &Ty,
        seen: &mut Vec<String>,
        direct: &dyn Fn(&crate::spec::Model) -> bool,
    ) -> bool {
        match ty.item() {
            Ty::Named(n) => {
                if seen.contains(n) {
                    return false;
                }
                seen.push(n.clone());
                match self.low.kind(n) {
                    Some(TypeKind::Model) => self.low.model(n).is_some_and(|m| {
                        direct(m)
                            || m.fields.values().any(|f| {
                                Ty::parse(f.ty.get_ref())
                                    .is_ok_and(|t| self.reaches(&t, seen, direct))
                            })
                    }),
                    Some(TypeKind::Union) => self.low.union_def(n).is_some_and(|u| {
                        u.variants.iter().any(|v| {
                            v.model.as_ref().is_some_and(|m| {
                                self.reaches(&Ty::Named(m.get_ref().clone()), seen, direct)
                            })
                        })
                    }),
                    _ => false,
                }
            }
            _ => false,
        }
    }

    /// Checks of one value (`v` is a reference expression to it, never an Option).
    pub(super) fn value_checks(
        &self,
        field: &Field,
        ty: &Ty,
        name: &str,
        v: TokenStream,
        copy: TokenStream,
    ) -> Vec<TokenStream> {
        let mut out = Vec::new();
        let code = opt_i64(field.errcode);
        let text = match ty.scalar() {
            Some(Scalar::Secret) => Some(quote!(#v.expose())),
            Some(Scalar::String) => Some(quote!(#v.as_str())),
            _ => None,
        };
        // A field WeCom truncates has no maximum to refuse (the client cuts it first).
        let max = |m: u64| if field.truncate { u64::MAX } else { m };
        if let (Some(b), Some(t)) = (field.bytes, &text) {
            let (a, z) = (u64_lit(b[0]), u64_lit(max(b[1])));
            out.push(quote!(rt::bytes(#name, #t, [#a, #z], #code)?;));
        }
        if let (Some(c), Some(t)) = (field.chars, &text) {
            let (a, z) = (u64_lit(c[0]), u64_lit(max(c[1])));
            out.push(quote!(rt::chars(#name, #t, [#a, #z], #code)?;));
        }
        if let (Some(p), Some(t)) = (&field.pattern, &text) {
            out.push(quote! {{
                static PATTERN: rt::Pattern = rt::Pattern::new(#p);
                rt::pattern(#name, #t, &PATTERN, #code)?;
            }});
        }
        if let Some(r) = field.range
            && ty.scalar().is_some_and(Scalar::is_numeric)
        {
            let (a, z) = (f64_lit(r[0]), f64_lit(r[1]));
            out.push(quote!(rt::range(#name, #copy, [#a, #z], #code)?;));
        }
        if let Some(values) = &field.values {
            let strs: Vec<&str> = values.iter().filter_map(toml::Value::as_str).collect();
            let ints: Vec<Literal> = values
                .iter()
                .filter_map(toml::Value::as_integer)
                .map(Literal::i64_unsuffixed)
                .collect();
            match ty {
                Ty::Named(n) => match self.low.kind(n) {
                    Some(TypeKind::Enum(EnumRepr::String)) => {
                        out.push(quote!(rt::one_of_str(#name, #v.as_str(), &[#(#strs),*], #code)?;))
                    }
                    Some(TypeKind::Enum(EnumRepr::Int)) => {
                        out.push(quote!(rt::one_of_int(#name, #v.code(), &[#(#ints),*], #code)?;))
                    }
                    _ => {}
                },
                _ => {
                    if let Some(t) = &text {
                        out.push(quote!(rt::one_of_str(#name, #t, &[#(#strs),*], #code)?;));
                    } else if ty.scalar().is_some_and(Scalar::is_int) {
                        out.push(quote!(rt::one_of_int(#name, #copy, &[#(#ints),*], #code)?;));
                    }
                }
            }
        }
        out
    }

    pub(super) fn item_checks(&self, each: &ItemConstraints, item: &Ty) -> Vec<TokenStream> {
        let f = Field {
            ty: toml::Spanned::new(0..0, item.to_string()),
            required: true,
            doc: String::new(),
            rust_name: None,
            flatten: false,
            bytes: each.bytes,
            chars: each.chars,
            truncate: false,
            items: None,
            range: each.range,
            pattern: each.pattern.clone(),
            values: None,
            each: None,
            errcode: each.errcode,
            example: None,
        };
        self.value_checks(&f, item, "", quote!(item), quote!(*item))
    }

    pub(super) fn field_validation(&self, fi: &FieldInfo) -> TokenStream {
        let name = fi.wire;
        let id = &fi.ident;
        let mut out = Vec::new();
        if fi.ty.is_list() {
            if let Some(i) = fi.spec.items {
                let code = opt_i64(fi.spec.errcode);
                let (a, z) = (u64_lit(i[0]), u64_lit(i[1]));
                out.push(quote!(rt::items(#name, self.#id.len(), [#a, #z], #code)?;));
            }
            if let Some(each) = &fi.spec.each {
                let checks = self.item_checks(each, fi.ty.item());
                if !checks.is_empty() {
                    out.push(quote! {
                        rt::each(#name, &self.#id, |item| {
                            #(#checks)*
                            Ok(())
                        })?;
                    });
                }
            }
            if self.needs_validation(&fi.ty, &mut Vec::new()) {
                out.push(quote!(rt::nested(#name, &self.#id)?;));
            }
        } else {
            let nested = self.needs_validation(&fi.ty, &mut Vec::new());
            if fi.optional {
                let mut checks =
                    self.value_checks(fi.spec, &fi.ty, name, quote!(value), quote!(*value));
                if nested {
                    checks.push(quote!(rt::nested(#name, value)?;));
                }
                if !checks.is_empty() {
                    out.push(quote! {
                        if let Some(value) = &self.#id {
                            #(#checks)*
                        }
                    });
                }
            } else {
                out.extend(self.value_checks(
                    fi.spec,
                    &fi.ty,
                    name,
                    quote!(self.#id),
                    quote!(self.#id),
                ));
                if nested {
                    if fi.spec.flatten {
                        out.push(quote!(rt::Validate::validate(&self.#id)?;));
                    } else {
                        out.push(quote!(rt::nested(#name, &self.#id)?;));
                    }
                }
            }
        }
        quote!(#(#out)*)
    }

    pub(super) fn rule_checks(&self, rules: &[Rule], infos: &[FieldInfo]) -> TokenStream {
        let mut out = Vec::new();
        for rule in rules {
            let code = opt_i64(rule.errcode);
            let message = match &rule.message {
                Some(m) => quote!(Some(#m)),
                None => quote!(None),
            };
            let find = |n: &str| infos.iter().find(|f| f.wire == n);
            if let Some(fields) = &rule.at_least_one_of {
                let entries = fields.iter().filter_map(|n| find(n)).map(|fi| {
                    let id = &fi.ident;
                    let wire = fi.wire;
                    let present = if fi.ty.is_list() {
                        quote!(!self.#id.is_empty())
                    } else if fi.optional {
                        if fi.ty.scalar().is_some_and(Scalar::is_text) {
                            quote!(self.#id.as_ref().is_some_and(|value| !value.is_empty()))
                        } else {
                            quote!(self.#id.is_some())
                        }
                    } else if fi.ty.scalar().is_some_and(Scalar::is_text) {
                        quote!(!self.#id.is_empty())
                    } else {
                        quote!(true)
                    };
                    quote!((#wire, #present))
                });
                out.push(quote!(rt::at_least_one_of(&[#(#entries),*], #code, #message)?;));
            }
            if let Some(fields) = &rule.same_length {
                let entries = fields.iter().filter_map(|n| find(n)).map(|fi| {
                    let id = &fi.ident;
                    let wire = fi.wire;
                    quote!((#wire, self.#id.len()))
                });
                out.push(quote!(rt::same_length(&[#(#entries),*], #code, #message)?;));
            }
        }
        quote!(#(#out)*)
    }

    pub(super) fn validate_impl(
        &self,
        type_name: &Ident,
        infos: &[FieldInfo],
        rules: &[Rule],
        check: Option<&str>,
    ) -> TokenStream {
        let checks: Vec<TokenStream> = infos.iter().map(|fi| self.field_validation(fi)).collect();
        let rules = self.rule_checks(rules, infos);
        // The spec's hand-written check runs after the declared constraints, on every path.
        let hand = match check.and_then(|c| syn::parse_str::<syn::Path>(c).ok()) {
            Some(path) => quote!(#path(self)?;),
            None => quote!(),
        };
        let body = quote!(#(#checks)* #rules #hand);
        quote! {
            impl rt::Validate for #type_name {
                fn validate(&self) -> ::std::result::Result<(), ::wecom_core_auth::InvalidInput> {
                    #body
                    Ok(())
                }
            }
        }
    }
}
