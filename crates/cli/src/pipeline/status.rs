//! `status`: reads what the core's status verdict needs, in one pass of lists.

use anyhow::Result;
use cicd_access_core::Rule;
use cicd_access_core::spec::{MANAGED_BY_LABEL, MANAGED_BY_VALUE};
use cicd_access_core::status::{Observed, StatusOptions, StatusReport, assess_status};
use k8s_openapi::api::core::v1::{Secret, ServiceAccount};
use k8s_openapi::api::rbac::v1::{ClusterRoleBinding, Role, RoleBinding};
use k8s_openapi::jiff::Timestamp;
use kube::Resource;
use kube::api::{Api, ListParams};
use serde::de::DeserializeOwned;

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

/// Lists the managed ServiceAccounts, Roles and Secrets, every RoleBinding (a hand-made one
/// may name the identity) and, when the caller may, every ClusterRoleBinding; then asks the
/// core for the report. Secrets lose their `data` as soon as they are read.
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
    let secrets = secrets
        .into_iter()
        .map(|mut secret| {
            secret.data = None;
            secret.string_data = None;
            if let Some(annotations) = secret.metadata.annotations.as_mut() {
                annotations.remove("kubectl.kubernetes.io/last-applied-configuration");
            }
            secret
        })
        .collect();
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
    let observed = Observed {
        service_accounts,
        roles,
        role_bindings,
        cluster_role_bindings,
        cluster_wide,
        secrets,
    };
    let options = StatusOptions {
        now: Timestamp::now(),
        max_age_days: i64::try_from(max_age_days).unwrap_or(i64::MAX),
        expiry_warning_hours: 24,
        expected,
    };
    Ok(assess_status(&observed, &options))
}
