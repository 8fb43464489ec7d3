//! One pipeline's access against the live cluster: check, apply, kubeconfig, verify,
//! revoke, rotate. Every decision is the core's; this is requests and their order.

use std::fmt::{self, Write as _};
use std::time::Duration;

use anyhow::Result;
use cicd_access_core::assessment::{Assessment, Evidence, Verdict, Writer, assess};
use cicd_access_core::coverage::{self, Coverage, compact_string};
use cicd_access_core::kubeconfig::{KubeconfigParts, read_token_secret, render_kubeconfig};
use cicd_access_core::lint::{Finding, LintOptions, Severity, lint_role};
use cicd_access_core::manifest::{Manifests, build_for_names, build_manifests, rule_of};
use cicd_access_core::ownership::{Existing, Intent, Ownership, assess_ownership};
use cicd_access_core::requirements::{revoke_rules, rotate_rules};
use cicd_access_core::rules_review::{RulesReview, parse_rules_review};
use cicd_access_core::spec::{MANAGED_BY_LABEL, MANAGED_BY_VALUE};
use cicd_access_core::verify::{Verification, compare_rights, denied_user, service_account_user};
use cicd_access_core::{AccessSpec, Rule, TokenKind};
use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec};
use k8s_openapi::api::authorization::v1::{SelfSubjectRulesReview, SelfSubjectRulesReviewSpec};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Node, Secret, ServiceAccount};
use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::{Client, Resource};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::cluster::{Cluster, client_from_text, explain};

use crate::output::Progress;
use crate::problem::Problem;

/// The one field manager of every server-side apply.
pub const FIELD_MANAGER: &str = "kubectl-cicd";
/// How long the RBAC authorizer may take to see a new RoleBinding, or the token
/// authenticator a deleted Secret.
const PROPAGATION: Duration = Duration::from_secs(10);
const POLL: Duration = Duration::from_millis(100);
/// What a step's own timeout leaves before the command's deadline, to report it.
const DEADLINE_MARGIN: Duration = Duration::from_millis(300);

/// A spec whose namespace is resolved, with its manifests.
#[derive(Debug, Clone)]
pub struct Pipeline {
    pub spec: AccessSpec,
    pub manifests: Manifests,
    pub namespace: String,
    /// The spec named the Role's rules (`revoke`, `rotate` and `kubeconfig` need none):
    /// otherwise verification compares with the live Role.
    pub rules_given: bool,
    /// The pipeline deploys with Helm 3 (its releases live in Secrets), for the lint.
    pub helm: bool,
}

impl Pipeline {
    /// Fills the namespace from the context when the spec names none, and builds the objects.
    pub fn new(
        mut spec: AccessSpec,
        context_namespace: &str,
        helm: bool,
    ) -> Result<Pipeline, Problem> {
        let namespace = spec.namespace.get_or_insert_with(|| context_namespace.to_owned()).clone();
        let rules_given = !spec.rules.is_empty();
        let manifests = if rules_given { build_manifests(&spec) } else { build_for_names(&spec) }
            .map_err(|e| Problem::usage(e.to_string()))?;
        Ok(Pipeline { spec, manifests, namespace, rules_given, helm })
    }

    fn label(&self) -> String {
        format!("{}/{}", self.namespace, self.spec.service_account)
    }
}

fn doing(what: &str, pipeline: &Pipeline) -> String {
    format!("{what} ({})", pipeline.label())
}

/// Runs a request, turning a failure into one of the distinct messages.
async fn call<T>(
    cluster: &Cluster,
    what: &str,
    future: impl Future<Output = kube::Result<T>>,
) -> Result<T> {
    future.await.map_err(|e| explain(e, &cluster.server, &cluster.context, what))
}

/// `Ok(None)` for a 404.
async fn get_opt<K>(cluster: &Cluster, api: &Api<K>, name: &str, what: &str) -> Result<Option<K>>
where
    K: Resource + Clone + DeserializeOwned + std::fmt::Debug,
{
    match api.get_opt(name).await {
        Ok(found) => Ok(found),
        Err(e) => Err(explain(e, &cluster.server, &cluster.context, what)),
    }
}

// ---------------------------------------------------------------------------------------------
// check

/// What the pre-verification found.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckReport {
    pub context: String,
    pub server: String,
    pub namespace: String,
    pub service_account: String,
    /// `None` when you may not read namespaces.
    pub namespace_exists: Option<bool>,
    /// What listing nodes says (often forbidden to tenants; reported, not a failure).
    pub nodes: String,
    pub held_rules: Vec<Rule>,
    pub incomplete: bool,
    pub role_allowed: bool,
    pub role_bypass: bool,
    /// The Role's rules you do not hold, as the API server's 403 would list them.
    pub missing: Vec<String>,
    pub missing_rules: Vec<Rule>,
    pub binding_allowed: bool,
    /// Rights the steps themselves need (writing Roles, Secrets, ...) that you lack.
    pub missing_for_steps: Vec<String>,
    /// The core's risk lint of the Role (reported; never a refusal).
    pub lint: Vec<Finding>,
    /// Existing objects of the access's names that may not be written (not created by this
    /// tool and not adopted, or a Secret that cannot hold the token).
    pub conflicts: Vec<String>,
    /// Objects of others taken over because of `--adopt`.
    pub adopted: Vec<String>,
    pub explanation: String,
    #[serde(skip)]
    pub ownership: Ownership,
    #[serde(skip)]
    pub assessment: Assessment,
}

impl CheckReport {
    /// Whether the API server will refuse something, so nothing should be created.
    pub fn refused(&self) -> bool {
        self.ownership.refused() || self.assessment.verdict() == Verdict::Refused
    }

    pub fn text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "context:    {}", self.context);
        let _ = writeln!(out, "server:     {}", self.server);
        let exists = match self.namespace_exists {
            Some(true) => "exists",
            Some(false) => "does NOT exist",
            None => "existence unknown (you may not read namespaces)",
        };
        let _ = writeln!(out, "namespace:  {} ({exists})", self.namespace);
        let _ = writeln!(out, "pipeline:   ServiceAccount {}", self.service_account);
        let _ = writeln!(out, "nodes:      {}", self.nodes);
        let _ = writeln!(
            out,
            "your rights in {}: {} rule(s){}",
            self.namespace,
            self.held_rules.len(),
            if self.incomplete { ", INCOMPLETE list" } else { "" }
        );
        out.push_str(&self.explanation);
        if !self.lint.is_empty() {
            out.push_str("Risks of the Role (what a leaked kubeconfig could do):\n");
            for finding in &self.lint {
                let _ = writeln!(
                    out,
                    "  {:<7} rules[{}]: {}",
                    finding.severity.name(),
                    finding.rule,
                    finding.why
                );
            }
        }
        for note in &self.assessment.notes {
            let _ = writeln!(out, "note: {note}");
        }
        if !self.conflicts.is_empty() {
            out.push_str("Objects of these names exist that this access may not write:\n");
            for conflict in &self.conflicts {
                let _ = writeln!(out, "  {conflict}");
            }
            if self.ownership.adoptable() {
                out.push_str(ADOPT_HINT);
                out.push('\n');
            }
        }
        for adopted in &self.adopted {
            let _ = writeln!(out, "adopting {adopted} (--adopt): apply rewrites and labels it");
        }
        let verdict = match (self.ownership.refused(), self.assessment.verdict()) {
            (true, _) | (false, Verdict::Refused) => "you cannot create this; nothing was changed",
            (false, Verdict::Undecided) => {
                "undecided: the rules review is incomplete (an authorizer besides RBAC is active), so the API server decides"
            }
            (false, Verdict::Accepted) => "you can create this",
        };
        let _ = writeln!(out, "verdict: {verdict}");
        out
    }
}

/// What to do about objects this tool did not create.
const ADOPT_HINT: &str = "choose other names (--role, --service-account, --role-binding, --secret), \
     or pass --adopt to take them over: apply then rewrites them (a RoleBinding's subjects \
     included) and `revoke --all` deletes them";

/// A SelfSubjectRulesReview of the caller's own rights in `namespace`.
fn rules_review_request(namespace: &str) -> SelfSubjectRulesReview {
    SelfSubjectRulesReview {
        spec: SelfSubjectRulesReviewSpec { namespace: Some(namespace.to_owned()) },
        ..SelfSubjectRulesReview::default()
    }
}

/// The API server's answer to [`rules_review_request`], read by the core.
fn read_rules_review(answer: &SelfSubjectRulesReview) -> Result<RulesReview> {
    let text = serde_json::to_string(answer)?;
    parse_rules_review(&text).map_err(|e| {
        Problem::failed(format!("the API server's rules review is unreadable: {e}")).into()
    })
}

async fn held_rules(cluster: &Cluster, namespace: &str) -> Result<RulesReview> {
    let api: Api<SelfSubjectRulesReview> = Api::all(cluster.client.clone());
    let answer = call(
        cluster,
        &format!("reviewing your rights in namespace {namespace}"),
        api.create(&PostParams::default(), &rules_review_request(namespace)),
    )
    .await?;
    read_rules_review(&answer)
}

/// The rules of `needed` you do not hold in `namespace`, as the API server would list them;
/// `None` when you hold them all or your rules review is incomplete (the API server decides).
async fn lacking_rights(
    cluster: &Cluster,
    namespace: &str,
    needed: &[Rule],
) -> Result<Option<String>> {
    let review = held_rules(cluster, namespace).await?;
    let lacking = coverage::missing_rules(&review.rules, needed);
    if review.incomplete || lacking.is_empty() {
        return Ok(None);
    }
    Ok(Some(lacking.iter().map(compact_string).collect::<Vec<_>>().join(" ")))
}

async fn namespace_exists(cluster: &Cluster, namespace: &str) -> Result<Option<bool>> {
    let api: Api<Namespace> = Api::all(cluster.client.clone());
    match api.get_opt(namespace).await {
        Ok(found) => Ok(Some(found.is_some())),
        Err(kube::Error::Api(status)) if status.code == 403 => Ok(None),
        Err(e) => Err(explain(e, &cluster.server, &cluster.context, "reading the namespace")),
    }
}

async fn nodes(cluster: &Cluster) -> Result<String> {
    let api: Api<Node> = Api::all(cluster.client.clone());
    match api.list_metadata(&ListParams::default().limit(500)).await {
        Ok(list) => Ok(format!("{} visible", list.items.len())),
        Err(kube::Error::Api(status)) if status.code == 403 => {
            Ok("you may not list nodes (usual for tenants; not needed)".to_owned())
        }
        Err(e) => Err(explain(e, &cluster.server, &cluster.context, "listing nodes")),
    }
}

/// Reads one object of the access, `None` when absent, and when you may not read it (the
/// rights the steps need, which include reading, are reported by the pre-check).
async fn read_existing<K>(cluster: &Cluster, pipeline: &Pipeline, name: &str) -> Result<Option<K>>
where
    K: Resource<Scope = k8s_openapi::NamespaceResourceScope>
        + k8s_openapi::Resource
        + Clone
        + DeserializeOwned
        + std::fmt::Debug,
    K::DynamicType: Default,
{
    let api: Api<K> = Api::namespaced(cluster.client.clone(), &pipeline.namespace);
    match api.get_opt(name).await {
        Ok(found) => Ok(found),
        Err(kube::Error::Api(status)) if status.code == 403 => Ok(None),
        Err(e) => Err(explain(
            e,
            &cluster.server,
            &cluster.context,
            &doing(&format!("reading {} {name}", <K as k8s_openapi::Resource>::KIND), pipeline),
        )),
    }
}

/// What exists under the access's names, for the core's ownership verdict.
async fn existing(cluster: &Cluster, pipeline: &Pipeline) -> Result<Existing> {
    let spec = &pipeline.spec;
    let secret = async {
        match pipeline.manifests.secret {
            Some(_) => read_existing::<Secret>(cluster, pipeline, &spec.secret).await,
            None => Ok(None),
        }
    };
    let (role, service_account, role_binding, secret) = futures::try_join!(
        read_existing::<Role>(cluster, pipeline, &spec.role),
        read_existing::<ServiceAccount>(cluster, pipeline, &spec.service_account),
        read_existing::<RoleBinding>(cluster, pipeline, &spec.role_binding),
        secret,
    )?;
    Ok(Existing { role, service_account, role_binding, secret })
}

/// Pre-verification: changes nothing. `adopt`: objects of the access's names that this tool
/// did not create may be taken over.
pub async fn check(cluster: &Cluster, pipeline: &Pipeline, adopt: bool) -> Result<CheckReport> {
    let namespace = pipeline.namespace.as_str();
    let (exists, nodes, review, found) = futures::try_join!(
        namespace_exists(cluster, namespace),
        nodes(cluster),
        held_rules(cluster, namespace),
        existing(cluster, pipeline),
    )?;
    let spec = &pipeline.spec;
    let ownership = assess_ownership(spec, &found, Intent::Apply, adopt);
    let held_rules = review.rules.clone();
    let assessment = assess(&Evidence::from_review(review), spec, Writer::ServerSideApply);
    let role = &assessment.role;
    let binding_allowed = assessment.binding.as_ref().is_none_or(Coverage::allowed);
    Ok(CheckReport {
        context: cluster.context.clone(),
        server: cluster.server.clone(),
        namespace: namespace.to_owned(),
        service_account: spec.service_account.clone(),
        namespace_exists: exists,
        nodes,
        held_rules,
        incomplete: assessment.incomplete,
        role_allowed: role.allowed(),
        role_bypass: role.bypass,
        missing: role.missing.iter().map(compact_string).collect(),
        missing_rules: role.missing.clone(),
        binding_allowed,
        missing_for_steps: assessment.missing_for_steps.iter().map(compact_string).collect(),
        lint: lint_role(&spec.rules, LintOptions { helm: pipeline.helm }),
        conflicts: ownership.conflicts.iter().map(ToString::to_string).collect(),
        adopted: ownership.adopted.clone(),
        explanation: assessment.explain(),
        ownership,
        assessment,
    })
}

// ---------------------------------------------------------------------------------------------
// apply

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
    /// The token, only with `--show-token`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// Notes for the user (e.g. a bound token that cannot be revoked).
    pub notes: Vec<String>,
}

impl ApplyReport {
    fn new(pipeline: &Pipeline) -> Self {
        ApplyReport {
            namespace: pipeline.namespace.clone(),
            service_account: pipeline.spec.service_account.clone(),
            changes: Vec::new(),
            dry_run: false,
            kubeconfig: None,
            expires: None,
            verification: None,
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

async fn apply_object<K>(
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

struct Token {
    value: String,
    ca_crt: Vec<u8>,
    expires: Option<String>,
}

fn secret_token(secret: &Secret, pipeline: &Pipeline) -> Result<Token> {
    let value = serde_json::to_value(secret)?;
    let read = read_token_secret(&value, Some(&pipeline.spec.service_account))
        .map_err(|e| Problem::failed(e.to_string()))?;
    Ok(Token { value: read.token, ca_crt: read.ca_crt, expires: None })
}

async fn bound_token(cluster: &Cluster, pipeline: &Pipeline, seconds: u64) -> Result<Token> {
    let api: Api<ServiceAccount> = Api::namespaced(cluster.client.clone(), &pipeline.namespace);
    let request = TokenRequest {
        spec: TokenRequestSpec {
            expiration_seconds: i64::try_from(seconds).ok(),
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
    let ca_crt = match &cluster.ca_pem {
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
    };
    Ok(Token {
        value: status.token,
        ca_crt,
        expires: Some(status.expiration_timestamp.0.to_string()),
    })
}

async fn issue_token(
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
    }
}

fn render(cluster: &Cluster, pipeline: &Pipeline, token: &Token) -> Result<String> {
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
async fn deliver(
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
        let expected = if pipeline.rules_given {
            pipeline.spec.rules.clone()
        } else {
            live_role_rules(cluster, &pipeline.namespace, &pipeline.spec.role).await?
        };
        // The file is written: a failed verification must say so, not leave it unmentioned.
        let verification = verify_until(&text, pipeline, &expected).await.map_err(|e| {
            e.context(Problem::failed(format!(
                "the kubeconfig was written to {}, but verifying it failed",
                options.kubeconfig_path.display()
            )))
        })?;
        report.verification = Some(verification);
    }
    Ok(())
}

/// Deletes the access's ServiceAccount and waits until it is gone, so that the next apply
/// creates it with a new UID: a Secret token issued again then cannot equal an earlier one
/// (the core's `ownership` module says why).
async fn renew_service_account(
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
    let (role, account) = futures::try_join!(
        apply_object(cluster, &roles, &m.role, options.dry_run, pipeline),
        apply_object(cluster, &accounts, &m.service_account, options.dry_run, pipeline),
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
    out.changes = vec![role, account, binding];
    out.changes.extend(secret);
    if options.dry_run {
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

// ---------------------------------------------------------------------------------------------
// verify

/// The verification, for output.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifyReport {
    pub passed: bool,
    pub expected_user: String,
    pub user: Option<String>,
    pub extra: Vec<String>,
    pub missing: Vec<String>,
    pub incomplete: bool,
    #[serde(skip)]
    pub explanation: String,
}

impl VerifyReport {
    fn from(verification: &Verification) -> Self {
        VerifyReport {
            passed: verification.passed(),
            expected_user: verification.expected_user.clone(),
            user: verification.user.clone(),
            extra: verification.rights.extra.iter().map(compact_string).collect(),
            missing: verification.rights.missing.iter().map(compact_string).collect(),
            incomplete: verification.incomplete,
            explanation: verification.explain(),
        }
    }

    pub fn text(&self) -> String {
        let verdict = if self.passed { "verified" } else { "VERIFICATION FAILED" };
        let mut out = format!("{verdict}: ");
        out.push_str(&self.explanation);
        out
    }
}

/// Who the client is: the user a denial names (works on every release), else unknown.
async fn whoami(client: &Client) -> Result<Option<String>> {
    let nodes: Api<Node> = Api::all(client.clone());
    match nodes.list_metadata(&ListParams::default().limit(1)).await {
        Err(kube::Error::Api(status)) if status.code == 403 => Ok(denied_user(&status.message)),
        Err(kube::Error::Api(status)) if status.code == 401 => Err(Problem::failed(
            "the issued kubeconfig's token is not accepted (401 Unauthorized)",
        )
        .hint("it was revoked or has expired: issue a new one with `kubectl cicd rotate` or `apply`")
        .into()),
        Err(e) => Err(anyhow::Error::new(e).context(Problem::failed(
            "cannot reach the API server with the issued kubeconfig",
        ).hint("if the pipeline reaches the API by another address (--server), verify from where it runs, or pass --no-verify"))),
        // Listing nodes is allowed, which a Role cannot grant: the review will show it as extra.
        Ok(_) => Ok(None),
    }
}

/// Connects with an issued kubeconfig and compares its rights with `expected`.
pub async fn verify_once(
    text: &str,
    namespace: &str,
    service_account: &str,
    expected: &[Rule],
) -> Result<Verification> {
    let (client, _) = client_from_text(text).await?;
    let user = whoami(&client).await?;
    let api: Api<SelfSubjectRulesReview> = Api::all(client);
    let answer = api
        .create(&PostParams::default(), &rules_review_request(namespace))
        .await
        .map_err(|e| {
            anyhow::Error::new(e)
                .context(Problem::failed("the issued kubeconfig cannot review its own rights"))
        })?;
    let review = read_rules_review(&answer)?;
    Ok(Verification {
        expected_user: service_account_user(namespace, service_account),
        user,
        rights: compare_rights(&review.rules, expected),
        incomplete: review.incomplete,
    })
}

/// Verifies, giving the RBAC authorizer's cache a few seconds to see a new binding.
async fn verify_until(text: &str, pipeline: &Pipeline, expected: &[Rule]) -> Result<VerifyReport> {
    let deadline = tokio::time::Instant::now() + PROPAGATION;
    loop {
        let verification =
            verify_once(text, &pipeline.namespace, &pipeline.spec.service_account, expected)
                .await?;
        if verification.passed() || tokio::time::Instant::now() >= deadline {
            return Ok(VerifyReport::from(&verification));
        }
        tokio::time::sleep(POLL * 2).await;
    }
}

/// The rules of the Role as it is in the cluster.
async fn live_role_rules(cluster: &Cluster, namespace: &str, name: &str) -> Result<Vec<Rule>> {
    let api: Api<Role> = Api::namespaced(cluster.client.clone(), namespace);
    let role =
        call(cluster, &format!("reading Role {name} to compare with"), api.get(name)).await?;
    Ok(role.rules.iter().flatten().map(rule_of).collect())
}

/// `verify`: the issued kubeconfig against the spec's rules (or the live Role's).
pub async fn verify_file(
    text: &str,
    namespace: Option<&str>,
    spec: &AccessSpec,
    has_rules: bool,
    cluster: Option<&Cluster>,
) -> Result<VerifyReport> {
    let (_, context_namespace) = client_from_text(text).await?;
    let namespace = namespace.map_or(context_namespace, str::to_owned);
    let expected = if has_rules {
        spec.rules.clone()
    } else {
        let cluster = cluster.ok_or_else(|| {
            Problem::usage("no rules to compare with").hint(
                "give the access (--preset, --rule or -f), or a kubeconfig that may read the Role",
            )
        })?;
        let roles: Api<Role> = Api::namespaced(cluster.client.clone(), &namespace);
        let role =
            call(cluster, &format!("reading Role {}", spec.role), roles.get(&spec.role)).await?;
        role.rules.iter().flatten().map(rule_of).collect()
    };
    let verification = verify_once(text, &namespace, &spec.service_account, &expected).await?;
    Ok(VerifyReport::from(&verification))
}

// ---------------------------------------------------------------------------------------------
// revoke and rotate

/// The outcome of `revoke`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RevokeReport {
    pub namespace: String,
    pub changes: Vec<Change>,
    /// Whether the old token was seen to stop working.
    pub token_dead: Option<bool>,
    pub notes: Vec<String>,
}

impl RevokeReport {
    pub fn text(&self) -> String {
        let mut out = String::new();
        for change in &self.changes {
            let _ = writeln!(out, "{change}");
        }
        match self.token_dead {
            Some(true) => out.push_str("the old token no longer authenticates (401)\n"),
            Some(false) => out.push_str("THE OLD TOKEN STILL AUTHENTICATES\n"),
            None => {}
        }
        for note in &self.notes {
            let _ = writeln!(out, "note: {note}");
        }
        out
    }
}

fn managed<K: Resource>(object: &K) -> bool {
    cicd_access_core::ownership::is_managed(object.meta())
}

async fn delete_managed<K>(
    cluster: &Cluster,
    api: &Api<K>,
    name: &str,
    pipeline: &Pipeline,
) -> Result<Change>
where
    K: Resource + k8s_openapi::Resource + Clone + DeserializeOwned + Serialize + std::fmt::Debug,
    K::DynamicType: Default,
{
    let kind = <K as k8s_openapi::Resource>::KIND;
    let outcome =
        match get_opt(cluster, api, name, &doing(&format!("reading {kind} {name}"), pipeline))
            .await?
        {
            None => Outcome::AlreadyAbsent,
            Some(object) if !managed(&object) => Outcome::LeftAlone,
            Some(_) => match api.delete(name, &DeleteParams::default()).await {
                Ok(_) => Outcome::Deleted,
                Err(kube::Error::Api(status)) if status.code == 404 => Outcome::AlreadyAbsent,
                Err(e) => {
                    return Err(explain(
                        e,
                        &cluster.server,
                        &cluster.context,
                        &doing(&format!("deleting {kind} {name}"), pipeline),
                    ));
                }
            },
        };
    Ok(Change { kind, name: name.to_owned(), outcome, dry_run: false })
}

/// Polls until `token` stops authenticating (the authenticator may cache briefly).
async fn token_dies(
    cluster: &Cluster,
    pipeline: &Pipeline,
    token: &Token,
    timeout: Duration,
) -> Result<bool> {
    let text = render(cluster, pipeline, token)?;
    let (client, _) = client_from_text(&text).await?;
    let deadline = tokio::time::Instant::now() + timeout.min(PROPAGATION * 3);
    loop {
        match client.apiserver_version().await {
            Err(kube::Error::Api(status)) if status.code == 401 => return Ok(true),
            Err(e) => {
                return Err(explain(
                    e,
                    &cluster.server,
                    &cluster.context,
                    "checking that the old token stopped working",
                ));
            }
            Ok(_) if tokio::time::Instant::now() >= deadline => return Ok(false),
            Ok(_) => tokio::time::sleep(POLL).await,
        }
    }
}

async fn current_token(cluster: &Cluster, pipeline: &Pipeline) -> Result<Option<Token>> {
    let api: Api<Secret> = Api::namespaced(cluster.client.clone(), &pipeline.namespace);
    let name = &pipeline.spec.secret;
    let Some(secret) =
        get_opt(cluster, &api, name, &doing(&format!("reading Secret {name}"), pipeline)).await?
    else {
        return Ok(None);
    };
    if !managed(&secret) {
        return Ok(None);
    }
    Ok(secret_token(&secret, pipeline).ok())
}

/// Deletes the token Secret (and with `all` every object this tool created) and checks
/// that the old token stopped working.
pub async fn revoke(
    cluster: &Cluster,
    pipeline: &Pipeline,
    all: bool,
    timeout: Duration,
    progress: &Progress,
) -> Result<RevokeReport> {
    progress.set(format!("revoking {}", pipeline.label()));
    if let Some(rules) = lacking_rights(cluster, &pipeline.namespace, &revoke_rules(all)).await? {
        return Err(Problem::failed(format!(
            "you may not revoke in namespace {}: you do not hold {rules}",
            pipeline.namespace
        ))
        .hint("ask a cluster administrator to revoke it, or for these rights")
        .into());
    }
    let ns = pipeline.namespace.as_str();
    let client = &cluster.client;
    let mut report = RevokeReport {
        namespace: ns.to_owned(),
        changes: Vec::new(),
        token_dead: None,
        notes: Vec::new(),
    };
    let old = current_token(cluster, pipeline).await?;
    let secrets: Api<Secret> = Api::namespaced(client.clone(), ns);
    report.changes.push(delete_managed(cluster, &secrets, &pipeline.spec.secret, pipeline).await?);
    if all {
        let bindings: Api<RoleBinding> = Api::namespaced(client.clone(), ns);
        let roles: Api<Role> = Api::namespaced(client.clone(), ns);
        let accounts: Api<ServiceAccount> = Api::namespaced(client.clone(), ns);
        report
            .changes
            .push(delete_managed(cluster, &bindings, &pipeline.spec.role_binding, pipeline).await?);
        report.changes.push(delete_managed(cluster, &roles, &pipeline.spec.role, pipeline).await?);
        report.changes.push(
            delete_managed(cluster, &accounts, &pipeline.spec.service_account, pipeline).await?,
        );
    } else if matches!(pipeline.spec.token, TokenKind::Bound { .. }) {
        report.notes.push("bound tokens cannot be revoked one by one: they stop at their expiry, or when the ServiceAccount is deleted (revoke --all)".to_owned());
    }
    if let Some(old) = old {
        progress.set("checking that the old token stopped working");
        report.token_dead = Some(token_dies(cluster, pipeline, &old, timeout).await?);
    }
    Ok(report)
}

/// New Secret, new token, new kubeconfig; the old token stops working. A Secret token is
/// issued for a new ServiceAccount (same name, new UID), so it cannot equal the old one on
/// any signing key.
pub async fn rotate(
    cluster: &Cluster,
    pipeline: &Pipeline,
    options: &ApplyOptions,
    progress: &Progress,
) -> Result<(ApplyReport, Option<bool>)> {
    let mut out = ApplyReport::new(pipeline);
    let ns = pipeline.namespace.as_str();
    if let Some(rules) = lacking_rights(cluster, ns, &rotate_rules(&pipeline.spec)).await? {
        return Err(Problem::failed(format!(
            "rotating in namespace {ns} is forbidden to you: you do not hold {rules}; nothing was changed"
        ))
        .hint("ask a cluster administrator to rotate it, or for these rights")
        .into());
    }
    let found = existing(cluster, pipeline).await?;
    if found.service_account.is_none() {
        return Err(Problem::failed(format!(
            "ServiceAccount {} does not exist in namespace {ns}: there is no access to rotate",
            pipeline.spec.service_account
        ))
        .hint("create it with `kubectl cicd apply`")
        .into());
    }
    let ownership = assess_ownership(&pipeline.spec, &found, Intent::Rotate, false);
    if ownership.refused() {
        let mut message = format!(
            "refusing to rotate in namespace {ns}: it would write objects of others; nothing was changed"
        );
        for conflict in &ownership.conflicts {
            let _ = write!(message, "\n  {conflict}");
        }
        return Err(Problem::failed(message)
            .hint("rotate replaces only what this tool created; adopt them first with `kubectl cicd apply --adopt`")
            .into());
    }
    let old = found.secret.as_ref().and_then(|secret| secret_token(secret, pipeline).ok());
    if let Some(secret) = &pipeline.manifests.secret {
        progress.set(format!("replacing the token Secret of {}", pipeline.label()));
        let secrets: Api<Secret> = Api::namespaced(cluster.client.clone(), ns);
        delete_managed(cluster, &secrets, &pipeline.spec.secret, pipeline).await?;
        if ownership.renew_service_account {
            renew_service_account(cluster, pipeline, options).await?;
            let accounts: Api<ServiceAccount> = Api::namespaced(cluster.client.clone(), ns);
            let m = &pipeline.manifests;
            let mut change =
                apply_object(cluster, &accounts, &m.service_account, false, pipeline).await?;
            change.outcome = Outcome::ReplacedWithNewUid;
            out.changes.push(change);
        }
        let mut change = apply_object(cluster, &secrets, secret, false, pipeline).await?;
        change.outcome = Outcome::Replaced;
        out.changes.push(change);
    } else {
        out.notes.push("the previous bound token keeps working until it expires (delete the ServiceAccount with revoke --all to stop it)".to_owned());
    }
    progress.set(format!("waiting for the new token of {}", pipeline.label()));
    let old_value = old.as_ref().map(|t| t.value.clone());
    let token = issue_token(cluster, pipeline, options, old_value.as_deref()).await?;
    // options() refused, before anything changed, to replace a file that is not this
    // access's kubeconfig without --force.
    deliver(cluster, pipeline, &token, options, true, &mut out, progress).await?;
    let dead = match &old {
        Some(old) if matches!(pipeline.spec.token, TokenKind::Secret) => {
            progress.set("checking that the old token stopped working");
            Some(token_dies(cluster, pipeline, old, options.timeout).await?)
        }
        _ => None,
    };
    Ok((out, dead))
}
