//! Running the `kubectl-cicd` binary from the end-to-end tests.
//!
//! Cargo gives `CARGO_BIN_EXE_*` only to the binary's own package, so the tests build it
//! once (`cargo build -p kubectl-cicd`, into this workspace's target directory, same
//! profile) and run it from there; `KUBECTL_CICD_BIN` overrides the path.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use cicd_access_tests::{Kubectl, Output, run};

/// The `kubectl-cicd` binary, built on first use.
pub fn binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        if let Some(path) = std::env::var_os("KUBECTL_CICD_BIN") {
            return PathBuf::from(path);
        }
        // target/<profile>/deps/<test binary>
        let exe = std::env::current_exe().expect("the test binary's path");
        let profile_dir = exe.parent().and_then(Path::parent).expect("target/<profile>");
        let profile = profile_dir.file_name().and_then(|n| n.to_str()).unwrap_or("debug");
        let target_dir = profile_dir.parent().expect("the target directory");
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut build = Command::new(cargo);
        build
            .args(["build", "--quiet", "-p", "kubectl-cicd", "--bin", "kubectl-cicd"])
            .arg("--target-dir")
            .arg(target_dir)
            .current_dir(env!("CARGO_MANIFEST_DIR"));
        if profile != "debug" {
            build.args(["--profile", if profile == "release" { "release" } else { profile }]);
        }
        let status = build.status().expect("cargo can be run");
        assert!(status.success(), "cargo build -p kubectl-cicd failed");
        profile_dir.join("kubectl-cicd")
    })
}

/// `kubectl-cicd ARGS` as the identity of `kubectl` (its `KUBECONFIG` and `HOME`),
/// in `dir`.
pub fn cicd<S: AsRef<std::ffi::OsStr>>(as_: &Kubectl, dir: &Path, args: &[S]) -> Output {
    let mut command = as_.env_command(binary());
    command.current_dir(dir).arg("-q").args(args);
    run(command, None)
}

/// The exit code of a finished run.
pub fn code(output: &Output) -> i32 {
    output.status.code().unwrap_or(-1)
}

/// Panics with both streams unless the run exited with `expected`.
pub fn expect_code(output: &Output, expected: i32, what: &str) {
    assert_eq!(
        code(output),
        expected,
        "{what}: expected exit {expected}\n--- stdout\n{}\n--- stderr\n{}",
        output.stdout,
        output.stderr
    );
}
