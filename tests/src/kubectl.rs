//! Running `kubectl` (and scripts that run it) as one identity of a test control plane.

use std::ffi::OsStr;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::thread;

use cicd_access_core::spec::{MANAGED_BY_LABEL, MANAGED_BY_VALUE};

/// What a finished command printed.
#[derive(Debug, Clone)]
pub struct Output {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    pub fn success(&self) -> bool {
        self.status.success()
    }

    /// The stdout of a command that must have succeeded; panics with its stderr otherwise.
    pub fn expect_success(self, what: &str) -> String {
        assert!(
            self.success(),
            "{what} failed ({}):\nstderr: {}\nstdout: {}",
            self.status,
            self.stderr.trim_end(),
            self.stdout.trim_end()
        );
        self.stdout
    }

    /// The stderr of a command that must have failed; panics with its stdout otherwise.
    pub fn expect_failure(self, what: &str) -> String {
        assert!(!self.success(), "{what} succeeded but should have failed:\n{}", self.stdout);
        self.stderr
    }
}

/// Runs `command` to completion, feeding it `stdin` if given.
pub fn run(mut command: Command, stdin: Option<&str>) -> Output {
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    command.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() });
    let program = command.get_program().to_string_lossy().into_owned();
    let mut child = command.spawn().unwrap_or_else(|e| panic!("cannot run `{program}`: {e}"));
    // Written from a thread: a large input and a large output would otherwise deadlock
    // on the two pipe buffers.
    let writer = stdin.map(|input| {
        let mut pipe = child.stdin.take().expect("stdin was piped");
        let input = input.to_owned();
        thread::spawn(move || {
            let _ = pipe.write_all(input.as_bytes());
        })
    });
    let output = child.wait_with_output().unwrap_or_else(|e| panic!("`{program}` failed: {e}"));
    if let Some(writer) = writer {
        let _ = writer.join();
    }
    Output {
        status: output.status,
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// `kubectl` with one kubeconfig, optionally in one namespace.
///
/// Every invocation uses the control plane's own discovery cache: control planes get
/// random ports, and kubectl's default cache (`~/.kube/cache`, keyed by host and port)
/// could otherwise hold what an earlier control plane on the same port served.
#[derive(Debug, Clone)]
pub struct Kubectl {
    kubeconfig: PathBuf,
    cache_dir: PathBuf,
    home: PathBuf,
    namespace: Option<String>,
}

impl Kubectl {
    pub(crate) fn new(kubeconfig: PathBuf, home: PathBuf) -> Kubectl {
        let cache_dir = home.join(".kube").join("cache");
        Kubectl { kubeconfig, cache_dir, home, namespace: None }
    }

    /// The same, with `-n namespace` on every command.
    #[must_use]
    pub fn namespace(mut self, namespace: &str) -> Kubectl {
        self.namespace = Some(namespace.to_owned());
        self
    }

    pub fn kubeconfig(&self) -> &Path {
        &self.kubeconfig
    }

    /// `kubectl --kubeconfig ... [-n ...]`, to add arguments to and run.
    pub fn command(&self) -> Command {
        let mut command = Command::new("kubectl");
        command.env("HOME", &self.home).env("KUBECONFIG", &self.kubeconfig);
        command.arg("--kubeconfig").arg(&self.kubeconfig).arg("--cache-dir").arg(&self.cache_dir);
        if let Some(namespace) = &self.namespace {
            command.arg("--namespace").arg(namespace);
        }
        command
    }

    /// Any program (`bash`, `kubectl-cicd`) with `KUBECONFIG` set to this identity's
    /// kubeconfig and `HOME` set to the control plane's, as a person's shell would be.
    pub fn env_command(&self, program: impl AsRef<OsStr>) -> Command {
        let mut command = Command::new(program);
        command.env("HOME", &self.home).env("KUBECONFIG", &self.kubeconfig);
        command
    }

    pub fn run<S: AsRef<OsStr>>(&self, args: &[S]) -> Output {
        let mut command = self.command();
        command.args(args);
        run(command, None)
    }

    pub fn run_with_stdin<S: AsRef<OsStr>>(&self, args: &[S], stdin: &str) -> Output {
        let mut command = self.command();
        command.args(args);
        run(command, Some(stdin))
    }

    /// Runs and returns stdout; panics with stderr if kubectl failed.
    pub fn ok<S: AsRef<OsStr>>(&self, args: &[S]) -> String {
        let what = describe(args);
        self.run(args).expect_success(&what)
    }

    /// The `kind/name` lines of the objects of `kinds` (comma-separated) that carry
    /// cicd-access's managed-by label: what it created and has not removed.
    pub fn managed(&self, kinds: &str) -> String {
        let selector = format!("{MANAGED_BY_LABEL}={MANAGED_BY_VALUE}");
        self.ok(&["get", kinds, "-l", &selector, "-o", "name"])
    }

    /// `kubectl apply --server-side -f -` of `yaml`.
    pub fn apply(&self, yaml: &str) -> Output {
        self.run_with_stdin(&["apply", "--server-side", "-f", "-"], yaml)
    }

    /// `kubectl create -f -` of `yaml`.
    pub fn create(&self, yaml: &str) -> Output {
        self.run_with_stdin(&["create", "-f", "-"], yaml)
    }

    /// `kubectl auth can-i VERB RESOURCE`: true on "yes", false on "no", panics on an error.
    pub fn can_i(&self, verb: &str, resource: &str) -> bool {
        let output = self.run(&["auth", "can-i", verb, resource]);
        match output.stdout.trim() {
            "yes" => true,
            "no" => false,
            _ => panic!("`kubectl auth can-i {verb} {resource}` failed: {}", output.stderr),
        }
    }
}

fn describe<S: AsRef<OsStr>>(args: &[S]) -> String {
    let args: Vec<String> =
        args.iter().map(|a| a.as_ref().to_string_lossy().into_owned()).collect();
    format!("`kubectl {}`", args.join(" "))
}
