//! Directory benchmarks: the visible-scope resolver and the full-directory walk, on generated
//! corps (departments in a tree up to 15 levels deep, members in 1 to 3 departments, tags
//! holding members and departments).
//!
//! 1. The resolver: building a [`Directory`] and resolving an app's scope (8 listed
//!    departments, 10 listed tags, 100 listed members) at 10k, 25k, 50k and 100k members, with
//!    the time per member to show it is linear, the cost of `explain`, and the peak memory.
//! 2. The walk through the client against a sandbox serving the corp in a child process (so this
//!    process measures only the client): `Contacts::walk` with ids (`user/list_id`) and with full
//!    detail (`user/list` per department), and `Contacts::visible_scope` end to end.
//!
//! Peak memory is the growth of this process's peak RSS (`VmHWM`, reset through
//! `/proc/self/clear_refs`) over its RSS before the step; on systems without them it reads n/a.
//!
//! `cargo bench -p wecom-contacts --bench directory` (`DIRECTORY_BENCH_QUICK=1` for a short run).

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use wecom_contacts::scope::{Directory, ScopeRules, VisibleScope};
use wecom_contacts::{ContactsExt, MemberDetail, WalkOptions};
use wecom_core_auth::{Client, Secret};
use wecom_sandbox::corp::{App, Corp, CorpFile, Department, Member, Tag};

type Res<T = ()> = Result<T, Box<dyn std::error::Error>>;

const CORPID: &str = "wwbenchcorp0000001";
const CONTACT_SECRET: &str = "bench-contact-secret-0000000000000000001";
const AGENTID: u32 = 1_000_001;
const APP_SECRET: &str = "bench-app-secret-00000000000000000000001";
const MAX_DEPTH: usize = 15;

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// A generated corp: departments (id, parent), members (userid, departments), tags
/// (id, users, departments) and the scope rules of the benchmarked app.
struct Shape {
    departments: Vec<(u32, u32)>,
    members: Vec<(String, Vec<u32>)>,
    tags: Vec<(u32, Vec<String>, Vec<u32>)>,
    rules: ScopeRules,
}

impl Shape {
    fn generate(members: usize, departments: usize) -> Shape {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ members as u64);
        let mut depts = vec![(1u32, 0u32)];
        let mut depth = vec![1usize];
        for k in 0..departments {
            // A parent among the earlier departments that leave room for one more level.
            let parent = loop {
                let p = rng.below(depts.len());
                if depth[p] < MAX_DEPTH {
                    break p;
                }
            };
            depts.push((k as u32 + 2, depts[parent].0));
            depth.push(depth[parent] + 1);
        }
        let ids: Vec<u32> = depts.iter().map(|d| d.0).collect();
        let pick = |rng: &mut Rng| ids[1 + rng.below(ids.len() - 1)];
        let members: Vec<(String, Vec<u32>)> = (0..members)
            .map(|i| {
                let n = match rng.below(100) {
                    0..80 => 1,
                    80..95 => 2,
                    _ => 3,
                };
                let mut d: Vec<u32> = (0..n).map(|_| pick(&mut rng)).collect();
                d.sort_unstable();
                d.dedup();
                (format!("u{i:06}"), d)
            })
            .collect();
        let tags = (0..100u32)
            .map(|t| {
                let users = (0..50)
                    .map(|_| members[rng.below(members.len())].0.clone())
                    .collect();
                let parties = (0..5).map(|_| pick(&mut rng)).collect();
                (t + 1, users, parties)
            })
            .collect();
        let rules = ScopeRules::new()
            .with_departments((0..8).map(|_| pick(&mut rng)))
            .with_tags((0..10).map(|_| 1 + rng.below(100) as u32))
            .with_users((0..100).map(|_| members[rng.below(members.len())].0.clone()));
        Shape {
            departments: depts,
            members,
            tags,
            rules,
        }
    }

    fn directory(&self) -> Directory {
        let mut dir = Directory::with_capacity(self.departments.len(), self.members.len());
        for &(id, parent) in &self.departments {
            dir.add_department(id, parent);
        }
        for (userid, depts) in &self.members {
            dir.add_member(userid, depts.iter().copied());
        }
        for (id, users, parties) in &self.tags {
            dir.add_tag(*id, users.iter(), parties.iter().copied());
        }
        dir
    }

    fn corp(&self) -> Result<Corp, wecom_sandbox::corp::CorpError> {
        let mut app = App::new(AGENTID, "Bench", APP_SECRET);
        app.allow_parties = self.rules.departments.clone();
        app.allow_tags = self.rules.tags.clone();
        app.allow_users = self.rules.users.clone();
        let mut users_seen = std::collections::HashSet::new();
        app.allow_users.retain(|u| users_seen.insert(u.clone()));
        Corp::from_file(CorpFile {
            corpid: CORPID.into(),
            name: "Bench".into(),
            contact_secret: Secret::new(CONTACT_SECRET.to_owned()),
            contact_callback: None,
            school: None,
            system_secrets: Default::default(),
            departments: self
                .departments
                .iter()
                .map(|&(id, parent)| Department::new(id, format!("d{id}"), parent))
                .collect(),
            members: self
                .members
                .iter()
                .map(|(u, d)| Member::new(u.clone(), u.clone(), d.clone()))
                .collect(),
            tags: self
                .tags
                .iter()
                .map(|(id, users, parties)| {
                    let mut users = users.clone();
                    users.sort();
                    users.dedup();
                    let mut parties = parties.clone();
                    parties.sort_unstable();
                    parties.dedup();
                    Tag {
                        tagid: *id,
                        tagname: format!("t{id}"),
                        creator: None,
                        users,
                        parties,
                    }
                })
                .collect(),
            apps: vec![app],
            robots: Vec::new(),
        })
    }
}

// ------------------------------------------------------------------------------------------------
// Memory

fn status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Resets the peak RSS to the current RSS; returns the current RSS in KiB.
fn reset_peak() -> Option<u64> {
    std::fs::write("/proc/self/clear_refs", "5").ok()?;
    status_kib("VmRSS:")
}

/// Peak RSS growth in MiB since `reset_peak` returned `base`.
fn peak_growth(base: Option<u64>) -> String {
    match (base, status_kib("VmHWM:")) {
        (Some(b), Some(p)) => format!("{:.1}", p.saturating_sub(b) as f64 / 1024.0),
        _ => "n/a".into(),
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

// ------------------------------------------------------------------------------------------------
// 1. The resolver

/// One size, measured in a fresh process (so memory freed by another size does not hide growth):
/// prints its table row, then `NS <members> <ns per member>`.
fn resolver_child(members: usize, departments: usize, runs: usize) -> Res {
    let shape = Shape::generate(members, departments);
    let rows: usize = shape.members.iter().map(|m| m.1.len()).sum();
    let base = reset_peak();
    let started = Instant::now();
    let dir = Arc::new(shape.directory());
    let build = started.elapsed();
    let mut times = Vec::new();
    let mut scope = VisibleScope::resolve(Arc::clone(&dir), shape.rules.clone());
    for _ in 0..runs {
        let started = Instant::now();
        scope = VisibleScope::resolve(Arc::clone(&dir), shape.rules.clone());
        times.push(started.elapsed());
    }
    let memory = peak_growth(base);
    let resolve = median(times);
    // The first resolve of a directory builds its index; later ones reuse it. Fresh directories
    // (as the sandbox builds per request) always pay the first. Dropping is not timed.
    let mut firsts = Vec::new();
    for _ in 0..runs.min(7) {
        let fresh = Arc::new(shape.directory());
        let started = Instant::now();
        let s = VisibleScope::resolve(fresh, shape.rules.clone());
        firsts.push(started.elapsed());
        drop(s);
    }
    let first = median(firsts);
    let probes = 10_000.min(members);
    let started = Instant::now();
    let mut matched = 0usize;
    for (userid, _) in shape.members.iter().take(probes) {
        matched += scope.explain(userid).reasons.len();
    }
    let explain = started.elapsed() / probes as u32;
    std::hint::black_box(matched);
    let ns = first.as_nanos() as f64 / members as f64;
    println!(
        "| {members} | {} | {rows} | {:.1} ms | {:.2} ms | {ns:.0} | {:.2} ms | {:.2} µs | {} | {} | {memory} MiB |",
        departments + 1,
        ms(build),
        ms(first),
        ms(resolve),
        explain.as_secs_f64() * 1e6,
        scope.member_count(),
        scope.department_count(),
    );
    println!("NS {members} {ns}");
    Ok(())
}

fn resolver(sizes: &[(usize, usize)], runs: usize) -> Res {
    println!("## Visible-scope resolver (median of {runs} runs, each size in a fresh process)\n");
    println!(
        "| members | departments | member-dept rows | build directory | first resolve (builds index) | ns/member | resolve again | explain | visible members | visible departments | peak memory |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut per_member: Vec<(usize, f64)> = Vec::new();
    for &(members, departments) in sizes {
        let out = Command::new(std::env::current_exe()?)
            .args([
                "--resolver-child",
                &members.to_string(),
                &departments.to_string(),
                &runs.to_string(),
            ])
            .output()?;
        if !out.status.success() {
            return Err(format!(
                "resolver child failed: {}",
                String::from_utf8_lossy(&out.stderr)
            )
            .into());
        }
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            match line.strip_prefix("NS ") {
                Some(rest) => {
                    let mut it = rest.split_whitespace();
                    if let (Some(m), Some(ns)) = (it.next(), it.next()) {
                        per_member.push((m.parse()?, ns.parse()?));
                    }
                }
                None => println!("{line}"),
            }
        }
    }
    if let (Some(first), Some(last)) = (per_member.first(), per_member.last()) {
        println!(
            "\nLinearity of a first resolve: {}x the members costs {:.2}x the time ({:.0} vs {:.0} ns per member).\n",
            last.0 / first.0,
            (last.1 * last.0 as f64) / (first.1 * first.0 as f64),
            first.1,
            last.1
        );
    }
    Ok(())
}

// ------------------------------------------------------------------------------------------------
// 2. The walk against a sandbox in a child process

fn sandbox_child(members: usize, departments: usize) -> Res {
    let corp = Shape::generate(members, departments).corp()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    rt.block_on(async {
        let sandbox = wecom_sandbox::Sandbox::builder().corp(corp).start().await?;
        println!("{}", sandbox.base_url());
        std::io::stdout().flush()?;
        let _ = tokio::task::spawn_blocking(|| {
            let mut line = String::new();
            let _ = std::io::stdin().read_line(&mut line);
        })
        .await;
        drop(sandbox);
        Ok(())
    })
}

fn spawn_sandbox(members: usize, departments: usize) -> Res<(Child, String)> {
    let exe = std::env::current_exe()?;
    let mut child = Command::new(exe)
        .args([
            "--sandbox-child",
            &members.to_string(),
            &departments.to_string(),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    let stdout = child
        .stdout
        .take()
        .ok_or("no stdout from the sandbox child")?;
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line)?;
    let url = line.trim().to_owned();
    if !url.starts_with("http://") {
        let _ = child.kill();
        return Err(format!("the sandbox child did not start: {line:?}").into());
    }
    Ok((child, url))
}

async fn walk(sizes: &[(usize, usize)]) -> Res {
    println!("## Full-directory walk through the client (sandbox in a child process)\n");
    println!("| members | departments | walk | requests | time | client peak memory |");
    println!("|---:|---:|---|---:|---:|---:|");
    for &(members, departments) in sizes {
        let (mut child, url) = spawn_sandbox(members, departments)?;
        let client = Client::builder(CORPID)
            .base_url(url)
            .app(AGENTID, Secret::new(APP_SECRET.to_owned()))
            .contact_secret(Secret::new(CONTACT_SECRET.to_owned()))
            .timeout(Duration::from_secs(300))
            .build()?;
        client.contact_access_token().await?;
        for (label, options) in [
            ("ids (user/list_id)", WalkOptions::ids()),
            (
                "full (user/list per department)",
                WalkOptions {
                    detail: MemberDetail::Full,
                    ..WalkOptions::default()
                },
            ),
        ] {
            let base = reset_peak();
            let started = Instant::now();
            let mut requests = 0;
            let snap = client
                .contacts()
                .walk(options, |p| requests = p.requests)
                .await?;
            let took = started.elapsed();
            let memory = peak_growth(base);
            assert_eq!(snap.members.len(), members, "every member once");
            println!(
                "| {members} | {} | {label} | {requests} | {:.0} ms | {memory} MiB |",
                departments + 1,
                ms(took)
            );
            drop(snap);
        }
        let base = reset_peak();
        let started = Instant::now();
        let scope = client.contacts().visible_scope(AGENTID).await?;
        let took = started.elapsed();
        println!(
            "| {members} | {} | visible_scope (agent/get + simplelist + list_id + tag/get, resolved: {} visible) | - | {:.0} ms | {} MiB |",
            departments + 1,
            scope.member_count(),
            ms(took),
            peak_growth(base)
        );
        drop(scope);
        let _ = child.kill();
        let _ = child.wait();
    }
    println!();
    Ok(())
}

fn main() -> Res {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--resolver-child") {
        let arg = |k: usize| {
            args.get(i + k)
                .and_then(|v| v.parse::<usize>().ok())
                .ok_or("resolver child arguments")
        };
        return resolver_child(arg(1)?, arg(2)?, arg(3)?);
    }
    if let Some(i) = args.iter().position(|a| a == "--sandbox-child") {
        let n = args
            .get(i + 1)
            .and_then(|v| v.parse().ok())
            .ok_or("members")?;
        let d = args
            .get(i + 2)
            .and_then(|v| v.parse().ok())
            .ok_or("departments")?;
        return sandbox_child(n, d);
    }
    // `cargo bench` passes `--bench`; `cargo test --benches` does not: run a tiny smoke version.
    let quick =
        std::env::var_os("DIRECTORY_BENCH_QUICK").is_some() || !args.iter().any(|a| a == "--bench");
    // (members, departments below the root)
    type Sizes = Vec<(usize, usize)>;
    let (resolver_sizes, runs, walk_sizes): (Sizes, usize, Sizes) = if quick {
        (vec![(2_000, 80), (10_000, 400)], 3, vec![(2_000, 80)])
    } else {
        (
            vec![
                (10_000, 400),
                (25_000, 1_000),
                (50_000, 2_000),
                (100_000, 4_000),
            ],
            15,
            vec![(10_000, 400), (50_000, 2_000)],
        )
    };
    resolver(&resolver_sizes, runs)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(walk(&walk_sizes))
}
