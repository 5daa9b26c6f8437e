//! The axum router: URL check, deliveries, replies, retries, slow and panicking handlers.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use tower::ServiceExt as _;
use wecom_callback::router::{CallbackRouter, router};
use wecom_callback::{CallbackCrypto, Inbound, MemoryDedup, MessageBody, Reply};

use crate::{RECEIVE_ID_A, crypto_a, vectors, xml_field};

async fn call(app: &Router, req: Request<Body>) -> (StatusCode, String, Option<String>) {
    let response = app.clone().oneshot(req).await.expect("infallible");
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .expect("body");
    (
        status,
        String::from_utf8(body.to_vec()).expect("UTF-8"),
        content_type,
    )
}

/// Set A's crypto on the server side, its clock at the vectors' time (the router checks
/// timestamps within 5 minutes by default).
fn server_crypto() -> CallbackCrypto {
    crypto_a().with_clock(|| 1_409_659_813)
}

fn enc(s: &str) -> String {
    s.replace('+', "%2B")
        .replace('/', "%2F")
        .replace('=', "%3D")
}

fn post(crypto: &CallbackCrypto, plaintext: &str, nonce: &str) -> Request<Body> {
    let (body, sig) = crypto.seal_delivery(plaintext, RECEIVE_ID_A, 218, "1409659813", nonce);
    Request::post(format!(
        "/?msg_signature={sig}&timestamp=1409659813&nonce={nonce}"
    ))
    .body(Body::from(body))
    .expect("request")
}

fn text_msg(msg_id: &str, content: &str) -> String {
    format!(
        "<xml><ToUserName><![CDATA[{RECEIVE_ID_A}]]></ToUserName><FromUserName><![CDATA[zhangsan]]></FromUserName><CreateTime>1409659813</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId><AgentID>218</AgentID></xml>"
    )
}

fn echo_router() -> (Router, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let app = router(server_crypto(), move |inbound: Inbound| {
        let counter = counter.clone();
        async move {
            counter.fetch_add(1, Ordering::SeqCst);
            match inbound {
                Inbound::Message(m) => match m.body {
                    MessageBody::Text { content } => Some(Reply::text(format!("echo: {content}"))),
                    _ => None,
                },
                _ => None,
            }
        }
    });
    (app, calls)
}

#[tokio::test]
async fn url_verification_answers_the_plaintext() {
    let vectors = vectors();
    let case = &vectors["sets"][0]["cases"][0];
    let (sig, ts, nonce, echostr, plain) = (
        case["msg_signature"].as_str().expect("sig"),
        case["timestamp"].as_str().expect("ts"),
        case["nonce"].as_str().expect("nonce"),
        case["encrypted"].as_str().expect("echostr"),
        case["plaintext"].as_str().expect("plain"),
    );
    let (app, _) = echo_router();
    let uri = format!(
        "/?msg_signature={sig}&timestamp={ts}&nonce={nonce}&echostr={}",
        enc(echostr)
    );
    let (status, body, ct) = call(&app, Request::get(uri).body(Body::empty()).expect("req")).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, plain));
    assert_eq!(ct.as_deref(), Some("text/plain; charset=utf-8"));

    // A '+' that was not URL-encoded arrives as a space and still works.
    assert!(echostr.contains('+'));
    let raw_plus = enc(echostr).replace("%2B", "+");
    let uri = format!("/?msg_signature={sig}&timestamp={ts}&nonce={nonce}&echostr={raw_plus}");
    let (status, body, _) = call(&app, Request::get(uri).body(Body::empty()).expect("req")).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, plain));

    let uri = format!(
        "/?msg_signature=0000&timestamp={ts}&nonce={nonce}&echostr={}",
        enc(echostr)
    );
    let (status, body, _) = call(&app, Request::get(uri).body(Body::empty()).expect("req")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(!body.contains(plain));

    let (status, _, _) = call(
        &app,
        Request::get("/?timestamp=1")
            .body(Body::empty())
            .expect("req"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let uri = format!("/?msg_signature={sig}&timestamp={ts}&nonce={nonce}");
    let (status, _, _) = call(&app, Request::get(uri).body(Body::empty()).expect("req")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_message_gets_an_encrypted_reply_and_retries_are_absorbed() {
    let crypto = crypto_a();
    let (app, calls) = echo_router();
    let (status, body, ct) = call(&app, post(&crypto, &text_msg("1001", "hi"), "n1")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ct.as_deref(), Some("text/xml; charset=utf-8"));
    let encrypt = xml_field(&body, "Encrypt").expect("Encrypt");
    let sig = xml_field(&body, "MsgSignature").expect("MsgSignature");
    let ts = xml_field(&body, "TimeStamp").expect("TimeStamp");
    let nonce = xml_field(&body, "Nonce").expect("Nonce");
    let reply = crypto
        .decrypt(&sig, &ts, &nonce, &encrypt)
        .expect("reply verifies");
    assert_eq!(xml_field(&reply, "Content").as_deref(), Some("echo: hi"));
    assert_eq!(xml_field(&reply, "ToUserName").as_deref(), Some("zhangsan"));
    assert_eq!(
        xml_field(&reply, "FromUserName").as_deref(),
        Some(RECEIVE_ID_A)
    );

    // WeCom's retry: same message, new nonce and encryption.
    let (status, body, _) = call(&app, post(&crypto, &text_msg("1001", "hi"), "n2")).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, ""));
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "the retry did not reach the handler"
    );

    let (status, body, _) = call(&app, post(&crypto, &text_msg("1002", "again"), "n3")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("<Encrypt>"));
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn events_without_reply_get_an_empty_200() {
    let crypto = crypto_a();
    let (app, calls) = echo_router();
    let click = format!(
        "<xml><ToUserName>{RECEIVE_ID_A}</ToUserName><FromUserName>lisi</FromUserName><CreateTime>1409659813</CreateTime><MsgType>event</MsgType><Event>click</Event><EventKey>k</EventKey><AgentID>218</AgentID></xml>"
    );
    let (status, body, _) = call(&app, post(&crypto, &click, "a")).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, ""));
    let (status, _, _) = call(&app, post(&crypto, &click, "b")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(calls.load(Ordering::SeqCst), 1, "event retry de-duplicated");
}

#[tokio::test]
async fn bad_requests_are_refused_without_calling_the_handler() {
    let crypto = crypto_a();
    let (app, calls) = echo_router();
    let (body, _) = crypto.seal_delivery(&text_msg("1", "x"), RECEIVE_ID_A, 218, "1409659813", "n");
    let req = Request::post("/?msg_signature=deadbeef&timestamp=1409659813&nonce=n")
        .body(Body::from(body))
        .expect("req");
    assert_eq!(call(&app, req).await.0, StatusCode::FORBIDDEN);

    let req = Request::post("/?msg_signature=x&timestamp=1&nonce=n")
        .body(Body::from("garbage"))
        .expect("req");
    assert_eq!(call(&app, req).await.0, StatusCode::BAD_REQUEST);

    let other = CallbackCrypto::new(crate::TOKEN_A, crate::KEY_A, "wwother").expect("valid");
    assert_eq!(
        call(&app, post(&other, &text_msg("2", "x"), "n")).await.0,
        StatusCode::FORBIDDEN
    );

    let small = CallbackRouter::new(server_crypto().with_max_body(64), |_: Inbound| async {
        None
    })
    .into_router();
    assert_eq!(
        call(&small, post(&crypto, &text_msg("3", "x"), "n"))
            .await
            .0,
        StatusCode::PAYLOAD_TOO_LARGE
    );

    let req = Request::post("/").body(Body::from("x")).expect("req");
    assert_eq!(call(&app, req).await.0, StatusCode::BAD_REQUEST);
    assert_eq!(calls.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_slow_handler_is_not_acknowledged_until_it_returns_and_the_retry_gets_its_reply() {
    let crypto = crypto_a();
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let (release_tx, release_rx) = tokio::sync::oneshot::channel::<()>();
    let release_rx = Arc::new(tokio::sync::Mutex::new(Some(release_rx)));
    let app = CallbackRouter::new(server_crypto(), move |_: Inbound| {
        counter.fetch_add(1, Ordering::SeqCst);
        let release_rx = release_rx.clone();
        async move {
            // Wait until the test has seen the first answer.
            if let Some(rx) = release_rx.lock().await.take() {
                let _ = rx.await;
            }
            Some(Reply::text("worth the wait"))
        }
    })
    .ack_within(Duration::from_millis(50))
    .into_router();
    let (status, _, _) = call(&app, post(&crypto, &text_msg("77", "slow"), "n1")).await;
    assert_eq!(
        status,
        StatusCode::SERVICE_UNAVAILABLE,
        "not acknowledged while the handler runs: WeCom retries"
    );
    release_tx.send(()).expect("handler still running");
    // WeCom's retry waits for the running handler (up to ack_within: give it room here).
    let mut answer = None;
    for nonce in ["n2", "n3", "n4", "n5", "n6", "n7", "n8", "n9"] {
        let (status, body, _) = call(&app, post(&crypto, &text_msg("77", "slow"), nonce)).await;
        if status == StatusCode::OK {
            answer = Some(body);
            break;
        }
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    }
    let body = answer.expect("a retry got the handler's answer");
    let reply = crypto.open_reply(&body).expect("sealed reply");
    assert_eq!(
        xml_field(&reply, "Content").as_deref(),
        Some("worth the wait")
    );
    assert_eq!(calls.load(Ordering::SeqCst), 1, "the handler ran once");
    // Later retries are acknowledged empty.
    let (status, body, _) = call(&app, post(&crypto, &text_msg("77", "slow"), "n10")).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, ""));
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_panicking_handler_is_not_acknowledged() {
    let crypto = crypto_a();
    let app = router(server_crypto(), |inbound: Inbound| async move {
        if matches!(inbound, Inbound::Message(_)) {
            panic!("handler bug");
        }
        None
    });
    let (status, _, _) = call(&app, post(&crypto, &text_msg("9", "boom"), "n")).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
}

#[tokio::test]
async fn a_failing_handler_is_not_acknowledged_and_its_retry_runs_it_again() {
    let crypto = crypto_a();
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let app = CallbackRouter::try_new(server_crypto(), move |_: Inbound| {
        let n = counter.fetch_add(1, Ordering::SeqCst);
        async move {
            if n == 0 {
                Err("the database is down")
            } else {
                Ok(None)
            }
        }
    })
    .into_router();
    let (status, body, _) = call(&app, post(&crypto, &text_msg("10", "x"), "a")).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(!body.contains("database"), "the error stays in the logs");
    let (status, _, _) = call(&app, post(&crypto, &text_msg("10", "x"), "b")).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = call(&app, post(&crypto, &text_msg("10", "x"), "c")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(calls.load(Ordering::SeqCst), 2, "failed once, then done");
}

#[tokio::test]
async fn json_deliveries_get_json_replies() {
    let crypto = crypto_a();
    let app = CallbackRouter::new(server_crypto(), |_: Inbound| async {
        Some(Reply::text("json ok"))
    })
    .dedup(MemoryDedup::new(10, Duration::from_secs(60)))
    .path("/cb")
    .into_router();
    let (body, sig) =
        crypto.seal_delivery_json(&text_msg("5", "j"), RECEIVE_ID_A, 218, "1409659813", "jn");
    let req = Request::post(format!(
        "/cb?msg_signature={sig}&timestamp=1409659813&nonce=jn"
    ))
    .body(Body::from(body))
    .expect("req");
    let (status, reply, ct) = call(&app, req).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ct.as_deref(), Some("application/json"));
    let v: serde_json::Value = serde_json::from_str(&reply).expect("JSON reply");
    let ts = v["timestamp"].to_string();
    let plain = crypto
        .decrypt(
            v["msgsignature"].as_str().expect("sig"),
            &ts,
            v["nonce"].as_str().expect("nonce"),
            v["encrypt"].as_str().expect("encrypt"),
        )
        .expect("reply verifies");
    let plain: serde_json::Value = serde_json::from_str(&plain).expect("JSON plaintext");
    assert_eq!(plain["text"]["content"], "json ok");

    // A reply WeCom defines no JSON form for is not sent (an empty 200).
    let app = CallbackRouter::new(server_crypto(), |_: Inbound| async {
        Some(Reply::Image {
            media_id: "m".into(),
        })
    })
    .path("/cb")
    .into_router();
    let (body, sig) =
        crypto.seal_delivery_json(&text_msg("6", "j"), RECEIVE_ID_A, 218, "1409659813", "jn");
    let req = Request::post(format!(
        "/cb?msg_signature={sig}&timestamp=1409659813&nonce=jn"
    ))
    .body(Body::from(body))
    .expect("req");
    let (status, reply, _) = call(&app, req).await;
    assert_eq!((status, reply.as_str()), (StatusCode::OK, ""));
}

#[tokio::test]
async fn works_over_a_real_loopback_server() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let crypto = crypto_a();
    let (app, _) = echo_router();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let (body, sig) = crypto.seal_delivery(
        &text_msg("4242", "over tcp"),
        RECEIVE_ID_A,
        218,
        "1409659813",
        "tcp",
    );
    let request = format!(
        "POST /?msg_signature={sig}&timestamp=1409659813&nonce=tcp HTTP/1.1\r\nHost: {addr}\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut response = String::new();
    tokio::time::timeout(
        Duration::from_secs(10),
        stream.read_to_string(&mut response),
    )
    .await
    .expect("server answers")
    .expect("read");
    server.abort();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    let xml = &response[response.find("<xml>").expect("XML body")..];
    let plain = crypto
        .decrypt(
            &xml_field(xml, "MsgSignature").expect("sig"),
            &xml_field(xml, "TimeStamp").expect("ts"),
            &xml_field(xml, "Nonce").expect("nonce"),
            &xml_field(xml, "Encrypt").expect("encrypt"),
        )
        .expect("verifies");
    assert_eq!(
        xml_field(&plain, "Content").as_deref(),
        Some("echo: over tcp")
    );
}
