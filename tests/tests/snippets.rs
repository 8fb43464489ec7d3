//! Every CI snippet the tool writes — Secret, bound and keyless tokens, GitHub and GitLab —
//! against its provider's schema (`check-jsonschema`'s vendored `vendor.github-workflows`
//! and `vendor.gitlab-ci`), and the GitHub ones through `zizmor`'s offline audits with zero
//! findings. The tools come from `install-tools.sh workflow-checks` (`cargo xtask test`
//! installs them into target/python-tools).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use cicd_access_core::spec::{KeylessIdentity, Provider};
use cicd_access_core::{AccessSpec, TokenKind, preset, snippet};

fn tool(name: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/python-tools/bin").join(name);
    assert!(
        path.is_file(),
        "{} is missing: run crates/xtask/scripts/install-tools.sh workflow-checks",
        path.display()
    );
    path
}

fn accesses() -> Vec<(&'static str, AccessSpec)> {
    let base = || AccessSpec {
        namespace: Some("demo".into()),
        server: Some("https://api.example.com:6443".into()),
        ..preset::find("welkin-user-demo").expect("the preset").spec()
    };
    let github = KeylessIdentity {
        provider: Provider::Github,
        repository: Some("org/app".into()),
        git_ref: Some("refs/heads/main".into()),
        ..KeylessIdentity::default()
    };
    let gitlab = KeylessIdentity {
        provider: Provider::Gitlab,
        project: Some("group/app".into()),
        git_ref: Some("refs/heads/main".into()),
        ..KeylessIdentity::default()
    };
    vec![
        ("secret", base()),
        (
            "bound",
            AccessSpec { token: TokenKind::Bound { duration: "24h".parse().unwrap() }, ..base() },
        ),
        ("keyless-github", AccessSpec { token: TokenKind::Keyless(github), ..base() }),
        ("keyless-gitlab", AccessSpec { token: TokenKind::Keyless(gitlab), ..base() }),
    ]
}

fn run(program: &Path, args: &[&str], files: &[PathBuf]) {
    let output = Command::new(program).args(args).args(files).output().expect("the tool runs");
    assert!(
        output.status.success(),
        "{} {args:?} {files:?} failed:\n{}\n{}",
        program.display(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn every_snippet_meets_its_providers_schema_and_zizmor_finds_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let workflows = dir.path().join(".github/workflows");
    fs::create_dir_all(&workflows).unwrap();
    let (mut github, mut gitlab) = (Vec::new(), Vec::new());
    for (name, spec) in accesses() {
        // A keyless access belongs to one provider; the other's snippet only says so.
        let (for_github, for_gitlab) = match name {
            "keyless-github" => (true, false),
            "keyless-gitlab" => (false, true),
            _ => (true, true),
        };
        let text = snippet::github_actions(&spec).unwrap().text;
        if for_github {
            let path = workflows.join(format!("{name}.yml"));
            fs::write(&path, text).unwrap();
            github.push(path);
        } else {
            assert!(text.lines().all(|l| l.is_empty() || l.starts_with('#')), "{text}");
        }
        let text = snippet::gitlab_ci(&spec).unwrap().text;
        if for_gitlab {
            let path = dir.path().join(format!("{name}.gitlab-ci.yml"));
            fs::write(&path, text).unwrap();
            gitlab.push(path);
        } else {
            assert!(text.lines().all(|l| l.is_empty() || l.starts_with('#')), "{text}");
        }
    }
    let check = tool("check-jsonschema");
    run(&check, &["--builtin-schema", "vendor.github-workflows"], &github);
    run(&check, &["--builtin-schema", "vendor.gitlab-ci"], &gitlab);
    run(&tool("zizmor"), &["--offline", "--no-progress"], &github);
    // The keyless GitHub workflow asks for an OIDC token; the others must not.
    for path in &github {
        let text = fs::read_to_string(path).unwrap();
        let keyless = path.to_string_lossy().contains("keyless");
        assert_eq!(text.contains("id-token: write"), keyless, "{}:\n{text}", path.display());
        assert!(text.contains("contents: read"), "{text}");
    }
}
