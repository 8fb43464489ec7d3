//! Keyless access end to end (issue 20): a local OIDC issuer stands in for GitHub Actions,
//! kube-apiserver 1.20 trusts it through its `--oidc-*` flags, and `kubectl` authenticates
//! with nothing but a kubeconfig whose user is the `kubectl cicd token` exec plugin and the
//! job's environment variables.

mod cli_support;

use std::fs;
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use cicd_access_core::Provider;
use cicd_access_core::keyless::username_prefix;
use cicd_access_tests::{ControlPlane, GithubJob, OidcIssuer, Output, run};

/// The token's audience: what `--oidc-client-id` requires.
const AUDIENCE: &str = "https://kubernetes.cicd-access.test";
const USER: &str = "github:repo:org/app:ref:refs/heads/main";

/// A kubeconfig for `cluster` whose user is `user` (YAML of the `user:` mapping).
fn kubeconfig(cluster: &ControlPlane, namespace: &str, user: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: test\n  cluster:\n    server: {}\n    certificate-authority-data: {}\n\
         contexts:\n- name: default-context\n  context: {{cluster: test, namespace: {namespace}, user: default-user}}\n\
         current-context: default-context\nusers:\n- name: default-user\n  user:\n{user}",
        cluster.server(),
        STANDARD.encode(cluster.ca_pem()),
    )
}

fn exec_user(args: &[&str]) -> String {
    let binary = cli_support::binary().display().to_string();
    let args = args.iter().map(|a| format!("\"{a}\"")).collect::<Vec<_>>().join(", ");
    format!(
        "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: {binary}\n      args: [{args}]\n      interactiveMode: Never\n      provideClusterInfo: false\n"
    )
}

fn kubectl(kubeconfig: &Path, env: &[(String, String)], args: &[&str]) -> Output {
    let mut command = std::process::Command::new("kubectl");
    command
        .env_remove("ACTIONS_ID_TOKEN_REQUEST_URL")
        .env_remove("ACTIONS_ID_TOKEN_REQUEST_TOKEN")
        .env_remove("CICD_ACCESS_ID_TOKEN")
        .env_remove("SSL_CERT_FILE")
        .env("KUBECONFIG", kubeconfig)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .arg("--cache-dir")
        .arg(kubeconfig.with_extension("cache"))
        .args(args);
    run(command, None)
}

#[test]
fn a_github_job_deploys_with_its_own_oidc_token_and_nothing_stored() {
    let issuer = OidcIssuer::start();
    let cluster = issuer.control_plane(AUDIENCE, username_prefix(Provider::Github));
    let namespace = cluster.namespace();
    let ns = namespace.name().to_owned();
    let admin = namespace.admin();
    // The access as a user makes it: `kubectl cicd apply` of a keyless spec, which writes the
    // Role, the RoleBinding to the CI user and the secret-free kubeconfig.
    let spec = format!(
        "apiVersion: cicd-access.dev/v1alpha1\nkind: CiCdAccess\nnamespace: {ns}\nserver: {}\n\
         token:\n  kind: keyless\n  provider: github\n  repository: org/app\n  ref: refs/heads/main\n  audience: {AUDIENCE}\n\
         rules:\n- apiGroups: ['']\n  resources: [configmaps]\n  verbs: [get, list, create]\n",
        cluster.server()
    );
    fs::write(namespace.dir().join("keyless.yaml"), spec).unwrap();
    let applied = cli_support::cicd(&admin, namespace.dir(), &["apply", "-f", "keyless.yaml"]);
    cli_support::expect_code(&applied, 0, "kubectl cicd apply of the keyless access");
    assert!(
        applied.stdout.contains(&format!("verified: authenticates as {USER}")),
        "{}",
        applied.stdout
    );
    let plugin = namespace.dir().join("kubeconfig_ci_cd.yaml");
    // The issued kubeconfig runs `kubectl-cicd` from PATH, as on a runner that installed it.
    let bin = cli_support::binary().parent().unwrap().display().to_string();
    let mut env = issuer.github_env();
    env.push(("PATH".to_owned(), format!("{bin}:{}", std::env::var("PATH").unwrap_or_default())));
    let dir = tempfile::tempdir().unwrap();

    // The job deploys: the plugin asked GitHub's endpoint for the audience, the API server
    // took the token's sub with the prefix as the user.
    let created =
        kubectl(&plugin, &env, &["create", "configmap", "app-config", "--from-literal=a=b"]);
    let created = created.expect_success("kubectl create configmap with the exec plugin");
    assert!(created.contains("configmap/app-config created"), "{created}");
    assert_eq!(admin.ok(&["get", "configmap", "app-config", "-o", "jsonpath={.data.a}"]), "b");
    assert!(
        issuer.requested_audiences().iter().any(|a| a == AUDIENCE),
        "{:?}",
        issuer.requested_audiences()
    );
    let listed =
        kubectl(&plugin, &env, &["get", "configmaps", "-o", "name"]).expect_success("list");
    assert!(listed.contains("configmap/app-config"), "{listed}");
    // Only what the Role grants, and as whom.
    let denied = kubectl(&plugin, &env, &["get", "secrets"]).expect_failure("get secrets");
    assert!(
        denied.contains(&format!("User \"{USER}\" cannot list resource \"secrets\"")),
        "{denied}"
    );
    let denied =
        kubectl(&plugin, &env, &["delete", "configmap", "app-config"]).expect_failure("delete");
    assert!(denied.contains("Forbidden") || denied.contains("forbidden"), "{denied}");

    // The kubeconfig holds no credential at all.
    let text = fs::read_to_string(&plugin).unwrap();
    assert!(!text.contains("eyJ"), "a JWT in the kubeconfig:\n{text}");
    assert!(!text.contains(issuer.request_token()), "the request bearer in the kubeconfig");
    assert!(!text.lines().any(|l| l.trim_start().starts_with("token:")), "{text}");

    // Tokens of other jobs, minted by the same trusted issuer, passed as a bare bearer.
    let bare = dir.path().join("bare.yaml");
    fs::write(&bare, kubeconfig(&cluster, &ns, "    {}\n")).unwrap();
    let with_token = |token: &str| kubectl(&bare, &[], &["--token", token, "get", "configmaps"]);
    let main = issuer.github_claims(&GithubJob::new("org/app", "refs/heads/main"), AUDIENCE);
    with_token(&issuer.mint(&main)).expect_success("the main branch's own token");
    let unauthorized = |what: &str, output: Output| {
        let stderr = output.expect_failure(what);
        assert!(stderr.contains("Unauthorized"), "{what}: expected 401, got: {stderr}");
    };
    let forbidden = |what: &str, output: Output, user: &str| {
        let stderr = output.expect_failure(what);
        assert!(
            stderr.to_lowercase().contains("forbidden")
                && stderr.contains(&format!("User \"{user}\"")),
            "{what}: expected 403 for {user}, got: {stderr}"
        );
    };
    let other_repo =
        issuer.github_claims(&GithubJob::new("org/other", "refs/heads/main"), AUDIENCE);
    forbidden(
        "another repository",
        with_token(&issuer.mint(&other_repo)),
        "github:repo:org/other:ref:refs/heads/main",
    );
    let other_branch =
        issuer.github_claims(&GithubJob::new("org/app", "refs/heads/feature"), AUDIENCE);
    forbidden(
        "another branch",
        with_token(&issuer.mint(&other_branch)),
        "github:repo:org/app:ref:refs/heads/feature",
    );
    let other_audience =
        issuer.github_claims(&GithubJob::new("org/app", "refs/heads/main"), "https://elsewhere");
    unauthorized("another audience", with_token(&issuer.mint(&other_audience)));
    unauthorized("an expired token", with_token(&issuer.mint(&OidcIssuer::expired(main.clone()))));
    let mut foreign = main.clone();
    foreign.insert("iss".into(), "https://token.actions.githubusercontent.com".into());
    unauthorized("another issuer", with_token(&issuer.mint(&foreign)));

    // The job of another branch, through the plugin: authenticated, and refused by RBAC.
    issuer.set_github_job(GithubJob::new("org/app", "refs/heads/feature"));
    forbidden(
        "the feature branch's job",
        kubectl(&plugin, &env, &["create", "configmap", "x", "--from-literal=a=b"]),
        "github:repo:org/app:ref:refs/heads/feature",
    );
    issuer.set_github_job(GithubJob::new("org/app", "refs/heads/main"));

    // A custom issuer's job: the token in a variable (`--provider env`).
    let from_env = dir.path().join("env.yaml");
    fs::write(
        &from_env,
        kubeconfig(
            &cluster,
            &ns,
            &exec_user(&["token", "--provider", "env", "--variable", "CICD_ACCESS_ID_TOKEN"]),
        ),
    )
    .unwrap();
    let token_env = [("CICD_ACCESS_ID_TOKEN".to_owned(), issuer.mint(&main))];
    kubectl(&from_env, &token_env, &["get", "configmap", "app-config"])
        .expect_success("--provider env");
    let expired_env =
        [("CICD_ACCESS_ID_TOKEN".to_owned(), issuer.mint(&OidcIssuer::expired(main)))];
    let stderr =
        kubectl(&from_env, &expired_env, &["get", "configmaps"]).expect_failure("expired, env");
    assert!(stderr.contains("the ID token expired at"), "{stderr}");
    assert!(!stderr.contains(&expired_env[0].1), "the token in kubectl's error: {stderr}");

    // A wrong request bearer: refused by the endpoint, and never shown.
    let mut wrong = env.clone();
    wrong[1].1 = "wrong-bearer-value".to_owned();
    let stderr = kubectl(&plugin, &wrong, &["get", "configmaps"]).expect_failure("wrong bearer");
    assert!(stderr.contains("GitHub's token request answered 401"), "{stderr}");
    assert!(!stderr.contains("wrong-bearer-value"), "the bearer in the error: {stderr}");
}

#[test]
fn the_plugin_says_which_permission_the_workflow_lacks() {
    let mut command = std::process::Command::new(cli_support::binary());
    command
        .env_remove("ACTIONS_ID_TOKEN_REQUEST_URL")
        .env_remove("ACTIONS_ID_TOKEN_REQUEST_TOKEN")
        .args(["token", "--provider", "github", "--audience", AUDIENCE]);
    let output = run(command, None);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert_eq!(output.stdout, "", "nothing on stdout for kubectl to read");
    assert!(output.stderr.contains("ACTIONS_ID_TOKEN_REQUEST_URL is not set"), "{}", output.stderr);
    assert!(output.stderr.contains("permissions: id-token: write"), "{}", output.stderr);

    let mut command = std::process::Command::new(cli_support::binary());
    command.env_remove("CICD_ACCESS_ID_TOKEN").args([
        "token",
        "--provider",
        "gitlab",
        "--audience",
        AUDIENCE,
        "--variable",
        "CICD_ACCESS_ID_TOKEN",
    ]);
    let output = run(command, None);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert!(
        output.stderr.contains(&format!("id_tokens: CICD_ACCESS_ID_TOKEN: aud: {AUDIENCE}")),
        "{}",
        output.stderr
    );
}

#[test]
fn the_issuer_serves_discovery_jwks_and_github_shaped_tokens() {
    let issuer = OidcIssuer::start();
    let curl = |args: &[&str]| {
        let mut command = std::process::Command::new("curl");
        command.args(["-sS", "--cacert"]).arg(issuer.ca_cert()).args(args);
        run(command, None)
    };
    let discovery: serde_json::Value = serde_json::from_str(
        &curl(&[&format!("{}/.well-known/openid-configuration", issuer.url())])
            .expect_success("discovery"),
    )
    .unwrap();
    assert_eq!(discovery["issuer"], issuer.url());
    assert_eq!(discovery["jwks_uri"], format!("{}/jwks", issuer.url()));
    assert_eq!(discovery["id_token_signing_alg_values_supported"][0], "RS256");
    let jwks: serde_json::Value =
        serde_json::from_str(&curl(&[&format!("{}/jwks", issuer.url())]).expect_success("jwks"))
            .unwrap();
    assert_eq!(jwks["keys"][0]["kty"], "RSA");
    assert_eq!(jwks["keys"][0]["e"], "AQAB");
    assert!(jwks["keys"][0]["n"].as_str().unwrap().len() > 300, "a 2048-bit modulus");

    let url = format!("{}&audience=https%3A%2F%2Fk8s%3A6443", issuer.request_url());
    let refused =
        curl(&["-o", "/dev/null", "-w", "%{http_code}", &url]).expect_success("no bearer");
    assert_eq!(refused, "401");
    let bearer = format!("Authorization: bearer {}", issuer.request_token());
    let answer: serde_json::Value =
        serde_json::from_str(&curl(&["-H", &bearer, &url]).expect_success("token request"))
            .unwrap();
    let token = answer["value"].as_str().unwrap();
    let claims = cicd_access_core::credential::read_claims(token).unwrap();
    assert_eq!(claims.aud, ["https://k8s:6443"]);
    assert_eq!(claims.sub.as_deref(), Some("repo:org/app:ref:refs/heads/main"));
    assert_eq!(claims.iss.as_deref(), Some(issuer.url()));
    let payload: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(token.split('.').nth(1).unwrap())
            .unwrap(),
    )
    .unwrap();
    for claim in [
        "repository",
        "ref",
        "repository_owner",
        "workflow",
        "event_name",
        "job_workflow_ref",
        "jti",
        "iat",
        "nbf",
        "exp",
    ] {
        assert!(payload.get(claim).is_some(), "{claim} missing: {payload}");
    }
    assert_eq!(payload["repository_owner"], "org");

    let gitlab =
        issuer.gitlab_claims(&cicd_access_tests::GitlabJob::new("group/project", "main"), "aud");
    assert_eq!(gitlab["sub"], "project_path:group/project:ref_type:branch:ref:main");
    assert_eq!(gitlab["namespace_path"], "group");
    assert!(cicd_access_core::credential::read_claims(&issuer.mint(&gitlab)).is_ok());
}
