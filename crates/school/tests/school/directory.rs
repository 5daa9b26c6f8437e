//! Students and parents: create, update, delete, the batch calls with their per-item results,
//! and the limits checked before I/O.

use wecom_school::*;

use crate::{Res, calls, code, school};

#[tokio::test]
async fn students_single_calls_follow_the_rules() -> Res {
    let s = school().await?;
    let sc = s.client.school();
    sc.student_create("xiaobai", "小白", vec![11])
        .mobile("13700000001")
        .to_invite(false)
        .await?;
    // Userids are unique case-insensitively (60102); classes must exist (60123).
    let e = sc
        .student_create("XIAOBAI", "重复", vec![11])
        .await
        .unwrap_err();
    assert_eq!(code(&e), Some(60102));
    let e = sc
        .student_create("xiaohei", "小黑", vec![999])
        .await
        .unwrap_err();
    assert_eq!(code(&e), Some(60123));
    // A student mobile is unique (60149).
    let e = sc
        .student_create("xiaohei", "小黑", vec![11])
        .mobile("13700000001")
        .await
        .unwrap_err();
    assert_eq!(code(&e), Some(60149));

    sc.student_update("xiaobai")
        .name("白白")
        .department(vec![12])
        .new_student_userid("xiaobai2")
        .await?;
    let got = sc.school_user_get("xiaobai2").await?;
    assert_eq!(got.user_type, 1);
    let st = got.student.ok_or("a student")?;
    assert_eq!(st.name.as_deref(), Some("白白"));
    assert_eq!(st.department, vec![12]);

    // A student with parents cannot be deleted (65013); without, it can; then it is gone (60111).
    let e = sc.student_delete("xiaoming").await.unwrap_err();
    assert_eq!(code(&e), Some(65013));
    sc.student_delete("xiaobai2").await?;
    let e = sc.school_user_get("xiaobai2").await.unwrap_err();
    assert_eq!(code(&e), Some(60111));
    Ok(())
}

#[tokio::test]
async fn parents_link_children_with_relations() -> Res {
    let s = school().await?;
    let sc = s.client.school();
    sc.parent_create(
        "xiaoli_mama",
        "13900000099",
        vec![
            SchoolChild::new("xiaoli", "妈妈"),
            SchoolChild::new("xiaoyu", "姨妈"),
        ],
    )
    .to_invite(false)
    .await?;
    // Children must be students (65010); a parent mobile is unique (60137); ids unique (60102).
    let e = sc
        .parent_create(
            "p2",
            "13900000098",
            vec![SchoolChild::new("nobody", "爸爸")],
        )
        .await
        .unwrap_err();
    assert_eq!(code(&e), Some(65010));
    let e = sc
        .parent_create(
            "p3",
            "13900000099",
            vec![SchoolChild::new("xiaoli", "爸爸")],
        )
        .await
        .unwrap_err();
    assert_eq!(code(&e), Some(60137));
    let e = sc
        .parent_create(
            "XIAOLI_MAMA",
            "13900000097",
            vec![SchoolChild::new("xiaoli", "爸爸")],
        )
        .await
        .unwrap_err();
    assert_eq!(code(&e), Some(60102));

    let p = sc.school_user_get("xiaoli_mama").await?;
    assert_eq!(p.user_type, 2);
    assert_eq!(p.parent.ok_or("a parent")?.children.len(), 2);
    // The children list is replaced as a whole (page 100153), an empty list is ignored.
    sc.parent_update("xiaoli_mama")
        .children(vec![SchoolChild::new("xiaoli", "妈妈")])
        .await?;
    sc.parent_update("xiaoli_mama")
        .mobile("13900000096")
        .await?;
    let p = sc
        .school_user_get("xiaoli_mama")
        .await?
        .parent
        .ok_or("parent")?;
    assert_eq!(p.children.len(), 1);
    assert_eq!(p.mobile.as_deref(), Some("13900000096"));
    // The student's record lists the parent with the relation.
    let st = sc
        .school_user_get("xiaoli")
        .await?
        .student
        .ok_or("student")?;
    let link = st
        .parents
        .iter()
        .find(|x| x.parent_userid.as_deref() == Some("xiaoli_mama"))
        .ok_or("linked")?;
    assert_eq!(link.relation.as_deref(), Some("妈妈"));

    sc.parent_delete("xiaoli_mama").await?;
    let e = sc.parent_delete("xiaoli_mama").await.unwrap_err();
    assert_eq!(code(&e), Some(60111));
    Ok(())
}

#[tokio::test]
async fn batches_answer_per_item_and_refuse_over_100_before_io() -> Res {
    let s = school().await?;
    let sc = s.client.school();
    let r = sc
        .student_batch_create(vec![
            NewStudent::new("b1", "一号", vec![21]),
            NewStudent::new("b2", "二号", vec![21]),
            NewStudent::new("xiaoming", "重复", vec![21]),
        ])
        .await?;
    assert_eq!(r.result_list.len(), 1, "{:?}", r.result_list);
    assert_eq!(r.result_list[0].student_userid.as_deref(), Some("xiaoming"));
    assert_eq!(r.result_list[0].errcode, Some(60102));
    // On the wire it is WeCom's shape (page 92042's example): the first failed item's errcode at
    // the top beside result_list; the typed call above still handed the list over.
    let wire = s
        .client
        .raw(
            wecom_core_auth::Method::Post,
            "school/user/batch_create_student",
        )
        .json(serde_json::json!({
            "students": [{"student_userid": "xiaoming", "name": "重复", "department": [21]}]
        }))
        .send_verbatim()
        .await?;
    assert_eq!(
        wire.errcode,
        Some(60102),
        "{:?}",
        String::from_utf8_lossy(&wire.body)
    );

    let r = sc
        .student_batch_update(vec![
            StudentChange::new("b1").name("一号改"),
            StudentChange::new("ghost").name("无"),
        ])
        .await?;
    assert_eq!(r.result_list.len(), 1);
    assert_eq!(r.result_list[0].errcode, Some(60111));

    let r = sc
        .parent_batch_create(vec![
            NewParent::new(
                "b1_baba",
                "13600000001",
                vec![SchoolChild::new("b1", "爸爸")],
            ),
            NewParent::new(
                "b2_baba",
                "13600000002",
                vec![SchoolChild::new("ghost", "爸爸")],
            ),
        ])
        .await?;
    assert_eq!(r.result_list.len(), 1);
    assert_eq!(r.result_list[0].parent_userid.as_deref(), Some("b2_baba"));
    assert_eq!(r.result_list[0].errcode, Some(65010));

    let r = sc
        .parent_batch_update(vec![ParentChange::new("b1_baba").mobile("13600000009")])
        .await?;
    assert!(r.result_list.is_empty());

    // b1 has a parent: its delete fails per item, b2's succeeds.
    let r = sc
        .student_batch_delete(vec!["b1".to_owned(), "b2".to_owned()])
        .await?;
    assert_eq!(r.result_list.len(), 1);
    assert_eq!(r.result_list[0].errcode, Some(65013));
    let r = sc
        .parent_batch_delete(vec!["b1_baba".to_owned(), "ghost".to_owned()])
        .await?;
    assert_eq!(r.result_list.len(), 1);
    assert_eq!(r.result_list[0].parent_userid.as_deref(), Some("ghost"));

    // The pages' per-call maxima: 100 students (65012), 100 parents (65011), before any I/O.
    let before = calls(&s, "student_batch_create");
    let many: Vec<NewStudent> = (0..101)
        .map(|i| NewStudent::new(format!("m{i}"), "学生", vec![21]))
        .collect();
    let e = sc.student_batch_create(many).await.unwrap_err();
    assert_eq!(code(&e), Some(65012));
    assert_eq!(
        calls(&s, "student_batch_create"),
        before,
        "refused before I/O"
    );
    let ids: Vec<String> = (0..101).map(|i| format!("p{i}")).collect();
    let e = sc.parent_batch_delete(ids).await.unwrap_err();
    assert_eq!(code(&e), Some(65011));
    assert_eq!(calls(&s, "parent_batch_delete"), 1, "only the earlier call");
    // Field limits: a name over 32 characters, more than 10 children, a bad userid.
    let e = sc
        .student_create("ok", "名".repeat(33), vec![21])
        .await
        .unwrap_err();
    assert!(matches!(e, wecom_core_auth::Error::Invalid(_)), "{e}");
    let kids: Vec<SchoolChild> = (0..11)
        .map(|_| SchoolChild::new("xiaoming", "爸爸"))
        .collect();
    let e = sc.parent_create("pp", "1", kids).await.unwrap_err();
    assert_eq!(code(&e), Some(65012));
    assert_eq!(
        calls(&s, "student_create"),
        0,
        "the name's limit is checked before I/O"
    );
    let e = sc.student_create("-bad", "坏", vec![21]).await.unwrap_err();
    assert_eq!(code(&e), Some(40003));
    assert_eq!(calls(&s, "student_create"), 0);
    Ok(())
}
