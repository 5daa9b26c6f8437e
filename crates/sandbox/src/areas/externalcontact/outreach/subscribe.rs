//! 「学校通知」 subscription (家校沟通 pages under externalcontact/): the QR code parents scan (its
//! three sizes point at the sandbox) and the follow mode, 1 (可扫码填写资料加入) until set (the page
//! states no default).

use std::sync::Mutex;

use wecom_externalcontact::{
    GetSubscribeModeRequest, GetSubscribeModeResponse, GetSubscribeQrCodeRequest,
    GetSubscribeQrCodeResponse, SetSubscribeModeRequest, SetSubscribeModeResponse,
};

use crate::error::ApiError;
use crate::registry::{Ctx, Registry};
use crate::state::lock;

#[derive(Debug, Default)]
struct Mode {
    /// `None` until set: answered as 1.
    mode: Mutex<Option<u32>>,
}

pub(super) fn register(r: &mut Registry) {
    r.add::<GetSubscribeQrCodeRequest, _, _>(qr_code);
    r.add::<SetSubscribeModeRequest, _, _>(set_mode);
    r.add::<GetSubscribeModeRequest, _, _>(get_mode);
}

async fn qr_code(
    ctx: Ctx,
    _req: GetSubscribeQrCodeRequest,
) -> Result<GetSubscribeQrCodeResponse, ApiError> {
    let base = ctx.state().base_url().trim_end_matches('/').to_owned();
    let corpid = ctx.state().corp().corpid().to_owned();
    let url = |px: u32| format!("{base}/sandbox/school/subscribe-qr/{corpid}?size={px}");
    let mut answer = GetSubscribeQrCodeResponse::new();
    answer.qrcode_big = Some(url(1200));
    answer.qrcode_middle = Some(url(430));
    answer.qrcode_thumb = Some(url(258));
    Ok(answer)
}

async fn set_mode(
    ctx: Ctx,
    req: SetSubscribeModeRequest,
) -> Result<SetSubscribeModeResponse, ApiError> {
    *lock(&ctx.state().extension::<Mode>().mode) = Some(req.subscribe_mode);
    Ok(SetSubscribeModeResponse::new())
}

async fn get_mode(
    ctx: Ctx,
    _req: GetSubscribeModeRequest,
) -> Result<GetSubscribeModeResponse, ApiError> {
    let mode = lock(&ctx.state().extension::<Mode>().mode).unwrap_or(1);
    let mut answer = GetSubscribeModeResponse::new();
    answer.subscribe_mode = Some(mode);
    Ok(answer)
}
