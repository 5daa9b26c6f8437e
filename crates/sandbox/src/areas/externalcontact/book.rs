//! The sandbox's customers (外部联系人) and who follows them: the one model both parts of the
//! customer-contact area share (`customers.rs` owns it and its rules; `outreach.rs` reads it and
//! moves follow relations for transfers only through the methods below). Kept as area state in
//! [`State::extension`](crate::state::State::extension).

use std::collections::BTreeMap;
use std::sync::Mutex;

use crate::state::{State, lock};

/// The most customers the sandbox keeps per corp (bounded memory under a runaway test).
pub const MAX_CUSTOMERS: usize = 100_000;

/// One follow relation: a member who added the customer, with what that member keeps about them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Follow {
    /// The member's userid.
    pub userid: String,
    /// When the member added the customer (Unix seconds).
    pub createtime: i64,
    /// The member's remark for the customer.
    pub remark: String,
    /// The member's description of the customer.
    pub description: String,
    /// Corp tag ids the member marked the customer with.
    pub tag_ids: Vec<String>,
    /// How the customer was added (`add_way` on the doc page).
    pub add_way: i64,
    /// The `state` of the contact way used, if any.
    pub state: String,
}

/// One customer.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Customer {
    /// `external_userid` (starts with `wm` or `wo` in real corps).
    pub external_userid: String,
    /// The WeChat nickname.
    pub name: String,
    /// 1: a WeChat user, 2: a WeCom user.
    pub kind: i64,
    /// Who follows the customer, in the order they added them.
    pub follows: Vec<Follow>,
}

/// Every customer of the corp, by `external_userid`.
#[derive(Debug, Default)]
pub struct CustomerBook {
    customers: Mutex<BTreeMap<String, Customer>>,
}

impl CustomerBook {
    /// The book of this sandbox.
    pub fn of(state: &State) -> std::sync::Arc<CustomerBook> {
        state.extension::<CustomerBook>()
    }

    /// Runs `f` on the customers, locked.
    pub fn with<R>(&self, f: impl FnOnce(&mut BTreeMap<String, Customer>) -> R) -> R {
        f(&mut lock(&self.customers))
    }

    /// Whether `userid` follows the customer.
    pub fn follows(&self, external_userid: &str, userid: &str) -> bool {
        self.with(|c| {
            c.get(external_userid)
                .is_some_and(|c| c.follows.iter().any(|f| f.userid == userid))
        })
    }

    /// The customers `userid` follows, in `external_userid` order.
    pub fn customers_of(&self, userid: &str) -> Vec<String> {
        self.with(|c| {
            c.values()
                .filter(|c| c.follows.iter().any(|f| f.userid == userid))
                .map(|c| c.external_userid.clone())
                .collect()
        })
    }

    /// Moves the follow relation of `from` to `to` (a transfer), keeping its remark, tags and
    /// add way. `false` when `from` does not follow the customer. When `to` already follows the
    /// customer, `from`'s relation is dropped.
    pub fn move_follow(&self, external_userid: &str, from: &str, to: &str, now: i64) -> bool {
        self.with(|c| {
            let Some(customer) = c.get_mut(external_userid) else {
                return false;
            };
            let Some(i) = customer.follows.iter().position(|f| f.userid == from) else {
                return false;
            };
            let mut follow = customer.follows.remove(i);
            if !customer.follows.iter().any(|f| f.userid == to) {
                follow.userid = to.to_owned();
                follow.createtime = now;
                customer.follows.push(follow);
            }
            true
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn book() -> CustomerBook {
        let b = CustomerBook::default();
        b.with(|c| {
            c.insert(
                "wmA".into(),
                Customer {
                    external_userid: "wmA".into(),
                    name: "A".into(),
                    kind: 1,
                    follows: vec![Follow {
                        userid: "zhangsan".into(),
                        remark: "r".into(),
                        ..Follow::default()
                    }],
                },
            )
        });
        b
    }

    #[test]
    fn a_transfer_moves_the_relation_and_keeps_the_remark() {
        let b = book();
        assert!(b.follows("wmA", "zhangsan"));
        assert!(
            !b.move_follow("wmA", "lisi", "wangwu", 1),
            "lisi follows nobody"
        );
        assert!(b.move_follow("wmA", "zhangsan", "lisi", 5));
        assert!(!b.follows("wmA", "zhangsan"));
        assert_eq!(b.customers_of("lisi"), vec!["wmA".to_owned()]);
        b.with(|c| {
            let f = &c["wmA"].follows[0];
            assert_eq!((f.remark.as_str(), f.createtime), ("r", 5));
        });
    }
}
