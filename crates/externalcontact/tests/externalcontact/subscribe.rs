//! 「学校通知」 subscription: the QR code and the follow mode, with the 家校沟通 credential (a
//! client holding only the 客户联系 secret has none, and says so before any request).

use wecom_core_auth::{Client, Secret, SystemApp};
use wecom_externalcontact::ExternalcontactExt;

use crate::common::*;

#[tokio::test]
async fn the_follow_mode_reads_back_and_the_qr_code_has_three_sizes() -> TestResult {
    let sb = start().await?;
    let app = app_client(&sb, SALES_APP)?;
    let ec = app.externalcontact();
    let qr = ec.get_subscribe_qr_code().await?;
    assert!(qr.qrcode_big.as_deref().is_some_and(|u| u.contains("1200")));
    assert!(
        qr.qrcode_thumb
            .as_deref()
            .is_some_and(|u| u.contains("258"))
    );

    assert_eq!(ec.get_subscribe_mode().await?.subscribe_mode, Some(1));
    ec.set_subscribe_mode(2).await?;
    assert_eq!(ec.get_subscribe_mode().await?.subscribe_mode, Some(2));

    let before = sb.admin().counters();
    let e = invalid(ec.set_subscribe_mode(3).await);
    assert_eq!(e.field, "subscribe_mode", "1 or 2: {e}");
    let only_ec = Client::builder(CORPID)
        .base_url(sb.base_url())
        .system_secret(
            SystemApp::ExternalContact,
            Secret::new(EC_SECRET.to_owned()),
        )
        .build()?;
    assert!(
        only_ec
            .externalcontact()
            .get_subscribe_mode()
            .await
            .is_err()
    );
    assert_eq!(sb.admin().counters(), before, "nothing reached the sandbox");
    Ok(())
}
