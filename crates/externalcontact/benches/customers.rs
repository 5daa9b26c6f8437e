//! The customer list of one member at scale: `Externalcontact::customers_of` streams
//! `externalcontact/batch/get_by_user` (100 per page) through the client against a sandbox that
//! serves a member with 20,000 customers from a child process (so this process measures only the
//! client). Memory must stay bounded by one page: the stream is consumed row by row and only a
//! count is kept.
//!
//! Peak memory is the growth of this process's peak RSS (`VmHWM`, reset through
//! `/proc/self/clear_refs`) over its RSS before the step; on systems without them it reads n/a.
//!
//! `cargo bench -p wecom-externalcontact --bench customers` (`CUSTOMERS_BENCH_QUICK=1`, or
//! `cargo test --benches`, for a short run).

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::TryStreamExt;
use wecom_core_auth::{Client, Secret, SystemApp};
use wecom_externalcontact::ExternalcontactExt as _;
use wecom_sandbox::areas::externalcontact::book::{Customer, CustomerBook, Follow};
use wecom_sandbox::corp::{Corp, Member};

type Res<T = ()> = Result<T, Box<dyn std::error::Error>>;

const CORPID: &str = "wwbenchcustomers001";
const CONTACT_SECRET: &str = "bench-contact-secret-0000000000000000002";
const EC_SECRET: &str = "bench-externalcontact-secret-00000000001";
const MEMBER: &str = "sales01";

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

fn sandbox_child(customers: usize) -> Res {
    let mut corp = Corp::new(CORPID, "客户公司", CONTACT_SECRET);
    corp.create_member(Member::new(MEMBER, "销售一", vec![1]).with_email("sales01@example.com"))?;
    corp.set_system_secret(SystemApp::ExternalContact, EC_SECRET.to_owned());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    rt.block_on(async {
        let sandbox = wecom_sandbox::Sandbox::builder().corp(corp).start().await?;
        let admin = sandbox.admin();
        CustomerBook::of(admin.state()).with(|book| {
            for i in 0..customers {
                let id = format!("wm{i:030}");
                book.insert(
                    id.clone(),
                    Customer {
                        external_userid: id,
                        name: format!("客户{i}"),
                        kind: 1,
                        follows: vec![Follow {
                            userid: MEMBER.into(),
                            createtime: 1_700_000_000 + i as i64,
                            remark: format!("备注{i}"),
                            description: "对接采购事务".into(),
                            tag_ids: vec!["etAJ2GCAAAXtWyujaWJHDDGi0mACHAAA".into()],
                            add_way: 1,
                            state: "bench".into(),
                            ..Follow::default()
                        }],
                        ..Customer::default()
                    },
                );
            }
        });
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

fn spawn_sandbox(customers: usize) -> Res<(Child, String)> {
    let mut child = Command::new(std::env::current_exe()?)
        .args(["--sandbox-child", &customers.to_string()])
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

async fn stream(sizes: &[usize]) -> Res {
    println!("## One member's customers streamed (list + batch/get_by_user, 100 per page)\n");
    println!("| customers | requests | time | rows/s | client peak memory |");
    println!("|---:|---:|---:|---:|---:|");
    for &customers in sizes {
        let (mut child, url) = spawn_sandbox(customers)?;
        let client = Client::builder(CORPID)
            .base_url(url)
            .system_secret(
                SystemApp::ExternalContact,
                Secret::new(EC_SECRET.to_owned()),
            )
            .timeout(Duration::from_secs(300))
            .build()?;
        // The token first, so the timing is the walk only.
        let ids = client.externalcontact().customer_list(MEMBER).await?;
        assert_eq!(ids.external_userid.len(), customers);
        drop(ids);
        let base = reset_peak();
        let started = Instant::now();
        let mut rows = 0usize;
        let mut requests = 0usize;
        let mut pages = std::pin::pin!(
            client
                .externalcontact()
                .customer_pages(vec![MEMBER.to_owned()], 100)
        );
        while let Some(page) = pages.try_next().await? {
            requests += 1;
            rows += page.external_contact_list.len();
        }
        let took = started.elapsed();
        let memory = peak_growth(base);
        assert_eq!(rows, customers, "every customer once");
        println!(
            "| {customers} | {} | {:.0} ms | {:.0} | {memory} MiB |",
            requests + 1,
            took.as_secs_f64() * 1000.0,
            rows as f64 / took.as_secs_f64().max(1e-9)
        );
        // For comparison: the same customers collected into a Vec (what the stream avoids).
        let base = reset_peak();
        let started = Instant::now();
        let all: Vec<_> = client
            .externalcontact()
            .customers_of(vec![MEMBER.to_owned()], 100)
            .try_collect()
            .await?;
        let took = started.elapsed();
        let memory = peak_growth(base);
        assert_eq!(all.len(), customers);
        println!(
            "| {customers} | {} (collected into a Vec, for comparison) | {:.0} ms | {:.0} | {memory} MiB |",
            requests,
            took.as_secs_f64() * 1000.0,
            all.len() as f64 / took.as_secs_f64().max(1e-9)
        );
        drop(all);
        let _ = child.kill();
        let _ = child.wait();
    }
    println!();
    Ok(())
}

fn main() -> Res {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--sandbox-child") {
        let n = args
            .get(i + 1)
            .and_then(|v| v.parse().ok())
            .ok_or("customers")?;
        return sandbox_child(n);
    }
    let quick =
        std::env::var_os("CUSTOMERS_BENCH_QUICK").is_some() || !args.iter().any(|a| a == "--bench");
    let sizes: Vec<usize> = if quick {
        vec![1_000]
    } else {
        vec![2_000, 20_000]
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(stream(&sizes))
}
