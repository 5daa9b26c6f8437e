//! Typed errors of directory operations, each with the errcode WeCom answers.

use crate::error::ApiError;

/// A directory operation broke one of WeCom's rules. [`CorpError::errcode`] is what WeCom answers;
/// `From<CorpError> for ApiError` turns it into the wire error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CorpError {
    /// 60003: no such department.
    #[error("department {0} does not exist")]
    DepartmentNotFound(u32),
    /// 60004: the parent department does not exist.
    #[error("parent department {0} does not exist")]
    ParentNotFound(u32),
    /// 60008: the id or the name under that parent is taken.
    #[error("department already exists: {0}")]
    DepartmentExists(String),
    /// 60001: name length.
    #[error("department name must be 1-32 characters, got {0}")]
    DepartmentNameLength(usize),
    /// 60009: name has one of `\:*?"<>|`.
    #[error("department name {0:?} contains one of \\:*?\"<>|")]
    DepartmentNameChars(String),
    /// 60010: moving a department under itself or its subtree.
    #[error("department {id} cannot move under {parent}: that would make a cycle")]
    DepartmentCycle {
        /// The department moved.
        id: u32,
        /// The new parent asked for.
        parent: u32,
    },
    /// 81002: deeper than 15 levels.
    #[error("departments may be at most 15 levels deep; {0} would be deeper")]
    DepartmentTooDeep(u32),
    /// 60123: department id is not valid (0, or 1 for a new department).
    #[error("invalid department id {0}")]
    InvalidDepartmentId(u32),
    /// 60007: the root cannot be deleted.
    #[error("the root department 1 cannot be deleted")]
    DeleteRoot,
    /// 60006: the department has sub-departments.
    #[error("department {0} has sub-departments; delete or move them first")]
    HasChildren(u32),
    /// 60005: the department has members.
    #[error("department {0} has members; move or delete them first")]
    HasMembers(u32),
    /// 40003: userid breaks the format rule.
    #[error("invalid userid {0:?}: 1-64 bytes of [0-9A-Za-z_-@.], starting with a letter or digit")]
    InvalidUserid(String),
    /// 60111: no such member.
    #[error("userid {0} not found")]
    MemberNotFound(String),
    /// 60102: userid taken (case-insensitively).
    #[error("userid {0} already exists")]
    UseridExists(String),
    /// 60112: name length.
    #[error("member name must be 1-64 characters, got {0}")]
    MemberNameLength(usize),
    /// 60103: mobile format.
    #[error("invalid mobile {0:?}: up to 32 characters of digits, + and -")]
    InvalidMobile(String),
    /// 60104: mobile taken.
    #[error("mobile {0} is already used by another member")]
    MobileExists(String),
    /// 60105: email format.
    #[error("invalid email {0:?}: 6-64 bytes with an @")]
    InvalidEmail(String),
    /// 60106: email taken.
    #[error("email {0} is already used by another member")]
    EmailExists(String),
    /// 60129: neither mobile nor email.
    #[error("a member needs a mobile or an email")]
    NoMobileOrEmail,
    /// 60127: no department.
    #[error("a member needs at least one department")]
    NoDepartment,
    /// 60110: more than 20 departments.
    #[error("a member belongs to at most 20 departments, got {0}")]
    TooManyDepartments(usize),
    /// 60132: is_leader_in_dept length differs from department.
    #[error("is_leader_in_dept has {leaders} items but department has {departments}")]
    LeaderLengthMismatch {
        /// Items in is_leader_in_dept.
        leaders: usize,
        /// Items in department.
        departments: usize,
    },
    /// 40058: order length differs from department, or another field is bad.
    #[error("invalid parameter: {0}")]
    InvalidParameter(String),
    /// 40068: no such tag (or the id is taken on create).
    #[error("invalid tagid {0}")]
    InvalidTag(u32),
    /// 40071: tag name taken or empty.
    #[error("tag name {0:?} is invalid or already used")]
    TagNameExists(String),
    /// 40072: tag name length.
    #[error("tag name must be 1-32 characters, got {0}")]
    TagNameLength(usize),
    /// 40126: 3000 tags already.
    #[error("a corp has at most 3000 tags")]
    TooManyTags,
    /// 81011: only the tag's creator may change it.
    #[error("tag {0} was created by another app; only its creator may change it")]
    NotTagOwner(u32),
    /// 40070: every member and department added to a tag was invalid.
    #[error("every userid and department given is invalid")]
    AllTagItemsInvalid,
    /// 40031: every member and department removed from a tag was invalid.
    #[error("every userid and department given is invalid")]
    AllTagRemovalsInvalid,
    /// 40056: no such app.
    #[error("invalid agentid {0}")]
    InvalidAgent(u32),
    /// 60011: outside the caller's visible scope.
    #[error("{0} is outside the app's visible scope")]
    OutOfScope(String),
    /// 82001: no recipient at all.
    #[error("touser, toparty and totag are all empty")]
    NoRecipient,
    /// 81013: every recipient invalid or outside the scope.
    #[error("every userid, department and tag is invalid or outside the app's visible scope")]
    AllRecipientsInvalid,
}

impl CorpError {
    /// The errcode WeCom answers for this mistake.
    pub fn errcode(&self) -> i64 {
        match self {
            CorpError::DepartmentNotFound(_) => 60003,
            CorpError::ParentNotFound(_) => 60004,
            CorpError::DepartmentExists(_) => 60008,
            CorpError::DepartmentNameLength(_) => 60001,
            CorpError::DepartmentNameChars(_) => 60009,
            CorpError::DepartmentCycle { .. } => 60010,
            CorpError::DepartmentTooDeep(_) => 81002,
            CorpError::InvalidDepartmentId(_) => 60123,
            CorpError::DeleteRoot => 60007,
            CorpError::HasChildren(_) => 60006,
            CorpError::HasMembers(_) => 60005,
            CorpError::InvalidUserid(_) => 40003,
            CorpError::MemberNotFound(_) => 60111,
            CorpError::UseridExists(_) => 60102,
            CorpError::MemberNameLength(_) => 60112,
            CorpError::InvalidMobile(_) => 60103,
            CorpError::MobileExists(_) => 60104,
            CorpError::InvalidEmail(_) => 60105,
            CorpError::EmailExists(_) => 60106,
            CorpError::NoMobileOrEmail => 60129,
            CorpError::NoDepartment => 60127,
            CorpError::TooManyDepartments(_) => 60110,
            CorpError::LeaderLengthMismatch { .. } => 60132,
            CorpError::InvalidParameter(_) => 40058,
            CorpError::InvalidTag(_) => 40068,
            CorpError::TagNameExists(_) => 40071,
            CorpError::TagNameLength(_) => 40072,
            CorpError::TooManyTags => 40126,
            CorpError::NotTagOwner(_) => 81011,
            CorpError::AllTagItemsInvalid => 40070,
            CorpError::AllTagRemovalsInvalid => 40031,
            CorpError::InvalidAgent(_) => 40056,
            CorpError::OutOfScope(_) => 60011,
            CorpError::NoRecipient => 82001,
            CorpError::AllRecipientsInvalid => 81013,
        }
    }
}

impl From<CorpError> for ApiError {
    fn from(e: CorpError) -> Self {
        ApiError::new(e.errcode(), e.to_string())
    }
}
