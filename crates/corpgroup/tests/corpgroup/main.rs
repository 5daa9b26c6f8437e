//! 上下游 against the sandbox: the downstream corp's token cached and single-flight like app
//! tokens (a cold storm causes one `corpgroup/corp/gettoken` per downstream corp), refetched once
//! after revocation, never used for another downstream corp, never shown; the area's endpoints.

use std::sync::Arc;

use wecom_core_auth::{BusinessType, Client, Method};
use wecom_corpgroup::CorpgroupExt;
use wecom_sandbox::Sandbox;
use wecom_sandbox::areas::corpgroup::{
    self as network, DEMO_DOWNSTREAM, downstream_corps, mint_session,
};

const GETTOKEN: &str = "corpgroup_corp_gettoken";

fn upstream(sb: &Sandbox) -> Client {
    let creds = sb.credentials();
    let app = creds.app(1000002).expect("demo app");
    Client::builder(creds.corpid.clone())
        .app(app.agentid, app.secret.clone())
        .base_url(sb.base_url())
        .build()
        .expect("client builds")
}

/// (corpid, the shared app's agentid there) of demo downstream corp `i`.
fn corp(i: usize) -> (&'static str, u32) {
    (DEMO_DOWNSTREAM[i].0, DEMO_DOWNSTREAM[i].2)
}

/// `agent/get` of the shared app, as downstream corp `i`: the answer says which corp served it.
async fn agent_get(client: &Client, i: usize) -> Result<serde_json::Value, wecom_core_auth::Error> {
    let (corpid, agentid) = corp(i);
    client
        .downstream(corpid, agentid)?
        .raw(Method::Get, "agent/get")
        .query("agentid", agentid.to_string())
        .send()
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cold_storm_fetches_one_token_per_downstream_corp() {
    let sb = Sandbox::start().await.expect("sandbox starts");
    let client = Arc::new(upstream(&sb));
    let tasks: Vec<_> = (0..50)
        .map(|n| {
            let client = Arc::clone(&client);
            tokio::spawn(async move { (n % 2, agent_get(&client, n % 2).await) })
        })
        .collect();
    for t in tasks {
        let (i, answer) = t.await.expect("task");
        let answer = answer.expect("served in the downstream corp");
        // Served by the right corp: each corp's shared app has its own agentid.
        assert_eq!(answer["agentid"], corp(i).1, "{answer}");
    }
    assert_eq!(
        sb.admin().count(GETTOKEN),
        2,
        "one corpgroup/corp/gettoken per downstream corp"
    );
    assert_eq!(sb.admin().count("gettoken"), 1, "one upstream app token");
    assert_eq!(sb.admin().count("agent_get"), 50);

    // Warm: no further fetch.
    agent_get(&client, 0).await.expect("served");
    assert_eq!(sb.admin().count(GETTOKEN), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_downstream_token_is_fetched_once_more_and_only_for_its_corp() {
    let sb = Sandbox::start().await.expect("sandbox starts");
    let client = Arc::new(upstream(&sb));
    agent_get(&client, 0).await.expect("served");
    agent_get(&client, 1).await.expect("served");
    assert_eq!(sb.admin().count(GETTOKEN), 2);

    assert_eq!(
        network::revoke_tokens(sb.admin().state(), Some(corp(0).0)),
        1
    );
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let client = Arc::clone(&client);
            tokio::spawn(async move { agent_get(&client, 0).await })
        })
        .collect();
    for t in tasks {
        let answer = t.await.expect("task").expect("refetched and sent again");
        assert_eq!(answer["agentid"], corp(0).1);
    }
    assert_eq!(
        sb.admin().count(GETTOKEN),
        3,
        "one refetch for the wave of 40014"
    );
    // The other corp's token was not touched.
    agent_get(&client, 1).await.expect("served");
    assert_eq!(sb.admin().count(GETTOKEN), 3);
    assert_eq!(sb.admin().count("gettoken"), 1);
}

#[tokio::test]
async fn tokens_of_one_downstream_corp_are_never_used_for_another() {
    let sb = Sandbox::start().await.expect("sandbox starts");
    let client = upstream(&sb);
    let (a, a_agent) = corp(0);
    let (b, b_agent) = corp(1);
    let ta = client
        .downstream(a, a_agent)
        .unwrap()
        .access_token()
        .await
        .unwrap();
    let tb = client
        .downstream(b, b_agent)
        .unwrap()
        .access_token()
        .await
        .unwrap();
    let own = client.access_token().await.unwrap();
    assert_ne!(ta, tb);
    assert_ne!(ta, own);
    // Another agentid or business_type is another credential (and WeCom's answer for it).
    let wrong_app = client.downstream(a, b_agent).unwrap().access_token().await;
    assert_eq!(wrong_app.unwrap_err().errcode(), Some(670001));
    let wrong_link = client
        .downstream_with(a, a_agent, BusinessType::Group)
        .unwrap()
        .access_token()
        .await;
    assert_eq!(wrong_link.unwrap_err().errcode(), Some(670004));
    // Each corp's member is found only in that corp.
    let member = |c: &Client, userid: &'static str| {
        c.raw(Method::Get, "user/get")
            .query("userid", userid)
            .send()
    };
    let da = client.downstream(a, a_agent).unwrap();
    let db = client.downstream(b, b_agent).unwrap();
    assert_eq!(member(&da, "a-zhao").await.unwrap()["name"], "赵经理");
    assert_eq!(
        member(&db, "a-zhao").await.unwrap_err().errcode(),
        Some(60111)
    );
    assert_eq!(member(&db, "b-sun").await.unwrap()["name"], "孙主管");
    assert_eq!(
        member(&client, "a-zhao").await.unwrap_err().errcode(),
        Some(60111)
    );
}

#[tokio::test]
async fn an_unshared_app_fails_with_the_pages_errcode_naming_the_corp() {
    let sb = Sandbox::start().await.expect("sandbox starts");
    let client = upstream(&sb);
    let (a, a_agent) = corp(0);
    agent_get(&client, 0).await.expect("served");
    network::set_shared(sb.admin().state(), a, false).expect("unshared");
    let e = agent_get(&client, 0).await.unwrap_err();
    assert_eq!(e.errcode(), Some(670001), "{e}");
    let shown = e.to_string();
    assert!(
        shown.contains(a) && shown.contains(&a_agent.to_string()),
        "{shown}"
    );
    assert!(
        shown.contains("list_app_share_info"),
        "says what to fix: {shown}"
    );
    // The other corp is unaffected; sharing again works.
    agent_get(&client, 1).await.expect("served");
    network::set_shared(sb.admin().state(), a, true).expect("shared");
    agent_get(&client, 0).await.expect("served again");
    let listed: Vec<_> = downstream_corps(sb.admin().state());
    assert!(listed.iter().all(|c| c.shared));
}

#[tokio::test]
async fn nothing_secret_in_debug_output_or_errors() {
    let sb = Sandbox::start().await.expect("sandbox starts");
    let client = upstream(&sb);
    let (a, a_agent) = corp(0);
    let down = client.downstream(a, a_agent).unwrap();
    let token = down.access_token().await.unwrap();
    let shown = format!("{down:?} {client:?}");
    assert!(!shown.contains(token.expose()), "{shown}");
    assert!(shown.contains(a), "names the downstream corp: {shown}");
    let gettoken = wecom_corpgroup::CorpgroupCorpGettokenResponse::new(token.clone(), 7200);
    assert!(!format!("{gettoken:?}").contains(token.expose()));
    network::revoke_tokens(sb.admin().state(), None);
    network::set_shared(sb.admin().state(), a, false).unwrap();
    // The next call is answered 40014, and the fetch that follows 670001.
    let e = agent_get(&client, 0).await.unwrap_err();
    assert_eq!(e.errcode(), Some(670001));
    assert!(!e.to_string().contains(token.expose()));
    assert!(!format!("{e:?}").contains(token.expose()));
    assert_eq!(down.downstream_corpid(), Some(a));
}

#[tokio::test]
async fn list_app_share_info_pages_the_downstream_corps() {
    let sb = Sandbox::start().await.expect("sandbox starts");
    let client = upstream(&sb);
    let area = client.corpgroup();
    let all = area
        .list_app_share_info(1000002)
        .business_type(1)
        .await
        .unwrap();
    assert_eq!(all.ending, Some(1));
    let ids: Vec<_> = all
        .corp_list
        .iter()
        .map(|c| (c.corpid.as_str(), c.agentid))
        .collect();
    assert_eq!(ids, vec![corp(0), corp(1)]);
    assert_eq!(all.corp_list[0].corp_name.as_deref(), Some("示例经销商"));

    let first = area
        .list_app_share_info(1000002)
        .business_type(1)
        .limit(1)
        .await
        .unwrap();
    assert_eq!((first.ending, first.corp_list.len()), (Some(0), 1));
    let cursor = first.next_cursor.clone().unwrap();
    let second = area
        .list_app_share_info(1000002)
        .business_type(1)
        .limit(1)
        .cursor(cursor)
        .await
        .unwrap();
    assert_eq!(second.ending, Some(1));
    assert_eq!(second.corp_list[0].corpid, corp(1).0);

    // 企业互联 (business_type 0): none; another app: none; a filter by corp.
    let group = area.list_app_share_info(1000002).await.unwrap();
    assert!(group.corp_list.is_empty());
    let other = area
        .list_app_share_info(1000003)
        .business_type(1)
        .await
        .unwrap();
    assert!(other.corp_list.is_empty());
    let one = area
        .list_app_share_info(1000002)
        .business_type(1)
        .corpid(corp(1).0)
        .await
        .unwrap();
    assert_eq!(one.corp_list.len(), 1);
    // Over the page's limit of 100: refused before any I/O.
    let e = area
        .list_app_share_info(1000002)
        .limit(101)
        .await
        .unwrap_err();
    assert!(matches!(e, wecom_core_auth::Error::Invalid(_)), "{e}");
    // Downstream tokens cannot list the upstream's shares.
    let down = client.downstream(corp(0).0, corp(0).1).unwrap();
    let e = down
        .corpgroup()
        .list_app_share_info(1000002)
        .await
        .unwrap_err();
    assert_eq!(e.errcode(), Some(48002));
}

#[tokio::test]
async fn transfer_session_converts_an_upstream_session_in_the_downstream_corp() {
    let sb = Sandbox::start().await.expect("sandbox starts");
    let client = upstream(&sb);
    let (a, a_agent) = corp(0);
    let (userid, session_key) = mint_session(sb.admin().state(), a, "a-zhao").unwrap();
    let down = client.downstream(a, a_agent).unwrap();
    let answer = down
        .corpgroup()
        .miniprogram_transfer_session(userid.clone(), session_key.clone())
        .await
        .unwrap();
    assert_eq!(answer.userid, "a-zhao");
    assert!(!format!("{answer:?}").contains(answer.session_key.expose()));
    // Another downstream corp, or the upstream token: refused.
    let other = client.downstream(corp(1).0, corp(1).1).unwrap();
    let e = other
        .corpgroup()
        .miniprogram_transfer_session(userid.clone(), session_key.clone())
        .await
        .unwrap_err();
    assert_eq!(e.errcode(), Some(40058));
    let e = client
        .corpgroup()
        .miniprogram_transfer_session(userid, session_key)
        .await
        .unwrap_err();
    assert_eq!(e.errcode(), Some(48002));
}
