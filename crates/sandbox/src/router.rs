//! The whole HTTP surface: WeCom's API under `/cgi-bin/` ([`server`](crate::server)), and the
//! admin API and page behind the [`guard`](crate::guard).

use axum::Router;

use crate::app::App;
use crate::guard::AllowedHosts;
use crate::server::{cgi, not_found};

/// The whole router: `/cgi-bin/` open to any client, the admin API and the page behind the
/// [`gate`](crate::guard) (loopback or allowed host names, JSON POSTs).
pub(crate) fn router(app: App, allowed: AllowedHosts) -> Router {
    let gated = crate::admin::routes::routes()
        .merge(crate::web::routes())
        .merge(crate::console::routes())
        .layer(axum::middleware::from_fn_with_state(
            allowed,
            crate::guard::gate,
        ));
    Router::new()
        .route("/cgi-bin/{*path}", axum::routing::any(cgi))
        .route("/cgi-bin", axum::routing::any(cgi))
        .route("/cgi-bin/", axum::routing::any(cgi))
        .route_layer(axum::middleware::from_fn_with_state(
            app.clone(),
            crate::console::record,
        ))
        // 微盘 download URLs (`wedrive/file_download`): cookie-checked, ranged.
        .route(
            "/wedrive/download/{token}",
            axum::routing::get(crate::areas::wedrive::download),
        )
        .merge(gated)
        .fallback(not_found)
        .with_state(app)
}
