//! What the cluster serves, for the kinds the derivation's table does not know.

use anyhow::Result;
use cicd_access_core::derive::{KindOverride, UnknownKind};

use crate::cluster::{Cluster, explain};

/// Asks the API server's discovery, once per group version, where the `unknown` kinds live
/// (`GET /api/v1`, `GET /apis/GROUP/VERSION`, as kubectl does before it applies). A group
/// version the cluster does not serve (its CRD is not installed) answers 404 and adds
/// nothing: those kinds stay unknown.
pub async fn discover(cluster: &Cluster, unknown: &[UnknownKind]) -> Result<Vec<KindOverride>> {
    let mut versions: Vec<&str> = unknown.iter().map(|u| u.api_version.as_str()).collect();
    versions.sort_unstable();
    versions.dedup();
    let mut served = Vec::new();
    for version in versions {
        let answer = if version.contains('/') {
            cluster.client.list_api_group_resources(version).await
        } else {
            cluster.client.list_core_api_resources(version).await
        };
        match answer {
            Ok(list) => served.extend(KindOverride::from_discovery(&list)),
            Err(kube::Error::Api(status)) if status.code == 404 => {}
            Err(error) => {
                let doing = format!("asking the cluster's discovery for {version}");
                return Err(explain(error, &cluster.server, &cluster.context, &doing));
            }
        }
    }
    Ok(served)
}
