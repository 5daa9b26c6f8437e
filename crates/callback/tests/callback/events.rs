//! Typed messages and events: every type of the reference, parsed from WeCom-style XML and
//! rendered back.

use wecom_callback::xml::Element;
use wecom_callback::{
    BatchJob, ContactChange, ContactUser, Event, EventKind, Header, Inbound, Message, MessageBody,
    Party, ScanCodeInfo, SelectedItem, SendLocationInfo, SendPicsInfo, TagChange,
    TemplateCardEvent,
};

const HEAD: &str = "<ToUserName><![CDATA[ww1436e0e65a779aee]]></ToUserName><FromUserName><![CDATA[zhangsan]]></FromUserName><CreateTime>1700000000</CreateTime>";

fn header() -> Header {
    Header {
        to_user_name: "ww1436e0e65a779aee".into(),
        from_user_name: "zhangsan".into(),
        create_time: 1_700_000_000,
        agent_id: Some(1_000_002),
    }
}

fn msg(body_xml: &str, msg_type: &str) -> String {
    format!(
        "<xml>{HEAD}<MsgType><![CDATA[{msg_type}]]></MsgType>{body_xml}<MsgId>7290000000000000001</MsgId><AgentID>1000002</AgentID></xml>"
    )
}

fn event(name: &str, fields: &str) -> String {
    format!(
        "<xml>{HEAD}<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[{name}]]></Event>{fields}<AgentID>1000002</AgentID></xml>"
    )
}

fn contact(fields: &str) -> String {
    format!(
        "<xml><ToUserName><![CDATA[ww1436e0e65a779aee]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName><CreateTime>1700000000</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[change_contact]]></Event>{fields}</xml>"
    )
}

fn message(body: MessageBody) -> Inbound {
    Inbound::Message(Message {
        header: header(),
        msg_id: "7290000000000000001".into(),
        body,
    })
}

fn ev(kind: EventKind) -> Inbound {
    Inbound::Event(Event {
        header: header(),
        kind,
    })
}

fn contact_ev(change: ContactChange) -> Inbound {
    Inbound::Event(Event {
        header: Header {
            from_user_name: "sys".into(),
            agent_id: None,
            ..header()
        },
        kind: EventKind::ChangeContact(change),
    })
}

fn card(event_key: &str, selected_items: Vec<SelectedItem>) -> TemplateCardEvent {
    TemplateCardEvent {
        event_key: event_key.into(),
        task_id: "task1".into(),
        card_type: "vote_interaction".into(),
        response_code: "rc_123".into(),
        selected_items,
    }
}

fn cases() -> Vec<(&'static str, String, Inbound)> {
    let pics = "<SendPicsInfo><Count>2</Count><PicList><item><PicMd5Sum><![CDATA[aaa]]></PicMd5Sum></item><item><PicMd5Sum><![CDATA[bbb]]></PicMd5Sum></item></PicList></SendPicsInfo>";
    let pics_info = || SendPicsInfo {
        count: 2,
        pic_md5_sums: vec!["aaa".into(), "bbb".into()],
    };
    let scan = "<ScanCodeInfo><ScanType><![CDATA[qrcode]]></ScanType><ScanResult><![CDATA[https://x.example/1]]></ScanResult></ScanCodeInfo>";
    let scan_info = || ScanCodeInfo {
        scan_type: "qrcode".into(),
        scan_result: "https://x.example/1".into(),
    };
    let approval_xml = "<ApprovalInfo><ThirdNo><![CDATA[201806010001]]></ThirdNo><OpenSpName><![CDATA[付款]]></OpenSpName><OpenSpStatus>1</OpenSpStatus><ApplyTime>1527837645</ApplyTime><ApplyUserId><![CDATA[zhangsan]]></ApplyUserId><ApprovalNodes><ApprovalNode><NodeStatus>1</NodeStatus><Items><Item><ItemName><![CDATA[李四]]></ItemName><ItemUserId><![CDATA[lisi]]></ItemUserId></Item></Items></ApprovalNode></ApprovalNodes></ApprovalInfo>";
    vec![
        (
            "text",
            msg(
                "<Content><![CDATA[hello <world> & ]]]]><![CDATA[> you]]></Content>",
                "text",
            ),
            message(MessageBody::Text {
                content: "hello <world> & ]]> you".into(),
            }),
        ),
        (
            "image",
            msg(
                "<PicUrl><![CDATA[https://p.example/a.jpg]]></PicUrl><MediaId><![CDATA[m1]]></MediaId>",
                "image",
            ),
            message(MessageBody::Image {
                pic_url: "https://p.example/a.jpg".into(),
                media_id: "m1".into(),
            }),
        ),
        (
            "voice",
            msg(
                "<MediaId><![CDATA[m2]]></MediaId><Format><![CDATA[amr]]></Format>",
                "voice",
            ),
            message(MessageBody::Voice {
                media_id: "m2".into(),
                format: "amr".into(),
            }),
        ),
        (
            "video",
            msg(
                "<MediaId><![CDATA[m3]]></MediaId><ThumbMediaId><![CDATA[t3]]></ThumbMediaId>",
                "video",
            ),
            message(MessageBody::Video {
                media_id: "m3".into(),
                thumb_media_id: "t3".into(),
            }),
        ),
        (
            "location",
            msg(
                "<Location_X>23.134521</Location_X><Location_Y>113.358803</Location_Y><Scale>20</Scale><Label><![CDATA[广州市海珠区]]></Label><AppType><![CDATA[wxwork]]></AppType>",
                "location",
            ),
            message(MessageBody::Location {
                location_x: 23.134521,
                location_y: 113.358803,
                scale: 20,
                label: "广州市海珠区".into(),
                app_type: Some("wxwork".into()),
            }),
        ),
        (
            "link",
            msg(
                "<Title><![CDATA[t]]></Title><Description><![CDATA[d]]></Description><Url><![CDATA[https://u.example]]></Url><PicUrl><![CDATA[https://p.example]]></PicUrl>",
                "link",
            ),
            message(MessageBody::Link {
                title: "t".into(),
                description: "d".into(),
                url: "https://u.example".into(),
                pic_url: "https://p.example".into(),
            }),
        ),
        (
            "subscribe",
            event("subscribe", ""),
            ev(EventKind::Subscribe),
        ),
        (
            "unsubscribe",
            event("unsubscribe", ""),
            ev(EventKind::Unsubscribe),
        ),
        (
            "enter_agent",
            event("enter_agent", "<EventKey><![CDATA[]]></EventKey>"),
            ev(EventKind::EnterAgent {
                event_key: String::new(),
            }),
        ),
        (
            "LOCATION",
            event(
                "LOCATION",
                "<Latitude>23.104105</Latitude><Longitude>113.320107</Longitude><Precision>65.000000</Precision><AppType><![CDATA[wxwork]]></AppType>",
            ),
            ev(EventKind::Location {
                latitude: 23.104105,
                longitude: 113.320107,
                precision: 65.0,
                app_type: Some("wxwork".into()),
            }),
        ),
        (
            "batch_job_result",
            event(
                "batch_job_result",
                "<BatchJob><JobId><![CDATA[S0MrnndvRG5fadSlLwiBqiDDbM143UqTmKP3152FZk4]]></JobId><JobType><![CDATA[sync_user]]></JobType><ErrCode>0</ErrCode><ErrMsg><![CDATA[ok]]></ErrMsg></BatchJob>",
            ),
            ev(EventKind::BatchJobResult(BatchJob {
                job_id: "S0MrnndvRG5fadSlLwiBqiDDbM143UqTmKP3152FZk4".into(),
                job_type: "sync_user".into(),
                err_code: 0,
                err_msg: "ok".into(),
            })),
        ),
        (
            "create_user",
            contact(
                "<ChangeType>create_user</ChangeType><UserID><![CDATA[lisi]]></UserID><Name><![CDATA[李四]]></Name><Department><![CDATA[1,2,3]]></Department><MainDepartment>1</MainDepartment><IsLeaderInDept><![CDATA[1,0,0]]></IsLeaderInDept><DirectLeader><![CDATA[zhangsan]]></DirectLeader><Position><![CDATA[产品经理]]></Position><Mobile>13800000000</Mobile><Gender>1</Gender><Email><![CDATA[lisi@example.com]]></Email><Status>1</Status><Avatar><![CDATA[https://a.example/1]]></Avatar><Alias><![CDATA[lisi2]]></Alias><Telephone><![CDATA[020-123456]]></Telephone><Address><![CDATA[广州市]]></Address><ExtAttr><Item><Name><![CDATA[爱好]]></Name><Type>0</Type><Text><Value><![CDATA[旅游]]></Value></Text></Item></ExtAttr>",
            ),
            contact_ev(ContactChange::CreateUser(Box::new(ContactUser {
                user_id: "lisi".into(),
                name: Some("李四".into()),
                department: Some(vec![1, 2, 3]),
                main_department: Some(1),
                is_leader_in_dept: Some(vec![1, 0, 0]),
                position: Some("产品经理".into()),
                mobile: Some("13800000000".into()),
                gender: Some(1),
                email: Some("lisi@example.com".into()),
                status: Some(1),
                avatar: Some("https://a.example/1".into()),
                alias: Some("lisi2".into()),
                telephone: Some("020-123456".into()),
                address: Some("广州市".into()),
                ext_attr: Some(Element::node(
                    "ExtAttr",
                    vec![Element::node(
                        "Item",
                        vec![
                            Element::leaf("Name", "爱好"),
                            Element::leaf("Type", "0"),
                            Element::node("Text", vec![Element::leaf("Value", "旅游")]),
                        ],
                    )],
                )),
                extra: vec![Element::leaf("DirectLeader", "zhangsan")],
                ..ContactUser::default()
            }))),
        ),
        (
            "update_user",
            contact(
                "<ChangeType>update_user</ChangeType><UserID><![CDATA[lisi]]></UserID><NewUserID><![CDATA[lisi_new]]></NewUserID><Status>2</Status>",
            ),
            contact_ev(ContactChange::UpdateUser(Box::new(ContactUser {
                user_id: "lisi".into(),
                new_user_id: Some("lisi_new".into()),
                status: Some(2),
                ..ContactUser::default()
            }))),
        ),
        (
            "delete_user",
            contact("<ChangeType>delete_user</ChangeType><UserID><![CDATA[lisi]]></UserID>"),
            contact_ev(ContactChange::DeleteUser {
                user_id: "lisi".into(),
            }),
        ),
        (
            "create_party",
            contact(
                "<ChangeType>create_party</ChangeType><Id>2</Id><Name><![CDATA[研发部]]></Name><ParentId><![CDATA[1]]></ParentId><Order>1</Order>",
            ),
            contact_ev(ContactChange::CreateParty(Party {
                id: 2,
                name: Some("研发部".into()),
                parent_id: Some(1),
                order: Some(1),
            })),
        ),
        (
            "update_party",
            contact(
                "<ChangeType>update_party</ChangeType><Id>2</Id><Name><![CDATA[研发中心]]></Name>",
            ),
            contact_ev(ContactChange::UpdateParty(Party {
                id: 2,
                name: Some("研发中心".into()),
                parent_id: None,
                order: None,
            })),
        ),
        (
            "delete_party",
            contact("<ChangeType>delete_party</ChangeType><Id>2</Id>"),
            contact_ev(ContactChange::DeleteParty { id: 2 }),
        ),
        (
            "update_tag",
            contact(
                "<ChangeType>update_tag</ChangeType><TagId>1</TagId><AddUserItems><![CDATA[zhangsan,lisi]]></AddUserItems><DelUserItems><![CDATA[wangwu]]></DelUserItems><AddPartyItems><![CDATA[1,2]]></AddPartyItems><DelPartyItems><![CDATA[3]]></DelPartyItems>",
            ),
            contact_ev(ContactChange::UpdateTag(TagChange {
                tag_id: 1,
                add_user_items: vec!["zhangsan".into(), "lisi".into()],
                del_user_items: vec!["wangwu".into()],
                add_party_items: vec![1, 2],
                del_party_items: vec![3],
            })),
        ),
        (
            "click",
            event(
                "click",
                "<EventKey><![CDATA[#sendmsg#_0_0#7599827683208112]]></EventKey>",
            ),
            ev(EventKind::Click {
                event_key: "#sendmsg#_0_0#7599827683208112".into(),
            }),
        ),
        (
            "view",
            event(
                "view",
                "<EventKey><![CDATA[https://www.example.com]]></EventKey>",
            ),
            ev(EventKind::View {
                event_key: "https://www.example.com".into(),
            }),
        ),
        (
            "scancode_push",
            event(
                "scancode_push",
                &format!("<EventKey><![CDATA[k1]]></EventKey>{scan}"),
            ),
            ev(EventKind::ScancodePush {
                event_key: "k1".into(),
                scan_code_info: scan_info(),
            }),
        ),
        (
            "scancode_waitmsg",
            event(
                "scancode_waitmsg",
                &format!("<EventKey><![CDATA[k2]]></EventKey>{scan}"),
            ),
            ev(EventKind::ScancodeWaitmsg {
                event_key: "k2".into(),
                scan_code_info: scan_info(),
            }),
        ),
        (
            "pic_sysphoto",
            event(
                "pic_sysphoto",
                &format!("<EventKey><![CDATA[p1]]></EventKey>{pics}"),
            ),
            ev(EventKind::PicSysphoto {
                event_key: "p1".into(),
                send_pics_info: pics_info(),
            }),
        ),
        (
            "pic_photo_or_album",
            event(
                "pic_photo_or_album",
                &format!("<EventKey><![CDATA[p2]]></EventKey>{pics}"),
            ),
            ev(EventKind::PicPhotoOrAlbum {
                event_key: "p2".into(),
                send_pics_info: pics_info(),
            }),
        ),
        (
            "pic_weixin",
            event(
                "pic_weixin",
                &format!("<EventKey><![CDATA[p3]]></EventKey>{pics}"),
            ),
            ev(EventKind::PicWeixin {
                event_key: "p3".into(),
                send_pics_info: pics_info(),
            }),
        ),
        (
            "location_select",
            event(
                "location_select",
                "<EventKey><![CDATA[l1]]></EventKey><SendLocationInfo><Location_X><![CDATA[23]]></Location_X><Location_Y><![CDATA[113.5]]></Location_Y><Scale><![CDATA[15]]></Scale><Label><![CDATA[ 广州市海珠区]]></Label><Poiname><![CDATA[TIT创意园]]></Poiname></SendLocationInfo>",
            ),
            ev(EventKind::LocationSelect {
                event_key: "l1".into(),
                send_location_info: SendLocationInfo {
                    location_x: 23.0,
                    location_y: 113.5,
                    scale: 15,
                    label: " 广州市海珠区".into(),
                    poiname: "TIT创意园".into(),
                },
            }),
        ),
        (
            "open_approval_change",
            event("open_approval_change", approval_xml),
            ev(EventKind::OpenApprovalChange {
                approval_info: Element::parse(approval_xml).expect("fragment parses"),
            }),
        ),
        (
            "share_agent_change",
            event("share_agent_change", ""),
            ev(EventKind::ShareAgentChange),
        ),
        (
            "template_card_event",
            event(
                "template_card_event",
                "<EventKey><![CDATA[btn_ok]]></EventKey><TaskId><![CDATA[task1]]></TaskId><CardType><![CDATA[vote_interaction]]></CardType><ResponseCode><![CDATA[rc_123]]></ResponseCode><SelectedItems><SelectedItem><QuestionKey><![CDATA[q1]]></QuestionKey><OptionIds><OptionId><![CDATA[o1]]></OptionId><OptionId><![CDATA[o2]]></OptionId></OptionIds></SelectedItem></SelectedItems>",
            ),
            ev(EventKind::TemplateCardEvent(card(
                "btn_ok",
                vec![SelectedItem {
                    question_key: "q1".into(),
                    option_ids: vec!["o1".into(), "o2".into()],
                }],
            ))),
        ),
        (
            "template_card_menu_event",
            event(
                "template_card_menu_event",
                "<EventKey><![CDATA[menu_1]]></EventKey><TaskId><![CDATA[task1]]></TaskId><CardType><![CDATA[vote_interaction]]></CardType><ResponseCode><![CDATA[rc_123]]></ResponseCode>",
            ),
            ev(EventKind::TemplateCardMenuEvent(card("menu_1", vec![]))),
        ),
    ]
}

#[test]
fn every_type_parses_to_its_typed_value() {
    let cases = cases();
    assert_eq!(cases.len(), 30, "6 messages, 17 events, 7 contact changes");
    for (what, xml, expected) in cases {
        let parsed = Inbound::parse(&xml).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(parsed, expected, "{what}");
    }
}

#[test]
fn every_type_renders_back_to_equivalent_xml() {
    for (what, _, value) in cases() {
        let xml = value.to_xml();
        let again = Inbound::parse(&xml).unwrap_or_else(|e| panic!("{what}: {e}\n{xml}"));
        assert_eq!(again, value, "{what} round trip via\n{xml}");
        assert!(xml.starts_with("<xml><ToUserName>"), "{what}: {xml}");
    }
}

#[test]
fn unknown_types_keep_the_raw_xml() {
    // kf_msg_or_event is declared (spec/events.toml); an event nobody declared stays Unknown.
    let kf = event(
        "kf_msg_or_event",
        "<Token><![CDATA[t]]></Token><OpenKfId>wk1</OpenKfId>",
    );
    let Ok(Inbound::Event(e)) = Inbound::parse(&kf) else {
        panic!("kf_msg_or_event is typed")
    };
    assert_eq!(
        e.kind,
        EventKind::KfMsgOrEvent {
            token: "t".into(),
            open_kfid: Some("wk1".into())
        }
    );
    let xml = event(
        "not_declared_event",
        "<Token><![CDATA[t]]></Token><OpenKfId>wk1</OpenKfId>",
    );
    let Inbound::Unknown(unknown) = Inbound::parse(&xml).expect("well formed") else {
        panic!("an unknown event is Unknown")
    };
    assert_eq!(unknown.msg_type, "event");
    assert_eq!(unknown.event.as_deref(), Some("not_declared_event"));
    assert_eq!(unknown.from_user_name, "zhangsan");
    assert_eq!(unknown.raw, xml);
    assert_eq!(Inbound::Unknown(unknown.clone()).to_xml(), xml);

    let unknown_msg = msg("<Whatever>1</Whatever>", "miniprogram_notice");
    let Inbound::Unknown(u) = Inbound::parse(&unknown_msg).expect("well formed") else {
        panic!("unknown message type")
    };
    assert_eq!(u.msg_id.as_deref(), Some("7290000000000000001"));
    assert_eq!(Inbound::Unknown(u).agent_id().as_deref(), Some("1000002"));

    let unknown_change = contact("<ChangeType>merge_party</ChangeType>");
    assert!(matches!(
        Inbound::parse(&unknown_change),
        Ok(Inbound::Unknown(_))
    ));
}

#[test]
fn unreadable_fields_fall_back_to_unknown() {
    for xml in [
        msg("<Content>x</Content>", "text").replace(
            "<CreateTime>1700000000</CreateTime>",
            "<CreateTime>yesterday</CreateTime>",
        ),
        msg(
            "<Location_X>north</Location_X><Location_Y>1</Location_Y>",
            "location",
        ),
        event(
            "LOCATION",
            "<Latitude>NaN</Latitude><Longitude>1</Longitude><Precision>1</Precision>",
        ),
        contact("<ChangeType>create_party</ChangeType><Name>x</Name>"),
        contact(
            "<ChangeType>create_user</ChangeType><UserID>a</UserID><Department>1,x</Department>",
        ),
        msg("<Content>x</Content>", "text").replace("<MsgId>7290000000000000001</MsgId>", ""),
    ] {
        let parsed = Inbound::parse(&xml).expect("well formed");
        let Inbound::Unknown(u) = parsed else {
            panic!("expected Unknown for {xml}, got {parsed:?}")
        };
        assert_eq!(u.raw, xml);
    }
}

#[test]
fn dtds_entities_and_malformed_xml_are_refused() {
    for bad in [
        "<!DOCTYPE xml [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;\">]><xml><Content>&lol2;</Content></xml>",
        "<!DOCTYPE xml SYSTEM \"http://x.example/x.dtd\"><xml/>",
        "<xml><Content>&custom;</Content></xml>",
        "<xml><Content>&#0;</Content></xml>",
        "<xml><Content>x</Content>",
        "<xml></wrong>",
        "<xml/><xml/>",
        "text<xml/>",
        "",
        "<",
        "<xml><![CDATA[unterminated</xml>",
    ] {
        assert!(Inbound::parse(bad).is_err(), "{bad:?} must be refused");
    }
    let deep = format!("<xml>{}{}</xml>", "<a>".repeat(100), "</a>".repeat(100));
    let err = Inbound::parse(&deep).unwrap_err();
    assert!(err.to_string().contains("deeper"), "{err}");
    // Declarations, comments, attributes (even with '>' in quotes) and indentation are fine.
    let decorated = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- hi -->\n<xml a=\"1>2\" b='x'>\n  <ToUserName>ww1</ToUserName>\n  <FromUserName>u</FromUserName>\n  <CreateTime>1</CreateTime>\n  <MsgType>text</MsgType>\n  <Content>  spaced  </Content>\n  <MsgId>5</MsgId>\n</xml>\n";
    let Ok(Inbound::Message(m)) = Inbound::parse(decorated) else {
        panic!("parses: {decorated}")
    };
    assert_eq!(
        m.body,
        MessageBody::Text {
            content: "  spaced  ".into()
        }
    );
    for bad in [
        "<xml a=\"1><Content>x</Content></xml>",
        "<xml><a<b>x</a<b></xml>",
        "<xml>&amp</xml>",
        "<xml>&#xD800;</xml>",
    ] {
        assert!(Inbound::parse(bad).is_err(), "{bad:?} must be refused");
    }
    // Predefined entities and character references are plain text.
    let ok = msg(
        "<Content>a &lt;b&gt; &amp; &quot;c&quot; &apos;d&apos; &#x4F60;&#22909;</Content>",
        "text",
    );
    let Ok(Inbound::Message(m)) = Inbound::parse(&ok) else {
        panic!("parses")
    };
    assert_eq!(
        m.body,
        MessageBody::Text {
            content: "a <b> & \"c\" 'd' 你好".into()
        }
    );
}

#[test]
fn agent_ids_are_read_from_every_kind_of_callback() {
    // Typed messages and events: the header's AgentID.
    let typed = Inbound::parse(
        "<xml><ToUserName>ww</ToUserName><FromUserName>u</FromUserName><CreateTime>1</CreateTime>\
         <MsgType>event</MsgType><Event>click</Event><EventKey>k</EventKey><AgentID>1000002</AgentID></xml>",
    )
    .expect("ok");
    assert_eq!(typed.agent_id().as_deref(), Some("1000002"));
    // Untyped XML: read from the raw text.
    let untyped = Inbound::parse(
        "<xml><MsgType>event</MsgType><Event>new_one</Event><AgentID> 42 </AgentID></xml>",
    )
    .expect("ok");
    assert!(matches!(untyped, Inbound::Unknown(_)));
    assert_eq!(untyped.agent_id().as_deref(), Some("42"));
    // Contact changes carry none.
    let change = Inbound::parse(&contact(
        "<ChangeType>delete_user</ChangeType><UserID>a</UserID>",
    ))
    .expect("ok");
    assert_eq!(change.agent_id(), None);
    // JSON: agentid as a number or a string.
    let json = Inbound::parse(r#"{"msgtype":"event","agentid":7}"#).expect("ok");
    assert_eq!(json.agent_id().as_deref(), Some("7"));
    let json = Inbound::parse(r#"{"msgtype":"event","agentid":"8"}"#).expect("ok");
    assert_eq!(json.agent_id().as_deref(), Some("8"));
    let json = Inbound::parse(r#"{"msgtype":"event"}"#).expect("ok");
    assert_eq!(json.agent_id(), None);
}

#[test]
fn json_plaintexts_are_kept_as_unknown() {
    let json = r#"{"msgid":"m1","msgtype":"text","from":{"userid":"u1"},"text":{"content":"hi"}}"#;
    let Ok(Inbound::Unknown(u)) = Inbound::parse(json) else {
        panic!("JSON is Unknown")
    };
    assert_eq!(u.msg_type, "text");
    assert_eq!(u.msg_id.as_deref(), Some("m1"));
    assert_eq!(u.raw, json);
    assert!(Inbound::parse("{ broken").is_err());
}
