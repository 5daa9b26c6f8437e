//! Test support shared by the workspace's test binaries (never a dependency of shipped code):
//! a `redis-server` on a free loopback port, and the official callback test vectors.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A `redis-server` on a free loopback port, owned by one test; killed when dropped.
#[derive(Debug)]
pub struct RedisServer {
    child: Option<Child>,
    port: u16,
    _dir: tempfile::TempDir,
}

impl RedisServer {
    /// Starts redis-server. Returns `None` after printing `SKIPPED: ...` when it is not
    /// installed, except under CI (`CI` set), where a missing server fails the test.
    ///
    /// # Panics
    /// Under CI without redis-server, or when the server does not come up on any of five ports.
    pub fn start() -> Option<RedisServer> {
        let installed = Command::new("redis-server")
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !installed {
            assert!(
                std::env::var_os("CI").is_none(),
                "redis-server is not installed; CI must install it (apt-get install redis-server)"
            );
            eprintln!(
                "SKIPPED: redis-server is not installed (apt-get install redis-server); the Redis tests did not run"
            );
            return None;
        }
        let dir = tempfile::tempdir().expect("a temporary directory for redis-server");
        for _ in 0..5 {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("a free loopback port")
                .port();
            let mut child = Command::new("redis-server")
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                .args(["--save", "", "--appendonly", "no"])
                .arg("--dir")
                .arg(dir.path())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn redis-server");
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return Some(RedisServer {
                        child: Some(child),
                        port,
                        _dir: dir,
                    });
                }
                if let Ok(Some(_)) = child.try_wait() {
                    break; // the port was taken meanwhile: try another
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("redis-server did not start on a free loopback port");
    }

    /// The loopback port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `redis://127.0.0.1:PORT/0`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// Kills the server (Redis going down mid-run).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The official callback vectors (`tests/vectors/callback-crypto.json`, a copy of the project's
/// shared vectors); `$WECOM_CALLBACK_VECTORS` names another file.
///
/// # Panics
/// When the file cannot be read or is not JSON.
pub fn callback_vectors() -> serde_json::Value {
    let path = std::env::var("WECOM_CALLBACK_VECTORS").unwrap_or_else(|_| {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/vectors/callback-crypto.json"
        )
        .to_owned()
    });
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read the callback vectors at {path}: {e}"));
    serde_json::from_str(&text).expect("callback-crypto.json is JSON")
}
