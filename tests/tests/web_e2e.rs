//! The page end to end: the built `dist/` served on 127.0.0.1, driven in headless Chromium
//! by `tests/web/e2e.mjs` (Playwright), checked against the core, `kubectl-cicd generate`
//! and the real control plane.
//!
//! Needs the built page (`crates/xtask/scripts/web.sh build`), node, playwright-core in
//! `target/node-tools` and Chromium; `CICD_ACCESS_DIST` overrides `dist/`. Screenshots of
//! the main states land in `target/screenshots/`.

mod cli_support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use cicd_access_core::AccessSpec;
use cicd_access_core::derive::Deployer;
use cicd_access_core::draft::add_resource;
use cicd_access_core::manifest::build_manifests;
use cicd_access_core::preset;
use cicd_access_core::script::render_script;
use cicd_access_tests::{ControlPlane, poll, prerequisites};
use serde_json::{Value, json};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace root").to_path_buf()
}

fn fixture(path: &str) -> String {
    let file = workspace().join("tests/fixtures").join(path);
    std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()))
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

#[test]
fn the_page_end_to_end() {
    let root = workspace();
    let dist =
        std::env::var_os("CICD_ACCESS_DIST").map_or_else(|| root.join("dist"), PathBuf::from);
    prerequisites::require_page_tools(&root, &dist);
    let cluster = ControlPlane::shared();
    let namespace = cluster.namespace();
    let admin = namespace.admin();

    // What the page must produce: the Welkin preset (deployed with Helm), this namespace,
    // plus statefulsets with the verbs Helm needs to deploy them (the page's "deploy").
    let mut expected = AccessSpec {
        namespace: Some(namespace.name().to_owned()),
        ..preset::find("welkin-user-demo").unwrap().spec()
    };
    assert_eq!(expected.deployer, Some(Deployer::Helm));
    add_resource(&mut expected.rules, "apps", "statefulsets", Deployer::Helm.verbs());
    let manifests = build_manifests(&expected).unwrap().to_yaml();

    // A real token Secret for the kubeconfig step.
    admin.apply(&manifests).expect_success("applying the page's manifests");
    let secret = poll("the control plane to fill the token Secret", Duration::from_mins(1), || {
        let out = admin.run(&["get", "secret", "ci-cd", "--output", "json"]);
        let filled = serde_json::from_str::<Value>(&out.stdout)
            .is_ok_and(|value| value.pointer("/data/token").is_some());
        Ok(filled.then_some(out.stdout))
    })
    .unwrap();

    // A bound token of the same ServiceAccount, and the CA the Secret carries.
    let bound_token = admin.run(&["create", "token", "ci-cd", "--duration", "1h"]);
    assert!(bound_token.success(), "kubectl create token: {}", bound_token.stderr);
    let ca = serde_json::from_str::<Value>(&secret).unwrap()["data"]["ca.crt"]
        .as_str()
        .unwrap()
        .to_owned();

    // For the audit: a binding to `edit` added by hand, then what kubectl lists.
    admin.ok(&[
        "create",
        "rolebinding",
        "added-by-hand",
        "--clusterrole=edit",
        &format!("--serviceaccount={}:ci-cd", namespace.name()),
    ]);
    let audit_listing = admin.run(&["get", "sa,role,rolebinding,secret", "--output", "json"]);
    assert!(audit_listing.success(), "{}", audit_listing.stderr);
    let audit_bindings = admin.run(&["get", "clusterrolebindings", "--output", "json"]);
    assert!(audit_bindings.success(), "{}", audit_bindings.stderr);

    let work = tempfile::tempdir().unwrap();
    let screenshots = root.join("target/screenshots");
    let input = json!({
        "dist": dist,
        "screenshots": screenshots,
        "namespace": namespace.name(),
        "server": cluster.server(),
        "secret": secret,
        "canIList": {
            "admin": fixture("can-i-list/admin.txt"),
            "namespace-admin": fixture("can-i-list/namespace-admin.txt"),
            "nobody": fixture("can-i-list/nobody.no-headers.txt"),
        },
        "forbidden": fixture("forbidden/welkin-role.server-side.txt"),
        "boundToken": bound_token.stdout.trim(),
        "ca": ca,
        "roleFile": workspace().join("tests/fixtures/welkin-user-demo-role.yaml"),
        "auditListing": audit_listing.stdout,
        "auditBindings": audit_bindings.stdout,
    });
    let input_path = work.path().join("input.json");
    let output_path = work.path().join("output.json");
    std::fs::write(&input_path, input.to_string()).unwrap();
    let status = Command::new(std::env::var_os("NODE").unwrap_or_else(|| "node".into()))
        .arg(root.join("tests/web/e2e.mjs"))
        .arg(&input_path)
        .arg(&output_path)
        .status()
        .expect("node runs");
    assert!(status.success(), "tests/web/e2e.mjs failed");
    let out: Value = serde_json::from_str(&std::fs::read_to_string(&output_path).unwrap()).unwrap();
    let field = |name: &str| out[name].as_str().unwrap_or_default().to_owned();

    // The page's outputs are the core's, and the CLI's for the page's own spec file.
    let exported = std::fs::read_to_string(field("specPath")).unwrap();
    let specs = AccessSpec::parse_documents(&exported).unwrap();
    assert_eq!(specs, vec![expected.clone()], "the exported spec");
    assert_eq!(field("manifests"), manifests, "manifests on the page");
    assert_eq!(field("script"), render_script(&expected).unwrap(), "script on the page");
    let documents = build_manifests(&expected).unwrap().documents();
    let yaml: Vec<String> = documents.iter().map(|d| d.yaml.clone()).collect();
    assert_eq!(strings(&out["documents"]), yaml, "each object on the page");
    for (format, shown) in [("yaml", "manifests"), ("script", "script")] {
        let spec_path = field("specPath");
        let cli =
            cli_support::cicd(&admin, work.path(), &["generate", "-f", &spec_path, "-o", format]);
        assert_eq!(cli.stdout, field(shown), "kubectl-cicd generate -o {format} equals the page");
    }
    assert_eq!(out["keyboardTab"], "tab-github", "arrow keys move between the output tabs");
    assert_eq!(out["clipboardEqualsScript"], true, "Copy copies the script as shown");

    // Check before applying, with real kubectl output and a real 403.
    let verdict = |who: &str| out["verdicts"][who].as_str().unwrap_or_default().to_owned();
    assert!(verdict("admin").contains("You can create this Role"), "{}", verdict("admin"));
    for who in ["namespace-admin", "forbidden"] {
        let text = verdict(who);
        assert!(text.contains("will refuse"), "{who}: {text}");
        assert!(text.contains("- monitoring.coreos.com"), "the rules as a Role's YAML: {text}");
        assert!(!text.contains("APIGroups:"), "not in Go's struct form: {text}");
        assert!(text.contains("escalate") && text.contains("remove those rules"), "{who}: {text}");
        assert!(text.contains("Drop the rules I lack"), "{who}: {text}");
    }
    assert!(out["lackingMarked"].as_u64().unwrap_or(0) > 0, "the rules lacking are marked");
    assert_eq!(out["adminRequestButton"], 1, "a request for the administrator to copy");
    assert_eq!(out["lackingAfterDrop"], 0, "{}", field("verdictAfterDrop"));
    assert!(
        !field("verdictAfterDrop").contains("refuse this Role"),
        "{}",
        field("verdictAfterDrop")
    );
    assert_eq!(field("manifestsAfterDropUndone"), manifests, "Undo brings the dropped rules back");

    // Helm: the Role, the snippet and the link follow it; back to kubectl apply undoes it.
    assert!(field("helmManifests").contains("- secrets"), "{}", field("helmManifests"));
    assert!(field("helmGithub").contains("helm upgrade --install"), "{}", field("helmGithub"));
    assert_eq!(out["helmUrlChanged"], true);
    assert!(!field("applyManifests").contains("secrets"), "{}", field("applyManifests"));
    assert!(
        field("github").contains("helm upgrade --install"),
        "the Helm preset deploys with helm"
    );
    assert!(
        field("deployTitle").starts_with("get, create, patch: kubectl apply"),
        "the deploy shortcut says what it grants: {}",
        field("deployTitle")
    );
    assert!(field("namesError").contains("DNS-1123 subdomain"), "{}", field("namesError"));
    assert_eq!(out["focusAfterBrowse"], "catalog-list", "focus after Browse all");
    assert_eq!(out["focusAfterChip"], "undo-button", "focus after removing a chip");
    assert!(field("undoText").contains("Removed services"), "{}", field("undoText"));
    let start = build_manifests(&preset::find("deployment-service-ingress").unwrap().spec())
        .unwrap()
        .to_yaml();
    assert_eq!(field("undoneManifests"), start, "Undo after a chip's removal");
    assert_eq!(field("presetUndoneManifests"), start, "Undo after a preset");
    let top = out["outputsTopWhileEditing"].as_f64().unwrap_or(-1.0);
    assert!((0.0..100.0).contains(&top), "the outputs stay in view at 1280 px: top {top}");
    assert!(verdict("nobody").contains("will refuse"), "{}", verdict("nobody"));

    // The kubeconfig the page assembled is accepted by the control plane, as the pipeline.
    let kubeconfig = PathBuf::from(field("kubeconfigPath"));
    let pipeline = cluster.kubectl_with(&kubeconfig);
    pipeline.ok(&["get", "deployments"]);
    // Outside its namespace the API server refuses it, naming who asked: the ServiceAccount.
    let refused = pipeline.run(&["get", "secrets", "--namespace", "kube-system"]);
    assert!(!refused.success(), "confined to its namespace");
    let user = format!("system:serviceaccount:{}:ci-cd", namespace.name());
    assert!(
        refused.stderr.contains(&user),
        "the kubeconfig authenticates as {user}: {}",
        refused.stderr
    );
    let token = serde_json::from_str::<Value>(&secret).unwrap()["data"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        field("otherSecretError").contains("step 1 names the token Secret"),
        "{}",
        field("otherSecretError")
    );
    let parts = field("kubeconfigParts");
    assert!(parts.contains(cluster.server()) && !parts.contains(&token), "{parts}");
    let issued = std::fs::read_to_string(&kubeconfig).unwrap();
    let decoded = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        field("clipboardBase64"),
    )
    .unwrap();
    assert_eq!(decoded, issued.as_bytes(), "the base64 form is the kubeconfig");
    // The bound token's kubeconfig works too, and says when it stops.
    assert!(field("boundHint").contains("kubectl create token 'ci-cd'"), "{}", field("boundHint"));
    assert_eq!(out["boundSecretField"], 0, "no Secret is asked for in bound mode");
    assert!(field("boundParts").contains("expires"), "{}", field("boundParts"));
    cluster.kubectl_with(PathBuf::from(field("boundKubeconfigPath"))).ok(&["get", "deployments"]);
    // The audit of what exists: the hand-made binding is found, the token never shown.
    assert!(
        field("auditHint").contains(&format!(
            "kubectl get sa,role,rolebinding,secret -n {} -o json",
            namespace.name()
        )),
        "{}",
        field("auditHint")
    );
    assert!(
        field("auditError").contains("not JSON") && field("auditError").contains("-o json"),
        "{}",
        field("auditError")
    );
    let audit = field("auditVerdict");
    assert!(audit.contains("1 of 1 access needs attention"), "{audit}");
    assert!(
        audit.contains("RoleBinding added-by-hand binds ServiceAccount ci-cd to ClusterRole/edit"),
        "{audit}"
    );
    assert!(!audit.contains("ClusterRoleBindings were not read"), "{audit}");
    assert!(field("auditVerdictClass").contains("bad"), "{}", field("auditVerdictClass"));
    assert_eq!(field("auditListingAfter"), "", "the paste is cleared once read");
    assert!(!field("auditPageText").contains(&token), "the token is never shown");
    // Against step 2's rules (the preset plus statefulsets) the Role, made from them, has not drifted.
    let against = field("auditAgainstForm");
    assert!(
        !against.contains("has drifted from") && against.contains("added-by-hand"),
        "{against}"
    );
    assert_eq!(out["auditCleared"], 0);
    for url in [field("shareUrl"), field("urlAfterSecret")] {
        assert!(
            !url.contains(&token) && !url.contains("token"),
            "the token is never in the URL: {url}"
        );
    }

    // Errors at the field; offline after load; share link and embed reproduce the page.
    assert!(field("namespaceError").contains("DNS-1123"), "{}", field("namespaceError"));
    assert!(field("withheld").contains("1 problem"), "{}", field("withheld"));
    assert!(
        field("offlineManifests").contains(&format!("namespace: {}-offline", namespace.name())),
        "works with the server gone"
    );
    assert_eq!(field("sharedManifests"), manifests, "the share link reproduces the page");
    assert_eq!(field("sharedNamespace"), namespace.name());
    assert_eq!(field("importedManifests"), manifests, "importing the exported spec file");
    assert!(field("importNotice").contains("Imported"), "{}", field("importNotice"));
    assert!(
        field("roleImportNotice").contains("read Role ci-cd with 7 rules"),
        "{}",
        field("roleImportNotice")
    );
    let welkin = build_manifests(&preset::find("welkin-user-demo").unwrap().spec()).unwrap();
    let role_yaml = &welkin.documents()[0].yaml;
    assert!(field("roleImportManifests").contains(role_yaml.as_str()), "the imported Role");
    assert!(field("roleSummary").contains("every Secret"), "{}", field("roleSummary"));
    assert_eq!(out["embedH1"], 1, "the embed has its h1");
    assert!(out["narrowJumpTop"].as_f64().is_some_and(|t| t.abs() < 50.0), "the jump at 400 px");
    assert_ne!(field("darkBackground"), "rgb(244, 246, 250)", "the dark scheme");

    // Embedded by the loader in a host page with its own strict CSP.
    let heights = &out["embedHeights"];
    let height = |at: &str| heights[at].as_f64().unwrap_or(-1.0);
    assert!(
        height("loaded") > 0.0 && (height("loaded") - 640.0).abs() > 0.5,
        "the iframe takes the page's height, not its initial 640 px: {heights}"
    );
    assert!(height("grown") > height("loaded") && height("shrunk") < height("grown"), "{heights}");
    assert!(strings(&out["hostCsp"]).is_empty(), "the host page's CSP: {:?}", out["hostCsp"]);

    // Zero axe-core violations in every state the test reached.
    assert!(out["axeStates"].as_array().is_some_and(|s| s.len() >= 12), "{}", out["axeStates"]);
    assert!(out["axe"].as_array().is_some_and(Vec::is_empty), "axe-core: {:#}", out["axe"]);
    assert_eq!(out["embedHasHeader"], false);
    assert_eq!(field("embedManifests"), manifests, "the embed view");
    assert!(
        out["embedOverflow"].as_i64().unwrap_or(1) <= 0,
        "no sideways scrolling at 400 px (embed)"
    );
    assert!(out["narrowOverflow"].as_i64().unwrap_or(1) <= 0, "no sideways scrolling at 400 px");

    // Every request went to the page's own origin, for its own files; no CSP violation.
    let origin = field("origin");
    let host = field("hostOrigin");
    let files: Vec<String> = std::fs::read_dir(&dist)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .collect();
    for url in strings(&out["requests"]) {
        if url == format!("{host}/") {
            continue;
        }
        let Some(path) = url.strip_prefix(&format!("{origin}/")) else {
            panic!("the page requested {url}, not one of its own files");
        };
        let file = path.split(['?', '#']).next().unwrap_or_default();
        assert!(
            file.is_empty() || files.iter().any(|f| f == file),
            "the page requested {url}, which is not in dist/"
        );
    }
    assert!(
        strings(&out["cspViolations"]).is_empty(),
        "CSP violations: {:?}",
        out["cspViolations"]
    );
    assert!(strings(&out["pageErrors"]).is_empty(), "page errors: {:?}", out["pageErrors"]);
    // A trap in the wasm shows the crash banner.
    assert_eq!(out["bannerBefore"], 0);
    assert!(
        field("crashBanner").contains("internal error and stopped"),
        "{}",
        field("crashBanner")
    );
    assert!(
        strings(&out["consoleErrors"]).is_empty(),
        "console errors: {:?}",
        out["consoleErrors"]
    );
    let first_render = out["timings"]["firstRenderMs"].as_f64().unwrap_or(-1.0);
    assert!(first_render > 0.0, "first render was marked");
    eprintln!(
        "first render {first_render:.0} ms, {} requests, screenshots in {}",
        strings(&out["requests"]).len(),
        screenshots.display()
    );
}

/// Keyless on the page (issue 20), without a cluster: a bad repository is refused beside
/// its field; fixed, the RoleBinding names the CI user, the cluster side and the secret-free
/// kubeconfig are the core's, and the share link carries the identity. Zero axe violations.
#[test]
fn keyless_on_the_page() {
    use cicd_access_core::keyless::{AuthenticationApi, KeylessAccess};
    use cicd_access_core::kubeconfig::keyless_kubeconfig_from_ca;
    use cicd_access_core::{KeylessIdentity, TokenKind};

    let root = workspace();
    let dist =
        std::env::var_os("CICD_ACCESS_DIST").map_or_else(|| root.join("dist"), PathBuf::from);
    prerequisites::require_page_tools(&root, &dist);
    let ca = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n";
    let work = tempfile::tempdir().unwrap();
    let input_path = work.path().join("input.json");
    let output_path = work.path().join("output.json");
    std::fs::write(&input_path, json!({ "dist": dist, "ca": ca }).to_string()).unwrap();
    let status = Command::new(std::env::var_os("NODE").unwrap_or_else(|| "node".into()))
        .arg(root.join("tests/web/keyless.mjs"))
        .arg(&input_path)
        .arg(&output_path)
        .status()
        .expect("node runs");
    let out: Value = serde_json::from_str(&std::fs::read_to_string(&output_path).unwrap())
        .expect("tests/web/keyless.mjs wrote its output");
    assert!(status.success(), "tests/web/keyless.mjs failed: {out:#}");
    let field = |name: &str| out[name].as_str().unwrap_or_default().to_owned();

    assert!(field("repositoryError").contains("OWNER/REPO"), "{}", field("repositoryError"));
    assert_eq!(field("repositoryInvalid"), "true");
    assert!(field("withheld").contains("token.repository"), "{}", field("withheld"));
    assert_eq!(out["repositoryErrorAfterFix"], 0, "the error goes once the field is fixed");

    let expected = AccessSpec {
        namespace: Some("demo".into()),
        server: Some("https://api.example.com:6443".into()),
        token: TokenKind::Keyless(KeylessIdentity {
            repository: Some("org/app".into()),
            git_ref: Some("refs/heads/main".into()),
            ..KeylessIdentity::default()
        }),
        ..preset::find("deployment-service-ingress").unwrap().spec()
    };
    let manifests = build_manifests(&expected).unwrap().to_yaml();
    assert_eq!(field("manifests"), manifests, "the page's manifests are the core's");
    assert!(
        manifests.contains("kind: User")
            && manifests.contains("name: github:repo:org/app:ref:refs/heads/main")
    );
    assert!(!manifests.contains("kind: ServiceAccount") && !manifests.contains("kind: Secret"));

    let access = KeylessAccess::of(&expected).unwrap();
    assert_eq!(field("authV1"), access.authentication_configuration(AuthenticationApi::V1));
    assert_eq!(
        field("authV1beta1"),
        access.authentication_configuration(AuthenticationApi::V1beta1)
    );
    assert!(field("authV1").contains("kind: AuthenticationConfiguration"));
    assert_eq!(field("oidcFlags"), access.oidc_flags().join("\n") + "\n");
    assert_eq!(field("eks"), access.eks_identity_provider_config());
    assert_eq!(field("guide"), access.guide().replace('\n', ""), "the guide, line by line");
    assert!(field("github").contains("id-token: write"), "{}", field("github"));

    assert_eq!(out["kubeconfigError"], Value::Null, "{}", out["kubeconfigError"]);
    let kubeconfig = field("kubeconfig");
    let issued = keyless_kubeconfig_from_ca(&expected, "https://api.example.com:6443", ca).unwrap();
    assert_eq!(kubeconfig, issued.text, "the downloaded kubeconfig is the core's");
    assert!(!kubeconfig.contains("token:"), "no token in it: {kubeconfig}");
    assert!(kubeconfig.contains("command: kubectl-cicd"), "{kubeconfig}");

    assert_eq!(field("reopenedManifests"), manifests, "the share link carries the keyless spec");
    assert_eq!(field("reopenedRepository"), "org/app");
    assert_eq!(out["reopenedKeyless"], true);

    assert_eq!(out["axeStates"].as_array().map(Vec::len), Some(3), "{}", out["axeStates"]);
    assert!(out["axe"].as_array().is_some_and(Vec::is_empty), "axe-core: {:#}", out["axe"]);
    assert!(strings(&out["pageErrors"]).is_empty(), "page errors: {:?}", out["pageErrors"]);
    assert!(strings(&out["consoleErrors"]).is_empty(), "console: {:?}", out["consoleErrors"]);
}
