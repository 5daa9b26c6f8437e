//! Tag operations.

use super::{Actor, Corp, CorpError, MAX_TAGS, Tag};

/// What tag/addtagusers and tag/deltagusers answer on partial failure.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TagItemsResult {
    /// Userids that were not valid (`invalidlist`, joined with `|` on the wire).
    pub invalid_users: Vec<String>,
    /// Department ids that were not valid (`invalidparty`).
    pub invalid_parties: Vec<u32>,
}

impl TagItemsResult {
    /// Of the `users` and `parties` asked for, the ones that were applied (not invalid).
    pub fn applied(&self, users: &[String], parties: &[u32]) -> (Vec<String>, Vec<u32>) {
        let users = users
            .iter()
            .filter(|u| !self.invalid_users.contains(u))
            .cloned()
            .collect();
        let parties = parties
            .iter()
            .filter(|p| !self.invalid_parties.contains(p))
            .copied()
            .collect();
        (users, parties)
    }
}

fn check_tag_name(name: &str) -> Result<(), CorpError> {
    let n = name.chars().count();
    if n == 0 || n > 32 {
        return Err(CorpError::TagNameLength(n));
    }
    Ok(())
}

impl Corp {
    /// Every tag, by id.
    pub fn tags(&self) -> impl Iterator<Item = &Tag> {
        self.tags.values()
    }

    /// One tag; 40068 when missing.
    pub fn tag(&self, tagid: u32) -> Result<&Tag, CorpError> {
        self.tags.get(&tagid).ok_or(CorpError::InvalidTag(tagid))
    }

    /// Whether `actor` may change this tag: only its creator may (81011 otherwise).
    pub fn check_tag_owner(&self, tagid: u32, actor: Actor) -> Result<&Tag, CorpError> {
        let tag = self.tag(tagid)?;
        let owner_ok = match (tag.creator, actor) {
            (None, Actor::Contact) => true,
            (Some(a), Actor::App(b)) => a == b,
            _ => false,
        };
        if owner_ok {
            Ok(tag)
        } else {
            Err(CorpError::NotTagOwner(tagid))
        }
    }

    /// Creates a tag (tag/create) and returns its id; `creator` is the app creating it
    /// (`None` for the contact-sync secret).
    ///
    /// Errors: 40072 name length, 40071 name taken, 40068 id taken, 40126 too many tags.
    pub fn create_tag(
        &mut self,
        tagname: &str,
        tagid: Option<u32>,
        creator: Option<u32>,
    ) -> Result<u32, CorpError> {
        check_tag_name(tagname)?;
        if self.tags.values().any(|t| t.tagname == tagname) {
            return Err(CorpError::TagNameExists(tagname.to_owned()));
        }
        if self.tags.len() >= MAX_TAGS {
            return Err(CorpError::TooManyTags);
        }
        if let Some(a) = creator {
            self.app(a)?;
        }
        let id = match tagid {
            Some(id) if self.tags.contains_key(&id) => return Err(CorpError::InvalidTag(id)),
            Some(id) => id,
            None => self
                .tags
                .keys()
                .next_back()
                .map_or(1, |k| k.saturating_add(1)),
        };
        self.tags.insert(
            id,
            Tag {
                tagid: id,
                tagname: tagname.to_owned(),
                creator,
                users: Vec::new(),
                parties: Vec::new(),
            },
        );
        Ok(id)
    }

    /// Renames a tag (tag/update); only its creator may.
    pub fn rename_tag(&mut self, tagid: u32, tagname: &str, actor: Actor) -> Result<(), CorpError> {
        self.check_tag_owner(tagid, actor)?;
        check_tag_name(tagname)?;
        if self
            .tags
            .values()
            .any(|t| t.tagname == tagname && t.tagid != tagid)
        {
            return Err(CorpError::TagNameExists(tagname.to_owned()));
        }
        if let Some(t) = self.tags.get_mut(&tagid) {
            t.tagname = tagname.to_owned();
        }
        Ok(())
    }

    /// Deletes a tag (tag/delete); only its creator may.
    pub fn delete_tag(&mut self, tagid: u32, actor: Actor) -> Result<Tag, CorpError> {
        self.check_tag_owner(tagid, actor)?;
        for a in self.apps.values_mut() {
            a.allow_tags.retain(|t| *t != tagid);
        }
        self.tags.remove(&tagid).ok_or(CorpError::InvalidTag(tagid))
    }

    /// Adds members and departments to a tag (tag/addtagusers). Unknown ones, and for an app
    /// those outside its visible scope, are returned as invalid; when every one given is invalid
    /// the call fails with 40070.
    pub fn add_tag_items(
        &mut self,
        tagid: u32,
        actor: Actor,
        users: &[String],
        parties: &[u32],
    ) -> Result<TagItemsResult, CorpError> {
        self.check_tag_owner(tagid, actor)?;
        let scope = self.scope(actor);
        let mut result = TagItemsResult::default();
        let mut good_users = Vec::new();
        for u in users {
            match self.member(u) {
                Ok(m) if scope.contains_user(&m.userid) => good_users.push(m.userid.clone()),
                _ => result.invalid_users.push(u.clone()),
            }
        }
        let mut good_parties = Vec::new();
        for p in parties {
            if self.departments.contains_key(p) && scope.contains_department(*p) {
                good_parties.push(*p);
            } else {
                result.invalid_parties.push(*p);
            }
        }
        if good_users.is_empty() && good_parties.is_empty() {
            return Err(CorpError::AllTagItemsInvalid);
        }
        if let Some(t) = self.tags.get_mut(&tagid) {
            for u in good_users {
                if !t.users.iter().any(|x| x.eq_ignore_ascii_case(&u)) {
                    t.users.push(u);
                }
            }
            for p in good_parties {
                if !t.parties.contains(&p) {
                    t.parties.push(p);
                }
            }
        }
        Ok(result)
    }

    /// Removes members and departments from a tag (tag/deltagusers). Ones not in the tag are
    /// returned as invalid; when every one given is invalid the call fails with 40031.
    pub fn remove_tag_items(
        &mut self,
        tagid: u32,
        actor: Actor,
        users: &[String],
        parties: &[u32],
    ) -> Result<TagItemsResult, CorpError> {
        let tag = self.check_tag_owner(tagid, actor)?.clone();
        let mut result = TagItemsResult::default();
        let mut drop_users = Vec::new();
        for u in users {
            if tag.users.iter().any(|x| x.eq_ignore_ascii_case(u)) {
                drop_users.push(u.to_ascii_lowercase());
            } else {
                result.invalid_users.push(u.clone());
            }
        }
        let mut drop_parties = Vec::new();
        for p in parties {
            if tag.parties.contains(p) {
                drop_parties.push(*p);
            } else {
                result.invalid_parties.push(*p);
            }
        }
        if drop_users.is_empty() && drop_parties.is_empty() {
            return Err(CorpError::AllTagRemovalsInvalid);
        }
        if let Some(t) = self.tags.get_mut(&tagid) {
            t.users
                .retain(|u| !drop_users.contains(&u.to_ascii_lowercase()));
            t.parties.retain(|p| !drop_parties.contains(p));
        }
        Ok(result)
    }
}
