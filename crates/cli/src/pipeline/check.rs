//! `check`: the pre-verification, and the reads of rights and existing objects that the
//! other commands share.

use std::fmt::Write as _;

use anyhow::Result;
use cicd_access_core::assessment::{Assessment, Evidence, Verdict, Writer, assess};
use cicd_access_core::authenticator::{
    API_SERVER_NAMESPACE, API_SERVER_SELECTOR, ApiServerPods, Authenticator, api_server_commands,
    assess_authenticator,
};
use cicd_access_core::coverage::{self, Coverage, compact_string};
use cicd_access_core::keyless::{self, KeylessAccess};
use cicd_access_core::lint::{Finding, lint_role};
use cicd_access_core::ownership::{Existing, Intent, Ownership, assess_ownership};
use cicd_access_core::rules_review::{RulesReview, parse_rules_review};
use cicd_access_core::{Rule, TokenKind};
use k8s_openapi::api::authorization::v1::{SelfSubjectRulesReview, SelfSubjectRulesReviewSpec};
use k8s_openapi::api::core::v1::{Namespace, Node, Pod, Secret, ServiceAccount};
use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
use kube::Resource;
use kube::api::{Api, ListParams, PostParams};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{Pipeline, call, doing};
use crate::cluster::{Cluster, explain};
use crate::problem::Problem;

/// What the pre-verification found.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckReport {
    pub context: String,
    pub server: String,
    pub namespace: String,
    /// The pipeline's ServiceAccount; a keyless access has none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_account: Option<String>,
    /// A keyless access's CI user, whom its RoleBinding names.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// A keyless access: whether the cluster's authenticator admits its jobs (a note, never
    /// a refusal: the Role and RoleBinding can be created either way).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authenticator: Option<AuthenticatorReport>,
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
        if let Some(account) = &self.service_account {
            let _ = writeln!(out, "pipeline:   ServiceAccount {account}");
        }
        if let Some(user) = &self.user {
            let _ = writeln!(out, "pipeline:   User {user}");
        }
        if let Some(authenticator) = &self.authenticator {
            let _ = writeln!(out, "{authenticator}");
        }
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

/// The core's verdict on the cluster's authenticator for a keyless access, with its text
/// for `-o json`.
#[derive(Debug, Clone, Serialize)]
pub struct AuthenticatorReport {
    #[serde(flatten)]
    pub verdict: Authenticator,
    pub message: String,
}

impl std::fmt::Display for AuthenticatorReport {
    /// The `authenticator:` paragraph of `check` and `apply`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "authenticator: {}", self.message)
    }
}

/// A keyless access: what the kube-apiserver pods in kube-system (the mirrors of the static
/// pods of kubeadm, kind and minikube) show of the authenticator, judged by the core.
/// `None` for an access with a token.
async fn authenticator(
    cluster: &Cluster,
    pipeline: &Pipeline,
) -> Result<Option<AuthenticatorReport>> {
    if !matches!(pipeline.spec.token, TokenKind::Keyless(_)) {
        return Ok(None);
    }
    let access = KeylessAccess::of(&pipeline.spec).map_err(|e| Problem::usage(e.to_string()))?;
    let api: Api<Pod> = Api::namespaced(cluster.client.clone(), API_SERVER_NAMESPACE);
    let pods = match api.list(&ListParams::default().labels(API_SERVER_SELECTOR)).await {
        Ok(list) => ApiServerPods::Listed(api_server_commands(&list.items)),
        Err(kube::Error::Api(status)) if status.code == 403 => ApiServerPods::Forbidden,
        Err(e) => {
            return Err(explain(
                e,
                &cluster.server,
                &cluster.context,
                &format!("listing the kube-apiserver pods in {API_SERVER_NAMESPACE}"),
            ));
        }
    };
    // The version only picks which `generate -o` output to name: an API server that does not
    // answer /version is judged all the same.
    let version = cluster.client.apiserver_version().await.ok().map(|info| info.git_version);
    let verdict = assess_authenticator(&pods, version.as_deref(), &access);
    Ok(Some(AuthenticatorReport { message: verdict.to_string(), verdict }))
}

/// What to do about objects this tool did not create.
pub(super) const ADOPT_HINT: &str = "choose other names (--role, --service-account, --role-binding, --secret), \
     or pass --adopt to take them over: apply then rewrites them (a RoleBinding's subjects \
     included) and `revoke --all` deletes them";

/// A SelfSubjectRulesReview of the caller's own rights in `namespace`.
pub(super) fn rules_review_request(namespace: &str) -> SelfSubjectRulesReview {
    SelfSubjectRulesReview {
        spec: SelfSubjectRulesReviewSpec { namespace: Some(namespace.to_owned()) },
        ..SelfSubjectRulesReview::default()
    }
}

/// The API server's answer to [`rules_review_request`], read by the core.
pub(super) fn read_rules_review(answer: &SelfSubjectRulesReview) -> Result<RulesReview> {
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
pub(super) async fn lacking_rights(
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
pub(super) async fn existing(cluster: &Cluster, pipeline: &Pipeline) -> Result<Existing> {
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
    let (exists, nodes, review, found, authenticator) = futures::try_join!(
        namespace_exists(cluster, namespace),
        nodes(cluster),
        held_rules(cluster, namespace),
        existing(cluster, pipeline),
        // Boxed: the pod list's future would make every caller's future too large.
        Box::pin(authenticator(cluster, pipeline)),
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
        service_account: spec.token.has_service_account().then(|| spec.service_account.clone()),
        user: match &spec.token {
            TokenKind::Keyless(identity) => Some(keyless::username(identity)),
            TokenKind::Secret | TokenKind::Bound { .. } => None,
        },
        authenticator,
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
        lint: lint_role(&spec.rules, pipeline.lint),
        conflicts: ownership.conflicts.iter().map(ToString::to_string).collect(),
        adopted: ownership.adopted.clone(),
        explanation: assessment.explain(),
        ownership,
        assessment,
    })
}
