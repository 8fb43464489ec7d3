//! `kubectl-cicd` when things break: no token controller, the API server dying mid-run,
//! an unreachable server, a TLS failure, rejected credentials. Each message is distinct and
//! names the likely cause; a re-run after recovery converges.

mod cli_support;

use std::fs;
use std::process::Stdio;
use std::time::{Duration, Instant};

use cicd_access_tests::{Component, ControlPlane, poll};
use cli_support::{binary, cicd, expect_code};

/// Stops parts of the control plane, so it has one of its own.
#[test]
fn no_token_controller_then_api_server_dies_then_a_rerun_converges() {
    let cluster = ControlPlane::start();
    let namespace = cluster.namespace();
    let admin = namespace.admin();
    let ns = namespace.name().to_owned();

    // 1. No token controller: a bounded wait, and a message that names it.
    cluster.stop(Component::ControllerManager);
    binary(); // built before the clock starts
    let started = Instant::now();
    let out = cicd(
        &admin,
        namespace.dir(),
        &["apply", "--preset", "read-only", "-n", &ns, "--timeout", "3s"],
    );
    expect_code(&out, 1, "apply without a token controller");
    assert!(started.elapsed() < Duration::from_secs(30), "the wait is bounded by --timeout");
    assert!(
        out.stderr.contains("timed out after 3s waiting for the token in Secret ci-cd"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("token controller of kube-controller-manager"), "{}", out.stderr);
    assert!(!namespace.dir().join("kubeconfig_ci_cd.yaml").exists());

    // An apply that will wait for the token (the token controller is stopped above).
    let waiting_apply = || {
        admin
            .env_command(binary())
            .current_dir(namespace.dir())
            .args(["-q", "apply", "--preset", "read-only", "-n", &ns, "--timeout", "60s"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };

    // 2. Ctrl-C while the CLI waits for the token: a clear message, no file left behind.
    let interrupted = waiting_apply();
    std::thread::sleep(Duration::from_secs(2));
    let signalled = std::process::Command::new("kill")
        .args(["-INT", &interrupted.id().to_string()])
        .status()
        .unwrap();
    assert!(signalled.success());
    let output = interrupted.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("error: interrupted"), "{stderr}");
    assert!(stderr.contains("re-run the same command"), "{stderr}");
    let left: Vec<_> =
        fs::read_dir(namespace.dir()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(left.iter().all(|name| !name.to_string_lossy().contains("kubeconfig")), "{left:?}");

    // 3. The API server dies while the CLI waits for the token.
    let waiting = waiting_apply();
    std::thread::sleep(Duration::from_secs(2));
    cluster.stop(Component::ApiServer);
    let output = waiting.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("error: watching Secret ci-cd"), "{stderr}");
    assert!(stderr.contains("cannot reach the API server"), "{stderr}");
    assert!(stderr.contains("re-run when it is back: the command converges"), "{stderr}");

    // While it is down: unreachable, said plainly.
    let down = cicd(&admin, namespace.dir(), &["apply", "--preset", "read-only", "-n", &ns]);
    expect_code(&down, 1, "apply with the API server down");
    assert!(
        down.stderr.contains(&format!("cannot reach the API server at {}", cluster.server())),
        "{}",
        down.stderr
    );

    // 4. Back up: a re-run converges.
    cluster.restart(Component::ApiServer);
    cluster.restart(Component::ControllerManager);
    let out = poll("apply to converge", Duration::from_mins(1), || {
        let out = cicd(
            &admin,
            namespace.dir(),
            &["apply", "--preset", "read-only", "-n", &ns, "--timeout", "20s"],
        );
        Ok(out.success().then_some(out))
    })
    .unwrap();
    assert!(out.stdout.contains("role/ci-cd unchanged"), "{}", out.stdout);
    assert!(out.stdout.contains("verified"), "{}", out.stdout);

    // And `revoke --all` removes all it created.
    let revoked = cicd(&admin, namespace.dir(), &["revoke", "--all", "-n", &ns]);
    expect_code(&revoked, 0, "revoke --all");
    let left = admin.managed("roles,rolebindings,serviceaccounts,secrets");
    assert_eq!(left.trim(), "", "{left}");
}

#[test]
fn unreachable_tls_and_rejected_credentials_are_told_apart() {
    let cluster = ControlPlane::shared();
    let namespace = cluster.namespace();
    let admin = namespace.admin();
    let dir = namespace.dir();
    let ca = fs::read_to_string(cluster.ca_cert()).unwrap();
    let token = cluster.admin().token().to_owned();
    let write = |name: &str, server: &str, ca_file: &str, token: &str| {
        let text = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: {server}\n    certificate-authority: {ca_file}\ncontexts:\n- name: x\n  context:\n    cluster: c\n    user: u\n    namespace: {ns}\ncurrent-context: x\nusers:\n- name: u\n  user:\n    token: {token}\n",
            ns = namespace.name()
        );
        fs::write(dir.join(name), text).unwrap();
    };
    fs::write(dir.join("ca.pem"), &ca).unwrap();
    let other_ca = dir.join("other-ca.pem");
    let made = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=other",
            "-keyout",
        ])
        .arg(dir.join("other.key"))
        .arg("-out")
        .arg(&other_ca)
        .output()
        .unwrap();
    assert!(made.status.success());
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    write("unreachable.yaml", &format!("https://127.0.0.1:{closed}"), "ca.pem", &token);
    write("tls.yaml", cluster.server(), "other-ca.pem", &token);
    write("expired.yaml", cluster.server(), "ca.pem", "0123456789abcdef");

    let run = |kubeconfig: &str| {
        cicd(&admin, dir, &["--kubeconfig", kubeconfig, "check", "--preset", "read-only"])
    };
    let unreachable = run("unreachable.yaml");
    expect_code(&unreachable, 1, "unreachable");
    assert!(
        unreachable
            .stderr
            .contains(&format!("cannot reach the API server at https://127.0.0.1:{closed}")),
        "{}",
        unreachable.stderr
    );
    let tls = run("tls.yaml");
    expect_code(&tls, 1, "tls");
    assert!(tls.stderr.contains("TLS handshake"), "{}", tls.stderr);
    assert!(!tls.stderr.contains("cannot reach"), "{}", tls.stderr);
    let expired = run("expired.yaml");
    expect_code(&expired, 1, "expired credentials");
    assert!(
        expired.stderr.contains("does not accept your credentials (401 Unauthorized)"),
        "{}",
        expired.stderr
    );
    assert!(expired.stderr.contains("expired or was revoked"), "{}", expired.stderr);
    let missing =
        cicd(&admin, dir, &["--kubeconfig", "nope.yaml", "check", "--preset", "read-only"]);
    expect_code(&missing, 2, "no kubeconfig");
    assert!(missing.stderr.contains("cannot read kubeconfig nope.yaml"), "{}", missing.stderr);
}
