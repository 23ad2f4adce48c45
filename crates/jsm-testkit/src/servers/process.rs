//! Server processes: free loopback ports, executables from the environment, children killed by their pid,
//! and the start-on-a-free-port loop both servers share.

use std::fmt::Display;
use std::future::Future;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// How many ports a server is tried on: another process may take the one picked before the server binds it.
const ATTEMPTS: usize = 3;

/// A free TCP port on 127.0.0.1 (bound then released; the caller binds it next).
pub(crate) fn free_port() -> u16 {
    match TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()) {
        Ok(addr) => addr.port(),
        Err(e) => panic!("testkit: cannot bind 127.0.0.1:0: {e}"),
    }
}

/// A port nothing listens on (bound and released), so a connection to it is refused.
pub fn closed_port() -> u16 {
    free_port()
}

/// The executable named by `var`, or a printed notice and `None` when it is unset (the test is then skipped);
/// fails the test when it names a path that does not exist.
pub(crate) fn executable_from_env(var: &str, test: &str) -> Option<PathBuf> {
    match std::env::var_os(var).filter(|v| !v.is_empty()) {
        Some(path) => {
            let path = PathBuf::from(path);
            assert!(path.exists(), "{var}={} does not exist", path.display());
            Some(path)
        }
        None => {
            notice(&format!(
                "{test} skipped: {var} is not set (.ci/run sets it)"
            ));
            None
        }
    }
}

/// Prints a notice past the test harness's output capture (which only takes `print!`/`eprint!`).
pub(crate) fn notice(message: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "NOTICE: {message}");
}

/// A child process killed by its pid when dropped, its stdout and stderr in a log file.
#[derive(Debug)]
pub(crate) struct ChildGuard {
    name: &'static str,
    child: Child,
    log: PathBuf,
}

impl ChildGuard {
    /// Spawns `command` with no stdin and its output in `log`; fails the test when it cannot be started.
    pub(crate) fn spawn(name: &'static str, command: &mut Command, log: PathBuf) -> Self {
        let out = must(std::fs::File::create(&log), || {
            format!("create {}", log.display())
        });
        let err = must(out.try_clone(), || format!("reopen {}", log.display()));
        let child = must(
            command.stdin(Stdio::null()).stdout(out).stderr(err).spawn(),
            || format!("start {name} ({command:?})"),
        );
        Self { name, child, log }
    }

    /// Whether the process has exited.
    pub(crate) fn exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }

    /// Fails the test with the process's log if it has exited.
    pub(crate) fn assert_running(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!("{} exited early ({status}):\n{}", self.name, self.log());
        }
    }

    /// The process's output so far.
    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        // Child::kill sends SIGKILL to this child's pid only.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts a server on a free port: `spawn(port, log)` starts it, `up(port)` says whether it answers. A server
/// that exits before answering (its port was taken in between) is tried on another port; one that neither
/// answers within `limit` nor exits fails the test with its log.
pub(crate) async fn start_on_free_port<S, U, Fut>(
    name: &str,
    dir: &Path,
    limit: Duration,
    mut spawn: S,
    up: U,
) -> (ChildGuard, u16)
where
    S: FnMut(u16, PathBuf) -> ChildGuard,
    U: Fn(u16) -> Fut,
    Fut: Future<Output = bool>,
{
    let mut last_log = String::new();
    for _ in 0..ATTEMPTS {
        let port = free_port();
        let mut guard = spawn(port, dir.join(format!("{name}-{port}.log")));
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            if up(port).await {
                guard.assert_running();
                return (guard, port);
            }
            if guard.exited() {
                break;
            }
            if tokio::time::Instant::now() >= deadline {
                panic!(
                    "{name} did not answer within {}s:\n{}",
                    limit.as_secs(),
                    guard.log()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        last_log = guard.log();
    }
    panic!("{name} exited before answering on {ATTEMPTS} free ports; its last log:\n{last_log}");
}

/// Whether something accepts TCP connections on `127.0.0.1:port`.
pub(crate) async fn listening(port: u16) -> bool {
    tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_ok()
}

/// The value, or a failed test naming what could not be done.
pub(crate) fn must<T, E: Display>(result: Result<T, E>, what: impl FnOnce() -> String) -> T {
    match result {
        Ok(v) => v,
        Err(e) => panic!("testkit: cannot {}: {e}", what()),
    }
}
