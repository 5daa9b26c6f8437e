//! Requests: the request struct, its `Endpoint` impl, the call builder, and the server-side
//! reader (`FromWire`, only with the crate's `server` feature, which only the sandbox enables).

use super::*;

impl Gen<'_> {
    // ----------------------------------------------------------------------------------------
    // Wire (server side)

    pub(super) fn wire_reader(&self, type_name: &Ident, infos: &[FieldInfo]) -> TokenStream {
        let query_fields: Vec<&FieldInfo> =
            infos.iter().filter(|f| f.table == Table::Query).collect();
        let body_fields: Vec<&FieldInfo> =
            infos.iter().filter(|f| f.table == Table::Body).collect();
        let mut lets = Vec::new();
        for fi in &query_fields {
            let id = &fi.ident;
            let w = fi.wire;
            let expr = match &fi.ty {
                Ty::Pipe(_) => {
                    let req = fi.spec.required;
                    quote!(__query.pipe(#w, #req)?)
                }
                _ if fi.optional => quote!(__query.optional(#w)?),
                _ => quote!(__query.required(#w)?),
            };
            lets.push(quote!(let #id = #expr;));
        }
        let (plain, flat): (Vec<&&FieldInfo>, Vec<&&FieldInfo>) =
            body_fields.iter().partition(|f| !f.spec.flatten);
        for fi in plain.iter().chain(flat.iter()) {
            let id = &fi.ident;
            let w = fi.wire;
            let req = fi.spec.required;
            let flag_list = matches!(&fi.ty, Ty::List(t) if t.scalar() == Some(Scalar::Flag));
            let expr = if fi.spec.flatten {
                let tag = match &fi.ty {
                    Ty::Named(n) => self.low.union_def(n).map(|u| u.tag.clone()),
                    _ => None,
                };
                match tag {
                    Some(t) => quote!(__body.flatten(Some(#t))?),
                    None => quote!(__body.flatten(None)?),
                }
            } else {
                match &fi.ty {
                    Ty::Pipe(_) => {
                        quote!(__body.list_with(#w, #req, rt::pipe::deserialize)?)
                    }
                    Ty::List(_) if flag_list => {
                        quote!(__body.list_with(#w, #req, rt::flag::list::deserialize)?)
                    }
                    Ty::List(_) => quote!(__body.list(#w, #req)?),
                    Ty::Scalar(Scalar::Flag) if fi.optional => {
                        quote!(__body.optional_with(#w, rt::flag::deserialize)?)
                    }
                    Ty::Scalar(Scalar::Flag) => {
                        quote!(__body.required_with(#w, rt::flag::deserialize)?)
                    }
                    _ if fi.optional => quote!(__body.optional(#w)?),
                    _ => quote!(__body.required(#w)?),
                }
            };
            lets.push(quote!(let #id = #expr;));
        }
        let ids: Vec<&Ident> = infos.iter().map(|f| &f.ident).collect();
        let query_init = if query_fields.is_empty() {
            quote!()
        } else {
            quote!(let __query = rt::WireQuery::new(__wire.query);)
        };
        let body_init = if body_fields.is_empty() {
            quote!()
        } else {
            quote!(let mut __body = rt::WireBody::parse(__wire.body)?;)
        };
        let wire_param = if query_fields.is_empty() && body_fields.is_empty() {
            quote!(_wire)
        } else {
            quote!(__wire)
        };
        quote! {
            #[cfg(feature = "server")]
            impl rt::FromWire for #type_name {
                const MULTIPART: bool = false;
                fn from_wire(#wire_param: rt::WireInput<'_>) -> ::std::result::Result<Self, rt::WireError> {
                    #query_init
                    #body_init
                    #(#lets)*
                    Ok(Self { #(#ids),* })
                }
            }
        }
    }

    // ----------------------------------------------------------------------------------------
    // Endpoints

    /// The answer type of an endpoint.
    fn response_ty(&self, ep: &LEndpoint) -> TokenStream {
        match &ep.response {
            LResponse::Binary => quote!(rt::Bytes),
            LResponse::Model(m) => self.type_path(m),
            LResponse::Generated { name, .. } => {
                let id = format_ident!("{}", name);
                quote!(#id)
            }
        }
    }

    /// Everything an endpoint becomes in its group file: the request struct (constructors,
    /// setters, `FromWire` for servers, `Validate`, `Endpoint`), the answer struct and the call builder.
    pub(super) fn endpoint(&self, ep: &LEndpoint) -> TokenStream {
        let name = ep.name;
        let req_name = format_ident!("{}", ep.request_type);
        let resp_ty = self.response_ty(ep);
        let infos = self.field_infos(&ep.fields);
        let is_get = ep.is_get();
        let multipart = ep.multipart;
        let path = ep.path;
        let method_name = ep.method_str();

        // The request struct.
        let fields: Vec<TokenStream> = infos
            .iter()
            .map(|fi| self.struct_field(fi, !multipart))
            .collect();
        let handle = self.handle();
        let req_doc = docs(&format!(
            "Request of [`{handle}::{name}`]: {}\n\n`{method_name} /cgi-bin/{path}` · [WeCom documentation]({})",
            first_sentence(ep.doc, name),
            ep.doc_url
        ));
        let derives = if multipart {
            quote!(#[derive(Debug, Clone)])
        } else {
            quote!(#[derive(Debug, Clone, PartialEq, ::serde::Serialize, ::serde::Deserialize)])
        };
        let ctors = self.constructors(&req_name, &infos, "A request", false);
        let from = self.single_from(&req_name, &infos);
        let validate = self.validate_impl(&req_name, &infos, ep.rules, ep.check);
        let truncate = self.truncate_impl(&req_name, &infos);
        let endpoint_truncate = self.endpoint_truncate(&infos);
        let wire = if multipart {
            self.wire_reader_multipart(&req_name, &infos)
        } else {
            self.wire_reader(&req_name, &infos)
        };

        // META.
        let method = if is_get {
            quote!(::wecom_core_auth::Method::Get)
        } else {
            quote!(::wecom_core_auth::Method::Post)
        };
        let credential = match ep.credential {
            Credential::None => quote!(::wecom_core_auth::CredentialKind::None),
            Credential::App => quote!(::wecom_core_auth::CredentialKind::App),
            Credential::Contact => quote!(::wecom_core_auth::CredentialKind::Contact),
            Credential::AppOrContact => quote!(::wecom_core_auth::CredentialKind::AppOrContact),
            Credential::RobotKey => quote!(::wecom_core_auth::CredentialKind::RobotKey),
            other => {
                let (variant, _, _) = other
                    .system_app()
                    .expect("every other credential is a system app's");
                let variant = format_ident!("{}", variant);
                quote!(::wecom_core_auth::CredentialKind::SystemOrApp(
                    ::wecom_core_auth::SystemApp::#variant
                ))
            }
        };
        let retry_tokens = match ep.retry {
            Retry::Idempotent => quote!(::wecom_core_auth::RetrySafety::Idempotent),
            Retry::No => quote!(::wecom_core_auth::RetrySafety::NotIdempotent),
            Retry::DuplicateCheck => quote!(::wecom_core_auth::RetrySafety::DuplicateCheck),
        };
        let response_kind = match (&ep.response, ep.failures) {
            (LResponse::Binary, _) => quote!(::wecom_core_auth::ResponseKind::Binary),
            (_, Some(list)) => quote!(::wecom_core_auth::ResponseKind::JsonWithFailures(#list)),
            _ => quote!(::wecom_core_auth::ResponseKind::Json),
        };
        let doc_url = ep.doc_url;

        // query()
        let query_pushes: Vec<TokenStream> = infos
            .iter()
            .filter(|f| f.table == Table::Query)
            .map(|fi| {
                let id = &fi.ident;
                let w = fi.wire;
                match (&fi.ty, fi.optional) {
                    (Ty::Pipe(_), _) => quote!(rt::push_pipe(&mut query, #w, &self.#id);),
                    (Ty::Scalar(Scalar::Flag), true) => {
                        quote!(rt::push_flag_opt(&mut query, #w, self.#id);)
                    }
                    (Ty::Scalar(Scalar::Flag), false) => {
                        quote!(rt::push_flag(&mut query, #w, self.#id);)
                    }
                    (_, true) => quote!(rt::push_opt(&mut query, #w, &self.#id);),
                    (_, false) => quote!(rt::push(&mut query, #w, &self.#id);),
                }
            })
            .collect();
        let query_fn = if query_pushes.is_empty() {
            quote!(::wecom_core_auth::Query::new())
        } else {
            quote! {
                let mut query = ::wecom_core_auth::Query::new();
                #(#query_pushes)*
                query
            }
        };

        // body()
        let body_fn = if multipart {
            let parts = infos
                .iter()
                .filter(|f| f.table == Table::Multipart)
                .map(|fi| {
                    let id = &fi.ident;
                    let w = fi.wire;
                    quote!(::wecom_core_auth::MultipartPart { name: #w, upload: self.#id.clone() })
                });
            quote!(Ok(::wecom_core_auth::RequestBody::Multipart(
                vec![#(#parts),*]
            )))
        } else if is_get {
            quote!(Ok(::wecom_core_auth::RequestBody::Empty))
        } else {
            let query_keys: Vec<&str> = infos
                .iter()
                .filter(|f| f.table == Table::Query)
                .map(|f| f.wire)
                .collect();
            if query_keys.is_empty() {
                quote!(rt::json_body(self))
            } else {
                quote!(rt::json_body_without(self, &[#(#query_keys),*]))
            }
        };

        let decode_fn = match ep.response {
            LResponse::Binary => quote!(Ok(body)),
            _ => quote!(rt::decode_json(&body)),
        };

        let dup = match &ep.duplicate_check {
            Some((flag, interval)) => {
                let flag = ident(flag);
                let interval = ident(interval);
                quote! {
                    fn enable_duplicate_check(&mut self, default_interval_secs: u32) {
                        rt::enable_duplicate_check(&mut self.#flag, &mut self.#interval, default_interval_secs);
                    }
                }
            }
            None => quote!(),
        };

        let response = self.response(ep);
        let call = self.call_builder(ep, &req_name, &resp_ty, &infos);
        let ne = non_exhaustive();
        quote! {
            #req_doc
            #derives
            #ne
            pub struct #req_name {
                #(#fields)*
            }
            #ctors
            #from
            #wire
            #validate
            #truncate
            impl ::wecom_core_auth::Endpoint for #req_name {
                type Response = #resp_ty;
                const META: ::wecom_core_auth::EndpointMeta = ::wecom_core_auth::EndpointMeta {
                    name: #name,
                    method: #method,
                    path: #path,
                    credential: #credential,
                    retry: #retry_tokens,
                    response: #response_kind,
                    doc_url: #doc_url,
                };
                fn validate(&self) -> ::std::result::Result<(), ::wecom_core_auth::InvalidInput> {
                    rt::validate_request(self, #name)
                }
                fn query(&self) -> ::wecom_core_auth::Query {
                    #query_fn
                }
                fn body(&self) -> ::std::result::Result<::wecom_core_auth::RequestBody, ::wecom_core_auth::Error> {
                    #body_fn
                }
                fn decode(body: rt::Bytes) -> ::std::result::Result<Self::Response, ::wecom_core_auth::DecodeError> {
                    #decode_fn
                }
                #dup
                #endpoint_truncate
            }
            #response
            #call
        }
    }

    /// The call builder `<Name>Call<'a>`: the request plus the client, with the optional fields as
    /// setters, sent by `.await` (`IntoFuture`) or `.send().await`.
    fn call_builder(
        &self,
        ep: &LEndpoint,
        req_name: &Ident,
        resp_ty: &TokenStream,
        infos: &[FieldInfo],
    ) -> TokenStream {
        let call = format_ident!("{}", ep.call_type);
        let handle = self.handle();
        let name = ep.name;
        let setters = self.call_setters(infos);
        let doc = docs(&format!(
            "A `{name}` call, made by [`{handle}::{name}`]: set optional fields with its methods, then\n`.await` it (or `.send().await`)."
        ));
        let call_name = call.to_string();
        quote! {
            #doc
            #[must_use = "a call does nothing until it is awaited"]
            pub struct #call<'a> {
                pub(super) client: &'a ::wecom_core_auth::Client,
                pub(super) request: #req_name,
            }
            impl ::std::fmt::Debug for #call<'_> {
                fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                    f.debug_struct(#call_name).field("request", &self.request).finish_non_exhaustive()
                }
            }
            impl<'a> #call<'a> {
                #(#setters)*
                /// The request as built so far.
                pub fn request(&self) -> &#req_name {
                    &self.request
                }
                /// The request, to send later with [`Client::execute`](::wecom_core_auth::Client::execute).
                pub fn into_request(self) -> #req_name {
                    self.request
                }
                /// Sends the call: checks the request against the spec (an error before any I/O),
                /// then calls WeCom through the client. Awaiting the call itself does the same.
                pub async fn send(self) -> ::std::result::Result<#resp_ty, ::wecom_core_auth::Error> {
                    self.client.execute(self.request).await
                }
            }
            impl<'a> ::std::future::IntoFuture for #call<'a> {
                type Output = ::std::result::Result<#resp_ty, ::wecom_core_auth::Error>;
                type IntoFuture = rt::BoxFuture<'a, Self::Output>;
                fn into_future(self) -> Self::IntoFuture {
                    Box::pin(self.send())
                }
            }
        }
    }

    /// The area handle's method for an endpoint: takes the required fields, returns the call.
    pub(super) fn handle_method(&self, ep: &LEndpoint) -> TokenStream {
        let infos = self.field_infos(&ep.fields);
        let method_id = ident(ep.name);
        let call = format_ident!("{}", ep.call_type);
        let req_name = format_ident!("{}", ep.request_type);
        let (params, args) = self.new_params(&infos);
        let method_doc = self.method_doc(ep, &infos);
        let allow = if params.len() > 7 {
            quote!(#[allow(clippy::too_many_arguments)])
        } else {
            quote!()
        };
        quote! {
            #method_doc
            #allow
            pub fn #method_id(&self, #(#params),*) -> #call<'a> {
                #call { client: self.client, request: #req_name::new(#(#args),*) }
            }
        }
    }

    pub(super) fn wire_reader_multipart(
        &self,
        type_name: &Ident,
        infos: &[FieldInfo],
    ) -> TokenStream {
        let mut lets = Vec::new();
        for fi in infos {
            let id = &fi.ident;
            let w = fi.wire;
            let expr = match (fi.table, &fi.ty) {
                (Table::Multipart, _) => quote!(rt::take_part(&mut __parts, #w)?),
                (_, Ty::Pipe(_)) => {
                    let req = fi.spec.required;
                    quote!(__query.pipe(#w, #req)?)
                }
                _ if fi.optional => quote!(__query.optional(#w)?),
                _ => quote!(__query.required(#w)?),
            };
            lets.push(quote!(let #id = #expr;));
        }
        let ids: Vec<&Ident> = infos.iter().map(|f| &f.ident).collect();
        let query_init = if infos.iter().any(|f| f.table == Table::Query) {
            quote!(let __query = rt::WireQuery::new(__wire.query);)
        } else {
            quote!()
        };
        quote! {
            #[cfg(feature = "server")]
            impl rt::FromWire for #type_name {
                const MULTIPART: bool = true;
                fn from_wire(__wire: rt::WireInput<'_>) -> ::std::result::Result<Self, rt::WireError> {
                    let mut __parts = __wire.parts;
                    #query_init
                    #(#lets)*
                    Ok(Self { #(#ids),* })
                }
            }
        }
    }

    pub(super) fn example_arg(&self, fi: &FieldInfo) -> Option<String> {
        let example = fi.spec.example.as_ref();
        match &fi.ty {
            Ty::Scalar(Scalar::String | Scalar::Secret) => {
                let v = example
                    .and_then(toml::Value::as_str)
                    .map(str::to_owned)
                    .unwrap_or_else(|| fi.wire.to_uppercase());
                Some(format!("{v:?}"))
            }
            Ty::Scalar(k) if k.is_int() => Some(
                example
                    .and_then(toml::Value::as_integer)
                    .unwrap_or(1)
                    .to_string(),
            ),
            Ty::Scalar(Scalar::Bool | Scalar::Flag) => Some("true".into()),
            Ty::Named(n) => {
                let e = self.low.enum_def(n)?;
                let first = e.values.first()?;
                let path = match self.low.home(n) {
                    Some(home) if home.area != self.area.name => {
                        format!("{}::generated::{}::{n}", home.crate_name, home.area)
                    }
                    _ => n.clone(),
                };
                Some(format!("{path}::{}", first.name))
            }
            _ => None,
        }
    }

    pub(super) fn method_doc(&self, ep: &LEndpoint, infos: &[FieldInfo]) -> TokenStream {
        let name = ep.name;
        let area = self.area_name();
        let krate = self.area.crate_name;
        let credential = match ep.credential {
            Credential::None => "none".to_owned(),
            Credential::App => "the app's access_token".to_owned(),
            Credential::Contact => "the contact-sync access_token".to_owned(),
            Credential::AppOrContact => {
                "the contact-sync access_token when configured, else the app's".to_owned()
            }
            Credential::RobotKey => "the group robot's key".to_owned(),
            other => match other.system_app() {
                Some((_, _, title)) => {
                    format!(
                        "the {title} secret's access_token when configured, else the app's (an app under 可调用应用)"
                    )
                }
                None => String::new(),
            },
        };
        let retry = match ep.retry {
            Retry::Idempotent => "retried on transient failures",
            Retry::No => "never retried automatically",
            Retry::DuplicateCheck => "retried safely with WeCom's duplicate check on",
        };
        let required: Vec<&FieldInfo> = infos
            .iter()
            .filter(|f| f.spec.required && f.fixed.is_none())
            .collect();
        // Arguments with an example value are written out; the others are parameters of the
        // (hidden) example function.
        let mut hidden = String::new();
        let args: Vec<String> = required
            .iter()
            .map(|f| match self.example_arg(f) {
                Some(v) => v,
                None => {
                    let id = f.ident.to_string();
                    let ty = f
                        .value_ty
                        .to_string()
                        .replace(' ', "")
                        .replace("crate::", &format!("{krate}::"));
                    hidden.push_str(&format!(", {id}: {ty}"));
                    id
                }
            })
            .collect();
        let setter = infos
            .iter()
            .filter(|f| !f.spec.required && f.fixed.is_none() && !f.ty.is_list())
            .find_map(|f| Some(format!(".{}({})", f.setter, self.example_arg(f)?)))
            .unwrap_or_default();
        let example = format!(
            "let response = client.{area}().{name}({}){setter}.await?;",
            args.join(", ")
        );
        let text = format!(
            "{doc}\n\n\
             `{method} /cgi-bin/{path}` · credential: {credential} · {retry} · [WeCom documentation]({url})\n\n\
             Returns a [`{call}`]: optional fields are its methods; `.await` it to send. The request\n\
             is checked against the spec's constraints before any I/O.\n\n\
             ```no_run\n\
             # use {krate}::generated::{area}::*;\n\
             # async fn example(client: &::wecom_core_auth::Client{hidden}) -> Result<(), ::wecom_core_auth::Error> {{\n\
             {example}\n\
             # let _ = response;\n\
             # Ok(())\n\
             # }}\n\
             ```",
            doc = ep.doc,
            method = ep.method_str(),
            path = ep.path,
            url = ep.doc_url,
            call = ep.call_type,
        );
        docs(&text)
    }
}
