//! The generic resource engine end to end: the codegen fixture's `note` and `shelf` resources
//! (codegen/fixture/spec/extra.toml, `[endpoint.resource]`) served with no hand-written handler,
//! called through the generated client code of a real `Client`.

use wecom_codegen_fixture::generated::extra::{
    self, ExtraExt, Note, NoteGetRequest, NoteGetResponse,
};
use wecom_core_auth::Client;
use wecom_sandbox::{ApiError, Ctx, Registry, Sandbox};

fn client_for(sb: &Sandbox) -> Client {
    let creds = sb.credentials();
    let app = creds.app(1000002).expect("demo app");
    Client::builder(creds.corpid.clone())
        .app(app.agentid, app.secret.clone())
        .base_url(sb.base_url())
        .build()
        .expect("client builds")
}

fn with_fixture_resources(r: &mut Registry) {
    r.add_resources(extra::RESOURCES);
}

async fn fixture_sandbox() -> Sandbox {
    Sandbox::builder()
        .register(with_fixture_resources)
        .start()
        .await
        .expect("sandbox starts")
}

fn note(id: &str) -> Note {
    Note::new(id)
}

#[tokio::test]
async fn a_declared_resource_is_served_create_get_update_list_delete() {
    let sb = fixture_sandbox().await;
    let client = client_for(&sb);
    let api = client.extra();

    let first = api
        .note_create("groceries")
        .text("milk")
        .tags(vec!["home".to_owned()])
        .await
        .expect("created");
    let second = api.note_create("work").await.expect("created");
    assert_ne!(first.note_id, second.note_id, "each create gets a new id");

    let got = api.note_get(first.note_id.clone()).await.expect("found");
    assert_eq!(
        got.note.note_id, first.note_id,
        "the id is stored in the object"
    );
    assert_eq!(got.note.title.as_deref(), Some("groceries"));
    assert_eq!(got.note.text.as_deref(), Some("milk"));
    assert_eq!(got.note.tags, vec!["home".to_owned()]);

    let mut change = note(&first.note_id);
    change.text = Some("milk, eggs".into());
    api.note_update(change).await.expect("updated");
    let got = api.note_get(first.note_id.clone()).await.expect("found");
    assert_eq!(got.note.text.as_deref(), Some("milk, eggs"), "changed");
    assert_eq!(got.note.title.as_deref(), Some("groceries"), "kept");

    let list = api.note_list().await.expect("listed");
    assert_eq!(
        list.note_ids,
        vec![first.note_id.clone(), second.note_id.clone()]
    );

    api.note_delete(first.note_id.clone())
        .await
        .expect("deleted");
    let gone = api
        .note_get(first.note_id.clone())
        .await
        .expect_err("deleted");
    assert_eq!(gone.errcode(), Some(40058), "the spec's not_found: {gone}");
    let again = api
        .note_delete(first.note_id.clone())
        .await
        .expect_err("deleted");
    assert_eq!(again.errcode(), Some(40058));
    let mut ghost = note("no-such-note");
    ghost.title = Some("x".into());
    let e = api.note_update(ghost).await.expect_err("unknown id");
    assert_eq!(e.errcode(), Some(40058));
    let list = api.note_list().await.expect("listed");
    assert_eq!(list.note_ids, vec![second.note_id]);

    assert_eq!(sb.admin().count("note_create"), 2);
    assert_eq!(sb.admin().count("note_get"), 3);
}

#[tokio::test]
async fn caller_named_ids_are_refused_twice_and_requests_are_validated() {
    let sb = fixture_sandbox().await;
    let client = client_for(&sb);
    let api = client.extra();
    api.shelf_create(7).label("top").await.expect("created");
    let dup = api.shelf_create(7).await.expect_err("duplicate");
    assert_eq!(dup.errcode(), Some(60102), "the spec's duplicate: {dup}");
    api.shelf_create(8).await.expect("created");
    let list = api.shelf_list().await.expect("listed");
    assert_eq!(
        list.shelves,
        vec![
            serde_json::json!({"shelf_id": 7, "label": "top"}),
            serde_json::json!({"shelf_id": 8}),
        ]
    );

    // The generated reader and validate() run before the engine, as for any handler.
    let c = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client");
    let token = client.access_token().await.expect("token");
    let url = format!(
        "{}/cgi-bin/note/create?access_token={}",
        sb.base_url(),
        token.expose()
    );
    let answer: serde_json::Value = c
        .post(&url)
        .body(r#"{"title": "far too long a title for a note"}"#)
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    assert_eq!(
        answer["errcode"], 40058,
        "title is 1-16 characters: {answer}"
    );
    let answer: serde_json::Value = c
        .post(&url)
        .body("not json")
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    assert_eq!(answer["errcode"], 47001, "{answer}");
    let answer: serde_json::Value = c
        .post(&url)
        .body("{}")
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    assert_ne!(answer["errcode"], 0, "title is required: {answer}");
    assert!(
        api.note_list().await.expect("listed").note_ids.is_empty(),
        "nothing refused was stored"
    );
}

async fn hand_written_note_get(
    _ctx: Ctx,
    req: NoteGetRequest,
) -> Result<NoteGetResponse, ApiError> {
    let mut n = note(&req.note_id);
    n.title = Some("by hand".into());
    Ok(NoteGetResponse::new(n))
}

#[test]
fn a_hand_written_handler_takes_precedence_in_either_order() {
    let mut before = Registry::new();
    before.add::<NoteGetRequest, _, _>(hand_written_note_get);
    before.add_resources(extra::RESOURCES);
    let mut after = Registry::new();
    after.add_resources(extra::RESOURCES);
    assert!(after.resource_names().contains(&"note_get"));
    after.add::<NoteGetRequest, _, _>(hand_written_note_get);
    for r in [&before, &after] {
        let generic = r.resource_names();
        assert!(!generic.contains(&"note_get"), "{generic:?}");
        assert!(generic.contains(&"note_create"), "{generic:?}");
        assert!(r.names().contains(&"note_get"));
    }
}
