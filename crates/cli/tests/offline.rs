//! The binary itself, offline: exit codes, broken pipes, usage errors on stderr.

use std::io::Read as _;
use std::process::{Command, Stdio};

fn binary() -> Command {
    Command::new(env!("CARGO_BIN_EXE_kubectl-cicd"))
}

#[test]
fn a_closed_pipe_is_success() {
    let dir = tempfile::tempdir().unwrap();
    // Far more than a pipe buffer: the writes after the reader is gone fail with EPIPE.
    let document = "apiVersion: cicd-access.dev/v1alpha1\nkind: CiCdAccess\nnamespace: demo\nrules:\n- apiGroups: [apps]\n  resources: [deployments]\n  verbs: [get]\n";
    let file = dir.path().join("many.yaml");
    std::fs::write(&file, vec![document; 2000].join("---\n")).unwrap();
    let mut child = binary()
        .args(["generate", "-o", "script", "-f"])
        .arg(&file)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut head = [0u8; 16];
    child.stdout.take().unwrap().read_exact(&mut head).unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(&head[..2], b"#!");
}

#[test]
fn usage_errors_exit_2_on_stderr() {
    let output = binary().args(["generate", "--rule", "nope"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
    assert!(String::from_utf8_lossy(&output.stderr).contains("GROUP:RESOURCES:VERBS"));
    let output = binary()
        .args(["apply", "--preset", "read-only", "--kubeconfig", "/nonexistent"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.starts_with("error: cannot read kubeconfig /nonexistent"), "{stderr}");
    assert!(stderr.contains("hint: "), "{stderr}");
}

#[test]
fn help_and_version_are_success_on_stdout() {
    let output = binary().arg("--help").output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&output.stdout).contains("Usage: kubectl cicd"));
    let output = binary().arg("--version").output().unwrap();
    assert_eq!(output.status.code(), Some(0));
}

#[test]
fn ci_snippets_print_the_store_command_as_a_hint() {
    let output = binary()
        .args(["generate", "--preset", "read-only", "-n", "demo", "-o", "github-actions"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("chmod 0400 ~/.kube/config"), "{stdout}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("gh secret set KUBECONFIG_CI_CD"), "{stderr}");
}

/// A kubeconfig holds credentials: no error about one may quote its values.
#[test]
fn kubeconfig_errors_never_quote_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let token = "tok3n-abcdef0123456789";
    let user = format!("users:\n- name: u\n  user:\n    token: {token}\n");
    let broken = format!("apiVersion: v1\nkind: Config\n{user}   bad: indent\n");
    let token_as_context = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:1\n\
         {user}contexts:\n- name: x\n  context: {{cluster: c, user: u}}\ncurrent-context: {token}\n"
    );
    for (name, text) in [("broken.yaml", broken), ("context.yaml", token_as_context)] {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        for args in [
            vec!["check", "--preset", "read-only", "--kubeconfig"],
            vec!["verify", "--preset", "read-only", "-n", "demo", "--ci-kubeconfig"],
        ] {
            let output = binary().args(&args).arg(&path).output().unwrap();
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert_ne!(output.status.code(), Some(0), "{name} {args:?}");
            assert!(stderr.starts_with("error: "), "{name} {args:?}: {stderr}");
            assert!(!stderr.contains(token), "{name} {args:?} leaks the token: {stderr}");
        }
    }
}

/// Unbounded input (`/dev/zero`) and oversized files are refused with the limit, not read.
#[test]
fn oversized_input_is_refused_with_its_limit() {
    for args in [
        vec!["generate", "-f", "/dev/zero"],
        vec!["generate", "-n", "demo", "--from-manifests", "/dev/zero"],
    ] {
        let output = binary().args(&args).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("more than"), "{args:?}: {stderr}");
    }
}
