//! Hostile input to `kubectl-cicd`: deeply nested, huge and endless files, a folder that
//! contains itself. Each must be refused (exit 2) at once and in little memory; this prints
//! the wall time and peak RSS (`/usr/bin/time`) of each and fails past the budgets below.
//! `cargo bench -p cicd-access-tests --bench hostile_input` (`cargo xtask bench` runs it).

#[path = "../tests/cli_support/mod.rs"]
mod cli_support;

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// Budgets: a refusal reads at most the input's limit and parses nothing.
const TIME_BUDGET: Duration = Duration::from_secs(2);
const RSS_BUDGET_KIB: u64 = 64 * 1024;

fn main() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let root = dir.path();
    let spec_head =
        "apiVersion: cicd-access.dev/v1alpha1\nkind: CiCdAccess\nnamespace: demo\nrules:\n";
    let deep =
        |levels: usize| format!("{spec_head}- x: {}{}\n", "[".repeat(levels), "]".repeat(levels));
    fs::write(root.join("deep.yaml"), deep(100_000)).unwrap();
    let rule = "- apiGroups: [apps]\n  resources: [deployments]\n  verbs: [get]\n";
    fs::write(root.join("huge.yaml"), format!("{spec_head}{}", rule.repeat(50 << 20 >> 6)))
        .unwrap();
    fs::write(
        root.join("deep-manifest.yaml"),
        format!(
            "apiVersion: v1\nkind: ConfigMap\ndata: {}{}\n",
            "{a: ".repeat(100_000),
            "}".repeat(100_000)
        ),
    )
    .unwrap();
    fs::create_dir(root.join("loop")).unwrap();
    fs::write(root.join("loop/cm.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n")
        .unwrap();
    std::os::unix::fs::symlink(root.join("loop"), root.join("loop/self")).unwrap();

    let cases: [(&str, Vec<String>); 5] = [
        ("spec nested 100k levels (200 KB)", vec!["-f".into(), "deep.yaml".into()]),
        ("spec of 50 MB", vec!["-f".into(), "huge.yaml".into()]),
        ("spec from /dev/zero", vec!["-f".into(), "/dev/zero".into()]),
        (
            "manifests nested 100k levels",
            vec!["--from-manifests".into(), "deep-manifest.yaml".into()],
        ),
        ("manifests folder with a symlink loop", vec!["--from-manifests".into(), "loop".into()]),
    ];
    println!("{:<40} {:>10} {:>12}", "input", "time", "peak RSS");
    let mut over = Vec::new();
    for (name, args) in cases {
        let (elapsed, rss) = refuse(root, &args);
        let rss_text = rss.map_or("n/a".to_owned(), |kib| format!("{kib} KiB"));
        println!("{name:<40} {:>8.0}ms {rss_text:>12}", elapsed.as_secs_f64() * 1000.0);
        if elapsed > TIME_BUDGET || rss.is_some_and(|kib| kib > RSS_BUDGET_KIB) {
            over.push(name);
        }
    }
    assert!(over.is_empty(), "over the budget ({TIME_BUDGET:?}, {RSS_BUDGET_KIB} KiB): {over:?}");
}

/// Runs `kubectl-cicd generate -n demo ARGS` in `dir`; it must refuse (exit 2).
fn refuse(dir: &Path, args: &[String]) -> (Duration, Option<u64>) {
    let report = dir.join("rss.txt");
    let _ = fs::remove_file(&report);
    let time = Path::new("/usr/bin/time");
    let mut command = if time.is_file() {
        let mut command = Command::new(time);
        command.arg("-f").arg("%M").arg("-o").arg(&report).arg(cli_support::binary());
        command
    } else {
        Command::new(cli_support::binary())
    };
    command.current_dir(dir).args(["generate", "-n", "demo"]).args(args);
    let started = Instant::now();
    let output = command.output().expect("kubectl-cicd runs");
    let elapsed = started.elapsed();
    assert_eq!(
        output.status.code(),
        Some(2),
        "{args:?} was not refused as bad input:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // GNU time writes "Command exited with non-zero status 2" before the figure.
    let rss = fs::read_to_string(&report).ok().and_then(|t| t.lines().last()?.trim().parse().ok());
    (elapsed, rss)
}
