//! Who receives an app message.

use crate::generated::messages::MessageSendRequest;

/// The recipients of an app message: members, departments (with their subtrees), tags, or
/// everyone in the app's visible scope.
///
/// WeCom takes them as `"a|b"` strings; this type keeps them as lists and the request joins them.
/// Limits (checked before sending): at most 1000 members, 100 departments and 100 tags, and at
/// least one recipient. Recipients outside the app's visible scope come back in the
/// [`Receipt`](crate::Receipt).
///
/// ```
/// use wecom_messages::Recipients;
/// let r = Recipients::users(["zhangsan", "lisi"]).with_departments([2, 3]).with_tags([1]);
/// assert_eq!(r.user_ids(), ["zhangsan", "lisi"]);
/// assert!(Recipients::everyone().is_everyone());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recipients {
    users: Vec<String>,
    departments: Vec<u32>,
    tags: Vec<u32>,
    everyone: bool,
}

impl Recipients {
    /// No recipient yet (add some with the `with_*` methods; sending with none is an error).
    pub fn new() -> Self {
        Self::default()
    }

    /// Everyone in the app's visible scope (`touser = "@all"`).
    pub fn everyone() -> Self {
        Self {
            everyone: true,
            ..Self::default()
        }
    }

    /// These members (userids).
    pub fn users<I, S>(userids: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self::new().with_users(userids)
    }

    /// One member.
    pub fn user(userid: impl Into<String>) -> Self {
        Self::users([userid])
    }

    /// The members of these departments and of their sub-departments.
    pub fn departments(ids: impl IntoIterator<Item = u32>) -> Self {
        Self::new().with_departments(ids)
    }

    /// The members (and departments) holding these tags.
    pub fn tags(ids: impl IntoIterator<Item = u32>) -> Self {
        Self::new().with_tags(ids)
    }

    /// Adds members.
    pub fn with_users<I, S>(mut self, userids: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.users.extend(userids.into_iter().map(Into::into));
        self
    }

    /// Adds departments.
    pub fn with_departments(mut self, ids: impl IntoIterator<Item = u32>) -> Self {
        self.departments.extend(ids);
        self
    }

    /// Adds tags.
    pub fn with_tags(mut self, ids: impl IntoIterator<Item = u32>) -> Self {
        self.tags.extend(ids);
        self
    }

    /// Whether this is everyone in the app's visible scope.
    pub fn is_everyone(&self) -> bool {
        self.everyone
    }

    /// Whether no recipient was given.
    pub fn is_empty(&self) -> bool {
        !self.everyone
            && self.users.is_empty()
            && self.departments.is_empty()
            && self.tags.is_empty()
    }

    /// The members listed.
    pub fn user_ids(&self) -> &[String] {
        &self.users
    }

    /// The departments listed.
    pub fn department_ids(&self) -> &[u32] {
        &self.departments
    }

    /// The tags listed.
    pub fn tag_ids(&self) -> &[u32] {
        &self.tags
    }

    /// Writes these recipients into `touser`/`toparty`/`totag` of a request.
    pub(crate) fn apply(&self, request: &mut MessageSendRequest) {
        if self.everyone {
            request.touser = vec!["@all".to_owned()];
            request.toparty.clear();
            request.totag.clear();
        } else {
            request.touser.clone_from(&self.users);
            request.toparty.clone_from(&self.departments);
            request.totag.clone_from(&self.tags);
        }
    }
}

impl<S: Into<String>> FromIterator<S> for Recipients {
    /// Members from an iterator of userids.
    fn from_iter<I: IntoIterator<Item = S>>(iter: I) -> Self {
        Self::users(iter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generated::messages::TextMessage;

    #[test]
    fn applies_and_joins_with_pipes() {
        let mut req = MessageSendRequest::new(TextMessage::new("hi"), 1u32);
        Recipients::users(["a", "b"])
            .with_departments([2, 3])
            .with_tags([7])
            .apply(&mut req);
        let v = serde_json::to_value(&req).unwrap_or_default();
        assert_eq!(v["touser"], "a|b");
        assert_eq!(v["toparty"], "2|3");
        assert_eq!(v["totag"], "7");
        Recipients::everyone().with_departments([9]).apply(&mut req);
        let v = serde_json::to_value(&req).unwrap_or_default();
        assert_eq!(v["touser"], "@all");
        assert!(v.get("toparty").is_none(), "@all ignores departments: {v}");
        assert!(Recipients::new().is_empty());
        assert!(!Recipients::everyone().is_empty());
        let r: Recipients = ["x", "y"].into_iter().collect();
        assert_eq!(r.user_ids(), ["x", "y"]);
    }
}
