//! Department moves with the cycle check the spec cannot state.
//!
//! A department may not move under itself or anything below it (WeCom answers 60010). The spec
//! checks one field at a time, so `department_update` sends such a request and lets WeCom refuse
//! it; [`Contacts::department_move`] refuses it first.

use wecom_core_auth::{Error, InvalidInput};

use crate::generated::contacts::{Contacts, DepartmentUpdateResponse};

/// WeCom's errcode for a department cycle.
const CYCLE: i64 = 60010;

/// The pre-I/O part of the check: the root cannot move and nothing moves under itself.
pub fn check_move(id: u32, parentid: u32) -> Result<(), InvalidInput> {
    if id == 1 {
        return Err(
            InvalidInput::new("id", "the root department (1) cannot be moved")
                .with_errcode(Some(CYCLE))
                .in_context("department_update"),
        );
    }
    if id == parentid {
        return Err(InvalidInput::new(
            "parentid",
            format!("department {id} cannot be its own parent; choose another parentid"),
        )
        .with_errcode(Some(CYCLE))
        .in_context("department_update"));
    }
    Ok(())
}

impl<'a> Contacts<'a> {
    /// Moves department `id` under `parentid` (`department/update` with only `parentid`), after
    /// checking that this makes no cycle: moving a department under itself fails before any
    /// request, and moving it under one of its own sub-departments fails after reading its
    /// subtree (`department/simplelist?id=`) but before the update is sent. Either error carries
    /// errcode 60010, as WeCom's own refusal would.
    ///
    /// ```no_run
    /// use wecom_contacts::ContactsExt;
    /// # async fn demo(client: &wecom_core_auth::Client) -> Result<(), wecom_core_auth::Error> {
    /// client.contacts().department_move(5, 2).await?;
    /// # Ok(()) }
    /// ```
    pub async fn department_move(
        self,
        id: u32,
        parentid: u32,
    ) -> Result<DepartmentUpdateResponse, Error> {
        check_move(id, parentid)?;
        let subtree = self.department_simplelist().id(id).await?;
        if subtree.department_id.iter().any(|d| d.id == parentid) {
            return Err(InvalidInput::new(
                "parentid",
                format!(
                    "department {parentid} lies under department {id}; moving {id} there would make a cycle"
                ),
            )
            .with_errcode(Some(CYCLE))
            .in_context("department_update")
            .into());
        }
        self.department_update(id).parentid(parentid).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn self_parent_and_root_moves_are_refused() {
        let e = check_move(5, 5).unwrap_err();
        assert_eq!(e.errcode, Some(60010));
        assert_eq!(e.field, "parentid");
        assert_eq!(check_move(1, 2).unwrap_err().field, "id");
        assert!(check_move(5, 2).is_ok());
    }
}
