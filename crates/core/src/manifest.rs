//! The four objects of the procedure, built from k8s-openapi types.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Secret, ServiceAccount};
use k8s_openapi::api::rbac::v1::{PolicyRule, Role, RoleBinding, RoleRef, Subject};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::spec::{AccessSpec, MANAGED_BY_LABEL, MANAGED_BY_VALUE, Rule, TokenKind};
use crate::status::{APPLIED_RULES_ANNOTATION, applied_rules_annotation};
use crate::validate::{SpecErrors, validate_names, validate_spec};

/// Secret type the token controller fills.
pub const TOKEN_SECRET_TYPE: &str = "kubernetes.io/service-account-token";
/// Type of the Secret a bound token is tied to: no data, only its existence counts.
pub const BOUND_ANCHOR_TYPE: &str = "cicd-access.dev/bound-token-anchor";
/// Annotation that tells the token controller which ServiceAccount the Secret is for.
pub const SERVICE_ACCOUNT_ANNOTATION: &str = "kubernetes.io/service-account.name";

/// The objects, in the order they must be created.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifests {
    pub role: Role,
    /// `None` for keyless access: the RoleBinding names the CI job's own identity.
    pub service_account: Option<ServiceAccount>,
    pub role_binding: RoleBinding,
    /// The token Secret; for a bound token the empty Secret its tokens are bound to;
    /// `None` for keyless access.
    pub secret: Option<Secret>,
}

/// One object rendered alone, for "each" views and downloads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub kind: &'static str,
    pub name: String,
    pub yaml: String,
}

fn metadata(spec: &AccessSpec, name: &str) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_owned()),
        namespace: spec.namespace.clone(),
        labels: Some(BTreeMap::from([(MANAGED_BY_LABEL.to_owned(), MANAGED_BY_VALUE.to_owned())])),
        ..ObjectMeta::default()
    }
}

/// A core rule as the k8s-openapi type, omitting empty lists as the API server does.
pub fn policy_rule(rule: &Rule) -> PolicyRule {
    let some = |items: &Vec<String>| (!items.is_empty()).then(|| items.clone());
    PolicyRule {
        api_groups: some(&rule.api_groups),
        resources: some(&rule.resources),
        resource_names: some(&rule.resource_names),
        non_resource_urls: some(&rule.non_resource_urls),
        verbs: rule.verbs.clone(),
    }
}

/// A Role's rule as the core's, the inverse of [`policy_rule`].
pub fn rule_of(policy: &PolicyRule) -> Rule {
    let list = |items: &Option<Vec<String>>| items.clone().unwrap_or_default();
    Rule {
        api_groups: list(&policy.api_groups),
        resources: list(&policy.resources),
        resource_names: list(&policy.resource_names),
        non_resource_urls: list(&policy.non_resource_urls),
        verbs: policy.verbs.clone(),
    }
}

/// Builds the Role, ServiceAccount, RoleBinding and (for Secret tokens) the token Secret.
pub fn build_manifests(spec: &AccessSpec) -> Result<Manifests, SpecErrors> {
    validate_spec(spec)?;
    Ok(objects(spec))
}

/// The objects of an access whose rules are not given, for the commands that never write
/// its Role (`revoke`, `rotate`, `kubeconfig`): the names are checked, the Role holds the
/// spec's rules as they are (none).
pub fn build_for_names(spec: &AccessSpec) -> Result<Manifests, SpecErrors> {
    validate_names(spec)?;
    Ok(objects(spec))
}

fn objects(spec: &AccessSpec) -> Manifests {
    let mut role_meta = metadata(spec, &spec.role);
    // What the Role was made with, so that `status` finds a hand edit months later.
    if !spec.rules.is_empty() {
        role_meta.annotations = Some(BTreeMap::from([(
            APPLIED_RULES_ANNOTATION.to_owned(),
            applied_rules_annotation(&spec.rules),
        )]));
    }
    let role =
        Role { metadata: role_meta, rules: Some(spec.rules.iter().map(policy_rule).collect()) };
    let service_account = spec.token.has_service_account().then(|| ServiceAccount {
        metadata: metadata(spec, &spec.service_account),
        // The pipeline uses this identity from outside; no Pod should get its token mounted.
        automount_service_account_token: Some(false),
        ..ServiceAccount::default()
    });
    let subject = match &spec.token {
        TokenKind::Keyless(identity) => Subject {
            api_group: Some("rbac.authorization.k8s.io".to_owned()),
            kind: "User".to_owned(),
            name: crate::keyless::username(identity),
            namespace: None,
        },
        // Without a namespace the API server takes the binding's own: the current one.
        TokenKind::Secret | TokenKind::Bound { .. } => Subject {
            api_group: None,
            kind: "ServiceAccount".to_owned(),
            name: spec.service_account.clone(),
            namespace: spec.namespace.clone(),
        },
    };
    let role_binding = RoleBinding {
        metadata: metadata(spec, &spec.role_binding),
        role_ref: RoleRef {
            api_group: "rbac.authorization.k8s.io".to_owned(),
            kind: "Role".to_owned(),
            name: spec.role.clone(),
        },
        subjects: Some(vec![subject]),
    };
    // The bound token's anchor: tokens are requested with a boundObjectRef to it, and the
    // API server accepts them only while it exists, so deleting it revokes them at once.
    // It holds no data; the token Secret names its ServiceAccount for the token controller.
    let secret = secret_type(&spec.token).map(|type_| {
        let mut meta = metadata(spec, &spec.secret);
        if matches!(spec.token, TokenKind::Secret) {
            meta.annotations = Some(BTreeMap::from([(
                SERVICE_ACCOUNT_ANNOTATION.to_owned(),
                spec.service_account.clone(),
            )]));
        }
        Secret { metadata: meta, type_: Some(type_.to_owned()), ..Secret::default() }
    });
    Manifests { role, service_account, role_binding, secret }
}

/// The type of the Secret an access of this kind writes — the token Secret, or the bound
/// token's anchor — and `None` for keyless, which writes none.
pub fn secret_type(token: &TokenKind) -> Option<&'static str> {
    match token {
        TokenKind::Secret => Some(TOKEN_SECRET_TYPE),
        TokenKind::Bound { .. } => Some(BOUND_ANCHOR_TYPE),
        TokenKind::Keyless(_) => None,
    }
}

fn to_yaml<T: serde::Serialize>(object: &T) -> String {
    // The views always serialize; an empty string would show at once in tests.
    crate::yaml::to_string(object).unwrap_or_default()
}

/// The metadata of a manifest to apply. `ObjectMeta`'s own serializer also writes the
/// timestamps the API server sets, and with them it links jiff's whole date formatter and
/// its error texts into the page (about 100 KB of wasm) for fields that are always empty
/// here. `views_write_what_k8s_openapi_writes` keeps the bytes equal to k8s-openapi's.
#[derive(serde::Serialize)]
struct MetadataView<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    annotations: Option<&'a BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    labels: Option<&'a BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    namespace: Option<&'a str>,
}

impl<'a> MetadataView<'a> {
    fn of(meta: &'a ObjectMeta) -> Self {
        MetadataView {
            annotations: meta.annotations.as_ref(),
            labels: meta.labels.as_ref(),
            name: meta.name.as_deref(),
            namespace: meta.namespace.as_deref(),
        }
    }
}

/// One object as written: `apiVersion` and `kind` first, then the fields in k8s-openapi's
/// (alphabetical) order.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct ObjectView<'a> {
    api_version: &'static str,
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    automount_service_account_token: Option<bool>,
    metadata: MetadataView<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    role_ref: Option<&'a RoleRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rules: Option<&'a Vec<PolicyRule>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    subjects: Option<&'a Vec<Subject>>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    type_: Option<&'a str>,
}

impl<'a> ObjectView<'a> {
    fn new<K: k8s_openapi::Resource>(metadata: &'a ObjectMeta) -> Self {
        ObjectView {
            api_version: K::API_VERSION,
            kind: K::KIND,
            automount_service_account_token: None,
            metadata: MetadataView::of(metadata),
            role_ref: None,
            rules: None,
            subjects: None,
            type_: None,
        }
    }
}

/// Documents as one multi-document YAML stream: [`Manifests::to_yaml`] for callers that
/// keep the documents too.
pub fn yaml_stream(documents: &[Document]) -> String {
    documents.iter().map(|d| d.yaml.as_str()).collect::<Vec<_>>().join("---\n")
}

impl Manifests {
    /// The objects as written, in creation order.
    fn views(&self) -> Vec<ObjectView<'_>> {
        let mut views = vec![ObjectView {
            rules: self.role.rules.as_ref(),
            ..ObjectView::new::<Role>(&self.role.metadata)
        }];
        if let Some(account) = &self.service_account {
            views.push(ObjectView {
                automount_service_account_token: account.automount_service_account_token,
                ..ObjectView::new::<ServiceAccount>(&account.metadata)
            });
        }
        views.push(ObjectView {
            role_ref: Some(&self.role_binding.role_ref),
            subjects: self.role_binding.subjects.as_ref(),
            ..ObjectView::new::<RoleBinding>(&self.role_binding.metadata)
        });
        if let Some(secret) = &self.secret {
            views.push(ObjectView {
                type_: secret.type_.as_deref(),
                ..ObjectView::new::<Secret>(&secret.metadata)
            });
        }
        views
    }

    /// Each object alone, in creation order.
    pub fn documents(&self) -> Vec<Document> {
        self.views()
            .iter()
            .map(|view| Document {
                kind: view.kind,
                name: view.metadata.name.unwrap_or_default().to_owned(),
                yaml: to_yaml(view),
            })
            .collect()
    }

    /// All objects as one multi-document YAML stream, for `kubectl apply -f`.
    pub fn to_yaml(&self) -> String {
        yaml_stream(&self.documents())
    }

    /// All objects as a `v1` `List`, pretty JSON, as `kubectl get -o json` prints.
    pub fn to_json(&self) -> String {
        let items: Vec<serde_json::Value> =
            self.views().iter().filter_map(|view| serde_json::to_value(view).ok()).collect();
        let list = serde_json::json!({ "apiVersion": "v1", "kind": "List", "items": items });
        let mut text = serde_json::to_string_pretty(&list).unwrap_or_default();
        text.push('\n');
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_role_rule_reads_back_as_written() {
        let rules = [
            Rule::new(&["apps"], &["deployments"], &["get", "patch"]).with_names(&["web"]),
            Rule::new(&[""], &["pods/log"], &["get"]),
        ];
        for rule in rules {
            assert_eq!(rule_of(&policy_rule(&rule)), rule);
        }
    }
    use crate::preset::PRESETS;

    fn demo() -> AccessSpec {
        AccessSpec { namespace: Some("demo".into()), ..PRESETS[0].spec() }
    }

    #[test]
    fn presets_golden() {
        for preset in PRESETS {
            let spec = AccessSpec { namespace: Some("demo".into()), ..preset.spec() };
            let manifests = build_manifests(&spec).unwrap();
            insta::assert_snapshot!(format!("{}.yaml", preset.name), manifests.to_yaml());
        }
    }

    #[test]
    fn json_list() {
        insta::assert_snapshot!(build_manifests(&demo()).unwrap().to_json());
    }

    #[test]
    fn order_and_labels() {
        let manifests = build_manifests(&demo()).unwrap();
        let kinds: Vec<_> = manifests.documents().iter().map(|d| d.kind).collect();
        assert_eq!(kinds, ["Role", "ServiceAccount", "RoleBinding", "Secret"]);
        for document in manifests.documents() {
            assert!(document.yaml.contains("app.kubernetes.io/managed-by: cicd-access"));
        }
    }

    #[test]
    fn a_bound_tokens_secret_is_an_empty_anchor() {
        let spec =
            AccessSpec { token: TokenKind::Bound { duration: "24h".parse().unwrap() }, ..demo() };
        let secret = build_manifests(&spec).unwrap().secret.expect("the anchor Secret");
        assert_eq!(secret.type_.as_deref(), Some(BOUND_ANCHOR_TYPE));
        assert!(secret.data.is_none() && secret.string_data.is_none(), "it holds nothing");
        // Not a token Secret: the token controller must leave it alone.
        assert!(secret.metadata.annotations.is_none());
    }

    fn keyless_identity() -> crate::spec::KeylessIdentity {
        crate::spec::KeylessIdentity {
            provider: crate::spec::Provider::Github,
            repository: Some("org/app".into()),
            git_ref: Some("refs/heads/main".into()),
            ..crate::spec::KeylessIdentity::default()
        }
    }

    /// The server a keyless access takes as its audience.
    fn keyless_server(spec: AccessSpec) -> AccessSpec {
        AccessSpec { server: Some("https://api.example.com:6443".into()), ..spec }
    }

    #[test]
    fn keyless_binds_the_ci_user_and_has_no_service_account_nor_secret() {
        let spec =
            AccessSpec { token: TokenKind::Keyless(keyless_identity()), ..keyless_server(demo()) };
        let manifests = build_manifests(&spec).unwrap();
        assert!(manifests.service_account.is_none() && manifests.secret.is_none());
        let kinds: Vec<_> = manifests.documents().iter().map(|d| d.kind).collect();
        assert_eq!(kinds, ["Role", "RoleBinding"]);
        let yaml = manifests.to_yaml();
        assert!(!yaml.contains("ServiceAccount") && !yaml.contains("Secret"), "{yaml}");
        insta::assert_snapshot!("keyless.yaml", yaml);
        let subject = &manifests.role_binding.subjects.as_ref().unwrap()[0];
        assert_eq!(subject.kind, "User");
        assert_eq!(subject.api_group.as_deref(), Some("rbac.authorization.k8s.io"));
        assert_eq!(subject.name, "github:repo:org/app:ref:refs/heads/main");
        assert_eq!(subject.namespace, None);
    }

    #[test]
    fn current_namespace_leaves_namespace_out() {
        let spec = AccessSpec { namespace: None, ..demo() };
        assert!(!build_manifests(&spec).unwrap().to_yaml().contains("namespace:"));
    }

    #[test]
    fn invalid_specs_build_nothing() {
        let spec = AccessSpec { service_account: "CI CD".into(), ..demo() };
        assert!(build_manifests(&spec).is_err());
    }

    /// The views must write exactly what k8s-openapi's serializers write, for every kind
    /// and both token kinds; a field added to `build_manifests` but not to the views fails here.
    #[test]
    fn views_write_what_k8s_openapi_writes() {
        let bound = TokenKind::Bound { duration: "1h".parse().unwrap() };
        let keyless = TokenKind::Keyless(keyless_identity());
        for preset in PRESETS {
            for (namespace, token) in [
                (Some("demo".to_owned()), TokenKind::Secret),
                (None, bound.clone()),
                (Some("demo".to_owned()), keyless.clone()),
            ] {
                let spec = AccessSpec { namespace, token, ..keyless_server(preset.spec()) };
                let manifests = build_manifests(&spec).unwrap();
                let mut typed = vec![to_yaml(&manifests.role)];
                typed.extend(manifests.service_account.as_ref().map(to_yaml));
                typed.push(to_yaml(&manifests.role_binding));
                typed.extend(manifests.secret.as_ref().map(to_yaml));
                let written: Vec<String> =
                    manifests.documents().into_iter().map(|d| d.yaml).collect();
                assert_eq!(written, typed, "{}", preset.name);
                let json: Vec<serde_json::Value> =
                    typed.iter().map(|yaml| serde_yaml::from_str(yaml).unwrap()).collect();
                let list: serde_json::Value = serde_json::from_str(&manifests.to_json()).unwrap();
                assert_eq!(list["items"], serde_json::Value::Array(json), "{}", preset.name);
            }
        }
    }
}
