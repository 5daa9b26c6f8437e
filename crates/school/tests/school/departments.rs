//! Classes as departments: types, admins, placement rules, list, update, delete.

use wecom_school::*;

use crate::{Res, calls, code, school};

#[tokio::test]
async fn departments_follow_the_type_rules() -> Res {
    let s = school().await?;
    let sc = s.client.school();
    let all = sc.school_department_list().await?.departments;
    assert_eq!(all.len(), 9);
    let grade = all.iter().find(|d| d.id == Some(10)).ok_or("grade 10")?;
    assert_eq!(grade.kind, Some(2));
    assert_eq!(grade.register_year, Some(2024));
    assert_eq!(grade.standard_grade, Some(2));
    let class = all.iter().find(|d| d.id == Some(11)).ok_or("class 11")?;
    assert_eq!(class.kind, Some(1));
    assert_eq!(class.department_admins.len(), 2);

    // A new class under grade 10, with a head teacher.
    let id = sc
        .school_department_create(10, 1)
        .name("二年级三班")
        .id(13)
        .department_admins(vec![DepartmentAdmin::new("lina", 3).subject("语文")])
        .await?
        .id;
    assert_eq!(id, 13);
    // Duplicate id (60008); a class not under a grade (65015); an admin type not fitting (65006).
    let e = sc.school_department_create(10, 1).id(13).await.unwrap_err();
    assert_eq!(code(&e), Some(60008));
    let e = sc
        .school_department_create(3, 1)
        .name("坏班")
        .await
        .unwrap_err();
    assert_eq!(code(&e), Some(65015));
    let e = sc
        .school_department_create(10, 1)
        .name("坏班")
        .department_admins(vec![DepartmentAdmin::new("lina", 1)])
        .await
        .unwrap_err();
    assert_eq!(code(&e), Some(65006));
    // Refused before I/O: a type out of 1-4 (65007), a standard grade on a class (65009).
    let before = calls(&s, "school_department_create");
    let e = sc.school_department_create(1, 5).await.unwrap_err();
    assert_eq!(code(&e), Some(65007));
    let e = sc
        .school_department_create(10, 1)
        .standard_grade(3)
        .await
        .unwrap_err();
    assert_eq!(code(&e), Some(65009));
    assert_eq!(calls(&s, "school_department_create"), before);

    sc.school_department_update(13)
        .name("二年级三班(新)")
        .department_admins(vec![DepartmentAdminChange::new(1, "lina")])
        .await?;
    let sub = sc.school_department_list().id(10).await?.departments;
    let c13 = sub.iter().find(|d| d.id == Some(13)).ok_or("class 13")?;
    assert_eq!(c13.name.as_deref(), Some("二年级三班(新)"));
    assert!(c13.department_admins.is_empty());
    assert_eq!(sub.len(), 4, "grade 10 and its three classes");

    // Delete: not the root (60007), not with students (60005) or sub-departments (60006).
    assert_eq!(
        code(&sc.school_department_delete(1).await.unwrap_err()),
        Some(60007)
    );
    assert_eq!(
        code(&sc.school_department_delete(11).await.unwrap_err()),
        Some(60005)
    );
    assert_eq!(
        code(&sc.school_department_delete(10).await.unwrap_err()),
        Some(60006)
    );
    sc.school_department_delete(13).await?;
    assert_eq!(
        code(&sc.school_department_delete(13).await.unwrap_err()),
        Some(60003)
    );

    sc.arch_sync_mode_set(1).await?;
    let e = sc.arch_sync_mode_set(4).await.unwrap_err();
    assert_eq!(code(&e), Some(65005));
    Ok(())
}
