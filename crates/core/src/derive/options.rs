//! What the user says besides the manifests: the deploy method and its flags, custom kinds.

use std::fmt;
use std::str::FromStr;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::APIResourceList;
use serde::Serialize;

use super::DeriveError;

/// How the pipeline deploys the manifests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Deployer {
    /// `kubectl apply` (client-side apply).
    Apply,
    /// `kubectl apply --server-side`.
    ServerSide,
    /// `helm upgrade --install`.
    Helm,
}

impl Deployer {
    /// The command as users write it.
    pub fn command(self) -> &'static str {
        match self {
            Deployer::Apply => "kubectl apply",
            Deployer::ServerSide => "kubectl apply --server-side",
            Deployer::Helm => "helm upgrade --install",
        }
    }

    /// The verbs one deploy of an object needs, which the page's "deploy" shortcut grants:
    /// client-side apply and Helm read the object first, server-side apply does not.
    pub fn verbs(self) -> &'static [&'static str] {
        match self {
            Deployer::Apply | Deployer::Helm => &["get", "create", "patch"],
            Deployer::ServerSide => &["create", "patch"],
        }
    }
}

impl fmt::Display for Deployer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Deployer::Apply => "apply",
            Deployer::ServerSide => "server-side",
            Deployer::Helm => "helm",
        })
    }
}

impl FromStr for Deployer {
    type Err = DeriveError;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value {
            "apply" | "client-side" => Ok(Deployer::Apply),
            "server-side" | "ssa" => Ok(Deployer::ServerSide),
            "helm" => Ok(Deployer::Helm),
            other => Err(DeriveError::UnknownDeployer { value: other.to_owned() }),
        }
    }
}

/// What `helm ... --wait` does, which differs between Helm 3 and Helm 4.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum HelmWait {
    /// No `--wait`.
    #[default]
    None,
    /// Helm 3 `--wait`, Helm 4 `--wait=legacy`: polls with GET, lists ReplicaSets.
    Legacy,
    /// Helm 4 `--wait` (`--wait=watcher`): kstatus informers, list and watch.
    Watcher,
}

impl FromStr for HelmWait {
    type Err = DeriveError;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value {
            "none" | "false" | "" => Ok(HelmWait::None),
            "legacy" | "helm3" | "true" => Ok(HelmWait::Legacy),
            "watcher" | "helm4" => Ok(HelmWait::Watcher),
            other => Err(DeriveError::UnknownWait { value: other.to_owned() }),
        }
    }
}

/// Which kinds' rules name the deployed objects (`resourceNames`) for the verbs a name can
/// limit (`get`, `patch`, `update`, `delete`; never `create` by POST, `list` or `watch`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ByName {
    /// Secrets only: a namespace-wide `get` on Secrets reads every credential there.
    #[default]
    Secrets,
    /// Every kind.
    All,
    /// None: every rule is namespace-wide.
    None,
}

impl fmt::Display for ByName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ByName::Secrets => "secrets",
            ByName::All => "all",
            ByName::None => "none",
        })
    }
}

impl FromStr for ByName {
    type Err = DeriveError;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value {
            "secrets" => Ok(ByName::Secrets),
            "all" | "true" => Ok(ByName::All),
            "none" | "false" => Ok(ByName::None),
            other => Err(DeriveError::UnknownByName { value: other.to_owned() }),
        }
    }
}

/// Where a kind the table does not know lives: the user's word (`--kind`: namespaced, its
/// plural is `resource`) or the cluster's discovery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KindOverride {
    /// API group, `""` for the core group.
    pub group: String,
    pub kind: String,
    pub resource: String,
    pub namespaced: bool,
}

impl KindOverride {
    /// Every kind one group version of the cluster serves, from its discovery document
    /// (`GET /api/v1`, `GET /apis/GROUP/VERSION`); subresources (`deployments/scale`) are
    /// not kinds of their own.
    pub fn from_discovery(list: &APIResourceList) -> Vec<KindOverride> {
        let group = match list.group_version.rsplit_once('/') {
            Some((group, _)) => group,
            None => "",
        };
        list.resources
            .iter()
            .filter(|r| !r.name.contains('/') && !r.kind.is_empty())
            .map(|r| KindOverride {
                group: group.to_owned(),
                kind: r.kind.clone(),
                resource: r.name.clone(),
                namespaced: r.namespaced,
            })
            .collect()
    }

    /// `Kind.group=plural`, as `--kind` takes it.
    pub fn flag(&self) -> String {
        if self.group.is_empty() {
            format!("{}={}", self.kind, self.resource)
        } else {
            format!("{}.{}={}", self.kind, self.group, self.resource)
        }
    }
}

impl FromStr for KindOverride {
    type Err = DeriveError;

    /// `Widget.example.com=widgets`, or `Widget=widgets` for the core group.
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let invalid = |reason: &str| DeriveError::InvalidOverride {
            value: value.to_owned(),
            reason: reason.to_owned(),
        };
        let (left, resource) = value.split_once('=').ok_or_else(|| invalid("no `=`"))?;
        let (kind, group) = left.split_once('.').unwrap_or((left, ""));
        if kind.is_empty() || !kind.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(invalid("the kind must be letters and digits, as in `kind:`"));
        }
        let plural_ok = !resource.is_empty()
            && resource.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !plural_ok {
            return Err(invalid("the resource must be the lowercase plural, e.g. `widgets`"));
        }
        Ok(KindOverride {
            group: group.to_owned(),
            kind: kind.to_owned(),
            resource: resource.to_owned(),
            namespaced: true,
        })
    }
}

/// Everything besides the manifests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeriveOptions {
    pub deployer: Deployer,
    /// Namespace the pipeline deploys to; `None`: whatever the objects name, if they agree.
    pub namespace: Option<String>,
    /// The pipeline also removes what it deployed: `kubectl delete -f`, `helm uninstall`.
    pub delete: bool,
    /// `kubectl apply --prune --prune-allowlist=...` (kubectl deployers only).
    pub prune: bool,
    /// `helm --wait` (Helm only).
    pub wait: HelmWait,
    /// `helm rollback` (Helm only).
    pub rollback: bool,
    /// Which kinds' rules are limited to the objects' names.
    pub by_name: ByName,
    /// The user's word on kinds (`--kind`), which wins over everything else.
    pub overrides: Vec<KindOverride>,
    /// What the cluster's discovery says of kinds the table does not know.
    pub discovered: Vec<KindOverride>,
}

impl DeriveOptions {
    pub fn new(deployer: Deployer) -> Self {
        DeriveOptions {
            deployer,
            namespace: None,
            delete: false,
            prune: false,
            wait: HelmWait::None,
            rollback: false,
            by_name: ByName::Secrets,
            overrides: Vec::new(),
            discovered: Vec::new(),
        }
    }
}
