//! The processes of a control plane: one watchdog per control plane, and the components,
//! which all live in the watchdog's process group.
//!
//! A test binary that exits normally, panics, or is killed hard (`SIGKILL`, a CI timeout)
//! must leave nothing behind, and a control plane kept in a `static` is never dropped. So
//! the guarantee does not rest on `Drop`: the watchdog holds the read end of a pipe whose
//! only write end is in the test process. The kernel closes that end however the test
//! process ends; the watchdog then reads end-of-file and kills its whole process group
//! (every component) and removes the control plane's directory. `PR_SET_PDEATHSIG` would
//! need `unsafe` in `pre_exec`, which the workspace forbids.

use std::ffi::OsString;
use std::fs::{self, File};
use std::io::{self, ErrorKind};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// SIGTERM first so that etcd and the API server shut down cleanly; SIGKILL for anything
/// that ignores it. The watchdog ignores SIGTERM itself so it survives its own group kill.
const WATCHDOG_SCRIPT: &str = r#"trap '' TERM INT HUP
cat >/dev/null
kill -TERM 0
sleep 1
rm -rf "$1"
kill -KILL 0
"#;

#[derive(Debug)]
pub(crate) struct Watchdog {
    child: Child,
    /// Never written: its closing is the signal.
    pipe: Option<ChildStdin>,
}

impl Watchdog {
    /// Starts a watchdog that, once the test process is gone, kills its process group and
    /// removes `dir`.
    pub fn spawn(dir: &Path) -> io::Result<Watchdog> {
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(WATCHDOG_SCRIPT)
            .arg("cicd-access-watchdog")
            .arg(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()?;
        let pipe = child.stdin.take();
        Ok(Watchdog { child, pipe })
    }

    /// The process group the components join.
    pub fn group(&self) -> i32 {
        i32::try_from(self.child.id()).expect("a pid fits in i32")
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        // Reached only after the components were stopped one by one, so the watchdog has
        // nothing left to do: end it without its one-second grace period.
        drop(self.pipe.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One long-running component (etcd, kube-apiserver, kube-controller-manager): how to
/// start it, its log file, and the running child if any.
#[derive(Debug)]
pub(crate) struct Process {
    pub name: &'static str,
    program: PathBuf,
    args: Vec<OsString>,
    pub log: PathBuf,
    child: Option<Child>,
}

impl Process {
    pub fn new(name: &'static str, program: PathBuf, args: Vec<OsString>, log: PathBuf) -> Self {
        Process { name, program, args, log, child: None }
    }

    /// Starts the component in `group`, appending stdout and stderr to its log, so that a
    /// restart keeps the history of the earlier run.
    pub fn spawn(&mut self, group: i32) -> io::Result<()> {
        if self.is_running() {
            return Err(io::Error::new(
                ErrorKind::AlreadyExists,
                format!("{} is already running", self.name),
            ));
        }
        let log = File::options().create(true).append(true).open(&self.log)?;
        let child = Command::new(&self.program)
            .args(&self.args)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .process_group(group)
            .spawn()
            .map_err(|e| {
                io::Error::new(e.kind(), format!("cannot start {}: {e}", self.program.display()))
            })?;
        self.child = Some(child);
        Ok(())
    }

    /// The program and its arguments, as started.
    pub fn command_line(&self) -> Vec<String> {
        std::iter::once(self.program.as_os_str())
            .chain(self.args.iter().map(OsString::as_os_str))
            .map(|word| word.to_string_lossy().into_owned())
            .collect()
    }

    /// Whether the component runs; reaps it if it has exited.
    pub fn is_running(&mut self) -> bool {
        self.exit_status().is_none() && self.child.is_some()
    }

    /// The exit status if the component was started and has exited since.
    pub fn exit_status(&mut self) -> Option<ExitStatus> {
        self.child.as_mut().and_then(|child| child.try_wait().ok().flatten())
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// SIGTERM, then SIGKILL if the component is still there after `grace`.
    pub fn stop(&mut self, grace: Duration) {
        let Some(mut child) = self.child.take() else { return };
        if matches!(child.try_wait(), Ok(None)) {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .stderr(Stdio::null())
                .status();
            let deadline = Instant::now() + grace;
            while matches!(child.try_wait(), Ok(None)) && Instant::now() < deadline {
                thread::sleep(Duration::from_millis(20));
            }
        }
        let _ = child.kill();
        let _ = child.wait();
    }

    /// SIGKILL: the component gets no chance to clean up, as in a crash.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The last `lines` lines of the log.
    pub fn log_tail(&self, lines: usize) -> String {
        tail(&self.log, lines)
    }
}

pub(crate) fn tail(path: &Path, lines: usize) -> String {
    match fs::read(path) {
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes);
            let all: Vec<&str> = text.lines().collect();
            all[all.len().saturating_sub(lines)..].join("\n")
        }
        Err(e) => format!("(no log at {}: {e})", path.display()),
    }
}
