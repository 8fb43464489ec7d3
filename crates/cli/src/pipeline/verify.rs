//! `verify`: an issued kubeconfig's identity and rights compared with what its Role grants.

use anyhow::Result;
use cicd_access_core::coverage::compact_string;
use cicd_access_core::manifest::rule_of;
use cicd_access_core::verify::{Verification, compare_rights, denied_user, service_account_user};
use cicd_access_core::{AccessSpec, Rule};
use k8s_openapi::api::authentication::v1::SelfSubjectReview;
use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
    SelfSubjectRulesReview,
};
use k8s_openapi::api::core::v1::Node;
use k8s_openapi::api::rbac::v1::Role;
use kube::Client;
use kube::api::{Api, ListParams, PostParams};
use serde::Serialize;

use super::check::{read_rules_review, rules_review_request};
use super::{POLL, PROPAGATION, Pipeline, call};
use crate::cluster::{Cluster, client_from_text};
use crate::problem::Problem;

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

/// The API server answered 401 to the issued token. Right after the token controller has
/// filled a Secret, the API server may not accept the token for a moment (seen about once in
/// a few dozen fresh applies), so `verify_until` asks again within its window.
#[derive(Debug)]
struct TokenRejected;

impl std::fmt::Display for TokenRejected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the issued kubeconfig's token is not accepted (401 Unauthorized)")
    }
}

impl std::error::Error for TokenRejected {}

/// What the user reads when the token stays rejected.
fn rejected(error: anyhow::Error) -> anyhow::Error {
    if error.is::<TokenRejected>() {
        return Problem::failed(TokenRejected.to_string())
            .hint("it was revoked or has expired: issue a new one with `kubectl cicd rotate` or `apply`")
            .into();
    }
    error
}

/// Who the client is: the API server's own answer where it serves SelfSubjectReview (1.28+;
/// any identity may ask it), else the user a denial names (every release), else unknown.
async fn whoami(client: &Client) -> Result<Option<String>> {
    let reviews: Api<SelfSubjectReview> = Api::all(client.clone());
    match reviews.create(&PostParams::default(), &SelfSubjectReview::default()).await {
        Ok(review) => return Ok(reviewed_user(&review)),
        Err(kube::Error::Api(status)) if status.code == 401 => return Err(TokenRejected.into()),
        // 404: not served before 1.28 (and not at v1 before 1.28); anything else: ask the old way.
        Err(_) => {}
    }
    let nodes: Api<Node> = Api::all(client.clone());
    match nodes.list_metadata(&ListParams::default().limit(1)).await {
        Err(kube::Error::Api(status)) if status.code == 403 => Ok(denied_user(&status.message)),
        Err(kube::Error::Api(status)) if status.code == 401 => Err(TokenRejected.into()),
        Err(e) => Err(anyhow::Error::new(e).context(Problem::failed(
            "cannot reach the API server with the issued kubeconfig",
        ).hint("if the pipeline reaches the API by another address (--server), verify from where it runs, or pass --no-verify"))),
        // Listing nodes is allowed, which a Role cannot grant: the review will show it as extra.
        Ok(_) => Ok(None),
    }
}

/// The user a SelfSubjectReview's answer names.
fn reviewed_user(review: &SelfSubjectReview) -> Option<String> {
    review.status.as_ref()?.user_info.as_ref()?.username.clone()
}

/// Whose rights to verify: an issued kubeconfig's, or a keyless access's CI user, whom the
/// caller impersonates (its kubeconfig runs `kubectl cicd token`, which works only in a job).
#[derive(Clone, Copy)]
pub(super) enum Subject<'a> {
    Kubeconfig(&'a str),
    Impersonated { cluster: &'a Cluster, user: &'a str },
}

/// Connects with an issued kubeconfig and compares its rights with `expected`.
pub async fn verify_once(
    text: &str,
    namespace: &str,
    service_account: &str,
    expected: &[Rule],
) -> Result<Verification> {
    let (client, _) = client_from_text(text).await?;
    review(client, namespace, service_account_user(namespace, service_account), expected).await
}

/// Who `client` is and what it may do in `namespace`, against `expected`.
async fn review(
    client: Client,
    namespace: &str,
    expected_user: String,
    expected: &[Rule],
) -> Result<Verification> {
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
        expected_user,
        user,
        rights: compare_rights(&review.rules, expected),
        incomplete: review.incomplete,
    })
}

async fn verify_subject(
    subject: Subject<'_>,
    pipeline: &Pipeline,
    expected: &[Rule],
) -> Result<Verification> {
    match subject {
        Subject::Kubeconfig(text) => {
            verify_once(text, &pipeline.namespace, &pipeline.spec.service_account, expected).await
        }
        Subject::Impersonated { cluster, user } => {
            review(cluster.impersonating(user)?, &pipeline.namespace, user.to_owned(), expected)
                .await
        }
    }
}

/// Verifies, giving the RBAC authorizer's cache a few seconds to see a new binding.
pub(super) async fn verify_until(
    subject: Subject<'_>,
    pipeline: &Pipeline,
    expected: &[Rule],
) -> Result<VerifyReport> {
    let deadline = tokio::time::Instant::now() + PROPAGATION;
    loop {
        let verification = match verify_subject(subject, pipeline, expected).await {
            Ok(verification) => verification,
            Err(e) if e.is::<TokenRejected>() && tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(POLL * 2).await;
                continue;
            }
            Err(e) => return Err(rejected(e)),
        };
        if verification.passed() || tokio::time::Instant::now() >= deadline {
            return Ok(VerifyReport::from(&verification));
        }
        tokio::time::sleep(POLL * 2).await;
    }
}

/// Whether the caller may act as `user` (`kubectl auth can-i impersonate users/NAME`).
pub(super) async fn may_impersonate(cluster: &Cluster, user: &str) -> Result<bool> {
    let review = SelfSubjectAccessReview {
        spec: SelfSubjectAccessReviewSpec {
            resource_attributes: Some(ResourceAttributes {
                verb: Some("impersonate".to_owned()),
                resource: Some("users".to_owned()),
                name: Some(user.to_owned()),
                ..ResourceAttributes::default()
            }),
            ..SelfSubjectAccessReviewSpec::default()
        },
        ..SelfSubjectAccessReview::default()
    };
    let api: Api<SelfSubjectAccessReview> = Api::all(cluster.client.clone());
    let answer = call(
        cluster,
        "asking whether you may impersonate the CI user",
        api.create(&PostParams::default(), &review),
    )
    .await?;
    Ok(answer.status.is_some_and(|status| status.allowed))
}

/// The rules of the Role as it is in the cluster.
pub(super) async fn live_role_rules(
    cluster: &Cluster,
    namespace: &str,
    name: &str,
) -> Result<Vec<Rule>> {
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
    let verification =
        verify_once(text, &namespace, &spec.service_account, &expected).await.map_err(rejected)?;
    Ok(VerifyReport::from(&verification))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 1.30 API server's answer to a ServiceAccount token's SelfSubjectReview (1.20, the
    /// harness's server, does not serve it: this is the shape current servers write).
    const REVIEW: &str = r#"{"kind":"SelfSubjectReview","apiVersion":"authentication.k8s.io/v1",
      "metadata":{"creationTimestamp":null},
      "status":{"userInfo":{"username":"system:serviceaccount:team-a:ci-cd",
        "uid":"4b2f7f5e-2c1d-4a9e-9d59-0f5b8f1c2a11",
        "groups":["system:serviceaccounts","system:serviceaccounts:team-a","system:authenticated"],
        "extra":{"authentication.kubernetes.io/credential-id":["JTI=5d0b3c9e-8f6a-4c1b-a1e2-3f4d5e6a7b8c"]}}}}"#;

    #[test]
    fn a_self_subject_review_names_the_user() {
        let review: SelfSubjectReview = serde_json::from_str(REVIEW).unwrap();
        assert_eq!(reviewed_user(&review).as_deref(), Some("system:serviceaccount:team-a:ci-cd"));
        assert_eq!(reviewed_user(&SelfSubjectReview::default()), None);
    }
}
