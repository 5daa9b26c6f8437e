//! 微盘 transfers against a sandbox running in a child process (so this process measures only
//! the client): a file uploaded with the block upload (streamed from disk in 2 MB blocks) and
//! downloaded in 1 MiB ranges to disk, compared by hash, and the growth of this process's peak
//! RSS (`VmHWM`, reset through `/proc/self/clear_refs`) over its RSS before each transfer.
//!
//! `cargo bench -p wecom-tests --bench wedrive` moves 20 MiB; `-- --long` (what
//! `cargo xtask bench --long` passes) moves 200 MiB; `WEDRIVE_BENCH_MIB=N` any size.
//! Each result is one line `RESULT wedrive_<what> mib=.. ms=.. peak_growth_mib=..`.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use wecom_core_auth::Client;
use wecom_tests::{BIG_AGENTID, BIG_SECRET};
use wecom_wedrive::blocks::BlockHashes;
use wecom_wedrive::{Drive, WedriveExt as _};

const MIB: u64 = 1024 * 1024;

type Res<T = ()> = Result<T, Box<dyn std::error::Error>>;

fn main() -> Res {
    if std::env::args().any(|a| a == "--sandbox-child") {
        return sandbox_child();
    }
    let long = std::env::args().any(|a| a == "--long");
    let mib: u64 = std::env::var("WEDRIVE_BENCH_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if long { 200 } else { 20 });
    let (mut child, base_url) = spawn_sandbox()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let outcome = rt.block_on(run(&base_url, mib));
    let _ = child.kill();
    let _ = child.wait();
    outcome
}

/// The child: serves a small corp until its stdin closes.
fn sandbox_child() -> Res {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    rt.block_on(async {
        let sandbox = wecom_sandbox::Sandbox::builder()
            .corp(wecom_tests::big_corp(10)?)
            .start()
            .await?;
        println!("{}", sandbox.base_url());
        std::io::stdout().flush()?;
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
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    let growth = match (reset, rss()) {
        (true, Some((_, peak))) => {
            format!("{:.2}", peak.saturating_sub(before) as f64 / MIB as f64)
        }
        _ => "unmeasurable".to_owned(),
    };
    println!(
        "RESULT wedrive_{what} mib={:.0} ms={ms:.0} peak_growth_mib={growth}",
        size as f64 / MIB as f64
    );
    Ok(out)
}

async fn run(base_url: &str, mib: u64) -> Res {
    let corp = wecom_tests::big_corp(0)?;
    let client = Client::builder(corp.corpid())
        .base_url(base_url)
        .app(
            BIG_AGENTID,
            wecom_core_auth::Secret::new(BIG_SECRET.to_owned()),
        )
        .timeout(Duration::from_secs(120))
        .build()?;
    let spaceid = client.wedrive().space_create("bench").await?.spaceid;

    let dir = tempfile::tempdir()?;
    let path = dir.path().join("big.bin");
    let size = mib * MIB;
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&path)?);
        let block: Vec<u8> = (0..MIB as usize).map(|i| (i * 31 % 251) as u8).collect();
        for i in 0..mib {
            // Vary each MiB so no two blocks are alike.
            f.write_all(&(i as u32).to_le_bytes())?;
            f.write_all(&block[4..])?;
        }
        f.flush()?;
    }
    // Warm up connections, the token and the allocator with a small transfer.
    let warm = Drive::new(&client)
        .upload_bytes(&spaceid, &spaceid, "warm.bin", &[1u8; 4096])
        .await?;
    let mut sink = Vec::new();
    Drive::new(&client)
        .download(&warm.fileid, &mut sink)
        .await?;
    tokio::time::sleep(Duration::from_millis(50)).await;

    let up = measure("upload", size, || async {
        Ok(Drive::new(&client)
            .upload_path(&spaceid, &spaceid, &path)
            .await?)
    })
    .await?;
    let out = dir.path().join("copy.bin");
    let n = measure("download", size, || async {
        Ok(Drive::new(&client)
            .download_to_path(&up.fileid, &out)
            .await?)
    })
    .await?;
    let a = BlockHashes::of_reader(&mut tokio::fs::File::open(&path).await?).await?;
    let b = BlockHashes::of_reader(&mut tokio::fs::File::open(&out).await?).await?;
    if n != size || a != b {
        return Err("the download differs from the upload".into());
    }
    println!(
        "wedrive: {mib} MiB up in {} blocks and down in 1 MiB ranges, identical (sha1 {})",
        up.blocks_sent,
        a.sha1()
    );
    Ok(())
}
