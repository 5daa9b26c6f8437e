//! Enums and tagged unions.

use super::*;

impl Gen<'_> {
    pub(super) fn enumeration(&self, name: &str, e: &crate::spec::Enum) -> TokenStream {
        let id = format_ident!("{}", name);
        let doc = docs(if e.doc.trim().is_empty() {
            name
        } else {
            e.doc.trim()
        });
        let mut variants = Vec::new();
        for (i, v) in e.values.iter().enumerate() {
            let vid = format_ident!("{}", v.name);
            let vdoc = docs(&format!(
                "{}{}`{}`.",
                v.doc.trim(),
                if v.doc.trim().is_empty() { "" } else { " " },
                value_text(v.value.get_ref()).trim_matches('"')
            ));
            let default = if i == 0 { quote!(#[default]) } else { quote!() };
            variants.push(quote!(#vdoc #default #vid,));
        }
        let vids: Vec<Ident> = e
            .values
            .iter()
            .map(|v| format_ident!("{}", v.name))
            .collect();
        match e.repr {
            EnumRepr::String => {
                let vals: Vec<String> = e
                    .values
                    .iter()
                    .map(|v| v.value.get_ref().as_str().unwrap_or_default().to_owned())
                    .collect();
                let ne = non_exhaustive();
                quote! {
                    #doc
                    #[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
                    #ne
                    pub enum #id {
                        #(#variants)*
                        /// A value this version does not know, kept as received (it re-encodes unchanged).
                        Unknown(::std::string::String),
                    }
                    impl #id {
                        /// The value as written on the wire.
                        pub fn as_str(&self) -> &str {
                            match self {
                                #(Self::#vids => #vals,)*
                                Self::Unknown(value) => value.as_str(),
                            }
                        }
                    }
                    impl ::std::convert::From<&str> for #id {
                        fn from(value: &str) -> Self {
                            match value {
                                #(#vals => Self::#vids,)*
                                other => Self::Unknown(ToOwned::to_owned(other)),
                            }
                        }
                    }
                    impl ::std::convert::From<::std::string::String> for #id {
                        fn from(value: ::std::string::String) -> Self {
                            match value.as_str() {
                                #(#vals => Self::#vids,)*
                                _ => Self::Unknown(value),
                            }
                        }
                    }
                    impl ::std::fmt::Display for #id {
                        fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                            f.write_str(self.as_str())
                        }
                    }
                    impl ::serde::Serialize for #id {
                        fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error> {
                            serializer.serialize_str(self.as_str())
                        }
                    }
                    impl<'de> ::serde::Deserialize<'de> for #id {
                        fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> ::std::result::Result<Self, D::Error> {
                            rt::enum_string(deserializer).map(Self::from)
                        }
                    }
                    impl rt::WireScalar for #id {
                        fn to_wire(&self) -> ::std::borrow::Cow<'_, str> {
                            self.as_str().into()
                        }
                        fn from_wire(value: &str) -> ::std::result::Result<Self, ::std::string::String> {
                            Ok(Self::from(value))
                        }
                    }
                }
            }
            EnumRepr::Int => {
                let vals: Vec<Literal> = e
                    .values
                    .iter()
                    .map(|v| {
                        Literal::i64_unsuffixed(v.value.get_ref().as_integer().unwrap_or_default())
                    })
                    .collect();
                let ne = non_exhaustive();
                quote! {
                    #doc
                    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
                    #ne
                    pub enum #id {
                        #(#variants)*
                        /// A value this version does not know, kept as received (it re-encodes unchanged).
                        Unknown(i64),
                    }
                    impl #id {
                        /// The value as written on the wire.
                        pub fn code(&self) -> i64 {
                            match self {
                                #(Self::#vids => #vals,)*
                                Self::Unknown(value) => *value,
                            }
                        }
                    }
                    impl ::std::convert::From<i64> for #id {
                        fn from(value: i64) -> Self {
                            match value {
                                #(#vals => Self::#vids,)*
                                other => Self::Unknown(other),
                            }
                        }
                    }
                    impl ::std::fmt::Display for #id {
                        fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                            write!(f, "{}", self.code())
                        }
                    }
                    impl ::serde::Serialize for #id {
                        fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error> {
                            serializer.serialize_i64(self.code())
                        }
                    }
                    impl<'de> ::serde::Deserialize<'de> for #id {
                        fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> ::std::result::Result<Self, D::Error> {
                            rt::enum_int(deserializer).map(Self::from)
                        }
                    }
                    impl rt::WireScalar for #id {
                        fn to_wire(&self) -> ::std::borrow::Cow<'_, str> {
                            self.code().to_string().into()
                        }
                        fn from_wire(value: &str) -> ::std::result::Result<Self, ::std::string::String> {
                            <i64 as rt::WireScalar>::from_wire(value).map(Self::from)
                        }
                    }
                }
            }
        }
    }

    pub(super) fn union(&self, name: &str, u: &crate::spec::Union) -> TokenStream {
        let id = format_ident!("{}", name);
        let doc = docs(if u.doc.trim().is_empty() {
            name
        } else {
            u.doc.trim()
        });
        let tag = &u.tag;
        let named = u.style == UnionStyle::Named;
        let mut variants = Vec::new();
        let mut ser_arms = Vec::new();
        let mut de_arms = Vec::new();
        let mut tag_arms = Vec::new();
        let mut validate_arms = Vec::new();
        let mut truncate_arms = Vec::new();
        let mut froms = Vec::new();
        let mut model_count: std::collections::HashMap<&str, usize> =
            std::collections::HashMap::new();
        for v in &u.variants {
            if let Some(m) = &v.model {
                *model_count.entry(m.get_ref().as_str()).or_default() += 1;
            }
        }
        let ser_fn = if named {
            quote!(serialize_named)
        } else {
            quote!(serialize_internal)
        };
        for v in &u.variants {
            let value = v.value.get_ref().as_str();
            let vid = format_ident!(
                "{}",
                v.name.clone().unwrap_or_else(|| names::to_pascal(value))
            );
            let vdoc = docs(&format!(
                "{}{}`{tag} = \"{value}\"`.",
                v.doc.trim(),
                if v.doc.trim().is_empty() { "" } else { " " }
            ));
            tag_arms.push(if v.model.is_some() {
                quote!(Self::#vid(_) => Some(#value),)
            } else {
                quote!(Self::#vid => Some(#value),)
            });
            match &v.model {
                Some(m) => {
                    let mpath = self.type_path(m.get_ref());
                    variants.push(quote!(#vdoc #vid(#mpath),));
                    ser_arms.push(quote!(Self::#vid(value) => rt::union::#ser_fn(serializer, #tag, #value, Some(value)),));
                    let key = if named {
                        quote!(Some(#value))
                    } else {
                        quote!(None)
                    };
                    de_arms.push(
                        quote!(Some(#value) => Self::#vid(rt::union::content(map, #tag, #key)?),),
                    );
                    if self.needs_truncation(&Ty::Named(m.get_ref().clone()), &mut Vec::new()) {
                        truncate_arms.push(if named {
                            quote!(Self::#vid(value) => rt::truncate_nested(#value, value, apply, out),)
                        } else {
                            quote!(Self::#vid(value) => rt::Truncate::truncate(value, apply, out),)
                        });
                    }
                    if self.needs_validation(&Ty::Named(m.get_ref().clone()), &mut Vec::new()) {
                        if named {
                            validate_arms
                                .push(quote!(Self::#vid(value) => rt::nested(#value, value),));
                        } else {
                            validate_arms
                                .push(quote!(Self::#vid(value) => rt::Validate::validate(value),));
                        }
                    }
                    if model_count.get(m.get_ref().as_str()) == Some(&1) {
                        froms.push(quote! {
                            impl ::std::convert::From<#mpath> for #id {
                                fn from(value: #mpath) -> Self {
                                    Self::#vid(value)
                                }
                            }
                        });
                    }
                }
                None => {
                    variants.push(quote!(#vdoc #vid,));
                    ser_arms.push(quote!(Self::#vid => rt::union::#ser_fn::<_, ()>(serializer, #tag, #value, None),));
                    de_arms.push(quote!(Some(#value) => Self::#vid,));
                }
            }
        }
        let truncate = if truncate_arms.is_empty() {
            quote!()
        } else {
            quote! {
                impl rt::Truncate for #id {
                    fn truncate(&mut self, apply: bool, out: &mut ::std::vec::Vec<::wecom_core_auth::Truncated>) {
                        match self {
                            #(#truncate_arms)*
                            _ => {}
                        }
                    }
                }
            }
        };
        let validate_body = if validate_arms.is_empty() {
            quote!(Ok(()))
        } else {
            quote! {
                match self {
                    #(#validate_arms)*
                    _ => Ok(()),
                }
            }
        };
        let style_doc = if named {
            format!("On the wire: `{{\"{tag}\": \"<value>\", \"<value>\": {{..content..}}}}`.")
        } else {
            format!("On the wire: `{{\"{tag}\": \"<value>\", ..content fields..}}`.")
        };
        let tag_doc = docs(&format!(
            "The tag value (`{tag}`), also for unknown variants when it is a string."
        ));
        let style_doc = docs(&format!(
            "\n{style_doc} Unknown tags decode to `Unknown` and re-encode unchanged."
        ));
        let ne = non_exhaustive();
        quote! {
            #doc
            #style_doc
            #[derive(Debug, Clone, PartialEq)]
            #ne
            pub enum #id {
                #(#variants)*
                /// A variant this version does not know: the whole JSON object, kept as received.
                Unknown(::serde_json::Value),
            }
            impl #id {
                #tag_doc
                pub fn tag(&self) -> ::std::option::Option<&str> {
                    match self {
                        #(#tag_arms)*
                        Self::Unknown(value) => rt::union::unknown_tag(value, #tag),
                    }
                }
            }
            impl ::std::default::Default for #id {
                fn default() -> Self {
                    Self::Unknown(::serde_json::Value::Object(::serde_json::Map::new()))
                }
            }
            #(#froms)*
            impl ::serde::Serialize for #id {
                fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error> {
                    match self {
                        #(#ser_arms)*
                        Self::Unknown(value) => ::serde::Serialize::serialize(value, serializer),
                    }
                }
            }
            impl<'de> ::serde::Deserialize<'de> for #id {
                fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> ::std::result::Result<Self, D::Error> {
                    let (tag, map) = rt::union::split(deserializer, #tag)?;
                    Ok(match tag.as_deref() {
                        #(#de_arms)*
                        _ => Self::Unknown(::serde_json::Value::Object(map)),
                    })
                }
            }
            impl rt::Validate for #id {
                fn validate(&self) -> ::std::result::Result<(), ::wecom_core_auth::InvalidInput> {
                    #validate_body
                }
            }
            #truncate
        }
    }
}
