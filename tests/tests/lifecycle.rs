//! The harness itself: components stop and come back as the CLI tests need, and nothing
//! is left behind, however the test process ends.

use std::env;
use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use cicd_access_tests::{Component, ControlPlane, poll};

const SERVICE_ACCOUNT_AND_SECRET: &str = "apiVersion: v1
kind: ServiceAccount
metadata:
  name: ci-cd
---
apiVersion: v1
kind: Secret
type: kubernetes.io/service-account-token
metadata:
  name: ci-cd
  annotations:
    kubernetes.io/service-account.name: ci-cd
";

/// Whether process `pid` is gone (a zombie counts as gone: it runs nothing, and its
/// parent, the reaper of orphans, may not be quick to collect it).
fn is_gone(pid: u32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat.rsplit(')').next().is_some_and(|rest| rest.trim_start().starts_with('Z')),
    }
}

fn wait_until_gone(pids: &[u32], dir: &Path) {
    poll("the control plane's processes and directory to be gone", Duration::from_secs(20), || {
        Ok((pids.iter().all(|pid| is_gone(*pid)) && !dir.exists()).then_some(()))
    })
    .unwrap_or_else(|e| {
        let left: Vec<_> = pids.iter().filter(|pid| !is_gone(**pid)).collect();
        panic!("{e:#}: processes left {left:?}, directory left: {}", dir.exists())
    });
}

fn token(cluster: &ControlPlane, namespace: &str) -> String {
    let output = cluster.admin().kubectl().namespace(namespace).run(&[
        "get",
        "secret",
        "ci-cd",
        "-o",
        "jsonpath={.data.token}",
    ]);
    output.expect_success("reading the token")
}

#[test]
fn components_stop_and_restart_and_drop_cleans_up() {
    let cluster = ControlPlane::start();
    let namespace = cluster.namespace();
    let name = namespace.name().to_owned();

    // Without the token controller the Secret stays empty, as the CLI must report.
    cluster.stop(Component::ControllerManager);
    assert!(!cluster.is_running(Component::ControllerManager));
    namespace.admin().apply(SERVICE_ACCOUNT_AND_SECRET).expect_success("the ServiceAccount");
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(token(&cluster, &name), "");
    cluster.restart(Component::ControllerManager);
    poll("the token", Duration::from_secs(30), || {
        Ok((!token(&cluster, &name).is_empty()).then_some(()))
    })
    .unwrap_or_else(|e| panic!("{e:#}"));

    // A crashed API server refuses connections; restarted, it serves the same data.
    cluster.kill(Component::ApiServer);
    assert!(!cluster.is_running(Component::ApiServer));
    let refused = namespace.admin().run(&["get", "secret", "ci-cd", "--request-timeout=5s"]);
    assert!(refused.stderr.contains("refused"), "{}", refused.stderr);
    cluster.restart(Component::ApiServer);
    assert!(!token(&cluster, &name).is_empty());
    assert!(cluster.log_tail(Component::ApiServer, 5).lines().count() > 0);
    drop(namespace);

    let pids: Vec<u32> = [Component::Etcd, Component::ApiServer, Component::ControllerManager]
        .into_iter()
        .map(|component| cluster.pid(component).expect("running"))
        .collect();
    let dir = cluster.dir().to_path_buf();
    drop(cluster);
    wait_until_gone(&pids, &dir);
}

const CHILD: &str = "CICD_ACCESS_HARNESS_CHILD";

#[test]
fn a_test_binary_killed_hard_leaves_nothing_behind() {
    let mut child = Command::new(env::current_exe().expect("the test binary"))
        .args(["--exact", "child_holding_the_shared_control_plane", "--ignored", "--nocapture"])
        .env(CHILD, "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the child test binary starts");
    let stdout = child.stdout.take().expect("piped");
    let ready = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .find(|line| line.starts_with("READY "))
        .expect("the child reports its control plane");
    let mut fields = ready.split_whitespace().skip(1);
    let dir = PathBuf::from(fields.next().expect("a directory"));
    let pids: Vec<u32> = fields.map(|pid| pid.parse().expect("a pid")).collect();
    assert_eq!(pids.len(), 3, "{ready}");
    assert!(dir.exists());

    // SIGKILL: no destructor, no panic hook, nothing of the child's own runs.
    child.kill().expect("the child can be killed");
    child.wait().expect("the child is reaped");
    wait_until_gone(&pids, &dir);
}

#[test]
#[ignore = "run by a_test_binary_killed_hard_leaves_nothing_behind"]
fn child_holding_the_shared_control_plane() {
    if env::var_os(CHILD).is_none() {
        return;
    }
    let cluster = ControlPlane::shared();
    let pids: Vec<String> = [Component::Etcd, Component::ApiServer, Component::ControllerManager]
        .into_iter()
        .map(|component| cluster.pid(component).expect("running").to_string())
        .collect();
    println!("READY {} {}", cluster.dir().display(), pids.join(" "));
    std::thread::sleep(Duration::from_mins(2));
}
