//! `wecom msgaudit ...` and `wecom invoice ...` against an in-process sandbox.

use std::sync::Arc;

use wecom_sandbox::Sandbox;
use wecom_sandbox::areas::invoice::invoices;
use wecom_sandbox::areas::msgaudit::{add_room, permit_users, set_single_agree};

use crate::common::at;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn msgaudit_permit_users_agreements_and_rooms() {
    let sb = Sandbox::start().await.expect("sandbox starts");
    let state = Arc::clone(sb.admin().state());
    permit_users(&state, &["lina".into()], Some(3)).expect("permit");
    set_single_agree(&state, "lina", "wmCust", "Agree").expect("agree");
    add_room(
        &state,
        "wrRoom1",
        "项目群",
        "lina",
        "",
        &["lina".into()],
        false,
    )
    .expect("room");

    let ids = at(
        &sb,
        &[
            "--json",
            "msgaudit",
            "permit-users",
            "--edition",
            "enterprise",
        ],
    )
    .await
    .json();
    assert_eq!(ids["ids"], serde_json::json!(["lina"]));
    let text = at(&sb, &["msgaudit", "check-agree", "lina:wmCust"]).await;
    assert!(text.ok().contains("Agree"), "{}", text.ok());
    let room = at(&sb, &["--json", "msgaudit", "room", "wrRoom1"])
        .await
        .json();
    assert_eq!(room["roomname"], "项目群");
    // A malformed pair is a usage error naming the form.
    let bad = at(&sb, &["msgaudit", "check-agree", "lina"]).await;
    assert!(
        bad.error_line().contains("USERID:EXTERNAL_ID"),
        "{}",
        bad.error_line()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invoice_get_and_set_status() {
    let sb = Sandbox::start().await.expect("sandbox starts");
    let state = Arc::clone(sb.admin().state());
    let (card, enc, openid, _) = invoices(&state)[0].clone();
    let got = at(&sb, &["--json", "invoice", "get", &card, &enc])
        .await
        .json();
    assert_eq!(
        got["user_info"]["reimburse_status"],
        "INVOICE_REIMBURSE_INIT"
    );
    let pair = format!("{card}:{enc}");
    at(&sb, &["invoice", "set-status", "lock", &pair])
        .await
        .ok();
    let (c2, e2, _, _) = invoices(&state)[1].clone();
    let pair2 = format!("{c2}:{e2}");
    at(
        &sb,
        &[
            "invoice",
            "set-status",
            "closure",
            &pair,
            &pair2,
            "--openid",
            &openid,
        ],
    )
    .await
    .ok();
    let now = invoices(&state);
    assert_eq!(
        serde_json::to_value(&now[0].3).expect("json"),
        "INVOICE_REIMBURSE_CLOSURE"
    );
    // Closing is irreversible: WeCom's 72024 comes back.
    let again = at(&sb, &["invoice", "set-status", "init", &pair]).await;
    assert!(
        again.error_line().contains("72024"),
        "{}",
        again.error_line()
    );
}
