//! wecom-invoice through the client against the sandbox: reading seeded and added invoices (one
//! and in batch), the status moves the pages allow (INIT <-> LOCK, -> CLOSURE, irreversible), the
//! batch as one transaction of one openid, and unknown values kept.

use std::sync::Arc;

use wecom_core_auth::Error;
use wecom_invoice::*;
use wecom_sandbox::areas::invoice::{NewInvoice, add_invoice, invoices};
use wecom_tests::demo;

type Res = Result<(), Box<dyn std::error::Error>>;

fn code(e: &Error) -> Option<i64> {
    match e {
        Error::Invalid(i) => i.errcode,
        other => other.errcode(),
    }
}

#[tokio::test]
async fn reads_seeded_and_added_invoices() -> Res {
    let w = demo().await?;
    let state = Arc::clone(w.admin().state());
    let seeded = invoices(&state);
    assert_eq!(seeded.len(), 3, "{seeded:?}");
    let (card, code1, openid, status) = seeded[0].clone();
    assert_eq!(status, ReimburseStatus::Init);

    let inv = w.client.invoice().invoice_get_info(&card, &code1).await?;
    assert_eq!(inv.card_id.as_deref(), Some(card.as_str()));
    assert_eq!(inv.openid.as_deref(), Some(openid.as_str()));
    assert_eq!(inv.invoice_type.as_deref(), Some("增值税电子普通发票"));
    let info = inv.user_info.ok_or("user_info")?;
    assert_eq!(info.fee, Some(4000));
    assert_eq!(info.reimburse_status, Some(ReimburseStatus::Init));
    assert_eq!(
        info.fee_without_tax.zip(info.tax).map(|(a, b)| a + b),
        info.fee
    );

    let (c2, e2) = add_invoice(
        &state,
        &NewInvoice {
            userid: "lina".into(),
            payee: Some("测试商户".into()),
            fee: Some(1234),
            ..NewInvoice::default()
        },
    )?;
    let batch = w
        .client
        .invoice()
        .invoice_get_info_batch([
            InvoiceKey::new(card.clone(), code1.clone()),
            InvoiceKey::new(c2.clone(), e2.clone()),
        ])
        .await?
        .item_list;
    assert_eq!(batch.len(), 2);
    assert_eq!(batch[1].payee.as_deref(), Some("测试商户"));
    assert_eq!(batch[1].user_info.as_ref().and_then(|u| u.fee), Some(1234));

    // An unknown invoice; an empty card_id never leaves the client.
    let e = w
        .client
        .invoice()
        .invoice_get_info("pNoSuchInvoice", "X")
        .await
        .unwrap_err();
    assert_eq!(code(&e), Some(40058), "{e}");
    let e = w
        .client
        .invoice()
        .invoice_get_info("", "X")
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Invalid(_)), "{e}");
    Ok(())
}

#[tokio::test]
async fn status_moves_as_the_pages_allow() -> Res {
    let w = demo().await?;
    let state = Arc::clone(w.admin().state());
    let (card, enc, _, _) = invoices(&state)[0].clone();
    let inv = w.client.invoice();
    let status = |state: &wecom_sandbox::State| {
        invoices(state)
            .into_iter()
            .find(|i| i.0 == card)
            .map(|i| i.3)
    };

    inv.invoice_update_status(&card, &enc, ReimburseStatus::Lock)
        .await?;
    assert_eq!(status(&state), Some(ReimburseStatus::Lock));
    // Locked: it cannot be submitted (locked) again.
    let e = inv
        .invoice_update_status(&card, &enc, ReimburseStatus::Lock)
        .await
        .unwrap_err();
    assert_eq!(code(&e), Some(72024), "{e}");
    // Unlock, lock, close.
    inv.invoice_update_status(&card, &enc, ReimburseStatus::Init)
        .await?;
    inv.invoice_update_status(&card, &enc, ReimburseStatus::Lock)
        .await?;
    inv.invoice_update_status(&card, &enc, ReimburseStatus::Closure)
        .await?;
    // Closing is irreversible.
    for to in [
        ReimburseStatus::Init,
        ReimburseStatus::Lock,
        ReimburseStatus::Closure,
    ] {
        let e = inv
            .invoice_update_status(&card, &enc, to)
            .await
            .unwrap_err();
        assert_eq!(code(&e), Some(72024), "{e}");
    }
    assert_eq!(status(&state), Some(ReimburseStatus::Closure));
    Ok(())
}

#[tokio::test]
async fn batches_are_one_transaction_of_one_openid() -> Res {
    let w = demo().await?;
    let state = Arc::clone(w.admin().state());
    let seeded = invoices(&state);
    let openid = seeded[0].2.clone();
    let keys: Vec<InvoiceKey> = seeded
        .iter()
        .map(|(c, e, _, _)| InvoiceKey::new(c.clone(), e.clone()))
        .collect();
    let inv = w.client.invoice();

    // Another member's invoice in the batch: 72037, and nothing changed.
    let (other_card, other_enc) = add_invoice(
        &state,
        &NewInvoice {
            userid: "wangfang".into(),
            ..NewInvoice::default()
        },
    )?;
    let mut mixed = keys.clone();
    mixed.push(InvoiceKey::new(other_card, other_enc));
    let e = inv
        .invoice_update_status_batch(&openid, ReimburseStatus::Lock, mixed)
        .await
        .unwrap_err();
    assert_eq!(code(&e), Some(72037), "{e}");
    assert!(
        invoices(&state)
            .iter()
            .all(|i| i.3 == ReimburseStatus::Init)
    );

    // One invoice closed: a batch that would move it fails as a whole.
    inv.invoice_update_status(
        &keys[2].card_id,
        &keys[2].encrypt_code,
        ReimburseStatus::Closure,
    )
    .await?;
    let e = inv
        .invoice_update_status_batch(&openid, ReimburseStatus::Lock, keys.clone())
        .await
        .unwrap_err();
    assert_eq!(code(&e), Some(72024), "{e}");
    let now = invoices(&state);
    assert_eq!(now[0].3, ReimburseStatus::Init);
    assert_eq!(now[1].3, ReimburseStatus::Init);

    inv.invoice_update_status_batch(&openid, ReimburseStatus::Lock, keys[..2].to_vec())
        .await?;
    let now = invoices(&state);
    assert_eq!(now[0].3, ReimburseStatus::Lock);
    assert_eq!(now[1].3, ReimburseStatus::Lock);
    Ok(())
}

#[test]
fn unknown_values_are_kept() -> Res {
    let s: ReimburseStatus = serde_json::from_str("\"INVOICE_REIMBURSE_SOMETHING_NEW\"")?;
    assert!(matches!(s, ReimburseStatus::Unknown(_)), "{s:?}");
    assert_eq!(
        serde_json::to_string(&s)?,
        "\"INVOICE_REIMBURSE_SOMETHING_NEW\""
    );
    let info: InvoiceUserInfo = serde_json::from_str(
        r#"{"fee":1,"reimburse_status":"INVOICE_REIMBURSE_LOCK","new_field":true}"#,
    )?;
    assert_eq!(info.reimburse_status, Some(ReimburseStatus::Lock));
    Ok(())
}
