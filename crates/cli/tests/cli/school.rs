//! `wecom school student|parent|class` against the sandbox's demo education corp.

use wecom_sandbox::{Corp, Sandbox};

use crate::common::at;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn school_students_parents_and_classes() {
    let sb = Sandbox::builder()
        .corp(Corp::school_demo())
        .start()
        .await
        .expect("sandbox starts");
    let classes = at(&sb, &["--json", "school", "class", "list"]).await.json();
    let list = classes["departments"].as_array().expect("departments");
    assert_eq!(list.len(), 9, "{classes}");
    let text = at(&sb, &["school", "class", "list", "--id", "10"]).await;
    assert!(text.ok().contains("二年级一班"), "{}", text.ok());

    at(
        &sb,
        &[
            "school",
            "student",
            "create",
            "xiaoxin",
            "小新",
            "--class",
            "22",
            "--no-invite",
        ],
    )
    .await
    .ok();
    at(
        &sb,
        &[
            "school",
            "parent",
            "create",
            "xiaoxin_mama",
            "--mobile",
            "13500000001",
            "--child",
            "xiaoxin:妈妈",
        ],
    )
    .await
    .ok();
    let students = at(&sb, &["--json", "school", "student", "list", "22"])
        .await
        .json();
    let new = students["students"]
        .as_array()
        .and_then(|s| s.iter().find(|x| x["student_userid"] == "xiaoxin"))
        .cloned()
        .expect("listed");
    assert_eq!(new["parents"][0]["relation"], "妈妈", "{new}");
    let parents = at(&sb, &["--json", "school", "parent", "list", "22"])
        .await
        .json();
    assert!(
        parents["parents"].as_array().is_some_and(|p| p.len() == 1),
        "{parents}"
    );
    let got = at(&sb, &["--json", "school", "parent", "get", "xiaoxin_mama"])
        .await
        .json();
    assert_eq!(got["user_type"], 2, "{got}");

    // WeCom's rule reported with its errcode: a student with parents is not deleted.
    let refused = at(&sb, &["school", "student", "delete", "xiaoxin"]).await;
    assert!(
        refused.error_line().contains("65013"),
        "{}",
        refused.error_line()
    );
    at(&sb, &["school", "parent", "delete", "xiaoxin_mama"])
        .await
        .ok();
    at(&sb, &["school", "student", "delete", "xiaoxin"])
        .await
        .ok();
    let bad = at(
        &sb,
        &[
            "school", "parent", "create", "p", "--mobile", "1", "--child", "nocolon",
        ],
    )
    .await;
    assert!(
        bad.error_line().contains("STUDENT_USERID:RELATION"),
        "{}",
        bad.error_line()
    );
}

#[test]
fn sandbox_serves_the_demo_school_by_name_and_a_school_from_a_file() {
    use crate::common::run;
    use crate::sandbox::SandboxProcess;

    let sb = SandboxProcess::start(&["--corp", "school-demo"]);
    let r = run(sb.wecom(&["--json", "school", "student", "list", "11"]));
    let names: Vec<String> = r.json()["students"]
        .as_array()
        .map(|s| {
            s.iter()
                .filter_map(|x| x["name"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(names, ["小明", "小红"], "{}", r.ok());
    drop(sb);

    // The education data is part of the corp file: `[school]` with its departments and people.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("school.toml");
    let mut corp = Corp::school_demo();
    let mut school = corp.school().cloned().expect("a school");
    school.students.retain(|s| s.student_userid == "xiaogang");
    school
        .parents
        .retain(|p| p.parent_userid == "xiaogang_yeye");
    corp.set_school(Some(school)).expect("consistent");
    corp.save(&path).expect("saved");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.contains("[school]") || text.contains("[[school."),
        "{text}"
    );
    let sb = SandboxProcess::start(&["--corp", path.to_str().unwrap()]);
    let r = run(sb.wecom(&["--json", "school", "student", "list", "12"]));
    let list = r.json()["students"].as_array().cloned().unwrap_or_default();
    assert_eq!(list.len(), 1, "{}", r.ok());
    assert_eq!(list[0]["parents"][0]["relation"], "爷爷");
}
