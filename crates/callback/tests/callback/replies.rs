//! Passive replies: rendered to WeCom's XML, encrypted and signed.

use wecom_callback::xml::Element;
use wecom_callback::{Article, Inbound, Reply};

use crate::{crypto_a, xml_field};

fn render(reply: &Reply) -> Element {
    let xml = reply.to_xml("zhangsan", "wx5823bf96d3bd56c7", 1_700_000_000);
    let root = Element::parse(&xml).unwrap_or_else(|e| panic!("{e}: {xml}"));
    assert_eq!(root.text_of("ToUserName"), Some("zhangsan"));
    assert_eq!(root.text_of("FromUserName"), Some("wx5823bf96d3bd56c7"));
    assert_eq!(root.text_of("CreateTime"), Some("1700000000"));
    assert_eq!(root.text_of("MsgType"), Some(reply.msg_type()));
    root
}

#[test]
fn every_reply_type_renders_wecoms_fields() {
    let text = render(&Reply::text("你好 ]]> <b>"));
    assert_eq!(text.text_of("Content"), Some("你好 ]]> <b>"));

    let image = render(&Reply::Image {
        media_id: "img1".into(),
    });
    assert_eq!(
        image.child("Image").and_then(|e| e.text_of("MediaId")),
        Some("img1")
    );

    let voice = render(&Reply::Voice {
        media_id: "v1".into(),
    });
    assert_eq!(
        voice.child("Voice").and_then(|e| e.text_of("MediaId")),
        Some("v1")
    );

    let video = render(&Reply::Video {
        media_id: "vid".into(),
        title: "t".into(),
        description: "d".into(),
    });
    let v = video.child("Video").expect("Video element");
    assert_eq!(
        (
            v.text_of("MediaId"),
            v.text_of("Title"),
            v.text_of("Description")
        ),
        (Some("vid"), Some("t"), Some("d"))
    );

    let articles = vec![
        Article {
            title: "a".into(),
            description: "da".into(),
            pic_url: "https://p/a".into(),
            url: "https://u/a".into(),
        },
        Article {
            title: "b".into(),
            description: "db".into(),
            pic_url: "https://p/b".into(),
            url: "https://u/b".into(),
        },
    ];
    let news = render(&Reply::News { articles });
    assert_eq!(news.text_of("ArticleCount"), Some("2"));
    let items: Vec<_> = news
        .child("Articles")
        .expect("Articles")
        .children_named("item")
        .collect();
    assert_eq!(items.len(), 2);
    assert_eq!(items[1].text_of("Title"), Some("b"));
    assert_eq!(items[1].text_of("Url"), Some("https://u/b"));
    assert_eq!(items[0].text_of("PicUrl"), Some("https://p/a"));

    let button = render(&Reply::UpdateButton {
        replace_name: "已处理".into(),
    });
    assert_eq!(
        button
            .child("Button")
            .and_then(|e| e.text_of("ReplaceName")),
        Some("已处理")
    );
}

#[test]
fn sealed_replies_verify_and_decrypt() {
    let crypto = crypto_a();
    let plaintext = Reply::text("hello").to_xml("zhangsan", "wx5823bf96d3bd56c7", 1);
    let sealed = crypto.seal_reply(&plaintext, "1409659813", "nonce-1");
    let encrypt = xml_field(&sealed, "Encrypt").expect("Encrypt");
    let signature = xml_field(&sealed, "MsgSignature").expect("MsgSignature");
    assert_eq!(
        xml_field(&sealed, "TimeStamp").as_deref(),
        Some("1409659813")
    );
    assert_eq!(xml_field(&sealed, "Nonce").as_deref(), Some("nonce-1"));
    assert_eq!(signature, crypto.sign("1409659813", "nonce-1", &encrypt));
    assert_eq!(
        crypto
            .decrypt(&signature, "1409659813", "nonce-1", &encrypt)
            .as_deref(),
        Ok(plaintext.as_str())
    );
}

#[test]
fn reply_seal_addresses_the_sender() {
    let crypto = crypto_a();
    let inbound = Inbound::parse(
        "<xml><ToUserName>wx5823bf96d3bd56c7</ToUserName><FromUserName>lisi</FromUserName><CreateTime>5</CreateTime><MsgType>event</MsgType><Event>template_card_event</Event><EventKey>ok</EventKey><TaskId>t</TaskId><CardType>button_interaction</CardType><ResponseCode>r</ResponseCode><AgentID>1</AgentID></xml>",
    )
    .expect("parses");
    let sealed = Reply::UpdateButton {
        replace_name: "done".into(),
    }
    .seal(&crypto, &inbound, "1700000000", "n");
    let encrypt = xml_field(&sealed, "Encrypt").expect("Encrypt");
    let sig = xml_field(&sealed, "MsgSignature").expect("sig");
    let plain = crypto
        .decrypt(&sig, "1700000000", "n", &encrypt)
        .expect("decrypts");
    assert_eq!(xml_field(&plain, "ToUserName").as_deref(), Some("lisi"));
    assert_eq!(
        xml_field(&plain, "FromUserName").as_deref(),
        Some("wx5823bf96d3bd56c7")
    );
    assert_eq!(
        xml_field(&plain, "CreateTime").as_deref(),
        Some("1700000000")
    );
    assert_eq!(
        xml_field(&plain, "MsgType").as_deref(),
        Some("update_button")
    );
}

#[test]
fn json_replies_and_deliveries() {
    let crypto = crypto_a();
    let sealed = crypto.seal_reply_json("<xml>r</xml>", "1700000000", "n2");
    let v: serde_json::Value = serde_json::from_str(&sealed).expect("JSON");
    let encrypt = v["encrypt"].as_str().expect("encrypt");
    assert_eq!(v["timestamp"], 1_700_000_000);
    assert_eq!(v["nonce"], "n2");
    assert_eq!(v["msgsignature"], crypto.sign("1700000000", "n2", encrypt));
    assert_eq!(
        crypto.decrypt_unverified(encrypt).as_deref(),
        Ok("<xml>r</xml>")
    );

    let (body, sig) = crypto.seal_delivery_json(
        "{\"msgtype\":\"text\"}",
        "wx5823bf96d3bd56c7",
        218,
        "1",
        "2",
    );
    let v: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(v["agentid"], 218);
    assert_eq!(v["tousername"], "wx5823bf96d3bd56c7");
    assert_eq!(
        crypto
            .open_delivery(&sig, "1", "2", body.as_bytes())
            .as_deref(),
        Ok("{\"msgtype\":\"text\"}")
    );
}

#[test]
fn seal_delivery_is_what_wecom_sends() {
    let crypto = crypto_a();
    let (body, sig) = crypto.seal_delivery(
        "<xml><A>1</A></xml>",
        "wx5823bf96d3bd56c7",
        218,
        "1409659813",
        "n",
    );
    assert_eq!(
        xml_field(&body, "ToUserName").as_deref(),
        Some("wx5823bf96d3bd56c7")
    );
    assert_eq!(xml_field(&body, "AgentID").as_deref(), Some("218"));
    let envelope = wecom_callback::Envelope::parse(body.as_bytes()).expect("envelope");
    assert_eq!(envelope.format, wecom_callback::Format::Xml);
    assert_eq!(sig, crypto.sign("1409659813", "n", &envelope.encrypt));
    assert_eq!(
        crypto
            .open_delivery(&sig, "1409659813", "n", body.as_bytes())
            .as_deref(),
        Ok("<xml><A>1</A></xml>")
    );
}
