//! The GitHub Action's keyless step (`.github/action/keyless.sh`), run as the runner runs it:
//! the committed secret-free kubeconfig becomes KUBECONFIG; a file with a credential, or
//! none, is refused with a message naming the input.

use std::fs;
use std::path::Path;
use std::process::Command;

fn keyless_step(workspace: &Path, input: &str) -> (bool, String, String) {
    let env = workspace.join("github_env");
    fs::write(&env, "").unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.github/action/keyless.sh");
    let output = Command::new("bash")
        .arg(script)
        .env("GITHUB_WORKSPACE", workspace)
        .env("GITHUB_ENV", &env)
        .env("GITHUB_OUTPUT", workspace.join("github_output"))
        .env("KEYLESS_KUBECONFIG", input)
        .output()
        .expect("bash runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    (output.status.success(), stdout, fs::read_to_string(&env).unwrap())
}

#[test]
fn the_keyless_step_exports_a_secret_free_kubeconfig_and_refuses_a_credential() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join(".kube")).unwrap();
    let head = "apiVersion: v1\nkind: Config\nusers:\n- name: default-user\n  user:\n";
    fs::write(
        dir.path().join(".kube/keyless.yaml"),
        format!("{head}    exec:\n      command: kubectl-cicd\n      args: [token, --provider, github]\n"),
    )
    .unwrap();
    fs::write(dir.path().join(".kube/token.yaml"), format!("{head}    token: abc.def\n")).unwrap();

    let (ok, _, env) = keyless_step(dir.path(), ".kube/keyless.yaml");
    assert!(ok);
    assert_eq!(env, format!("KUBECONFIG={}\n", dir.path().join(".kube/keyless.yaml").display()));

    let (ok, stdout, env) = keyless_step(dir.path(), ".kube/token.yaml");
    assert!(!ok && env.is_empty());
    assert!(
        stdout.contains("input keyless-kubeconfig") && stdout.contains("holds a credential"),
        "{stdout}"
    );
    assert!(!stdout.contains("abc.def"), "the credential in the log: {stdout}");

    let (ok, stdout, _) = keyless_step(dir.path(), ".kube/missing.yaml");
    assert!(!ok && stdout.contains("is not a file in the repository"), "{stdout}");
}
