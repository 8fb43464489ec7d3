//! `kubectl-cicd apply` against the documented kubectl sequence (the core's generated
//! script, run with bash), on one real control plane, as `admin`:
//!
//! 1. one pipeline (`welkin-user-demo`), interleaved runs, each in a fresh namespace:
//!    median wall time of each and their ratio (target: the CLI at least 8x faster), and
//!    the CLI's peak RSS (target: at most 30 MB) from `/usr/bin/time`;
//! 2. N pipelines (default 100, `CLI_BENCH_PIPELINES`) in N namespaces: one spec file
//!    applied by one CLI run against N sequential kubectl sequences;
//! 3. `kubectl cicd status -A` over every access made above (target: under 2 s) beside the
//!    `kubectl get` of the same objects as JSON, which is what it reads.
//!
//! The CLI does more than the script: it also checks the rights first and verifies the
//! issued kubeconfig. Run with `cargo bench -p cicd-access-tests --bench cli_apply`
//! (`cargo xtask bench` runs it); `CLI_BENCH_RUNS` sets the interleaved pairs (default 9).

#[path = "../tests/cli_support/mod.rs"]
mod cli_support;

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use cicd_access_core::{AccessSpec, TokenKind, preset, script};
use cicd_access_tests::{ControlPlane, Kubectl, run};

const PRESET: &str = "welkin-user-demo";

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn spec(namespace: &str) -> AccessSpec {
    AccessSpec {
        namespace: Some(namespace.to_owned()),
        ..preset::find(PRESET).expect("the preset exists").spec()
    }
}

/// One CLI run; returns its wall time and, when `/usr/bin/time` is there, its peak RSS (KiB).
fn cli(admin: &Kubectl, dir: &Path, args: &[&str]) -> (Duration, Option<u64>) {
    let time = Path::new("/usr/bin/time");
    let report = dir.join("rss.txt");
    let mut command = if time.is_file() {
        let mut command = admin.env_command(time);
        command.arg("-f").arg("%M").arg("-o").arg(&report).arg(cli_support::binary());
        command
    } else {
        admin.env_command(cli_support::binary())
    };
    command.current_dir(dir).arg("-q").args(args);
    let started = Instant::now();
    let output = run(command, None);
    let elapsed = started.elapsed();
    assert!(
        output.success(),
        "kubectl-cicd {args:?} failed:\n{}\n{}",
        output.stdout,
        output.stderr
    );
    let rss = fs::read_to_string(&report).ok().and_then(|t| t.trim().parse().ok());
    (elapsed, rss)
}

/// The documented sequence for `namespaces`, one after the other, as one bash process each.
fn kubectl_sequence(admin: &Kubectl, dir: &Path, namespace: &str) -> Duration {
    let text = script::render_script(&spec(namespace)).expect("a valid spec");
    let path = dir.join(format!("{namespace}.sh"));
    fs::write(&path, text).expect("the script can be written");
    let mut command: Command = admin.env_command("bash");
    command.arg(&path).current_dir(dir);
    let started = Instant::now();
    let output = run(command, None);
    let elapsed = started.elapsed();
    assert!(output.success(), "the kubectl sequence failed:\n{}\n{}", output.stdout, output.stderr);
    elapsed
}

fn median(values: &mut [Duration]) -> Duration {
    values.sort();
    values[values.len() / 2]
}

fn main() {
    // `cargo bench` passes `--bench`; a filter that does not name this bench skips it.
    let filter: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    if !filter.is_empty() && !filter.iter().any(|f| "cli_apply".contains(f.as_str())) {
        return;
    }
    let runs = env_number("CLI_BENCH_RUNS", 9);
    let pipelines = env_number("CLI_BENCH_PIPELINES", 100);
    let binary = cli_support::binary();
    println!("cli_apply: kubectl-cicd {} vs the kubectl sequence", binary.display());
    let cluster = ControlPlane::start();
    let admin = cluster.admin().kubectl();

    // Warm-up: kubectl's discovery cache, the page cache of both binaries.
    let warm = cluster.namespace();
    cli(&admin, warm.dir(), &["apply", "--preset", PRESET, "-n", warm.name()]);
    let warm_k = cluster.namespace();
    kubectl_sequence(&admin, warm_k.dir(), warm_k.name());

    let mut cli_times = Vec::new();
    let mut kubectl_times = Vec::new();
    let mut peak_rss = 0;
    for _ in 0..runs {
        let ns = cluster.namespace();
        let (elapsed, rss) = cli(&admin, ns.dir(), &["apply", "--preset", PRESET, "-n", ns.name()]);
        cli_times.push(elapsed);
        peak_rss = peak_rss.max(rss.unwrap_or(0));
        let ns = cluster.namespace();
        kubectl_times.push(kubectl_sequence(&admin, ns.dir(), ns.name()));
    }
    let cli_median = median(&mut cli_times);
    let kubectl_median = median(&mut kubectl_times);
    let ratio = kubectl_median.as_secs_f64() / cli_median.as_secs_f64();
    println!("one pipeline ({PRESET}), {runs} interleaved runs each:");
    println!("  kubectl-cicd apply   median {:>8.1} ms", cli_median.as_secs_f64() * 1e3);
    println!("  kubectl sequence     median {:>8.1} ms", kubectl_median.as_secs_f64() * 1e3);
    println!("  ratio                {ratio:>8.1}x (target >= 8x)");
    if peak_rss > 0 {
        #[allow(clippy::cast_precision_loss)]
        let mib = peak_rss as f64 / 1024.0;
        println!("  kubectl-cicd peak RSS {mib:>7.1} MiB (target <= 30 MB)");
    } else {
        println!("  kubectl-cicd peak RSS: /usr/bin/time is not installed");
    }

    // N pipelines: one spec file, one CLI run, against N sequences one after the other.
    let namespaces: Vec<_> = (0..pipelines).map(|_| cluster.namespace()).collect();
    let dir = namespaces[0].dir();
    let file: Vec<String> = namespaces.iter().map(|ns| spec(ns.name()).to_yaml()).collect();
    fs::write(dir.join("pipelines.yaml"), file.join("---\n"))
        .expect("the spec file can be written");
    let (cli_many, rss_many) =
        cli(&admin, dir, &["apply", "-f", "pipelines.yaml", "--output-kubeconfig", "out/kc.yaml"]);
    let kubectl_namespaces: Vec<_> = (0..pipelines).map(|_| cluster.namespace()).collect();
    let started = Instant::now();
    for ns in &kubectl_namespaces {
        kubectl_sequence(&admin, ns.dir(), ns.name());
    }
    let kubectl_many = started.elapsed();
    println!("{pipelines} pipelines in {pipelines} namespaces:");
    println!("  kubectl-cicd apply -f (one run)   {:>8.2} s", cli_many.as_secs_f64());
    println!("  {pipelines} kubectl sequences          {:>8.2} s", kubectl_many.as_secs_f64());
    println!(
        "  ratio                             {:>8.1}x",
        kubectl_many.as_secs_f64() / cli_many.as_secs_f64()
    );
    if let Some(rss) = rss_many {
        #[allow(clippy::cast_precision_loss)]
        let mib = rss as f64 / 1024.0;
        println!("  kubectl-cicd peak RSS             {mib:>8.1} MiB");
    }

    // The same with bound tokens: no token Secrets, so kube-controller-manager's token
    // controller (rate-limited by its --kube-api-qps) is out of the path.
    let bound_namespaces: Vec<_> = (0..pipelines).map(|_| cluster.namespace()).collect();
    let dir = bound_namespaces[0].dir();
    let file: Vec<String> = bound_namespaces
        .iter()
        .map(|ns| {
            let duration = "24h".parse().expect("a valid duration");
            AccessSpec { token: TokenKind::Bound { duration }, ..spec(ns.name()) }.to_yaml()
        })
        .collect();
    fs::write(dir.join("bound.yaml"), file.join("---\n")).expect("the spec file can be written");
    let (cli_bound, _) =
        cli(&admin, dir, &["apply", "-f", "bound.yaml", "--output-kubeconfig", "bound/kc.yaml"]);
    println!(
        "  kubectl-cicd apply -f, bound tokens {:>7.2} s (no token controller in the path)",
        cli_bound.as_secs_f64()
    );

    // status -A over all of them, against kubectl reading the same lists.
    let namespaces = runs * 2 + 2 + pipelines * 3;
    let mut status_times = Vec::new();
    let mut get_times = Vec::new();
    for _ in 0..runs {
        status_times.push(cli(&admin, dir, &["status", "-A", "-o", "json"]).0);
        let started = Instant::now();
        for what in [&["sa,role,rolebinding,secret", "-A"][..], &["clusterrolebindings"][..]] {
            let mut command: Command = admin.env_command("kubectl");
            command.arg("get").args(what).args(["-o", "json"]).current_dir(dir);
            let output = run(command, None);
            assert!(output.success(), "kubectl get failed:\n{}", output.stderr);
        }
        get_times.push(started.elapsed());
    }
    println!(
        "status -A over the {namespaces} namespaces made above, each with one access, {runs} runs each:"
    );
    println!(
        "  kubectl-cicd status -A     median {:>8.1} ms (target < 2 s)",
        median(&mut status_times).as_secs_f64() * 1e3
    );
    println!(
        "  kubectl get of the same    median {:>8.1} ms (sa,role,rolebinding,secret -A; clusterrolebindings)",
        median(&mut get_times).as_secs_f64() * 1e3
    );
}
