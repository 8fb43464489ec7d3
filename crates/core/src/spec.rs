//! The access spec: what the page exports and the CLI reads (`kind: CiCdAccess`).

use serde::{Deserialize, Serialize};

use crate::derive::Deployer;
use crate::duration::TokenDuration;

/// `apiVersion` of a `CiCdAccess` document.
pub const API_VERSION: &str = "cicd-access.dev/v1alpha1";
/// `kind` of a `CiCdAccess` document.
pub const KIND: &str = "CiCdAccess";
/// Default name of the ServiceAccount, Role, RoleBinding and Secret.
pub const DEFAULT_NAME: &str = "ci-cd";
/// Default name of the cluster entry in the issued kubeconfig.
pub const DEFAULT_CLUSTER_NAME: &str = "default-cluster";
/// Label put on every object so that `revoke --all` removes what was created, and only that.
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
/// Value of [`MANAGED_BY_LABEL`].
pub const MANAGED_BY_VALUE: &str = "cicd-access";

/// One RBAC policy rule, as in a Role's `rules`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Rule {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub api_groups: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resource_names: Vec<String>,
    #[serde(default, rename = "nonResourceURLs", skip_serializing_if = "Vec::is_empty")]
    pub non_resource_urls: Vec<String>,
    #[serde(default)]
    pub verbs: Vec<String>,
}

impl Rule {
    /// A resource rule: `groups`, `resources`, `verbs`, no resource names.
    pub fn new(groups: &[&str], resources: &[&str], verbs: &[&str]) -> Self {
        let own = |items: &[&str]| items.iter().map(|s| (*s).to_owned()).collect();
        Rule {
            api_groups: own(groups),
            resources: own(resources),
            resource_names: Vec::new(),
            non_resource_urls: Vec::new(),
            verbs: own(verbs),
        }
    }

    /// The same rule restricted to `names`.
    #[must_use]
    pub fn with_names(mut self, names: &[&str]) -> Self {
        self.resource_names = names.iter().map(|s| (*s).to_owned()).collect();
        self
    }

    /// A non-resource rule (ClusterRoles only).
    pub fn non_resource(urls: &[&str], verbs: &[&str]) -> Self {
        Rule {
            non_resource_urls: urls.iter().map(|s| (*s).to_owned()).collect(),
            verbs: verbs.iter().map(|s| (*s).to_owned()).collect(),
            ..Rule::default()
        }
    }
}

/// Removes repeated verbs, keeping the first of each in place.
pub(crate) fn dedup_verbs(verbs: &mut Vec<String>) {
    let mut seen = std::collections::BTreeSet::new();
    verbs.retain(|verb| seen.insert(verb.clone()));
}

/// How the pipeline gets its token. Written as `{kind: secret}`, `{kind: bound, duration:
/// 24h}` or `{kind: keyless, provider: github, repository: org/app, ref: refs/heads/main}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum TokenKind {
    /// A `kubernetes.io/service-account-token` Secret the control plane fills; lives until
    /// the Secret is deleted.
    #[default]
    Secret,
    /// A bound token from the TokenRequest API (`kubectl create token --duration`); no
    /// long-lived credential is stored in the cluster.
    Bound { duration: TokenDuration },
    /// No token at all: the CI job's own OIDC token, accepted by the cluster's JWT
    /// authenticator; the RoleBinding names the job's identity ([`crate::keyless`]).
    Keyless(KeylessIdentity),
}

impl TokenKind {
    /// Whether the access has a ServiceAccount (every kind but keyless).
    pub fn has_service_account(&self) -> bool {
        !matches!(self, TokenKind::Keyless(_))
    }

    /// Whether the access writes a Secret: the token Secret, or the bound token's anchor
    /// (every kind but keyless).
    pub fn has_secret(&self) -> bool {
        crate::manifest::secret_type(self).is_some()
    }
}

/// The CI provider whose OIDC tokens a keyless access accepts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    /// GitHub Actions (`permissions: id-token: write`).
    #[default]
    Github,
    /// GitLab CI (`id_tokens:`), gitlab.com or self-managed.
    Gitlab,
    /// Any other issuer: one claim must equal one value.
    Custom,
}

impl Provider {
    /// The word of the spec and of `kubectl cicd token --provider`.
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Github => "github",
            Provider::Gitlab => "gitlab",
            Provider::Custom => "custom",
        }
    }
}

/// Which CI jobs a keyless access admits. One flat record for every provider, as written;
/// [`crate::validate::validate_spec`] says which fields each provider takes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KeylessIdentity {
    pub provider: Provider,
    /// GitHub: `OWNER/REPO`, with the case GitHub shows (its `sub` keeps it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    /// GitLab: the project's full path, `group/subgroup/project`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// `refs/heads/BRANCH` or `refs/tags/TAG`.
    #[serde(rename = "ref", skip_serializing_if = "Option::is_none")]
    pub git_ref: Option<String>,
    /// A deployment environment: GitHub's `sub` then names it instead of the ref; GitLab's
    /// never does, so there it is one more claim to match, beside the ref.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// The token issuer; `None` is the provider's public one (required for custom).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// The token's `aud`; `None` is the spec's server URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
    /// Custom: the claim that names the job (`None` is `sub`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claim: Option<String>,
    /// Custom: the value that claim must have.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// The token as written, read as a plain struct: serde's derive for an internally tagged
/// enum buffers the whole value first, which costs the page ~8 KB of wasm.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenWire {
    kind: TokenWireKind,
    #[serde(default)]
    duration: Option<TokenDuration>,
    #[serde(default)]
    provider: Option<Provider>,
    #[serde(default)]
    repository: Option<String>,
    #[serde(default)]
    project: Option<String>,
    #[serde(default, rename = "ref")]
    git_ref: Option<String>,
    #[serde(default)]
    environment: Option<String>,
    #[serde(default)]
    issuer: Option<String>,
    #[serde(default)]
    audience: Option<String>,
    #[serde(default)]
    claim: Option<String>,
    #[serde(default)]
    value: Option<String>,
}

impl TokenWire {
    /// The first keyless field given, for the message that refuses it on another kind.
    fn keyless_field(&self) -> Option<&'static str> {
        [
            ("provider", self.provider.is_some()),
            ("repository", self.repository.is_some()),
            ("project", self.project.is_some()),
            ("ref", self.git_ref.is_some()),
            ("environment", self.environment.is_some()),
            ("issuer", self.issuer.is_some()),
            ("audience", self.audience.is_some()),
            ("claim", self.claim.is_some()),
            ("value", self.value.is_some()),
        ]
        .into_iter()
        .find_map(|(name, given)| given.then_some(name))
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
enum TokenWireKind {
    Secret,
    Bound,
    Keyless,
}

impl<'de> Deserialize<'de> for TokenKind {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let wire = TokenWire::deserialize(deserializer)?;
        if !matches!(wire.kind, TokenWireKind::Keyless)
            && let Some(field) = wire.keyless_field()
        {
            return Err(D::Error::custom(format!(
                "`{field}` belongs to a keyless access; drop it or use kind: keyless"
            )));
        }
        match (wire.kind, wire.duration) {
            (TokenWireKind::Secret, None) => Ok(TokenKind::Secret),
            (TokenWireKind::Secret, Some(_)) => Err(D::Error::custom(
                "a secret token has no duration; drop `duration` or use kind: bound",
            )),
            (TokenWireKind::Bound, Some(duration)) => Ok(TokenKind::Bound { duration }),
            (TokenWireKind::Bound, None) => Err(D::Error::missing_field("duration")),
            (TokenWireKind::Keyless, Some(_)) => Err(D::Error::custom(
                "a keyless access has no token and so no duration: the CI job's own token expires within minutes; drop `duration`",
            )),
            (TokenWireKind::Keyless, None) => Ok(TokenKind::Keyless(KeylessIdentity {
                provider: wire.provider.ok_or_else(|| D::Error::missing_field("provider"))?,
                repository: wire.repository,
                project: wire.project,
                git_ref: wire.git_ref,
                environment: wire.environment,
                issuer: wire.issuer,
                audience: wire.audience,
                claim: wire.claim,
                value: wire.value,
            })),
        }
    }
}

/// Everything that describes one pipeline's access. Also the `CiCdAccess` file format.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AccessSpec {
    pub api_version: String,
    pub kind: String,
    /// Namespace the pipeline deploys to; `None` means the current namespace of the
    /// kubectl context that runs the procedure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(default = "default_name")]
    pub service_account: String,
    #[serde(default = "default_name")]
    pub role: String,
    #[serde(default = "default_name")]
    pub role_binding: String,
    /// Name of the token Secret (used with [`TokenKind::Secret`]).
    #[serde(default = "default_name")]
    pub secret: String,
    /// Name of the cluster entry in the issued kubeconfig.
    #[serde(default = "default_cluster_name")]
    pub cluster_name: String,
    /// API server URL the pipeline uses; `None` means the one of the current context.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    #[serde(default)]
    pub token: TokenKind,
    /// How the pipeline deploys (`apply`, `server-side`, `helm`); `None` is `kubectl apply`.
    /// It shapes the CI snippets; the Role holds what the deployer needs as ordinary rules
    /// ([`crate::draft::switch_deployer`]), so every check reads the rules alone.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "deployer_from_text"
    )]
    pub deployer: Option<Deployer>,
    #[serde(default)]
    pub rules: Vec<Rule>,
}

/// `deployer:` as written, through [`Deployer`]'s own words (the CLI's `--deployer`).
fn deployer_from_text<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Deployer>, D::Error> {
    let text = String::deserialize(deserializer)?;
    // Its own message rather than the derivation's error type, whose Display the page
    // would otherwise carry for every variant.
    text.parse().map(Some).map_err(|_| {
        serde::de::Error::custom(format!(
            "deployer {text:?} is unknown; use apply, server-side or helm"
        ))
    })
}

fn default_name() -> String {
    DEFAULT_NAME.to_owned()
}

fn default_cluster_name() -> String {
    DEFAULT_CLUSTER_NAME.to_owned()
}

impl Default for AccessSpec {
    fn default() -> Self {
        AccessSpec {
            api_version: API_VERSION.to_owned(),
            kind: KIND.to_owned(),
            namespace: None,
            service_account: default_name(),
            role: default_name(),
            role_binding: default_name(),
            secret: default_name(),
            cluster_name: default_cluster_name(),
            server: None,
            token: TokenKind::Secret,
            deployer: None,
            rules: Vec::new(),
        }
    }
}

/// Why a `CiCdAccess` file could not be read.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum SpecFileError {
    #[error("document {document}: not valid YAML: {message}")]
    Yaml { document: usize, message: String },
    #[error(
        "document {document}: kind is {found:?}, expected \"CiCdAccess\"; export the spec from the page or `kubectl cicd generate -o spec`"
    )]
    WrongKind { document: usize, found: String },
    #[error("document {document}: apiVersion is {found:?}, expected \"cicd-access.dev/v1alpha1\"")]
    WrongApiVersion { document: usize, found: String },
    #[error("the file holds no CiCdAccess document")]
    Empty,
    #[error(transparent)]
    Input(#[from] crate::input::InputError),
}

impl AccessSpec {
    /// Reads every `CiCdAccess` document of a (multi-document) YAML or JSON text, one per
    /// pipeline. Empty documents are skipped. Names are not validated here: see
    /// [`crate::validate::validate_spec`].
    pub fn parse_documents(text: &str) -> Result<Vec<AccessSpec>, SpecFileError> {
        crate::input::check_text("the spec", text, crate::input::MAX_SPEC_BYTES)?;
        let mut specs = Vec::new();
        for (index, document) in serde_yaml::Deserializer::from_str(text).enumerate() {
            let number = index + 1;
            // serde_json's Value, as everywhere in the core: a second YAML value type would
            // put a second set of deserializers into the page.
            let value = serde_json::Value::deserialize(document)
                .map_err(|e| SpecFileError::Yaml { document: number, message: e.to_string() })?;
            if value.is_null() {
                continue;
            }
            let kind = value.get("kind").and_then(serde_json::Value::as_str).unwrap_or("");
            if kind != KIND {
                return Err(SpecFileError::WrongKind { document: number, found: kind.to_owned() });
            }
            let api_version =
                value.get("apiVersion").and_then(serde_json::Value::as_str).unwrap_or("");
            if api_version != API_VERSION {
                return Err(SpecFileError::WrongApiVersion {
                    document: number,
                    found: api_version.to_owned(),
                });
            }
            let spec: AccessSpec = serde_json::from_value(value)
                .map_err(|e| SpecFileError::Yaml { document: number, message: e.to_string() })?;
            specs.push(spec);
        }
        if specs.is_empty() {
            return Err(SpecFileError::Empty);
        }
        Ok(specs)
    }

    /// The spec as a `CiCdAccess` YAML document, as the page exports it.
    pub fn to_yaml(&self) -> String {
        crate::yaml::to_string(self).unwrap_or_default()
    }

    /// How the pipeline deploys: the one given, else `kubectl apply`.
    pub fn deployer(&self) -> Deployer {
        self.deployer.unwrap_or(Deployer::Apply)
    }

    /// Namespace for display: the given one or a note that the current one is used.
    pub fn namespace_or_current(&self) -> &str {
        self.namespace.as_deref().unwrap_or("(current namespace)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_fill_a_minimal_document() {
        let specs =
            AccessSpec::parse_documents("apiVersion: cicd-access.dev/v1alpha1\nkind: CiCdAccess\n")
                .unwrap();
        assert_eq!(specs, vec![AccessSpec::default()]);
    }

    #[test]
    fn several_documents_are_several_pipelines() {
        let text = "apiVersion: cicd-access.dev/v1alpha1\nkind: CiCdAccess\nnamespace: a\n---\n---\napiVersion: cicd-access.dev/v1alpha1\nkind: CiCdAccess\nnamespace: b\ntoken:\n  kind: bound\n  duration: 24h\n";
        let specs = AccessSpec::parse_documents(text).unwrap();
        assert_eq!(specs.len(), 2);
        assert_eq!(specs[1].namespace.as_deref(), Some("b"));
        assert!(matches!(specs[1].token, TokenKind::Bound { .. }));
    }

    #[test]
    fn wrong_kind_names_the_document() {
        let err = AccessSpec::parse_documents("apiVersion: v1\nkind: Secret\n").unwrap_err();
        assert_eq!(err, SpecFileError::WrongKind { document: 1, found: "Secret".into() });
    }

    #[test]
    fn unknown_fields_are_refused() {
        let err = AccessSpec::parse_documents(
            "apiVersion: cicd-access.dev/v1alpha1\nkind: CiCdAccess\nnamepsace: x\n",
        )
        .unwrap_err();
        assert!(err.to_string().contains("namepsace"), "{err}");
    }

    #[test]
    fn export_round_trips() {
        let spec = AccessSpec {
            namespace: Some("demo".into()),
            rules: vec![Rule::new(&["apps"], &["deployments"], &["get"])],
            token: TokenKind::Bound { duration: "1h".parse().unwrap() },
            ..AccessSpec::default()
        };
        assert_eq!(AccessSpec::parse_documents(&spec.to_yaml()).unwrap(), vec![spec]);
    }

    #[test]
    fn the_deployer_is_read_in_the_cli_words_and_left_out_when_apply() {
        let read = |line: &str| {
            AccessSpec::parse_documents(&format!(
                "apiVersion: cicd-access.dev/v1alpha1\nkind: CiCdAccess\n{line}\n"
            ))
            .map(|specs| specs[0].deployer)
            .map_err(|e| e.to_string())
        };
        assert_eq!(read("deployer: helm"), Ok(Some(Deployer::Helm)));
        assert_eq!(read("deployer: server-side"), Ok(Some(Deployer::ServerSide)));
        assert_eq!(read(""), Ok(None));
        assert!(read("deployer: ansible").unwrap_err().contains("ansible"));
        let helm = AccessSpec { deployer: Some(Deployer::Helm), ..AccessSpec::default() };
        assert!(helm.to_yaml().contains("deployer: helm\n"), "{}", helm.to_yaml());
        assert!(!AccessSpec::default().to_yaml().contains("deployer"));
        assert_eq!(AccessSpec::parse_documents(&helm.to_yaml()).unwrap(), vec![helm]);
    }

    #[test]
    fn token_kinds_read_and_refused() {
        let read = |token: &str| {
            let text =
                format!("apiVersion: cicd-access.dev/v1alpha1\nkind: CiCdAccess\ntoken: {token}\n");
            AccessSpec::parse_documents(&text)
                .map(|specs| specs[0].token.clone())
                .map_err(|e| e.to_string())
        };
        assert_eq!(read("{kind: secret}"), Ok(TokenKind::Secret));
        assert_eq!(
            read("{kind: bound, duration: 2h}"),
            Ok(TokenKind::Bound { duration: "2h".parse().unwrap() })
        );
        for (token, wanted) in [
            ("{kind: bound}", "missing field `duration`"),
            ("{kind: secret, duration: 2h}", "a secret token has no duration"),
            ("{kind: bound, duration: 2h, ttl: 1}", "unknown field `ttl`"),
            ("{kind: forever}", "unknown variant `forever`"),
            ("{duration: 2h}", "missing field `kind`"),
            ("{kind: bound, duration: 1m}", "shorter than 10m"),
            ("{kind: keyless, repository: org/app}", "missing field `provider`"),
            ("{kind: keyless, provider: github, duration: 1h}", "no duration"),
            ("{kind: keyless, provider: bitbucket}", "unknown variant `bitbucket`"),
            ("{kind: secret, repository: org/app}", "`repository` belongs to a keyless access"),
            ("{kind: bound, duration: 2h, ref: refs/heads/main}", "`ref` belongs to a keyless"),
        ] {
            let error = read(token).unwrap_err();
            assert!(error.contains(wanted), "{token}: {error}");
        }
    }

    #[test]
    fn keyless_reads_as_written_and_round_trips() {
        let text = "apiVersion: cicd-access.dev/v1alpha1\nkind: CiCdAccess\ntoken:\n  kind: keyless\n  provider: github\n  repository: org/app\n  ref: refs/heads/main\n";
        let specs = AccessSpec::parse_documents(text).unwrap();
        let TokenKind::Keyless(identity) = &specs[0].token else { panic!("{:?}", specs[0].token) };
        assert_eq!(identity.provider, Provider::Github);
        assert_eq!(identity.repository.as_deref(), Some("org/app"));
        assert_eq!(identity.git_ref.as_deref(), Some("refs/heads/main"));
        assert_eq!(identity.environment, None);
        let yaml = specs[0].to_yaml();
        assert!(yaml.contains("token:\n  kind: keyless\n  provider: github\n"), "{yaml}");
        assert!(yaml.contains("  ref: refs/heads/main\n") && !yaml.contains("audience"), "{yaml}");
        assert_eq!(AccessSpec::parse_documents(&yaml).unwrap(), specs);
        assert!(!specs[0].token.has_service_account());
        assert!(TokenKind::Secret.has_service_account());
    }
}
