//! The four objects of the procedure, built from k8s-openapi types.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Secret, ServiceAccount};
use k8s_openapi::api::rbac::v1::{PolicyRule, Role, RoleBinding, RoleRef, Subject};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::spec::{AccessSpec, MANAGED_BY_LABEL, MANAGED_BY_VALUE, Rule, TokenKind};
use crate::validate::{SpecErrors, validate_spec};

/// Secret type the token controller fills.
pub const TOKEN_SECRET_TYPE: &str = "kubernetes.io/service-account-token";
/// Annotation that tells the token controller which ServiceAccount the Secret is for.
pub const SERVICE_ACCOUNT_ANNOTATION: &str = "kubernetes.io/service-account.name";

/// The objects, in the order they must be created.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifests {
    pub role: Role,
    pub service_account: ServiceAccount,
    pub role_binding: RoleBinding,
    /// `None` for bound tokens: nothing long-lived is stored.
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

/// Builds the Role, ServiceAccount, RoleBinding and (for Secret tokens) the token Secret.
pub fn build_manifests(spec: &AccessSpec) -> Result<Manifests, SpecErrors> {
    validate_spec(spec)?;
    let role = Role {
        metadata: metadata(spec, &spec.role),
        rules: Some(spec.rules.iter().map(policy_rule).collect()),
    };
    let service_account = ServiceAccount {
        metadata: metadata(spec, &spec.service_account),
        // The pipeline uses this identity from outside; no Pod should get its token mounted.
        automount_service_account_token: Some(false),
        ..ServiceAccount::default()
    };
    let role_binding = RoleBinding {
        metadata: metadata(spec, &spec.role_binding),
        role_ref: RoleRef {
            api_group: "rbac.authorization.k8s.io".to_owned(),
            kind: "Role".to_owned(),
            name: spec.role.clone(),
        },
        // Without a namespace the API server takes the binding's own: the current one.
        subjects: Some(vec![Subject {
            api_group: None,
            kind: "ServiceAccount".to_owned(),
            name: spec.service_account.clone(),
            namespace: spec.namespace.clone(),
        }]),
    };
    let secret = matches!(spec.token, TokenKind::Secret).then(|| {
        let mut meta = metadata(spec, &spec.secret);
        meta.annotations = Some(BTreeMap::from([(
            SERVICE_ACCOUNT_ANNOTATION.to_owned(),
            spec.service_account.clone(),
        )]));
        Secret { metadata: meta, type_: Some(TOKEN_SECRET_TYPE.to_owned()), ..Secret::default() }
    });
    Ok(Manifests { role, service_account, role_binding, secret })
}

fn to_yaml<T: serde::Serialize>(object: &T) -> String {
    // The k8s-openapi types always serialize; an empty string would show at once in tests.
    serde_yaml::to_string(object).unwrap_or_default()
}

impl Manifests {
    /// Each object alone, in creation order.
    pub fn documents(&self) -> Vec<Document> {
        let name = |meta: &ObjectMeta| meta.name.clone().unwrap_or_default();
        let mut documents = vec![
            Document { kind: "Role", name: name(&self.role.metadata), yaml: to_yaml(&self.role) },
            Document {
                kind: "ServiceAccount",
                name: name(&self.service_account.metadata),
                yaml: to_yaml(&self.service_account),
            },
            Document {
                kind: "RoleBinding",
                name: name(&self.role_binding.metadata),
                yaml: to_yaml(&self.role_binding),
            },
        ];
        if let Some(secret) = &self.secret {
            documents.push(Document {
                kind: "Secret",
                name: name(&secret.metadata),
                yaml: to_yaml(secret),
            });
        }
        documents
    }

    /// All objects as one multi-document YAML stream, for `kubectl apply -f`.
    pub fn to_yaml(&self) -> String {
        self.documents().iter().map(|d| d.yaml.as_str()).collect::<Vec<_>>().join("---\n")
    }

    /// All objects as a `v1` `List`, pretty JSON, as `kubectl get -o json` prints.
    pub fn to_json(&self) -> String {
        let mut items = vec![
            serde_json::to_value(&self.role),
            serde_json::to_value(&self.service_account),
            serde_json::to_value(&self.role_binding),
        ];
        if let Some(secret) = &self.secret {
            items.push(serde_json::to_value(secret));
        }
        let items: Vec<serde_json::Value> = items.into_iter().filter_map(Result::ok).collect();
        let list = serde_json::json!({ "apiVersion": "v1", "kind": "List", "items": items });
        let mut text = serde_json::to_string_pretty(&list).unwrap_or_default();
        text.push('\n');
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
    fn bound_tokens_have_no_secret() {
        let spec =
            AccessSpec { token: TokenKind::Bound { duration: "24h".parse().unwrap() }, ..demo() };
        assert!(build_manifests(&spec).unwrap().secret.is_none());
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
}
