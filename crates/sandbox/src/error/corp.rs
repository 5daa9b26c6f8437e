//! Typed errors of directory operations ([`crate::corp`]), each with the errcode WeCom answers.
//! They live with the other errors so that `error` depends on nothing else in the crate.

use wecom_core_auth::ErrorCode;

use super::ApiError;

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
    #[error("department name must be 1-64 characters, got {0}")]
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
    /// 60110: more than 100 departments.
    #[error("a member belongs to at most 100 departments, got {0}")]
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
        self.error_code().code()
    }

    /// The errcode WeCom answers for this mistake, as the generated constant (codes that
    /// `spec/errcodes.toml` does not list yet are built from their number).
    pub fn error_code(&self) -> ErrorCode {
        match self {
            CorpError::DepartmentNotFound(_) => ErrorCode::DEPARTMENT_NOT_FOUND,
            CorpError::ParentNotFound(_) => ErrorCode::new(60004), // not in spec/errcodes.toml
            CorpError::DepartmentExists(_) => ErrorCode::new(60008), // not in spec/errcodes.toml
            CorpError::DepartmentNameLength(_) => ErrorCode::new(60001), // not in spec/errcodes.toml
            CorpError::DepartmentNameChars(_) => ErrorCode::new(60009), // not in spec/errcodes.toml
            CorpError::DepartmentCycle { .. } => ErrorCode::DEPARTMENT_CYCLE,
            CorpError::DepartmentTooDeep(_) => ErrorCode::new(81002), // not in spec/errcodes.toml
            CorpError::InvalidDepartmentId(_) => ErrorCode::new(60123), // not in spec/errcodes.toml
            CorpError::DeleteRoot => ErrorCode::CANNOT_DELETE_ROOT_DEPARTMENT,
            CorpError::HasChildren(_) => ErrorCode::DEPARTMENT_HAS_CHILDREN,
            CorpError::HasMembers(_) => ErrorCode::DEPARTMENT_HAS_MEMBERS,
            CorpError::InvalidUserid(_) => ErrorCode::INVALID_USERID,
            CorpError::MemberNotFound(_) => ErrorCode::USERID_NOT_FOUND,
            CorpError::UseridExists(_) => ErrorCode::USERID_EXISTS,
            CorpError::MemberNameLength(_) => ErrorCode::new(60112), // not in spec/errcodes.toml
            CorpError::InvalidMobile(_) => ErrorCode::new(60103),    // not in spec/errcodes.toml
            CorpError::MobileExists(_) => ErrorCode::MOBILE_EXISTS,
            CorpError::InvalidEmail(_) => ErrorCode::new(60105), // not in spec/errcodes.toml
            CorpError::EmailExists(_) => ErrorCode::new(60106),  // not in spec/errcodes.toml
            CorpError::NoMobileOrEmail => ErrorCode::MOBILE_AND_EMAIL_EMPTY,
            CorpError::NoDepartment => ErrorCode::new(60127), // not in spec/errcodes.toml
            CorpError::TooManyDepartments(_) => ErrorCode::TOO_MANY_DEPARTMENTS,
            CorpError::LeaderLengthMismatch { .. } => ErrorCode::LEADER_FLAGS_MISMATCH,
            CorpError::InvalidParameter(_) => ErrorCode::INVALID_PARAMETER,
            CorpError::InvalidTag(_) => ErrorCode::new(40068), // not in spec/errcodes.toml
            CorpError::TagNameExists(_) => ErrorCode::new(40071), // not in spec/errcodes.toml
            CorpError::TagNameLength(_) => ErrorCode::new(40072), // not in spec/errcodes.toml
            CorpError::TooManyTags => ErrorCode::new(40126),   // not in spec/errcodes.toml
            CorpError::NotTagOwner(_) => ErrorCode::new(81011), // not in spec/errcodes.toml
            CorpError::AllTagItemsInvalid => ErrorCode::ALL_TAG_TARGETS_INVALID,
            CorpError::AllTagRemovalsInvalid => ErrorCode::INVALID_USERID_LIST,
            CorpError::InvalidAgent(_) => ErrorCode::INVALID_AGENTID,
            CorpError::OutOfScope(_) => ErrorCode::NO_PRIVILEGE,
            CorpError::NoRecipient => ErrorCode::NO_RECIPIENT,
            CorpError::AllRecipientsInvalid => ErrorCode::ALL_RECIPIENTS_INVALID,
        }
    }
}

impl From<CorpError> for ApiError {
    fn from(e: CorpError) -> Self {
        ApiError::new(e.errcode(), e.to_string())
    }
}
