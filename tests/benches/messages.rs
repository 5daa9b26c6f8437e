//! Messages benchmarks against a sandbox running in a child process (so the client process
//! measures only itself):
//!
//! 1. `message/send` throughput: sends per second through the client with 64 concurrent tasks;
//! 2. the peak memory of a 20 MB upload (from a file and from a reader) and of a 20 MB ranged
//!    download: the growth of the process's peak RSS (`VmHWM`, reset through
//!    `/proc/self/clear_refs`) over its RSS before the transfer.
//!
//! `cargo bench -p wecom-tests --bench messages` (set `MESSAGES_BENCH_SENDS` for more sends).

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use wecom_core_auth::Client;
use wecom_messages::{Media, MediaType, Message, Recipients};
use wecom_tests::{BIG_AGENTID, BIG_SECRET, member_id};

const MEMBERS: usize = 1000;
const TASKS: usize = 64;
const MIB: u64 = 1024 * 1024;

type Res<T = ()> = Result<T, Box<dyn std::error::Error>>;

fn main() -> Res {
    if std::env::args().any(|a| a == "--sandbox-child") {
        return sandbox_child();
    }
    let (mut child, base_url) = spawn_sandbox()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let outcome = rt.block_on(run(&base_url));
    let _ = child.kill();
    let _ = child.wait();
    outcome
}

/// The child: serves a big corp until its stdin closes.
fn sandbox_child() -> Res {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    rt.block_on(async {
        let sandbox = wecom_sandbox::Sandbox::builder()
            .corp(wecom_tests::big_corp(MEMBERS)?)
            .start()
            .await?;
        println!("{}", sandbox.base_url());
        std::io::stdout().flush()?;
        // Block a thread on stdin; the parent closes it (or dies) to stop us.
        let _ = tokio::task::spawn_blocking(|| {
            let mut line = String::new();
            let _ = std::io::stdin().read_line(&mut line);
        })
        .await;
        drop(sandbox);
        Ok::<(), Box<dyn std::error::Error>>(())
    })
}

fn spawn_sandbox() -> Res<(Child, String)> {
    let mut child = Command::new(std::env::current_exe()?)
        .arg("--sandbox-child")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line)?;
    let url = line.trim().to_owned();
    if !url.starts_with("http://") {
        let _ = child.kill();
        return Err(format!("the sandbox child printed `{url}`").into());
    }
    Ok((child, url))
}

async fn run(base_url: &str) -> Res {
    // The child's corp: same constants as `wecom_tests::big_corp`.
    let corp = wecom_tests::big_corp(0)?;
    let client = Client::builder(corp.corpid())
        .base_url(base_url)
        .app(
            BIG_AGENTID,
            wecom_core_auth::Secret::new(BIG_SECRET.to_owned()),
        )
        .build()?;
    client.access_token().await?;

    sends_per_second(&client).await?;
    upload_memory(&client).await?;
    Ok(())
}

async fn sends_per_second(client: &Client) -> Res {
    let total: usize = std::env::var("MESSAGES_BENCH_SENDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let client = Arc::new(client.clone());
    // Warm-up: connections and code paths.
    burst(&client, 500, 0).await?;
    let started = Instant::now();
    burst(&client, total, 1_000_000).await?;
    let elapsed = started.elapsed();
    println!(
        "message/send: {total} sends, {TASKS} concurrent tasks: {:.0} sends/s ({:.2} ms per send per task)",
        total as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64() * 1000.0 * TASKS as f64 / total as f64
    );
    Ok(())
}

async fn burst(client: &Arc<Client>, total: usize, offset: usize) -> Res {
    let mut tasks = Vec::with_capacity(TASKS);
    for t in 0..TASKS {
        let client = Arc::clone(client);
        tasks.push(tokio::spawn(async move {
            for i in (t..total).step_by(TASKS) {
                let to = member_id(i % MEMBERS);
                Message::text(format!("bench #{}", offset + i))
                    .to(Recipients::user(to))
                    .send(&client)
                    .await?;
            }
            Ok::<(), wecom_core_auth::Error>(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    Ok(())
}

/// `VmRSS` and `VmHWM` of this process, in bytes.
fn rss() -> Option<(u64, u64)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<u64>().ok())
            .map(|kb| kb * 1024)
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

/// Resets the peak RSS to the current RSS (Linux: write 5 to clear_refs).
fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

async fn measure<F, Fut, T>(what: &str, size: u64, f: F) -> Res<T>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Res<T>>,
{
    let reset = reset_peak();
    let before = rss().map(|r| r.0).unwrap_or(0);
    let started = Instant::now();
    let out = f().await?;
    let elapsed = started.elapsed();
    match (reset, rss()) {
        (true, Some((_, peak))) => {
            let growth = peak.saturating_sub(before);
            println!(
                "{what}: {:.1} MiB in {:.0} ms; peak RSS grew by {:.2} MiB ({:.1}% of the file)",
                size as f64 / MIB as f64,
                elapsed.as_secs_f64() * 1000.0,
                growth as f64 / MIB as f64,
                100.0 * growth as f64 / size as f64
            );
        }
        _ => println!(
            "{what}: {:.0} ms (peak RSS not measurable on this system)",
            elapsed.as_secs_f64() * 1000.0
        ),
    }
    Ok(out)
}

async fn upload_memory(client: &Client) -> Res {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("twenty.bin");
    let size = 20 * MIB;
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&path)?);
        let block: Vec<u8> = (0..MIB as usize).map(|i| (i * 31 % 251) as u8).collect();
        for _ in 0..20 {
            f.write_all(&block)?;
        }
        f.flush()?;
    }
    let media = Media::new(client);
    // Let allocator and connection pools settle first.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let up = measure("upload 20 MB from a file", size, || async {
        Ok(media.upload_path(MediaType::File, &path).await?)
    })
    .await?;
    measure(
        "upload 20 MB from a reader (unknown length)",
        size,
        || async {
            let reader = tokio::fs::File::open(&path).await?;
            Ok(media
                .upload_reader(MediaType::File, "twenty.bin", reader, None)
                .await?)
        },
    )
    .await?;
    let out = dir.path().join("copy.bin");
    let n = measure("download 20 MB in 1 MiB ranges to a file", size, || async {
        Ok(media.download_to_path(&up.media_id, &out).await?)
    })
    .await?;
    if n != size || std::fs::read(&out)? != std::fs::read(&path)? {
        return Err("the download differs from the upload".into());
    }
    let big = media.chunk_size(4 * MIB);
    measure("download 20 MB in 4 MiB ranges to a file", size, || async {
        Ok(big.download_to_path(&up.media_id, &out).await?)
    })
    .await?;
    Ok(())
}
