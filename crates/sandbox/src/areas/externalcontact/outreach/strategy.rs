//! `customer_strategy/get_range` and `moment_strategy/get_range`: the members and departments a
//! strategy group governs, paged. The groups themselves are declared sandbox resources
//! (`customer_strategy`, `moment_strategy`); these read the `range` create stored (edit's
//! `range_add`/`range_del` are kept as sent by the resource engine, not applied). An unknown
//! strategy_id answers the generic 40058, as the resource's own get does.

use serde_json::{Value, json};
use wecom_externalcontact::{
    CustomerStrategyGetRangeRequest, CustomerStrategyGetRangeResponse,
    MomentStrategyGetRangeRequest, MomentStrategyGetRangeResponse, StrategyRange,
};

use super::page;
use crate::error::ApiError;
use crate::registry::{Ctx, Registry};
use crate::resources::ResourceStore;

pub(super) fn register(r: &mut Registry) {
    r.add::<CustomerStrategyGetRangeRequest, _, _>(customer_range);
    r.add::<MomentStrategyGetRangeRequest, _, _>(moment_range);
}

fn range_of(
    ctx: &Ctx,
    resource: &str,
    strategy_id: u32,
    cursor: Option<&str>,
    limit: Option<u32>,
) -> Result<(Vec<StrategyRange>, String), ApiError> {
    let corpid = ctx.state().corp().corpid().to_owned();
    let object = ctx
        .state()
        .extension::<ResourceStore>()
        .object(&corpid, resource, &json!(strategy_id))
        .ok_or_else(|| {
            ApiError::invalid_parameter(format!("strategy_id {strategy_id} not found"))
        })?;
    let range: Vec<StrategyRange> = match object.get("range") {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|v| serde_json::from_value(v.clone()).ok())
            .collect(),
        _ => Vec::new(),
    };
    page(&range, cursor, limit.unwrap_or(1000) as usize)
}

async fn customer_range(
    ctx: Ctx,
    req: CustomerStrategyGetRangeRequest,
) -> Result<CustomerStrategyGetRangeResponse, ApiError> {
    let (items, next) = range_of(
        &ctx,
        "customer_strategy",
        req.strategy_id,
        req.cursor.as_deref(),
        req.limit,
    )?;
    let mut answer = CustomerStrategyGetRangeResponse::new();
    answer.range = items;
    answer.next_cursor = (!next.is_empty()).then_some(next);
    Ok(answer)
}

async fn moment_range(
    ctx: Ctx,
    req: MomentStrategyGetRangeRequest,
) -> Result<MomentStrategyGetRangeResponse, ApiError> {
    let (items, next) = range_of(
        &ctx,
        "moment_strategy",
        req.strategy_id,
        req.cursor.as_deref(),
        req.limit,
    )?;
    let mut answer = MomentStrategyGetRangeResponse::new();
    answer.range = items;
    answer.next_cursor = (!next.is_empty()).then_some(next);
    Ok(answer)
}
