//! The batch engine behind batch/syncuser, batch/replaceuser and batch/replaceparty: reads the
//! uploaded CSV (the `csv` crate), applies it row by row in a background task as WeCom does
//! (progress visible through batch/getresult), then pushes the `batch_job_result` callback.
//! The endpoint handlers are in [`areas::contacts`](crate::areas::contacts).

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use wecom_callback::{BatchJob, Event, EventKind, Header, Inbound};
use wecom_contacts::generated::contacts::{
    BatchCallback, BatchGetresultResponse, BatchJobType, BatchResultRow, BatchStatus,
};

use crate::corp::{self, CallbackConfig, Corp};
use crate::error::ApiError;
use crate::state::{State, lock};
use wecom_core_auth::ErrorCode;

/// How many finished batch jobs keep their results (older ones answer 40089).
pub const KEPT_JOBS: usize = 5;

/// The batch jobs of a sandbox (kept in the state's extensions).
#[derive(Debug, Default)]
pub(crate) struct Jobs {
    inner: Mutex<JobsInner>,
}

#[derive(Debug, Default)]
struct JobsInner {
    /// The last [`KEPT_JOBS`] jobs, oldest first.
    kept: VecDeque<Job>,
    /// Every jobid ever issued (to tell "cleared" from "never existed").
    issued: HashSet<String>,
    /// The job running now.
    running: Option<String>,
    /// Pause before each row, so progress can be watched.
    row_delay: Duration,
}

#[derive(Debug, Clone)]
struct Job {
    jobid: String,
    job_type: BatchJobType,
    status: BatchStatus,
    total: u32,
    result: Vec<BatchResultRow>,
}

impl JobsInner {
    fn job_mut(&mut self, jobid: &str) -> Option<&mut Job> {
        self.kept.iter_mut().find(|j| j.jobid == jobid)
    }
}

/// Sets a pause before each CSV row of batch jobs (default none), so tests and demos can watch
/// `batch/getresult` report a job in progress.
pub fn set_batch_row_delay(state: &State, delay: Duration) {
    lock(&state.extension::<Jobs>().inner).row_delay = delay;
}

/// A parsed CSV: header names and rows.
#[derive(Debug)]
pub(crate) struct Csv {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Csv {
    /// RFC 4180 (commas, `"` quoting with `""` escapes, CRLF or LF) read with the `csv` crate; a
    /// UTF-8 BOM is skipped, rows may be shorter than the header, and blank rows (nothing but
    /// spaces and commas) are ignored.
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        // The csv crate ends an unclosed quoted field at the end of the file without an error;
        // WeCom's import refuses such a file, so say so (quotes come in pairs in a valid file).
        if text.bytes().filter(|b| *b == b'"').count() % 2 == 1 {
            return Err(
                "a quoted field is not closed (quote fields with \"...\" and double the quotes inside)"
                    .to_owned(),
            );
        }
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(text.as_bytes());
        let mut records = Vec::new();
        for record in reader.records() {
            let record = record.map_err(|e| match e.position() {
                Some(p) => format!("line {}: {e}", p.line()),
                None => e.to_string(),
            })?;
            if record.iter().any(|f| !f.trim().is_empty()) {
                records.push(record.iter().map(str::to_owned).collect::<Vec<String>>());
            }
        }
        let mut records = records.into_iter();
        let header = records
            .next()
            .ok_or("the file is empty; it needs a header row")?;
        let header = header.into_iter().map(|h| h.trim().to_owned()).collect();
        Ok(Csv {
            header,
            rows: records.collect(),
        })
    }

    /// The column holding one of `names` (case-insensitive).
    fn column(&self, names: &[&str]) -> Option<usize> {
        self.header
            .iter()
            .position(|h| names.iter().any(|n| h.eq_ignore_ascii_case(n)))
    }
}

/// Which column holds each member field.
#[derive(Debug, Clone, Default)]
pub(crate) struct MemberColumns {
    userid: usize,
    name: Option<usize>,
    alias: Option<usize>,
    position: Option<usize>,
    department: Option<usize>,
    gender: Option<usize>,
    mobile: Option<usize>,
    telephone: Option<usize>,
    email: Option<usize>,
    biz_mail: Option<usize>,
    address: Option<usize>,
    disable: Option<usize>,
}

impl MemberColumns {
    fn of(csv: &Csv) -> Result<Self, ApiError> {
        let userid = csv
            .column(&["帐号", "账号", "userid", "account"])
            .ok_or_else(|| {
                ApiError::invalid_parameter(
                    "the member CSV has no 帐号/userid column (the header row names the columns)",
                )
            })?;
        Ok(Self {
            userid,
            name: csv.column(&["姓名", "name"]),
            alias: csv.column(&["别名", "alias"]),
            position: csv.column(&["职务", "职位", "position"]),
            department: csv.column(&["部门", "所在部门", "department"]),
            gender: csv.column(&["性别", "gender"]),
            mobile: csv.column(&["手机", "手机号", "mobile"]),
            telephone: csv.column(&["座机", "telephone"]),
            email: csv.column(&["邮箱", "个人邮箱", "email"]),
            biz_mail: csv.column(&["企业邮箱", "biz_mail"]),
            address: csv.column(&["地址", "address"]),
            disable: csv.column(&["禁用", "disable"]),
        })
    }
}

fn cell(row: &[String], col: Option<usize>) -> Option<&str> {
    col.and_then(|c| row.get(c))
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
}

fn row_result_user(userid: &str, result: Result<(), ApiError>) -> BatchResultRow {
    let (code, msg) = match result {
        Ok(()) => (0, "ok".to_owned()),
        Err(e) => (e.errcode, e.errmsg),
    };
    let mut r = BatchResultRow::new(code);
    r.userid = Some(userid.to_owned());
    r.errmsg = Some(msg);
    r
}

/// Applies one member row: updates the fields the row gives, or creates the member.
fn apply_member_row(
    corp: &mut Corp,
    cols: &MemberColumns,
    row: &[String],
) -> (String, Result<(), ApiError>) {
    let userid = cell(row, Some(cols.userid)).unwrap_or("").to_owned();
    if userid.is_empty() {
        return (
            userid,
            Err(ApiError::new(
                ErrorCode::INVALID_USERID,
                "invalid userid: the row has no 帐号/userid",
            )),
        );
    }
    let departments = match cell(row, cols.department) {
        Some(text) => {
            let parsed: Result<Vec<u32>, _> = text
                .split(';')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::parse::<u32>)
                .collect();
            match parsed {
                Ok(d) => Some(d),
                Err(_) => {
                    return (
                        userid,
                        Err(ApiError::new(
                            60123, /* not in spec/errcodes.toml */
                            format!("invalid department ids {text:?}: numbers separated by ;"),
                        )),
                    );
                }
            }
        }
        None => None,
    };
    let gender = cell(row, cols.gender).map(|g| match g {
        "男" | "male" | "1" => "1".to_owned(),
        "女" | "female" | "2" => "2".to_owned(),
        other => other.to_owned(),
    });
    let apply = |m: &mut corp::Member| {
        let set = |target: &mut String, col: Option<usize>| {
            if let Some(v) = cell(row, col) {
                *target = v.to_owned();
            }
        };
        set(&mut m.name, cols.name);
        set(&mut m.alias, cols.alias);
        set(&mut m.position, cols.position);
        set(&mut m.mobile, cols.mobile);
        set(&mut m.telephone, cols.telephone);
        set(&mut m.email, cols.email);
        set(&mut m.biz_mail, cols.biz_mail);
        set(&mut m.address, cols.address);
        if let Some(d) = &departments {
            if m.department != *d {
                m.order.clear();
                m.is_leader_in_dept.clear();
            }
            m.department = d.clone();
            if m.main_department.is_some_and(|x| !d.contains(&x)) {
                m.main_department = None;
            }
        }
        if let Some(g) = &gender {
            m.gender = g.clone();
        }
        if let Some(v) = cell(row, cols.disable) {
            m.enable = if matches!(v, "1" | "是" | "true" | "yes") {
                0
            } else {
                1
            };
        }
    };
    let result = if corp.member(&userid).is_ok() {
        corp.update_member(&userid, apply).map(|_| ())
    } else {
        let mut m = corp::Member::new(userid.clone(), String::new(), Vec::new());
        apply(&mut m);
        corp.create_member(m)
    };
    (userid, result.map_err(ApiError::from))
}

/// Which column holds each department field.
#[derive(Debug, Clone, Copy)]
struct PartyColumns {
    name: usize,
    id: usize,
    parentid: usize,
    order: Option<usize>,
}

impl PartyColumns {
    fn of(csv: &Csv) -> Result<Self, ApiError> {
        let need = |names: &[&str], what: &str| {
            csv.column(names).ok_or_else(|| {
                ApiError::invalid_parameter(format!(
                    "the department CSV has no {what} column (the header row names the columns)"
                ))
            })
        };
        Ok(Self {
            name: need(&["部门名称", "name"], "部门名称/name")?,
            id: need(&["部门ID", "id"], "部门ID/id")?,
            parentid: need(&["父部门ID", "parentid"], "父部门ID/parentid")?,
            order: csv.column(&["排序", "order"]),
        })
    }
}

/// One department row, parsed.
#[derive(Debug, Clone)]
pub(crate) struct PartyRow {
    pub(crate) name: String,
    pub(crate) id: Result<u32, String>,
    pub(crate) parentid: Result<u32, String>,
    pub(crate) order: Option<u32>,
}

fn party_row(cols: PartyColumns, row: &[String]) -> PartyRow {
    let num = |col: usize, what: &str| -> Result<u32, String> {
        let text = cell(row, Some(col)).unwrap_or("");
        text.parse()
            .map_err(|_| format!("{what} {text:?} is not a number"))
    };
    PartyRow {
        name: cell(row, Some(cols.name)).unwrap_or("").to_owned(),
        id: num(cols.id, "部门ID"),
        parentid: num(cols.parentid, "父部门ID"),
        order: cell(row, cols.order)
            .and_then(|o| o.parse().ok())
            .filter(|o| *o != 0),
    }
}

fn row_result_party(partyid: u32, action: u32, result: Result<(), ApiError>) -> BatchResultRow {
    let (code, msg) = match result {
        Ok(()) => (0, "ok".to_owned()),
        Err(e) => (e.errcode, e.errmsg),
    };
    let mut r = BatchResultRow::new(code);
    r.partyid = Some(partyid);
    r.action = Some(action);
    r.errmsg = Some(msg);
    r
}

/// Applies one department row: creates (action 1) or renames (2), moves (4), reorders (8).
fn apply_party_row(corp: &mut Corp, row: &PartyRow) -> BatchResultRow {
    let (id, parentid) = match (&row.id, &row.parentid) {
        (Ok(id), Ok(p)) => (*id, *p),
        (Err(e), _) | (_, Err(e)) => {
            return row_result_party(
                row.id.clone().unwrap_or(0),
                0,
                Err(ApiError::new(
                    60123, /* not in spec/errcodes.toml */
                    e.clone(),
                )),
            );
        }
    };
    match corp.department(id) {
        Ok(current) => {
            let current = current.clone();
            let mut action = 0;
            if current.name != row.name {
                action |= 2;
            }
            if id != 1 && current.parentid != parentid {
                action |= 4;
            }
            if row.order.is_some_and(|o| o != current.order) {
                action |= 8;
            }
            let new_parent = (id != 1).then_some(parentid);
            let r = corp
                .update_department(id, Some(&row.name), None, new_parent, row.order)
                .map_err(ApiError::from);
            row_result_party(id, action, r)
        }
        Err(_) => {
            let r = corp
                .create_department(&row.name, "", parentid, row.order.unwrap_or(0), Some(id))
                .map(|_| ())
                .map_err(ApiError::from);
            row_result_party(id, 1, r)
        }
    }
}

/// Rows of a replace_party file in an order where parents come first; rows whose parent is
/// neither in the corp nor in the file, and rows caught in a cycle, keep their file order at the
/// end (they fail with 60004 / 60010 when applied).
pub(crate) fn parents_first(corp: &Corp, rows: Vec<PartyRow>) -> Vec<PartyRow> {
    let in_file: HashSet<u32> = rows
        .iter()
        .filter_map(|r| r.id.as_ref().ok().copied())
        .collect();
    let mut placed: HashSet<u32> = HashSet::new();
    let mut pending = rows;
    let mut out = Vec::with_capacity(pending.len());
    loop {
        let before = pending.len();
        let mut rest = Vec::new();
        for r in pending {
            let ready = match (&r.id, &r.parentid) {
                (Ok(_), Ok(p)) => {
                    placed.contains(p)
                        || (!in_file.contains(p) && corp.department(*p).is_ok())
                        || *p == 0
                }
                _ => true,
            };
            if ready {
                if let Ok(id) = r.id {
                    placed.insert(id);
                }
                out.push(r);
            } else {
                rest.push(r);
            }
        }
        pending = rest;
        if pending.is_empty() || pending.len() == before {
            out.extend(pending);
            return out;
        }
    }
}

/// What a submitted job will do.
#[derive(Debug)]
pub(crate) enum Work {
    Members {
        cols: MemberColumns,
        rows: Vec<Vec<String>>,
        delete: Vec<String>,
    },
    Parties {
        rows: Vec<PartyRow>,
        keep: HashSet<u32>,
    },
}

fn read_csv(state: &State, media_id: &str) -> Result<Csv, ApiError> {
    let media = state.media(media_id).ok_or_else(|| {
        ApiError::new(
            ErrorCode::INVALID_MEDIA_ID,
            format!("invalid media_id {media_id:?}: upload the CSV with media/upload first"),
        )
    })?;
    let text = std::str::from_utf8(&media.bytes)
        .map_err(|_| ApiError::invalid_parameter("the CSV is not UTF-8 text; save it as UTF-8"))?;
    Csv::parse(text)
        .map_err(|e| ApiError::invalid_parameter(format!("the CSV cannot be read: {e}")))
}

/// WeCom's guard of batch/replaceuser: refuse to delete more than 20% of the members when that is
/// over 50 people, or more than 80% when it is 50 or fewer.
pub(crate) fn too_many_deletions(deleting: usize, existing: usize) -> bool {
    if deleting > 50 {
        deleting * 100 > existing * 20
    } else {
        deleting * 100 > existing * 80
    }
}

/// Starts a job in the background and returns its jobid (302008 while another one runs).
pub(crate) fn submit(
    state: &Arc<State>,
    job_type: BatchJobType,
    work: Work,
    callback: Option<BatchCallback>,
) -> Result<String, ApiError> {
    let state = Arc::clone(state);
    let jobs = state.extension::<Jobs>();
    let jobid = {
        let mut inner = lock(&jobs.inner);
        if let Some(running) = &inner.running {
            return Err(ApiError::new(
                ErrorCode::IMPORT_JOB_RUNNING,
                format!(
                    "batch job {running} is still running; wait for it (batch/getresult) before starting another"
                ),
            ));
        }
        let jobid = loop {
            let id: String = rand::Rng::sample_iter(rand::rng(), &rand::distr::Alphanumeric)
                .take(32)
                .map(char::from)
                .collect();
            if !inner.issued.contains(&id) {
                break id;
            }
        };
        let total = match &work {
            Work::Members { rows, .. } => rows.len(),
            Work::Parties { rows, .. } => rows.len(),
        };
        inner.issued.insert(jobid.clone());
        inner.running = Some(jobid.clone());
        inner.kept.push_back(Job {
            jobid: jobid.clone(),
            job_type: job_type.clone(),
            status: BatchStatus::Started,
            total: u32::try_from(total).unwrap_or(u32::MAX),
            result: Vec::new(),
        });
        while inner.kept.len() > KEPT_JOBS {
            inner.kept.pop_front();
        }
        jobid
    };
    let id = jobid.clone();
    tokio::spawn(async move { run_job(state, id, job_type, work, callback).await });
    Ok(jobid)
}

async fn pause(jobs: &Jobs) {
    let delay = lock(&jobs.inner).row_delay;
    if delay.is_zero() {
        tokio::task::yield_now().await;
    } else {
        tokio::time::sleep(delay).await;
    }
}

fn record_row(jobs: &Jobs, jobid: &str, row: BatchResultRow) {
    if let Some(job) = lock(&jobs.inner).job_mut(jobid) {
        job.status = BatchStatus::Running;
        job.result.push(row);
    }
}

async fn run_job(
    state: Arc<State>,
    jobid: String,
    job_type: BatchJobType,
    work: Work,
    callback: Option<BatchCallback>,
) {
    let jobs = state.extension::<Jobs>();
    match work {
        Work::Members { cols, rows, delete } => {
            for row in rows {
                pause(&jobs).await;
                let (userid, result) = apply_member_row(&mut state.corp_mut(), &cols, &row);
                record_row(&jobs, &jobid, row_result_user(&userid, result));
            }
            let mut corp = state.corp_mut();
            for userid in delete {
                // Gone already (deleted meanwhile) is fine.
                let _ = corp.delete_member(&userid);
            }
        }
        Work::Parties { rows, keep } => {
            let rows = parents_first(&state.corp(), rows);
            for row in rows {
                pause(&jobs).await;
                let result = apply_party_row(&mut state.corp_mut(), &row);
                record_row(&jobs, &jobid, result);
            }
            // Departments missing from the file go when they are empty, deepest first; the rest stay.
            let mut corp = state.corp_mut();
            loop {
                let doomed: Vec<u32> = corp
                    .departments()
                    .map(|d| d.id)
                    .filter(|id| *id != 1 && !keep.contains(id))
                    .filter(|id| corp.children(*id).is_empty())
                    .collect();
                let removed = doomed
                    .into_iter()
                    .filter(|id| corp.delete_department(*id).is_ok())
                    .count();
                if removed == 0 {
                    break;
                }
            }
        }
    }
    {
        let mut inner = lock(&jobs.inner);
        if let Some(job) = inner.job_mut(&jobid) {
            job.status = BatchStatus::Done;
        }
        inner.running = None;
    }
    let (corpid, contact_callback) = {
        let corp = state.corp();
        (corp.corpid().to_owned(), corp.contact_callback().cloned())
    };
    let config = match callback {
        Some(cb) => Some(CallbackConfig {
            url: cb.url,
            token: cb.token,
            encoding_aes_key: cb.encodingaeskey,
        }),
        None => contact_callback,
    };
    if let Some(config) = config {
        let now = state.now_secs();
        let xml = Inbound::Event(Event {
            header: Header {
                to_user_name: corpid.clone(),
                from_user_name: "sys".into(),
                create_time: now,
                agent_id: None,
            },
            kind: EventKind::BatchJobResult(BatchJob {
                job_id: jobid,
                job_type: job_type.as_str().to_owned(),
                err_code: 0,
                err_msg: "ok".into(),
            }),
        })
        .to_xml();
        state
            .callbacks
            .push(&config, &corpid, None, &xml, now)
            .await;
    }
}

/// The work of batch/syncuser (`replace` false) or batch/replaceuser (true) on an uploaded CSV.
pub(crate) fn member_work(state: &State, media_id: &str, replace: bool) -> Result<Work, ApiError> {
    let csv = read_csv(state, media_id)?;
    let cols = MemberColumns::of(&csv)?;
    let mut delete = Vec::new();
    if replace {
        let in_file: HashSet<String> = csv
            .rows
            .iter()
            .filter_map(|r| cell(r, Some(cols.userid)))
            .map(str::to_ascii_lowercase)
            .collect();
        let corp = state.corp();
        let existing = corp.members().count();
        delete = corp
            .members()
            .filter(|m| !in_file.contains(&m.userid.to_ascii_lowercase()))
            .map(|m| m.userid.clone())
            .collect();
        if too_many_deletions(delete.len(), existing) {
            return Err(ApiError::new(
                ErrorCode::DELETE_PROTECTION,
                format!(
                    "replaceuser would delete {} of {existing} members; WeCom refuses (more than 20% when over 50, more than 80% otherwise): delete them explicitly first",
                    delete.len()
                ),
            ));
        }
    }
    Ok(Work::Members {
        cols,
        rows: csv.rows,
        delete,
    })
}

/// The work of batch/replaceparty on an uploaded CSV.
pub(crate) fn party_work(state: &State, media_id: &str) -> Result<Work, ApiError> {
    let csv = read_csv(state, media_id)?;
    let cols = PartyColumns::of(&csv)?;
    let rows: Vec<PartyRow> = csv.rows.iter().map(|r| party_row(cols, r)).collect();
    let mut keep: HashSet<u32> = rows
        .iter()
        .filter_map(|r| r.id.as_ref().ok().copied())
        .collect();
    keep.insert(1);
    Ok(Work::Parties { rows, keep })
}

/// batch/getresult: a kept job's progress and rows (40089 once cleared).
pub(crate) fn result(state: &State, jobid: &str) -> Result<BatchGetresultResponse, ApiError> {
    let jobs = state.extension::<Jobs>();
    let inner = lock(&jobs.inner);
    let Some(job) = inner.kept.iter().find(|j| j.jobid == jobid) else {
        return Err(if inner.issued.contains(jobid) {
            ApiError::new(
                ErrorCode::BATCH_RESULT_CLEARED,
                format!(
                    "the result of job {jobid} was cleared: only the last {KEPT_JOBS} are kept"
                ),
            )
        } else {
            ApiError::invalid_parameter(format!("no batch job {jobid}"))
        });
    };
    let done = u32::try_from(job.result.len()).unwrap_or(u32::MAX);
    let percentage = match job.status {
        BatchStatus::Done => 100,
        _ if job.total == 0 => 0,
        _ => done.saturating_mul(100) / job.total,
    };
    Ok(BatchGetresultResponse::new(job.status)
        .job_type(job.job_type.clone())
        .total(job.total)
        .percentage(percentage)
        .result(job.result.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_bom_and_blank_lines() {
        let csv = Csv::parse("\u{feff}姓名,帐号,部门\r\n\"Zhang, San\",zhangsan,1;2\r\n\r\n\"say \"\"hi\"\"\",lisi,\"3\"\n").unwrap();
        assert_eq!(csv.header, vec!["姓名", "帐号", "部门"]);
        assert_eq!(
            csv.rows,
            vec![
                vec!["Zhang, San", "zhangsan", "1;2"],
                vec!["say \"hi\"", "lisi", "3"]
            ]
        );
        assert_eq!(csv.column(&["userid", "帐号"]), Some(1));
        assert!(Csv::parse("a,\"b\n").unwrap_err().contains("not closed"));
        assert!(Csv::parse("").is_err());
    }

    #[test]
    fn replaceuser_deletion_guard() {
        assert!(!too_many_deletions(1, 100));
        assert!(too_many_deletions(51, 100));
        assert!(!too_many_deletions(51, 1000));
        assert!(too_many_deletions(9, 10));
        assert!(!too_many_deletions(8, 10));
    }

    #[test]
    fn parents_come_first() {
        let corp = Corp::new("ww", "C", "s");
        let row = |id: u32, parent: u32| PartyRow {
            name: format!("d{id}"),
            id: Ok(id),
            parentid: Ok(parent),
            order: None,
        };
        let order: Vec<u32> =
            parents_first(&corp, vec![row(4, 3), row(3, 2), row(2, 1), row(9, 8)])
                .iter()
                .map(|r| r.id.clone().unwrap())
                .collect();
        assert_eq!(order, vec![2, 3, 4, 9]);
    }
}
