//! What the end-to-end tests need on this machine. A missing piece stops the test binary at
//! once with one line that names it, why the tests need it and the command that installs it:
//! no panic from deep inside the harness, and never a silent skip (the binary fails).

use std::env;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::process::{self, Command};
use std::sync::Mutex;

/// The pinned versions, shared with the install scripts (`KEY="value"` lines).
const VERSIONS: &str = include_str!("../../crates/xtask/versions.env");

/// What `cargo xtask install` installs, said once in every stop line.
const INSTALL: &str =
    "install it with `cargo xtask install` (root for apt; builds the control plane once, ~10 min)";

/// The value of `key` in `crates/xtask/versions.env`.
pub fn pinned(key: &str) -> &'static str {
    let (_, value) = VERSIONS
        .lines()
        .filter_map(|line| line.split_once('='))
        .find(|(name, _)| name.trim() == key)
        .unwrap_or_else(|| panic!("crates/xtask/versions.env has no {key}"));
    value.trim().trim_matches('"')
}

/// The Kubernetes version of the control plane (`KUBERNETES` in versions.env).
pub fn kubernetes_version() -> &'static str {
    pinned("KUBERNETES")
}

/// Stops this test binary: one line on the real stderr (libtest does not capture it), then
/// exit status 1, so `cargo test` reports the binary as failed and stops there.
pub fn stop(line: &str) -> ! {
    // Tests run in parallel: only the first to find something missing says so.
    static STOPPING: Mutex<()> = Mutex::new(());
    let _only_one = STOPPING.lock();
    let _ = writeln!(io::stderr(), "\ncicd-access-tests: {line}");
    process::exit(1);
}

/// `program` on `PATH`, or a stop saying what needs it.
pub fn require_program(program: &str, needed_for: &str) -> PathBuf {
    in_path(program)
        .unwrap_or_else(|| stop(&format!("{program} not found on PATH: {needed_for}; {INSTALL}")))
}

/// `kubectl` on `PATH`, at least `KUBECTL_MIN` (the tests run `kubectl create token`).
pub fn require_kubectl() -> PathBuf {
    let minimum = pinned("KUBECTL_MIN");
    let why = format!(
        "the tests drive the control plane with kubectl >= {minimum} (kubectl create token); \
         Debian 12's package is 1.20: install a current kubectl (https://kubernetes.io/docs/tasks/tools/)"
    );
    let Some(path) = in_path("kubectl") else {
        stop(&format!("kubectl not found on PATH: {why}"));
    };
    let version = Command::new(&path)
        .args(["version", "--client", "--output", "json"])
        .output()
        .ok()
        .and_then(|out| serde_json::from_slice::<serde_json::Value>(&out.stdout).ok())
        .and_then(|json| Some(json.pointer("/clientVersion/gitVersion")?.as_str()?.to_owned()));
    let Some(version) = version else {
        stop(&format!("`{} version --client` did not print its version: {why}", path.display()));
    };
    if minor_version(&version) < minor_version(minimum) {
        stop(&format!("kubectl {version} is too old: {why}"));
    }
    path
}

/// `v1.32.4-dispatcher` → (1, 32); anything unreadable is (0, 0), i.e. too old.
fn minor_version(version: &str) -> (u32, u32) {
    let mut parts = version.trim_start_matches('v').split(['.', '-', '+']);
    let mut number = || parts.next().and_then(|part| part.parse().ok());
    match (number(), number()) {
        (Some(major), Some(minor)) => (major, minor),
        _ => (0, 0),
    }
}

/// The directory holding kube-apiserver and kube-controller-manager, or a stop.
pub fn require_kubernetes() -> PathBuf {
    let version = kubernetes_version();
    let dir = if let Some(dir) = env::var_os("CICD_ACCESS_K8S_BIN") {
        PathBuf::from(dir)
    } else {
        let cache = env::var_os("CICD_ACCESS_CACHE").map(PathBuf::from).or_else(|| {
            env::var_os("HOME").map(|home| Path::new(&home).join(".cache/cicd-access"))
        });
        let Some(cache) = cache else {
            stop(
                "neither CICD_ACCESS_CACHE nor HOME is set: the tests look for the control plane there",
            );
        };
        cache.join(format!("kubernetes-{version}"))
    };
    for binary in ["kube-apiserver", "kube-controller-manager"] {
        if !dir.join(binary).is_file() {
            stop(&format!(
                "{binary} {version} not found in {}: the end-to-end tests need a real control \
                 plane; {INSTALL}, or set CICD_ACCESS_K8S_BIN to a directory holding it",
                dir.display()
            ));
        }
    }
    dir
}

/// What the page's end-to-end test drives: the built page, node with playwright-core, and
/// Chromium. `dist` is the built page's directory.
pub fn require_page_tools(workspace: &Path, dist: &Path) {
    if !dist.join("index.html").is_file() {
        stop(&format!(
            "no built page in {}: the page's end-to-end test loads it; build it with \
             `crates/xtask/scripts/web.sh build` (`cargo xtask test` does)",
            dist.display()
        ));
    }
    let browser_driver = "the page's end-to-end test drives Chromium with playwright-core";
    require_program("node", browser_driver);
    if !workspace.join("target/node-tools/node_modules/playwright-core").is_dir() {
        stop(&format!(
            "playwright-core not found in target/node-tools: {browser_driver}; {INSTALL}"
        ));
    }
    let chromium =
        env::var_os("CHROMIUM").map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from);
    if !chromium.is_file() {
        stop(&format!("Chromium not found at {}: {browser_driver}; {INSTALL}", chromium.display()));
    }
}

pub(crate) fn in_path(program: &str) -> Option<PathBuf> {
    let path = env::var_os("PATH")?;
    env::split_paths(&path).map(|dir| dir.join(program)).find(|candidate| candidate.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pin_the_harness_reads_is_there() {
        assert_eq!(kubernetes_version().split('.').count(), 3);
        assert!(minor_version(pinned("KUBECTL_MIN")) >= (1, 24));
    }

    #[test]
    fn kubectl_versions_compare_by_major_and_minor() {
        assert_eq!(minor_version("v1.32.4-dispatcher"), (1, 32));
        assert_eq!(minor_version("v1.20.5+really1.20.2"), (1, 20));
        assert_eq!(minor_version("garbage"), (0, 0));
        assert!(minor_version("v1.9.0") < minor_version("1.24"));
    }
}
