//! `status`: reads what the core's status verdict needs, in one pass of lists.

use anyhow::Result;
use cicd_access_core::Rule;
use cicd_access_core::spec::{MANAGED_BY_LABEL, MANAGED_BY_VALUE};
use cicd_access_core::status::{
    EffectiveRights, Observed, StatusOptions, StatusReport, assess_status,
};
use futures::StreamExt as _;
use k8s_openapi::api::authorization::v1::SelfSubjectRulesReview;
use k8s_openapi::api::core::v1::{Secret, ServiceAccount};
use k8s_openapi::api::rbac::v1::{ClusterRoleBinding, Role, RoleBinding};
use k8s_openapi::jiff::Timestamp;
use kube::Resource;
use kube::api::{Api, ListParams, PostParams};
use serde::de::DeserializeOwned;

use super::check::{read_rules_review, rules_review_request};
use crate::cluster::{Cluster, explain};

/// The objects of `namespace` (every namespace with `None`) as `list` returns them.
async fn list<K>(
    cluster: &Cluster,
    namespace: Option<&str>,
    params: &ListParams,
) -> kube::Result<Vec<K>>
where
    K: Resource<Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + DeserializeOwned
        + std::fmt::Debug,
    K::DynamicType: Default,
{
    let api: Api<K> = match namespace {
        Some(namespace) => Api::namespaced(cluster.client.clone(), namespace),
        None => Api::all(cluster.client.clone()),
    };
    Ok(api.list(params).await?.items)
}

/// Rules reviews made as each identity, a few at a time, where the caller may impersonate
/// it (`kubectl auth can-i --list --as`); an identity the caller may not act as is skipped.
async fn effective_rights(
    cluster: &Cluster,
    identities: Vec<(String, String)>,
) -> Result<Vec<EffectiveRights>> {
    let review = |(namespace, user): (String, String)| async move {
        let client = cluster.impersonating(&user)?;
        let api: Api<SelfSubjectRulesReview> = Api::all(client);
        match api.create(&PostParams::default(), &rules_review_request(&namespace)).await {
            Ok(answer) => {
                let rules = read_rules_review(&answer)?.rules;
                Ok(Some(EffectiveRights { namespace, user, rules }))
            }
            Err(kube::Error::Api(status)) if status.code == 403 => Ok(None),
            Err(e) => Err(explain(
                e,
                &cluster.server,
                &cluster.context,
                &format!("reviewing the rights of {user} in namespace {namespace}"),
            )),
        }
    };
    let answers: Vec<Result<Option<EffectiveRights>>> =
        futures::stream::iter(identities.into_iter().map(review))
            .buffer_unordered(CONCURRENT_REVIEWS)
            .collect()
            .await;
    answers.into_iter().filter_map(Result::transpose).collect()
}

fn into<T, V: From<T>>(list: Vec<T>) -> Vec<V> {
    list.into_iter().map(V::from).collect()
}

/// Rules reviews in flight at once: enough to hide loopback latency, few enough that an
/// API server with many namespaces is not flooded.
const CONCURRENT_REVIEWS: usize = 16;

/// Lists the managed ServiceAccounts, Roles and Secrets, every RoleBinding (a hand-made one
/// may name the identity) and, when the caller may, every ClusterRoleBinding; then asks the
/// core for the report. Secrets lose their `data` as soon as they are read (the core's view
/// of a Secret has none).
pub async fn status(
    cluster: &Cluster,
    namespace: Option<&str>,
    expected: Option<Vec<Rule>>,
    max_age_days: u64,
) -> Result<StatusReport> {
    let managed = ListParams::default().labels(&format!("{MANAGED_BY_LABEL}={MANAGED_BY_VALUE}"));
    let everything = ListParams::default();
    let place =
        namespace.map_or_else(|| "every namespace".to_owned(), |n| format!("namespace {n}"));
    let doing = |what: &str| format!("listing {what} in {place}");
    let failed = |what: &str| {
        let doing = doing(what);
        move |e| explain(e, &cluster.server, &cluster.context, &doing)
    };
    let (service_accounts, roles, role_bindings, secrets) = tokio::try_join!(
        async {
            list::<ServiceAccount>(cluster, namespace, &managed)
                .await
                .map_err(failed("ServiceAccounts"))
        },
        async { list::<Role>(cluster, namespace, &managed).await.map_err(failed("Roles")) },
        async {
            list::<RoleBinding>(cluster, namespace, &everything)
                .await
                .map_err(failed("RoleBindings"))
        },
        async { list::<Secret>(cluster, namespace, &managed).await.map_err(failed("Secrets")) },
    )?;
    let cluster_bindings: Api<ClusterRoleBinding> = Api::all(cluster.client.clone());
    let (cluster_role_bindings, cluster_wide) = match cluster_bindings.list(&everything).await {
        Ok(list) => (list.items, true),
        // A namespace's tenant may not list them: said in the report instead of failing.
        Err(kube::Error::Api(status)) if status.code == 403 => (Vec::new(), false),
        Err(e) => {
            return Err(explain(
                e,
                &cluster.server,
                &cluster.context,
                "listing ClusterRoleBindings",
            ));
        }
    };
    // The core's views keep only what status reads: a Secret's data is dropped here.
    let mut observed = Observed {
        service_accounts: into(service_accounts),
        roles: into(roles),
        role_bindings: into(role_bindings),
        cluster_role_bindings: into(cluster_role_bindings),
        cluster_wide,
        secrets: into(secrets),
        effective: Vec::new(),
    };
    observed.effective = effective_rights(cluster, observed.identities()).await?;
    let options = StatusOptions {
        max_age_days: i64::try_from(max_age_days).unwrap_or(i64::MAX),
        expected,
        ..StatusOptions::at(Timestamp::now().as_second())
    };
    Ok(assess_status(&observed, &options))
}
