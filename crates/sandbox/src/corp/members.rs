//! Member operations.

use super::{Corp, CorpError, MAX_MEMBER_DEPARTMENTS, Member};

/// Whether a userid follows WeCom's rule: 1-64 bytes of `[0-9A-Za-z_-@.]`, first a letter or digit.
pub fn is_valid_userid(userid: &str) -> bool {
    let b = userid.as_bytes();
    !b.is_empty()
        && b.len() <= 64
        && b[0].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'@' | b'.'))
}

fn is_valid_mobile(mobile: &str) -> bool {
    let n = mobile.chars().count();
    (1..=32).contains(&n)
        && mobile.chars().any(|c| c.is_ascii_digit())
        && mobile
            .chars()
            .all(|c| c.is_ascii_digit() || c == '+' || c == '-')
}

fn is_valid_email(email: &str) -> bool {
    if !(6..=64).contains(&email.len()) {
        return false;
    }
    match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
                && !email.chars().any(char::is_whitespace)
        }
        None => false,
    }
}

impl Corp {
    /// One member by userid (case-insensitive); 60111 when missing.
    pub fn member(&self, userid: &str) -> Result<&Member, CorpError> {
        self.members
            .get(&userid.to_ascii_lowercase())
            .ok_or_else(|| CorpError::MemberNotFound(userid.to_owned()))
    }

    /// Every member, by userid.
    pub fn members(&self) -> impl Iterator<Item = &Member> {
        self.members.values()
    }

    /// The members whose lowercase userid is `key` or sorts after it, by userid (for paging, as
    /// user/list_id does: resuming after a key costs no scan of the members before it).
    pub fn members_from(&self, key: &str) -> impl Iterator<Item = &Member> {
        self.members
            .range::<str, _>((std::ops::Bound::Included(key), std::ops::Bound::Unbounded))
            .map(|(_, m)| m)
    }

    /// The members of a department; with `recursive`, those of its whole subtree too (each once).
    pub fn members_of(&self, department: u32, recursive: bool) -> Result<Vec<&Member>, CorpError> {
        let ids: Vec<u32> = if recursive {
            self.subtree(department)?.iter().map(|d| d.id).collect()
        } else {
            vec![self.department(department)?.id]
        };
        Ok(self
            .members
            .values()
            .filter(|m| m.department.iter().any(|d| ids.contains(d)))
            .collect())
    }

    /// The member with this mobile number.
    pub fn member_by_mobile(&self, mobile: &str) -> Option<&Member> {
        if mobile.is_empty() {
            return None;
        }
        self.members.values().find(|m| m.mobile == mobile)
    }

    /// The member with this email (`biz_mail` too when `corp_mail`), case-insensitively.
    pub fn member_by_email(&self, email: &str, corp_mail: bool) -> Option<&Member> {
        if email.is_empty() {
            return None;
        }
        self.members.values().find(|m| {
            m.email.eq_ignore_ascii_case(email)
                || (corp_mail && m.biz_mail.eq_ignore_ascii_case(email))
        })
    }

    /// The member bound to this WeChat openid.
    pub fn member_by_openid(&self, openid: &str) -> Option<&Member> {
        if openid.is_empty() {
            return None;
        }
        self.members.values().find(|m| m.openid == openid)
    }

    /// Checks a member against WeCom's rules. `existing` is the lowercase key of the member being
    /// updated (its own mobile and email do not conflict).
    fn check_member(
        &self,
        m: &Member,
        existing: Option<&str>,
        creating: bool,
    ) -> Result<(), CorpError> {
        if !is_valid_userid(&m.userid) {
            return Err(CorpError::InvalidUserid(m.userid.clone()));
        }
        let key = m.userid.to_ascii_lowercase();
        if existing != Some(key.as_str()) && self.members.contains_key(&key) {
            return Err(CorpError::UseridExists(m.userid.clone()));
        }
        let n = m.name.chars().count();
        if n == 0 || n > 64 {
            return Err(CorpError::MemberNameLength(n));
        }
        if m.alias.chars().count() > 64 {
            return Err(CorpError::InvalidParameter(
                "alias is longer than 64 characters".into(),
            ));
        }
        if m.department.is_empty() {
            return Err(CorpError::NoDepartment);
        }
        if m.department.len() > MAX_MEMBER_DEPARTMENTS {
            return Err(CorpError::TooManyDepartments(m.department.len()));
        }
        for (i, d) in m.department.iter().enumerate() {
            self.department(*d)?;
            if m.department[..i].contains(d) {
                return Err(CorpError::InvalidParameter(format!(
                    "department {d} is listed twice"
                )));
            }
        }
        if !m.order.is_empty() && m.order.len() != m.department.len() {
            return Err(CorpError::InvalidParameter(format!(
                "order has {} items but department has {}; give one order per department",
                m.order.len(),
                m.department.len()
            )));
        }
        if !m.is_leader_in_dept.is_empty() && m.is_leader_in_dept.len() != m.department.len() {
            return Err(CorpError::LeaderLengthMismatch {
                leaders: m.is_leader_in_dept.len(),
                departments: m.department.len(),
            });
        }
        if m.is_leader_in_dept.iter().any(|v| *v > 1) {
            return Err(CorpError::InvalidParameter(
                "is_leader_in_dept items must be 0 or 1".into(),
            ));
        }
        if let Some(main) = m.main_department
            && !m.department.contains(&main)
        {
            return Err(CorpError::InvalidParameter(format!(
                "main_department {main} is not one of department"
            )));
        }
        if !m.mobile.is_empty() {
            if !is_valid_mobile(&m.mobile) {
                return Err(CorpError::InvalidMobile(m.mobile.clone()));
            }
            if let Some(other) = self.member_by_mobile(&m.mobile)
                && Some(other.userid.to_ascii_lowercase().as_str()) != existing
            {
                return Err(CorpError::MobileExists(m.mobile.clone()));
            }
        }
        for mail in [&m.email, &m.biz_mail] {
            if mail.is_empty() {
                continue;
            }
            if !is_valid_email(mail) {
                return Err(CorpError::InvalidEmail(mail.clone()));
            }
            let clash = self.members.iter().any(|(k, o)| {
                Some(k.as_str()) != existing
                    && (o.email.eq_ignore_ascii_case(mail) || o.biz_mail.eq_ignore_ascii_case(mail))
            });
            if clash {
                return Err(CorpError::EmailExists(mail.clone()));
            }
        }
        if creating && m.mobile.is_empty() && m.email.is_empty() && m.biz_mail.is_empty() {
            return Err(CorpError::NoMobileOrEmail);
        }
        if !matches!(m.gender.as_str(), "" | "0" | "1" | "2") {
            return Err(CorpError::InvalidParameter(format!(
                "gender must be \"1\" or \"2\", got {:?}",
                m.gender
            )));
        }
        if m.position.chars().count() > 128 {
            return Err(CorpError::InvalidParameter(
                "position is longer than 128 characters".into(),
            ));
        }
        if m.address.chars().count() > 128 {
            return Err(CorpError::InvalidParameter(
                "address is longer than 128 characters".into(),
            ));
        }
        if m.telephone.len() > 32
            || !m
                .telephone
                .chars()
                .all(|c| c.is_ascii_digit() || "-+,".contains(c))
        {
            return Err(CorpError::InvalidParameter(format!(
                "invalid telephone {:?}",
                m.telephone
            )));
        }
        if m.direct_leader.len() > 5 {
            return Err(CorpError::InvalidParameter(format!(
                "direct_leader has {} items; at most 5",
                m.direct_leader.len()
            )));
        }
        for leader in &m.direct_leader {
            if !leader.eq_ignore_ascii_case(&m.userid) {
                self.member(leader)?;
            }
        }
        if m.enable > 1 {
            return Err(CorpError::InvalidParameter("enable must be 0 or 1".into()));
        }
        Ok(())
    }

    /// Creates a member (user/create), checking every rule of the reference: userid format (40003)
    /// and uniqueness (60102), name (60112), mobile/email format and uniqueness (60103-60106),
    /// one of them present (60129), 1..20 existing departments (60127, 60110, 60003),
    /// is_leader_in_dept length (60132). A deleted userid can be created again.
    pub fn create_member(&mut self, member: Member) -> Result<(), CorpError> {
        self.check_member(&member, None, true)?;
        self.members
            .insert(member.userid.to_ascii_lowercase(), member);
        Ok(())
    }

    /// Loading path for corp files: a member without mobile or email is accepted.
    pub(super) fn insert_member_unchecked_contact(
        &mut self,
        member: Member,
    ) -> Result<(), CorpError> {
        self.check_member(&member, None, false)?;
        self.members
            .insert(member.userid.to_ascii_lowercase(), member);
        Ok(())
    }

    /// Changes a member (user/update): `f` edits a copy (it may also change `userid`, as
    /// `new_userid` does), the result is checked like a create, then stored. Returns the new state.
    pub fn update_member(
        &mut self,
        userid: &str,
        f: impl FnOnce(&mut Member),
    ) -> Result<&Member, CorpError> {
        let key = userid.to_ascii_lowercase();
        let mut m = self.member(userid)?.clone();
        f(&mut m);
        self.check_member(&m, Some(&key), false)?;
        let new_key = m.userid.to_ascii_lowercase();
        if new_key != key {
            let old_id = self.member(userid)?.userid.clone();
            self.members.remove(&key);
            self.rename_references(&old_id, &m.userid);
        }
        self.members.insert(new_key.clone(), m);
        self.members
            .get(&new_key)
            .ok_or_else(|| CorpError::MemberNotFound(userid.to_owned()))
    }

    fn rename_references(&mut self, old: &str, new: &str) {
        let swap = |list: &mut Vec<String>| {
            for u in list.iter_mut() {
                if u.eq_ignore_ascii_case(old) {
                    *u = new.to_owned();
                }
            }
        };
        for t in self.tags.values_mut() {
            swap(&mut t.users);
        }
        for a in self.apps.values_mut() {
            swap(&mut a.allow_users);
        }
        for d in self.departments.values_mut() {
            swap(&mut d.department_leader);
        }
        for m in self.members.values_mut() {
            swap(&mut m.direct_leader);
        }
    }

    fn forget_references(&mut self, userid: &str) {
        for t in self.tags.values_mut() {
            t.users.retain(|u| !u.eq_ignore_ascii_case(userid));
        }
        for a in self.apps.values_mut() {
            a.allow_users.retain(|u| !u.eq_ignore_ascii_case(userid));
        }
        for d in self.departments.values_mut() {
            d.department_leader
                .retain(|u| !u.eq_ignore_ascii_case(userid));
        }
        for m in self.members.values_mut() {
            m.direct_leader.retain(|u| !u.eq_ignore_ascii_case(userid));
        }
    }

    /// Deletes a member (user/delete); 60111 when missing. The userid may be created again.
    pub fn delete_member(&mut self, userid: &str) -> Result<Member, CorpError> {
        let key = userid.to_ascii_lowercase();
        let m = self
            .members
            .remove(&key)
            .ok_or_else(|| CorpError::MemberNotFound(userid.to_owned()))?;
        self.forget_references(&m.userid);
        Ok(m)
    }

    /// Deletes several members (user/batchdelete): one unknown userid fails the whole call.
    pub fn delete_members(&mut self, userids: &[String]) -> Result<(), CorpError> {
        for u in userids {
            self.member(u)?;
        }
        for u in userids {
            // Listed twice: the second removal finds nothing, which is fine.
            let _ = self.delete_member(u);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn userid_rule() {
        assert!(is_valid_userid("zhangsan"));
        assert!(is_valid_userid("a.b-c_d@e"));
        assert!(!is_valid_userid(""));
        assert!(!is_valid_userid("_x"));
        assert!(!is_valid_userid("张三"));
        assert!(!is_valid_userid(&"a".repeat(65)));
        assert!(is_valid_userid(&"a".repeat(64)));
    }

    #[test]
    fn members_from_resumes_at_a_key() {
        let mut c = Corp::new("ww", "C", "s");
        for id in ["b", "A", "c"] {
            c.create_member(Member::new(id, id, vec![1]).with_email(format!("{id}@example.com")))
                .unwrap();
        }
        let ids = |from: &str| {
            c.members_from(from)
                .map(|m| m.userid.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(""), vec!["A", "b", "c"]);
        assert_eq!(ids("b"), vec!["b", "c"]);
        assert_eq!(ids("bb"), vec!["c"]);
        assert!(ids("d").is_empty());
    }

    #[test]
    fn mobile_and_email_rules() {
        assert!(is_valid_mobile("+86-13800000000"));
        assert!(!is_valid_mobile("138 0000"));
        assert!(!is_valid_mobile("+-"));
        assert!(is_valid_email("a@b.cn"));
        assert!(!is_valid_email("a@bc"));
        assert!(!is_valid_email("no-at-sign.com"));
    }
}
