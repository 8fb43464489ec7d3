//! `apply` and `kubeconfig`: the objects written with server-side apply, the token waited
//! for or requested, the kubeconfig written and verified.

use std::fmt::{self, Write as _};
use std::time::Duration;

use anyhow::Result;
use cicd_access_core::coverage::compact_string;
use cicd_access_core::keyless;
use cicd_access_core::kubeconfig::{
    KubeconfigParts, keyless_kubeconfig, read_token_secret, render_kubeconfig,
};
use cicd_access_core::lint::Severity;
use cicd_access_core::spec::{MANAGED_BY_LABEL, MANAGED_BY_VALUE};
use cicd_access_core::status::BOUND_EXPIRY_ANNOTATION;
use cicd_access_core::{Rule, TokenKind};
use k8s_openapi::api::authentication::v1::{BoundObjectReference, TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::{ConfigMap, Secret, ServiceAccount};
use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
use kube::Resource;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::check::{ADOPT_HINT, AuthenticatorReport, check};
use super::verify::{Subject, VerifyReport, live_role_rules, may_impersonate, verify_until};
use super::{DEADLINE_MARGIN, FIELD_MANAGER, POLL, Pipeline, call, doing, get_opt};
use crate::cluster::{Cluster, explain};
use crate::output::Progress;
use crate::problem::Problem;

/// What happened to one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Created,
    Configured,
    Unchanged,
    /// A dry run's RoleBinding of a Role that does not exist yet: the API server cannot
    /// check it, the pre-check did.
    CreatedCheckedLocally,
    Replaced,
    /// A ServiceAccount deleted and created again, so its old tokens die with its old UID.
    ReplacedWithNewUid,
    Deleted,
    AlreadyAbsent,
    /// Not labelled as this tool's, so not deleted.
    LeftAlone,
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Outcome::Created => "created",
            Outcome::Configured => "configured",
            Outcome::Unchanged => "unchanged",
            Outcome::CreatedCheckedLocally => "created (checked locally: its Role does not exist yet)",
            Outcome::Replaced => "replaced",
            Outcome::ReplacedWithNewUid => "replaced (new UID)",
            Outcome::Deleted => "deleted",
            Outcome::AlreadyAbsent => "already absent",
            Outcome::LeftAlone => {
                return write!(
                    f,
                    "left alone: not labelled {MANAGED_BY_LABEL}={MANAGED_BY_VALUE}, so not created by this tool"
                );
            }
        })
    }
}

/// One object and what happened to it.
#[derive(Debug, Clone)]
pub struct Change {
    pub kind: &'static str,
    pub name: String,
    pub outcome: Outcome,
    /// Only the API server's dry run happened.
    pub dry_run: bool,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let dry = if self.dry_run { " (server dry run)" } else { "" };
        write!(f, "{}/{} {}{dry}", self.kind.to_lowercase(), self.name, self.outcome)
    }
}

impl Serialize for Change {
    /// `{"kind", "name", "action"}`, the action as the text shows it.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct as _;
        let dry = if self.dry_run { " (server dry run)" } else { "" };
        let mut out = serializer.serialize_struct("Change", 3)?;
        out.serialize_field("kind", self.kind)?;
        out.serialize_field("name", &self.name)?;
        out.serialize_field("action", &format!("{}{dry}", self.outcome))?;
        out.end()
    }
}

/// The outcome of `apply` (and `rotate`, `kubeconfig`) for one pipeline.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplyReport {
    pub namespace: String,
    pub service_account: String,
    pub changes: Vec<Change>,
    pub dry_run: bool,
    pub kubeconfig: Option<String>,
    /// RFC 3339 expiry of a bound token.
    pub expires: Option<String>,
    pub verification: Option<VerifyReport>,
    /// A keyless access: the pre-check's verdict on the cluster's authenticator.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authenticator: Option<AuthenticatorReport>,
    /// The token, only with `--show-token`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// Notes for the user (e.g. a bound token that cannot be revoked).
    pub notes: Vec<String>,
}

impl ApplyReport {
    pub(super) fn new(pipeline: &Pipeline) -> Self {
        ApplyReport {
            namespace: pipeline.namespace.clone(),
            service_account: pipeline.spec.service_account.clone(),
            changes: Vec::new(),
            dry_run: false,
            kubeconfig: None,
            expires: None,
            verification: None,
            authenticator: None,
            token: None,
            notes: Vec::new(),
        }
    }

    pub fn passed(&self) -> bool {
        self.verification.as_ref().is_none_or(|v| v.passed)
    }

    pub fn text(&self) -> String {
        let mut out = String::new();
        for change in &self.changes {
            let _ = writeln!(out, "{change}");
        }
        if let Some(path) = &self.kubeconfig {
            let _ = writeln!(out, "kubeconfig written to {path} (mode 0600)");
        }
        if let Some(expires) = &self.expires {
            let _ = writeln!(out, "bound token expires at {expires}");
        }
        if let Some(verification) = &self.verification {
            out.push_str(&verification.text());
        }
        if let Some(authenticator) = &self.authenticator {
            let _ = writeln!(out, "{authenticator}");
        }
        for note in &self.notes {
            let _ = writeln!(out, "note: {note}");
        }
        if let Some(token) = &self.token {
            let _ = writeln!(out, "token: {token}");
        }
        out
    }
}

/// How to apply.
#[derive(Debug, Clone)]
pub struct ApplyOptions {
    pub dry_run: bool,
    /// The command's `--timeout`, and when it ends (counted from the command's start).
    pub timeout: Duration,
    pub deadline: tokio::time::Instant,
    pub kubeconfig_path: std::path::PathBuf,
    pub force: bool,
    pub verify: bool,
    pub show_token: bool,
    /// Take over objects of the access's names that this tool did not create.
    pub adopt: bool,
}

/// The object as compared for "unchanged": without what every write changes.
fn comparable<K: Serialize>(object: &K) -> serde_json::Value {
    let mut value = serde_json::to_value(object).unwrap_or_default();
    if let Some(meta) = value.get_mut("metadata").and_then(serde_json::Value::as_object_mut) {
        for key in ["managedFields", "resourceVersion", "generation"] {
            meta.remove(key);
        }
    }
    value
}

pub(super) async fn apply_object<K>(
    cluster: &Cluster,
    api: &Api<K>,
    object: &K,
    dry_run: bool,
    pipeline: &Pipeline,
) -> Result<Change>
where
    K: Resource + k8s_openapi::Resource + Clone + DeserializeOwned + Serialize + std::fmt::Debug,
    K::DynamicType: Default,
{
    let kind = <K as k8s_openapi::Resource>::KIND;
    let name = object.meta().name.clone().unwrap_or_default();
    let before =
        get_opt(cluster, api, &name, &doing(&format!("reading {kind} {name}"), pipeline)).await?;
    let mut params = PatchParams::apply(FIELD_MANAGER).force();
    params.dry_run = dry_run;
    let after = match api.patch(&name, &params, &Patch::Apply(object)).await {
        Ok(after) => after,
        Err(kube::Error::Api(status)) if status.code == 403 && kind == "Role" => {
            let message = status.message.clone();
            let mut problem = Problem::failed(format!(
                "the API server refused the Role {name} ({}): {message}",
                pipeline.label()
            ));
            if let Ok(forbidden) = cicd_access_core::forbidden::parse_forbidden(&message) {
                let missing: Vec<String> = forbidden.missing.iter().map(compact_string).collect();
                problem = problem.hint(format!(
                    "you do not hold: {}; ask an administrator for them, or for `escalate` on roles",
                    missing.join(" ")
                ));
            }
            return Err(problem.into());
        }
        Err(e) => {
            return Err(explain(
                e,
                &cluster.server,
                &cluster.context,
                &doing(&format!("applying {kind} {name}"), pipeline),
            ));
        }
    };
    let outcome = match &before {
        None => Outcome::Created,
        Some(before) if comparable(before) == comparable(&after) => Outcome::Unchanged,
        Some(_) => Outcome::Configured,
    };
    Ok(Change { kind, name, outcome, dry_run })
}

/// Waits, with a watch, until the token controller has filled the Secret (with a token
/// other than `not`, when rotating).
async fn wait_for_token(
    cluster: &Cluster,
    pipeline: &Pipeline,
    options: &ApplyOptions,
    not: Option<&str>,
) -> Result<Secret> {
    let timeout = options.timeout;
    let api: Api<Secret> = Api::namespaced(cluster.client.clone(), &pipeline.namespace);
    let name = pipeline.spec.secret.clone();
    let old = not.map(str::to_owned);
    let condition = move |secret: Option<&Secret>| {
        secret.and_then(|s| s.data.as_ref()).and_then(|d| d.get("token")).is_some_and(|token| {
            !token.0.is_empty()
                && old.as_deref().is_none_or(|old| old.as_bytes() != token.0.as_slice())
        })
    };
    let wait = kube::runtime::wait::await_condition(api, &name, condition);
    // Ends just before the command's deadline, so that this wait's own message, which names
    // the token controller, is the one the user reads.
    let budget = options
        .deadline
        .saturating_duration_since(tokio::time::Instant::now())
        .saturating_sub(DEADLINE_MARGIN);
    match tokio::time::timeout(budget, wait).await {
        Ok(Ok(Some(secret))) => Ok(secret),
        Ok(Ok(None)) => Err(Problem::failed(format!(
            "Secret {name} ({}) was deleted while waiting for its token",
            pipeline.label()
        ))
        .into()),
        Ok(Err(e)) => Err(crate::cluster::explain_transport(
            anyhow::Error::new(e),
            &cluster.server,
            &cluster.context,
            &format!("watching Secret {name} ({}) for its token", pipeline.label()),
        )),
        Err(_) => Err(Problem::failed(format!(
            "timed out after {}s waiting for the token in Secret {name} ({})",
            timeout.as_secs(),
            pipeline.label()
        ))
        .hint("the token controller of kube-controller-manager fills it within seconds: it is probably not running (or runs without --service-account-private-key-file); ask the cluster administrator, then re-run, or use --token-duration for a bound token")
        .into()),
    }
}

pub(super) struct Token {
    pub(super) value: String,
    ca_crt: Vec<u8>,
    expires: Option<String>,
}

pub(super) fn secret_token(secret: &Secret, pipeline: &Pipeline) -> Result<Token> {
    let value = serde_json::to_value(secret)?;
    let read = read_token_secret(&value, Some(&pipeline.spec.service_account))
        .map_err(|e| Problem::failed(e.to_string()))?;
    Ok(Token { value: read.token, ca_crt: read.ca_crt, expires: None })
}

async fn bound_token(cluster: &Cluster, pipeline: &Pipeline, seconds: u64) -> Result<Token> {
    let api: Api<ServiceAccount> = Api::namespaced(cluster.client.clone(), &pipeline.namespace);
    // Bound to the access's anchor Secret by UID: deleting it (revoke) ends the token at
    // once, and a Secret made again under the same name does not bring it back.
    let secrets: Api<Secret> = Api::namespaced(cluster.client.clone(), &pipeline.namespace);
    let name = &pipeline.spec.secret;
    let anchor = call(
        cluster,
        &doing(&format!("reading Secret {name}, which the token is bound to"), pipeline),
        secrets.get(name),
    )
    .await?;
    let request = TokenRequest {
        spec: TokenRequestSpec {
            expiration_seconds: i64::try_from(seconds).ok(),
            bound_object_ref: Some(BoundObjectReference {
                api_version: Some("v1".to_owned()),
                kind: Some("Secret".to_owned()),
                name: Some(name.clone()),
                uid: anchor.metadata.uid,
            }),
            ..TokenRequestSpec::default()
        },
        ..TokenRequest::default()
    };
    let answer = call(
        cluster,
        &doing("requesting a bound token", pipeline),
        api.create_token_request(&pipeline.spec.service_account, &PostParams::default(), &request),
    )
    .await?;
    let status =
        answer.status.ok_or_else(|| Problem::failed("the TokenRequest answer has no token"))?;
    let ca_crt = cluster_ca(cluster, pipeline).await?;
    // The API server may cap the duration: its answer is the expiry, kept on the anchor
    // for `status` (a merge patch, so the next apply's field manager leaves it).
    let expires = status.expiration_timestamp.0.to_string();
    let annotation = serde_json::json!({
        "metadata": {"annotations": {BOUND_EXPIRY_ANNOTATION: expires}}
    });
    call(
        cluster,
        &doing(&format!("writing the token's expiry on Secret {name}"), pipeline),
        secrets.patch(name, &PatchParams::default(), &Patch::Merge(&annotation)),
    )
    .await?;
    Ok(Token { value: status.token, ca_crt, expires: Some(expires) })
}

/// The CA the pipeline trusts: the caller's kubeconfig's, else the cluster's own
/// (`kube-root-ca.crt`, published in every namespace).
async fn cluster_ca(cluster: &Cluster, pipeline: &Pipeline) -> Result<Vec<u8>> {
    Ok(match &cluster.ca_pem {
        Some(pem) if pem.starts_with(b"-----BEGIN") => pem.clone(),
        _ => {
            let maps: Api<ConfigMap> = Api::namespaced(cluster.client.clone(), &pipeline.namespace);
            let map = call(
                cluster,
                &doing("reading ConfigMap kube-root-ca.crt", pipeline),
                maps.get("kube-root-ca.crt"),
            )
            .await?;
            map.data
                .and_then(|d| d.get("ca.crt").cloned())
                .ok_or_else(|| Problem::failed("ConfigMap kube-root-ca.crt has no ca.crt"))?
                .into_bytes()
        }
    })
}

pub(super) async fn issue_token(
    cluster: &Cluster,
    pipeline: &Pipeline,
    options: &ApplyOptions,
    not: Option<&str>,
) -> Result<Token> {
    match &pipeline.spec.token {
        TokenKind::Secret => {
            let secret = wait_for_token(cluster, pipeline, options, not).await?;
            secret_token(&secret, pipeline)
        }
        TokenKind::Bound { duration } => bound_token(cluster, pipeline, duration.seconds()).await,
        TokenKind::Keyless(_) => Err(Problem::usage(format!(
            "{} is keyless: it has no token; the job fetches its own with `kubectl cicd token`",
            pipeline.label()
        ))
        .into()),
    }
}

pub(super) fn render(cluster: &Cluster, pipeline: &Pipeline, token: &Token) -> Result<String> {
    render_kubeconfig(&KubeconfigParts {
        cluster_name: pipeline.spec.cluster_name.clone(),
        server: pipeline.spec.server.clone().unwrap_or_else(|| cluster.server.clone()),
        ca_crt: token.ca_crt.clone(),
        namespace: pipeline.namespace.clone(),
        token: token.value.clone(),
        expires: token.expires.clone(),
    })
    .map_err(|e| Problem::failed(e.to_string()).into())
}

/// Writes the kubeconfig, verifies it, and fills the report.
pub(super) async fn deliver(
    cluster: &Cluster,
    pipeline: &Pipeline,
    token: &Token,
    options: &ApplyOptions,
    force: bool,
    report: &mut ApplyReport,
    progress: &Progress,
) -> Result<()> {
    let text = render(cluster, pipeline, token)?;
    crate::output::write_kubeconfig(&options.kubeconfig_path, &text, force)?;
    report.kubeconfig = Some(options.kubeconfig_path.display().to_string());
    report.expires.clone_from(&token.expires);
    if options.show_token {
        report.token = Some(token.value.clone());
    }
    if options.verify {
        progress.set(format!("verifying the kubeconfig of {}", pipeline.label()));
        let expected = expected_rules(cluster, pipeline).await?;
        // The file is written: a failed verification must say so, not leave it unmentioned.
        let verification =
            verify_until(Subject::Kubeconfig(&text), pipeline, &expected).await.map_err(|e| {
                e.context(Problem::failed(format!(
                    "the kubeconfig was written to {}, but verifying it failed",
                    options.kubeconfig_path.display()
                )))
            })?;
        report.verification = Some(verification);
    }
    Ok(())
}

/// What verification compares with: the spec's rules, or the live Role's when the command
/// named the access without rules.
async fn expected_rules(cluster: &Cluster, pipeline: &Pipeline) -> Result<Vec<Rule>> {
    if pipeline.rules_given {
        return Ok(pipeline.spec.rules.clone());
    }
    live_role_rules(cluster, &pipeline.namespace, &pipeline.spec.role).await
}

/// A keyless access's kubeconfig (no secret in it) written, and the CI user's rights
/// verified by impersonating it where the caller may.
async fn deliver_keyless(
    cluster: &Cluster,
    pipeline: &Pipeline,
    options: &ApplyOptions,
    report: &mut ApplyReport,
    progress: &Progress,
) -> Result<()> {
    let server = pipeline.spec.server.clone().unwrap_or_else(|| cluster.server.clone());
    let ca = cluster_ca(cluster, pipeline).await?;
    let issued = keyless_kubeconfig(&pipeline.spec, &server, &pipeline.namespace, &ca)
        .map_err(|e| Problem::failed(e.to_string()))?;
    crate::output::write_kubeconfig(&options.kubeconfig_path, &issued.text, options.force)?;
    report.kubeconfig = Some(options.kubeconfig_path.display().to_string());
    report.notes.push(
        "the kubeconfig holds no token: commit it or keep it as a plain CI variable".to_owned(),
    );
    if !options.verify {
        return Ok(());
    }
    let TokenKind::Keyless(identity) = &pipeline.spec.token else { return Ok(()) };
    let user = keyless::username(identity);
    if !may_impersonate(cluster, &user).await? {
        report.notes.push(format!(
            "not verified: you may not impersonate {user} (verify needs `impersonate` on users); the first job shows whether it works"
        ));
        return Ok(());
    }
    progress.set(format!("verifying the rights of {user}"));
    let expected = expected_rules(cluster, pipeline).await?;
    let subject = Subject::Impersonated { cluster, user: &user };
    report.verification = Some(verify_until(subject, pipeline, &expected).await?);
    Ok(())
}

/// Deletes the access's ServiceAccount and waits until it is gone, so that the next apply
/// creates it with a new UID: a Secret token issued again then cannot equal an earlier one
/// (the core's `ownership` module says why).
pub(super) async fn renew_service_account(
    cluster: &Cluster,
    pipeline: &Pipeline,
    options: &ApplyOptions,
) -> Result<()> {
    let name = pipeline.spec.service_account.as_str();
    let api: Api<ServiceAccount> = Api::namespaced(cluster.client.clone(), &pipeline.namespace);
    let what = doing(&format!("replacing ServiceAccount {name}"), pipeline);
    match api.delete(name, &DeleteParams::default()).await {
        Ok(_) => {}
        Err(kube::Error::Api(status)) if status.code == 404 => return Ok(()),
        Err(e) => return Err(explain(e, &cluster.server, &cluster.context, &what)),
    }
    let deadline = options.deadline - DEADLINE_MARGIN;
    while get_opt(cluster, &api, name, &what).await?.is_some() {
        if tokio::time::Instant::now() >= deadline {
            return Err(Problem::failed(format!(
                "ServiceAccount {name} ({}) was still there when the {}s --timeout ran out, after it was deleted",
                pipeline.label(),
                options.timeout.as_secs()
            ))
            .hint("a finalizer may hold it: look at `kubectl get serviceaccount NAME -o yaml`, then re-run")
            .into());
        }
        tokio::time::sleep(POLL).await;
    }
    Ok(())
}

/// Check, then apply every object, wait for the token, write and verify the kubeconfig.
pub async fn apply(
    cluster: &Cluster,
    pipeline: &Pipeline,
    options: &ApplyOptions,
    progress: &Progress,
) -> Result<ApplyReport> {
    progress.set(format!("checking your rights in {}", pipeline.namespace));
    let report = check(cluster, pipeline, options.adopt).await?;
    if report.namespace_exists == Some(false) {
        return Err(Problem::failed(format!("namespace {} does not exist", pipeline.namespace))
            .hint("create it first (kubectl create namespace NAME), or pass the right -n; nothing was changed")
            .into());
    }
    if report.ownership.refused() {
        let mut message = format!(
            "refusing to apply in namespace {}: objects of these names exist that this access may not write; nothing was changed",
            pipeline.namespace
        );
        for conflict in &report.conflicts {
            let _ = write!(message, "\n  {conflict}");
        }
        let mut problem = Problem::failed(message);
        if report.ownership.adoptable() {
            problem = problem.hint(ADOPT_HINT);
        }
        return Err(problem.into());
    }
    if report.refused() {
        let mut message = format!(
            "refusing to apply in namespace {}: the API server would refuse it; nothing was created\n",
            pipeline.namespace
        );
        message.push_str(report.explanation.trim_end());
        return Err(Problem::failed(message)
            .hint("`kubectl cicd check` shows the same; ask a cluster administrator for the missing rules")
            .into());
    }
    let mut out = ApplyReport::new(pipeline);
    out.dry_run = options.dry_run;
    out.authenticator.clone_from(&report.authenticator);
    if report.incomplete {
        out.notes.push("your rules review is incomplete: the API server decided".to_owned());
    }
    // Info findings are about rules that grant nothing; the rest is what a leaked
    // kubeconfig could do, worth a line in every apply (`check` shows them all).
    for finding in report.lint.iter().filter(|f| f.severity >= Severity::Warning) {
        out.notes.push(format!(
            "risk ({}) in rules[{}]: {}",
            finding.severity.name(),
            finding.rule,
            finding.why
        ));
    }
    for adopted in &report.adopted {
        out.notes.push(format!("adopted {adopted} (--adopt): it now carries this tool's label"));
    }
    let client = &cluster.client;
    let ns = pipeline.namespace.as_str();
    let m = &pipeline.manifests;
    if report.ownership.renew_service_account {
        if options.dry_run {
            out.notes.push(format!(
                "would replace ServiceAccount {} first, so the new token differs from the revoked one",
                pipeline.spec.service_account
            ));
        } else {
            progress.set(format!("replacing ServiceAccount {}", pipeline.spec.service_account));
            renew_service_account(cluster, pipeline, options).await?;
            out.notes.push(format!(
                "ServiceAccount {} was replaced (new UID): a token issued again must not equal the revoked one",
                pipeline.spec.service_account
            ));
        }
    }
    progress.set(format!("applying the objects in {ns}"));
    let roles: Api<Role> = Api::namespaced(client.clone(), ns);
    let accounts: Api<ServiceAccount> = Api::namespaced(client.clone(), ns);
    let bindings: Api<RoleBinding> = Api::namespaced(client.clone(), ns);
    let secrets: Api<Secret> = Api::namespaced(client.clone(), ns);
    // The Role must exist before the binding is checked against it, and the ServiceAccount
    // before its token Secret (the token controller deletes Secrets of absent accounts).
    let account_change = async {
        match &m.service_account {
            Some(account) => {
                apply_object(cluster, &accounts, account, options.dry_run, pipeline).await.map(Some)
            }
            None => Ok(None),
        }
    };
    let (role, account) = futures::try_join!(
        apply_object(cluster, &roles, &m.role, options.dry_run, pipeline),
        account_change,
    )?;
    let secret_change = async {
        match &m.secret {
            Some(secret) => {
                apply_object(cluster, &secrets, secret, options.dry_run, pipeline).await.map(Some)
            }
            None => Ok(None),
        }
    };
    // A dry run creates no Role, and the API server checks a RoleBinding against the rules
    // of its Role: a new binding can only be checked by the coverage pre-check above.
    let binding_change = async {
        if options.dry_run && role.outcome == Outcome::Created {
            Ok(Change {
                kind: <RoleBinding as k8s_openapi::Resource>::KIND,
                name: pipeline.spec.role_binding.clone(),
                outcome: Outcome::CreatedCheckedLocally,
                dry_run: false,
            })
        } else {
            apply_object(cluster, &bindings, &m.role_binding, options.dry_run, pipeline).await
        }
    };
    let (binding, secret) = futures::try_join!(binding_change, secret_change)?;
    out.changes = vec![role];
    out.changes.extend(account);
    out.changes.push(binding);
    out.changes.extend(secret);
    if options.dry_run {
        return Ok(out);
    }
    if matches!(pipeline.spec.token, TokenKind::Keyless(_)) {
        deliver_keyless(cluster, pipeline, options, &mut out, progress).await?;
        return Ok(out);
    }
    progress.set(format!("waiting for the token of {}", pipeline.label()));
    let token = issue_token(cluster, pipeline, options, None).await?;
    deliver(cluster, pipeline, &token, options, options.force, &mut out, progress).await?;
    Ok(out)
}

/// Only the extraction: the kubeconfig from the existing token Secret (or a new bound token).
pub async fn kubeconfig(
    cluster: &Cluster,
    pipeline: &Pipeline,
    options: &ApplyOptions,
    progress: &Progress,
) -> Result<ApplyReport> {
    let mut out = ApplyReport::new(pipeline);
    if matches!(pipeline.spec.token, TokenKind::Secret) {
        let api: Api<Secret> = Api::namespaced(cluster.client.clone(), &pipeline.namespace);
        let name = &pipeline.spec.secret;
        if get_opt(cluster, &api, name, &doing(&format!("reading Secret {name}"), pipeline))
            .await?
            .is_none()
        {
            return Err(Problem::failed(format!(
                "Secret {name} does not exist in namespace {}",
                pipeline.namespace
            ))
            .hint("create the objects first with `kubectl cicd apply`")
            .into());
        }
    }
    progress.set(format!("reading the token of {}", pipeline.label()));
    let token = issue_token(cluster, pipeline, options, None).await?;
    deliver(cluster, pipeline, &token, options, options.force, &mut out, progress).await?;
    Ok(out)
}
