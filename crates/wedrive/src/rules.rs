//! The rules of the 微盘 and 文档 pages that field constraints cannot say. The spec names each
//! function (`check = "crate::rules::..."`), so the generated `validate()` runs it: before any
//! request leaves the client, and in the sandbox.
//!
//! - File names: "文件名最多填255个字符, 英文算1个, 汉字算2个": at most 255 with ASCII counting 1
//!   and anything else 2 ([`weighted_len`]).
//! - Place of an upload: `spaceid` + `fatherid`, or `selected_ticket`, "必须填且仅填其中一组参数".
//! - Space members: a person names a `userid`, a department a `departmentid`; administrators
//!   (auth 7) are people only, at most 3 ("最多可指定3个,不支持设置部门").
//! - Whole uploads: "文件大小上限为10M"; blocks: 2 MB ("分块大小固定为2M"), one hash per block.
//! - 文档: `docid` or `formid`, "只能填其中一个"; with `spaceid`, `fatherid` "也要同时指定".
//!
//! The pages name no errcode for these rules, so the errors carry none.

use wecom_core_auth::InvalidInput;

use crate::blocks::{BLOCK_SIZE, block_count};
use crate::generated::wedrive::{
    CreateDocRequest, DelDocRequest, DocShareRequest, FileCreateRequest, FileDownloadRequest,
    FileRenameRequest, FileUploadInitRequest, FileUploadPartRequest, FileUploadRequest, MemberType,
    RenameDocRequest, SpaceAclAddRequest, SpaceAuth, SpaceCreateRequest, SpaceMember,
};

/// The longest file name, in weighted characters.
pub const NAME_MAX: usize = 255;
/// The largest file `file_upload` takes whole: 10 MB (the page's "10M", read as 10 × 2^20 bytes).
pub const WHOLE_MAX: u64 = 10 * 1024 * 1024;
/// At most this many space administrators.
pub const ADMINS_MAX: usize = 3;

/// A name's length as the pages count it: ASCII characters 1, any other character 2.
pub fn weighted_len(name: &str) -> usize {
    name.chars().map(|c| if c.is_ascii() { 1 } else { 2 }).sum()
}

/// Checks a file name: not empty, at most 255 weighted characters.
pub fn check_name(field: &str, name: &str) -> Result<(), InvalidInput> {
    let n = weighted_len(name);
    if name.is_empty() {
        return Err(InvalidInput::new(field, "the name is empty"));
    }
    if n > NAME_MAX {
        return Err(InvalidInput::new(
            field,
            format!(
                "`{name}` counts {n}; a 微盘 name may count at most {NAME_MAX} (ASCII characters count 1, others such as 汉字 count 2): shorten it"
            ),
        ));
    }
    Ok(())
}

/// The place of an upload: `spaceid` + `fatherid`, or `selected_ticket`, exactly one of the two.
fn check_place(
    spaceid: Option<&str>,
    fatherid: Option<&str>,
    selected_ticket: Option<&str>,
) -> Result<(), InvalidInput> {
    match (spaceid, fatherid, selected_ticket) {
        (Some(_), Some(_), None) | (None, None, Some(_)) => Ok(()),
        (_, _, Some(_)) => Err(InvalidInput::new(
            "selected_ticket",
            "give `spaceid` + `fatherid` or `selected_ticket`, not both",
        )),
        (None, None, None) => Err(InvalidInput::new(
            "spaceid",
            "say where the file goes: `spaceid` and `fatherid` (the spaceid for the root), or the `selected_ticket` of the 微盘 file picker",
        )),
        (Some(_), None, None) => Err(InvalidInput::new(
            "fatherid",
            "`spaceid` needs `fatherid` too (the spaceid itself for the space's root)",
        )),
        (None, Some(_), None) => Err(InvalidInput::new(
            "spaceid",
            "`fatherid` needs `spaceid` too",
        )),
    }
}

/// Bytes a base64 text decodes to (standard alphabet, padded), without decoding it.
pub fn base64_decoded_len(text: &str) -> u64 {
    let t = text.trim_end();
    let pad = t.bytes().rev().take_while(|b| *b == b'=').count() as u64;
    let len = t.len() as u64;
    (len / 4 * 3 + (len % 4).saturating_sub(1)).saturating_sub(pad)
}

fn check_content(field: &str, text: &str, max: u64, what: &str) -> Result<(), InvalidInput> {
    if text.starts_with("data:") {
        return Err(InvalidInput::new(
            field,
            "send the base64 of the content only, without a `data:...;base64,` prefix",
        ));
    }
    let n = base64_decoded_len(text);
    if n > max {
        return Err(InvalidInput::new(
            field,
            format!("the content is {n} bytes; {what} may be at most {max} bytes"),
        ));
    }
    Ok(())
}

fn check_members(members: &[SpaceMember]) -> Result<(), InvalidInput> {
    let mut admins = 0;
    for (i, m) in members.iter().enumerate() {
        let at = format!("auth_info[{i}]");
        match m.member_type {
            MemberType::User if m.userid.is_none() => {
                return Err(InvalidInput::new(
                    format!("{at}.userid"),
                    "a person (type 1) needs a `userid`",
                ));
            }
            MemberType::Department if m.departmentid.is_none() => {
                return Err(InvalidInput::new(
                    format!("{at}.departmentid"),
                    "a department (type 2) needs a `departmentid`",
                ));
            }
            _ => {}
        }
        if m.auth == SpaceAuth::Admin {
            if m.member_type == MemberType::Department {
                return Err(InvalidInput::new(
                    format!("{at}.auth"),
                    "a department cannot administer a space (auth 7 is for people only)",
                ));
            }
            admins += 1;
        }
    }
    if admins > ADMINS_MAX {
        return Err(InvalidInput::new(
            "auth_info",
            format!("{admins} administrators (auth 7); a space has at most {ADMINS_MAX}"),
        ));
    }
    Ok(())
}

/// `space_create`: its members ([`check_members`] rules).
pub fn check_space_create(r: &SpaceCreateRequest) -> Result<(), InvalidInput> {
    check_members(&r.auth_info)
}

/// `space_acl_add`: its members; auth 1 or 7 only (4, preview, is not offered for adding).
pub fn check_space_acl_add(r: &SpaceAclAddRequest) -> Result<(), InvalidInput> {
    for (i, m) in r.auth_info.iter().enumerate() {
        if !matches!(m.auth, SpaceAuth::DownloadOnly | SpaceAuth::Admin) {
            return Err(InvalidInput::new(
                format!("auth_info[{i}].auth"),
                format!(
                    "auth {} cannot be given here: 1 (download only) or 7 (administrator)",
                    m.auth.code()
                ),
            ));
        }
    }
    check_members(&r.auth_info)
}

/// `file_upload`: the place, the name, and at most 10 MB of content.
pub fn check_file_upload(r: &FileUploadRequest) -> Result<(), InvalidInput> {
    check_place(
        r.spaceid.as_deref(),
        r.fatherid.as_deref(),
        r.selected_ticket.as_deref(),
    )?;
    check_name("file_name", &r.file_name)?;
    check_content(
        "file_base64_content",
        &r.file_base64_content,
        WHOLE_MAX,
        "a whole upload (file_upload; use the block upload above 10 MB)",
    )
}

/// `file_upload_init`: the place, the name, and one hash per 2 MB block of `size`.
pub fn check_upload_init(r: &FileUploadInitRequest) -> Result<(), InvalidInput> {
    check_place(
        r.spaceid.as_deref(),
        r.fatherid.as_deref(),
        r.selected_ticket.as_deref(),
    )?;
    check_name("file_name", &r.file_name)?;
    let want = block_count(r.size);
    if r.block_sha.len() as u64 != want {
        return Err(InvalidInput::new(
            "block_sha",
            format!(
                "{} hashes for a file of {} bytes; it has {want} blocks of 2 MB, one hash each (compute them with blocks::BlockHashes)",
                r.block_sha.len(),
                r.size
            ),
        ));
    }
    Ok(())
}

/// `file_upload_part`: a block of at most 2 MB.
pub fn check_upload_part(r: &FileUploadPartRequest) -> Result<(), InvalidInput> {
    check_content(
        "file_base64_content",
        &r.file_base64_content,
        BLOCK_SIZE,
        "a block",
    )
}

/// `file_download`: `fileid` or `selected_ticket`, not both.
pub fn check_file_download(r: &FileDownloadRequest) -> Result<(), InvalidInput> {
    if r.fileid.is_some() && r.selected_ticket.is_some() {
        return Err(InvalidInput::new(
            "selected_ticket",
            "give `fileid` or `selected_ticket`, not both",
        ));
    }
    Ok(())
}

/// `file_create`: the name.
pub fn check_file_create(r: &FileCreateRequest) -> Result<(), InvalidInput> {
    check_name("file_name", &r.file_name)
}

/// `file_rename`: the new name.
pub fn check_file_rename(r: &FileRenameRequest) -> Result<(), InvalidInput> {
    check_name("new_name", &r.new_name)
}

/// `create_doc`: with `spaceid`, `fatherid` too.
pub fn check_create_doc(r: &CreateDocRequest) -> Result<(), InvalidInput> {
    if r.spaceid.is_some() && r.fatherid.is_none() {
        return Err(InvalidInput::new(
            "fatherid",
            "with `spaceid`, name the folder too: `fatherid` (the spaceid for the root)",
        ));
    }
    Ok(())
}

fn one_of_doc_form(docid: Option<&str>, formid: Option<&str>) -> Result<(), InvalidInput> {
    match (docid, formid) {
        (Some(_), None) | (None, Some(_)) => Ok(()),
        (Some(_), Some(_)) => Err(InvalidInput::new(
            "formid",
            "give `docid` or `formid`, not both",
        )),
        (None, None) => Err(InvalidInput::new(
            "docid",
            "name the document (`docid`) or the form (`formid`)",
        )),
    }
}

/// `rename_doc`: `docid` or `formid`, exactly one.
pub fn check_doc_or_form(r: &RenameDocRequest) -> Result<(), InvalidInput> {
    one_of_doc_form(r.docid.as_deref(), r.formid.as_deref())
}

/// `del_doc`: `docid` or `formid`, exactly one.
pub fn check_del_doc(r: &DelDocRequest) -> Result<(), InvalidInput> {
    one_of_doc_form(r.docid.as_deref(), r.formid.as_deref())
}

/// `doc_share`: `docid` or `formid`, exactly one.
pub fn check_doc_share(r: &DocShareRequest) -> Result<(), InvalidInput> {
    one_of_doc_form(r.docid.as_deref(), r.formid.as_deref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_count_ascii_one_and_others_two() {
        assert_eq!(weighted_len("report.pdf"), 10);
        assert_eq!(weighted_len("报告.pdf"), 8);
        assert!(check_name("n", &"a".repeat(255)).is_ok());
        assert!(check_name("n", &"a".repeat(256)).is_err());
        // 128 汉字 count 256: too long although only 128 characters.
        let e = check_name("n", &"报".repeat(128)).err().map(|e| e.problem);
        assert!(e.is_some_and(|p| p.contains("256")));
        assert!(check_name("n", &"报".repeat(127)).is_ok());
        assert!(check_name("n", "").is_err());
    }

    #[test]
    fn an_upload_names_one_place() {
        let r = |s: Option<&str>, f: Option<&str>, t: Option<&str>| {
            let mut r = FileUploadRequest::new("a.txt", "YWJj");
            r.spaceid = s.map(str::to_owned);
            r.fatherid = f.map(str::to_owned);
            r.selected_ticket = t.map(str::to_owned);
            check_file_upload(&r).err().map(|e| e.field)
        };
        assert_eq!(r(Some("s"), Some("s"), None), None);
        assert_eq!(r(None, None, Some("t")), None);
        assert_eq!(r(None, None, None).as_deref(), Some("spaceid"));
        assert_eq!(r(Some("s"), None, None).as_deref(), Some("fatherid"));
        assert_eq!(
            r(Some("s"), Some("s"), Some("t")).as_deref(),
            Some("selected_ticket")
        );
    }

    #[test]
    fn base64_lengths() {
        assert_eq!(base64_decoded_len(""), 0);
        assert_eq!(base64_decoded_len("YQ=="), 1);
        assert_eq!(base64_decoded_len("YWI="), 2);
        assert_eq!(base64_decoded_len("YWJj"), 3);
        assert_eq!(base64_decoded_len("YWJjZA=="), 4);
        let mut r = FileUploadPartRequest::new("k", 1, "A".repeat(2_796_204));
        assert!(
            check_upload_part(&r).is_err(),
            "2,097,153 bytes is over a block"
        );
        r.file_base64_content = "A".repeat(2_796_200);
        assert!(check_upload_part(&r).is_ok());
    }

    #[test]
    fn init_needs_one_hash_per_block() {
        let mut r = FileUploadInitRequest::new("a.bin", BLOCK_SIZE + 1, vec!["0".repeat(40)]);
        r.spaceid = Some("s".into());
        r.fatherid = Some("s".into());
        let e = check_upload_init(&r).err().map(|e| e.problem);
        assert!(e.is_some_and(|p| p.contains("2 blocks")));
        r.block_sha.push("1".repeat(40));
        assert!(check_upload_init(&r).is_ok());
    }

    #[test]
    fn administrators_are_people_and_at_most_three() {
        let admin = |u: &str| SpaceMember::new(MemberType::User, SpaceAuth::Admin).userid(u);
        let four: Vec<_> = ["a", "b", "c", "d"].into_iter().map(admin).collect();
        assert!(check_space_create(&SpaceCreateRequest::new("s").auth_info(four.clone())).is_err());
        assert!(
            check_space_create(&SpaceCreateRequest::new("s").auth_info(four[..3].to_vec())).is_ok()
        );
        let dept = SpaceMember::new(MemberType::Department, SpaceAuth::Admin).departmentid(2);
        assert!(check_space_create(&SpaceCreateRequest::new("s").auth_info(vec![dept])).is_err());
        let nouser = SpaceMember::new(MemberType::User, SpaceAuth::DownloadOnly);
        assert!(check_space_create(&SpaceCreateRequest::new("s").auth_info(vec![nouser])).is_err());
        let preview = SpaceMember::new(MemberType::User, SpaceAuth::PreviewOnly).userid("a");
        assert!(check_space_acl_add(&SpaceAclAddRequest::new("s", vec![preview])).is_err());
    }

    #[test]
    fn docs_name_a_doc_or_a_form() {
        assert!(check_del_doc(&DelDocRequest::new()).is_err());
        assert!(check_del_doc(&DelDocRequest::new().docid("d")).is_ok());
        assert!(check_del_doc(&DelDocRequest::new().docid("d").formid("f")).is_err());
        assert!(
            check_create_doc(&CreateDocRequest::new(crate::DocType::Doc, "x").spaceid("s"))
                .is_err()
        );
    }
}
