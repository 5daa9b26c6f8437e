//! Department operations.

use super::{Corp, CorpError, Department, MAX_DEPTH};

/// Checks a department name (pages 90341 / 90206, 2023/08/15): 1-64 characters without `\:*?"<>|`.
pub(super) fn check_name(name: &str) -> Result<(), CorpError> {
    let n = name.chars().count();
    if n == 0 || n > 64 {
        return Err(CorpError::DepartmentNameLength(n));
    }
    if name.chars().any(|c| "\\:*?\"<>|".contains(c)) {
        return Err(CorpError::DepartmentNameChars(name.to_owned()));
    }
    Ok(())
}

impl Corp {
    /// One department; 60003 when missing.
    pub fn department(&self, id: u32) -> Result<&Department, CorpError> {
        self.departments
            .get(&id)
            .ok_or(CorpError::DepartmentNotFound(id))
    }

    /// Every department, by id.
    pub fn departments(&self) -> impl Iterator<Item = &Department> {
        self.departments.values()
    }

    /// The direct children of a department, in WeCom's order (larger `order` first, then id).
    pub fn children(&self, id: u32) -> Vec<&Department> {
        let mut v: Vec<&Department> = self
            .departments
            .values()
            .filter(|d| d.parentid == id && d.id != id)
            .collect();
        v.sort_by(|a, b| b.order.cmp(&a.order).then(a.id.cmp(&b.id)));
        v
    }

    /// A department and its whole subtree, parents before children (what department/list answers).
    pub fn subtree(&self, id: u32) -> Result<Vec<&Department>, CorpError> {
        let root = self.department(id)?;
        let mut out = vec![root];
        let mut i = 0;
        while i < out.len() {
            let children = self.children(out[i].id);
            out.extend(children);
            i += 1;
        }
        Ok(out)
    }

    /// Level of a department: the root is 1.
    pub fn depth(&self, id: u32) -> u32 {
        let mut depth = 0;
        let mut cur = id;
        // Bounded: the tree is acyclic by construction, the bound only guards against a bug.
        while let Some(d) = self.departments.get(&cur) {
            depth += 1;
            if d.parentid == 0 || depth > MAX_DEPTH + 1 {
                break;
            }
            cur = d.parentid;
        }
        depth
    }

    /// Levels below and including `id` (a leaf has height 1).
    fn height(&self, id: u32) -> u32 {
        let children = self.children(id);
        1 + children
            .iter()
            .map(|c| self.height(c.id))
            .max()
            .unwrap_or(0)
    }

    /// Whether `id` is `ancestor` or lies under it.
    pub fn is_under(&self, id: u32, ancestor: u32) -> bool {
        let mut cur = id;
        for _ in 0..=MAX_DEPTH + 1 {
            if cur == ancestor {
                return true;
            }
            match self.departments.get(&cur) {
                Some(d) if d.parentid != 0 => cur = d.parentid,
                _ => return false,
            }
        }
        false
    }

    fn check_sibling_name(&self, name: &str, parentid: u32, except: u32) -> Result<(), CorpError> {
        if self
            .departments
            .values()
            .any(|d| d.parentid == parentid && d.id != except && d.name == name)
        {
            return Err(CorpError::DepartmentExists(format!(
                "a department named {name:?} is already under {parentid}"
            )));
        }
        Ok(())
    }

    /// Creates a department (department/create) and returns its id. `id` picks the id (> 1),
    /// otherwise the next free one is used.
    ///
    /// Errors: 60001/60009 bad name, 60004 no parent, 60008 id or sibling name taken,
    /// 60123 id 0 or 1, 81002 deeper than 15 levels.
    pub fn create_department(
        &mut self,
        name: &str,
        name_en: &str,
        parentid: u32,
        order: u32,
        id: Option<u32>,
    ) -> Result<u32, CorpError> {
        check_name(name)?;
        if !self.departments.contains_key(&parentid) {
            return Err(CorpError::ParentNotFound(parentid));
        }
        let id = match id {
            Some(id) if id <= 1 => return Err(CorpError::InvalidDepartmentId(id)),
            Some(id) if self.departments.contains_key(&id) => {
                return Err(CorpError::DepartmentExists(format!("id {id} is taken")));
            }
            Some(id) => id,
            None => self
                .departments
                .keys()
                .next_back()
                .copied()
                .unwrap_or(1)
                .saturating_add(1),
        };
        if self.depth(parentid) + 1 > MAX_DEPTH {
            return Err(CorpError::DepartmentTooDeep(id));
        }
        self.check_sibling_name(name, parentid, id)?;
        let mut d = Department::new(id, name, parentid);
        d.name_en = name_en.to_owned();
        d.order = order;
        self.departments.insert(id, d);
        Ok(id)
    }

    /// Changes a department (department/update). `None` leaves a field as it is.
    ///
    /// Errors: 60003 missing, 60004 new parent missing, 60010 cycle, 81002 too deep,
    /// 60008 sibling name taken, 60001/60009 bad name.
    pub fn update_department(
        &mut self,
        id: u32,
        name: Option<&str>,
        name_en: Option<&str>,
        parentid: Option<u32>,
        order: Option<u32>,
    ) -> Result<(), CorpError> {
        let current = self.department(id)?.clone();
        let new_parent = parentid.unwrap_or(current.parentid);
        if id == 1 && new_parent != 0 {
            return Err(CorpError::DepartmentCycle {
                id,
                parent: new_parent,
            });
        }
        if new_parent != current.parentid {
            if !self.departments.contains_key(&new_parent) {
                return Err(CorpError::ParentNotFound(new_parent));
            }
            if self.is_under(new_parent, id) {
                return Err(CorpError::DepartmentCycle {
                    id,
                    parent: new_parent,
                });
            }
            if self.depth(new_parent) + self.height(id) > MAX_DEPTH {
                return Err(CorpError::DepartmentTooDeep(id));
            }
        }
        let new_name = name.unwrap_or(&current.name).to_owned();
        check_name(&new_name)?;
        if id != 1 {
            self.check_sibling_name(&new_name, new_parent, id)?;
        }
        let d = self
            .departments
            .get_mut(&id)
            .ok_or(CorpError::DepartmentNotFound(id))?;
        d.name = new_name;
        if let Some(n) = name_en {
            d.name_en = n.to_owned();
        }
        d.parentid = new_parent;
        if let Some(o) = order {
            d.order = o;
        }
        Ok(())
    }

    /// Deletes an empty department (department/delete).
    ///
    /// Errors: 60007 root, 60003 missing, 60006 has children, 60005 has members.
    pub fn delete_department(&mut self, id: u32) -> Result<(), CorpError> {
        if id == 1 {
            return Err(CorpError::DeleteRoot);
        }
        self.department(id)?;
        if self.departments.values().any(|d| d.parentid == id) {
            return Err(CorpError::HasChildren(id));
        }
        if self.members.values().any(|m| m.department.contains(&id)) {
            return Err(CorpError::HasMembers(id));
        }
        self.departments.remove(&id);
        for t in self.tags.values_mut() {
            t.parties.retain(|p| *p != id);
        }
        for a in self.apps.values_mut() {
            a.allow_parties.retain(|p| *p != id);
        }
        Ok(())
    }
}
