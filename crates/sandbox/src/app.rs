//! What every HTTP route shares: the sandbox state and the endpoint registry.

use std::sync::Arc;

use crate::registry::Registry;
use crate::state::State;

/// Shared by every route.
#[derive(Clone)]
pub(crate) struct App {
    pub(crate) state: Arc<State>,
    pub(crate) registry: Arc<Registry>,
}
