//! `cargo xtask test|serve|bench|fuzz|dist|install`: installs what is missing, says what it does, runs it.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

use anyhow::{Context, Result, bail};

const USAGE: &str = "usage: cargo xtask <command>

commands:
  test      install what is missing, then fmt check, clippy (native + wasm32), all tests
  serve     build the page and serve it on http://127.0.0.1:8080
  bench     run the benchmarks (CLI apply vs kubectl, page size and speed, core speed)
  fuzz [SECONDS] [TARGET...]
            fuzz every parser of user input, SECONDS each (default 600), and summarise
  dist [TARGET...]
            release artifacts in target/dist/: kubectl-cicd archives for TARGETs (default:
            every target Debian builds), the page's bundle, sha256sums.txt, krew manifest
  install   only install the tools and the test control plane";

/// What `cargo xtask dist` builds by default. macOS needs Apple's SDK: the release workflow
/// builds it on macOS. Windows is mingw-w64's (the `cross` tools); msvc needs Microsoft's SDK.
const DIST_TARGETS: [&str; 3] =
    ["x86_64-unknown-linux-musl", "aarch64-unknown-linux-musl", "x86_64-pc-windows-gnu"];

/// What `cargo xtask test` packages for tests/tests/dist.rs: the static x86_64 binary, the
/// one the tests can run through kubectl here.
const TEST_DIST_TARGETS: [&str; 1] = ["x86_64-unknown-linux-musl"];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => test(),
        Some("serve") => serve(),
        Some("bench") => bench(),
        Some("fuzz") => fuzz(&args[1..]),
        Some("dist") => dist(&args[1..]),
        Some("install") => install(Scope::Tests),
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("xtask: error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap_or_default()
}

fn scripts() -> PathBuf {
    root().join("crates/xtask/scripts")
}

/// Runs `program args` in the repository root, echoing it first.
fn run(program: &str, args: &[&str]) -> Result<()> {
    eprintln!("xtask: $ {program} {}", args.join(" "));
    let started = Instant::now();
    let status = Command::new(program)
        .args(args)
        .current_dir(root())
        .status()
        .with_context(|| format!("could not start {program}"))?;
    if !status.success() {
        bail!("`{program} {}` failed ({status})", args.join(" "));
    }
    eprintln!("xtask: done in {:.1}s", started.elapsed().as_secs_f64());
    Ok(())
}

fn script(name: &str, args: &[&str]) -> Result<()> {
    let path = scripts().join(name);
    run(&path.to_string_lossy(), args)
}

/// shellcheck over xtask's own scripts, which CI runs on every machine it installs, and the
/// Action's, which run on every runner that uses it.
fn shellcheck_scripts() -> Result<()> {
    let mut paths = Vec::new();
    for dir in [scripts(), root().join(".github/action")] {
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            if path.extension().is_some_and(|ext| ext == "sh") {
                paths.push(path.to_string_lossy().into_owned());
            }
        }
    }
    paths.sort();
    let mut args = vec!["--external-sources"];
    args.extend(paths.iter().map(String::as_str));
    run("shellcheck", &args)
}

/// `cargo clippy` over `selection`, every warning an error.
fn clippy(selection: &[&str]) -> Result<()> {
    let mut args = vec!["clippy"];
    args.extend_from_slice(selection);
    args.extend_from_slice(&["--", "-D", "warnings"]);
    run("cargo", &args)
}

/// What `install` sets up: the page's build alone (`serve`), the page and the cross
/// toolchains (`dist`), or everything the tests need.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Scope {
    Page,
    Dist,
    Tests,
}

/// A script running beside the work in the foreground, its output in `target/NAME.log`.
struct Beside {
    name: &'static str,
    log: PathBuf,
    child: std::process::Child,
}

impl Beside {
    fn start(name: &'static str, args: &[&str]) -> Result<Beside> {
        std::fs::create_dir_all(root().join("target"))?;
        let log = root().join(format!("target/{}.log", name.trim_end_matches(".sh")));
        let output = std::fs::File::create(&log)?;
        eprintln!("xtask: $ {name} {} (beside; output in {})", args.join(" "), log.display());
        let child = Command::new(scripts().join(name))
            .args(args)
            .current_dir(root())
            .stdout(output.try_clone()?)
            .stderr(output)
            .spawn()
            .with_context(|| format!("could not start {name}"))?;
        Ok(Beside { name, log, child })
    }

    /// Waits for it; `foreground` is how the work beside it ended. A failure of either is
    /// reported, with the end of this one's log when it failed.
    fn finish(mut self, foreground: Result<()>) -> Result<()> {
        if foreground.is_err() {
            // Failed already: do not make the user wait for this to say so.
            let _ = self.child.kill();
        }
        let status = self.child.wait().with_context(|| format!("{} did not finish", self.name))?;
        foreground?;
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        if !status.success() {
            let tail: Vec<&str> = text.lines().rev().take(30).collect();
            for line in tail.iter().rev() {
                eprintln!("  {line}");
            }
            bail!("{} failed ({status}); its whole output is in {}", self.name, self.log.display());
        }
        eprintln!("xtask: {} done: {}", self.name, text.lines().last().unwrap_or_default());
        Ok(())
    }
}

/// Installs what is missing. What cannot be installed here (no root for apt, kubectl too old)
/// fails first, with one line naming it and its fix, before anything slow starts. The control
/// plane's Go build runs beside the cargo installs: each has long single-threaded stretches.
fn install(scope: Scope) -> Result<()> {
    let page = ["wasm", "nightly", "node", "trunk", "crates"];
    match scope {
        Scope::Page => return script("install-tools.sh", &page),
        Scope::Dist => {
            script("install-tools.sh", &["musl", "cross"])?;
            return script("install-tools.sh", &page);
        }
        Scope::Tests => {}
    }
    script("install-tools.sh", &["prereqs", "apt", "musl", "workflow-checks"])?;
    script("install-kubernetes.sh", &["packages"])?;
    let kubernetes = Beside::start("install-kubernetes.sh", &[])?;
    kubernetes.finish(script("install-tools.sh", &page))
}

fn test() -> Result<()> {
    install(Scope::Tests)?;
    run("cargo", &["fmt", "--all", "--check"])?;
    shellcheck_scripts()?;
    // The workflows and the Action cannot run here: GitHub's schemas and zizmor's audits stand in.
    script("dist.sh", &["check-workflows"])?;
    clippy(&["--workspace", "--exclude", "cicd-access-web", "--all-targets"])?;
    // The core's dev-dependencies (proptest) do not build for wasm32: its library is what
    // runs in the browser. The page's tests do run there.
    clippy(&["--target", "wasm32-unknown-unknown", "-p", "cicd-access-core", "--lib"])?;
    clippy(&["--target", "wasm32-unknown-unknown", "-p", "cicd-access-web", "--all-targets"])?;
    // The page must be built before the browser end-to-end tests in tests/ read dist/. (Built
    // beside the Rust tests instead, it only slowed their compilation: 632 s against 513 + 109.)
    script("web.sh", &["build"])?;
    // tests/tests/dist.rs unpacks the archives and checks the manifests.
    package(&TEST_DIST_TARGETS)?;
    run("cargo", &["test", "--workspace", "--exclude", "cicd-access-web"])?;
    // What fuzzing found stays found: every target replays its seeds and past findings.
    script("fuzz.sh", &["replay"])?;
    script("web.sh", &["browser-tests"])?;
    eprintln!("xtask: all checks and tests passed");
    Ok(())
}

fn serve() -> Result<()> {
    install(Scope::Page)?;
    script("web.sh", &["serve"])
}

fn bench() -> Result<()> {
    install(Scope::Tests)?;
    run("cargo", &["bench", "-p", "cicd-access-tests"])?;
    // Builds the page itself before measuring it.
    script("web.sh", &["bench"])
}

fn dist(args: &[String]) -> Result<()> {
    let started = Instant::now();
    install(Scope::Dist)?;
    script("web.sh", &["build"])?;
    let targets: Vec<&str> = if args.is_empty() {
        DIST_TARGETS.to_vec()
    } else {
        args.iter().map(String::as_str).collect()
    };
    package(&targets)?;
    eprintln!(
        "xtask: target/dist written in {:.0}s (the installs and the page included)",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Builds kubectl-cicd for `targets` and packages them with the built page into a fresh
/// target/dist/: what is there is exactly this tree's build, never an older binary.
fn package(targets: &[&str]) -> Result<()> {
    let dist = root().join("target/dist");
    match std::fs::remove_dir_all(&dist) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
            return Err(error).with_context(|| format!("could not empty {}", dist.display()));
        }
        _ => {}
    }
    let build: Vec<&str> = std::iter::once("build").chain(targets.iter().copied()).collect();
    script("dist.sh", &build)?;
    script("dist.sh", &["package"])
}

fn fuzz(args: &[String]) -> Result<()> {
    install(Scope::Page)?;
    let args: Vec<&str> = std::iter::once("run").chain(args.iter().map(String::as_str)).collect();
    script("fuzz.sh", &args)
}
