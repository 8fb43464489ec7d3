//! The pipeline's kubeconfig, assembled from a filled service-account token Secret.
//!
//! Nothing here ever puts the token into an error message or a `Debug` output.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Serialize;

use crate::manifest::{SERVICE_ACCOUNT_ANNOTATION, TOKEN_SECRET_TYPE};
use crate::validate::{Shown, validate_cluster_name, validate_namespace, validate_server};

/// Name of the context in the issued kubeconfig.
pub const CONTEXT_NAME: &str = "default-context";
/// Name of the user in the issued kubeconfig.
pub const USER_NAME: &str = "default-user";
/// Where the documented procedure writes the kubeconfig.
pub const DEFAULT_FILE: &str = "kubeconfig_ci_cd.yaml";

/// Why no kubeconfig could be assembled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KubeconfigError {
    #[error(
        "the pasted text is not a Secret in JSON or YAML ({reason}); paste the output of `kubectl get secret NAME -o json`"
    )]
    Unreadable { reason: String },
    #[error(
        "the pasted object is a {kind}, not a Secret; paste the output of `kubectl get secret NAME -o json`"
    )]
    NotASecret { kind: String },
    #[error(
        "Secret {name} has type {found}, not kubernetes.io/service-account-token; paste the token Secret created for the ServiceAccount"
    )]
    WrongType { name: Shown, found: Shown },
    #[error(
        "Secret {name} names ServiceAccount {found} in its {SERVICE_ACCOUNT_ANNOTATION} annotation, expected {expected}; use the Secret created for {expected}"
    )]
    WrongServiceAccount { name: Shown, expected: Shown, found: Shown },
    #[error(
        "Secret {name} has no token yet: the control plane fills it within seconds, so wait and read it again; if it stays empty, kube-controller-manager's token controller is not running or the ServiceAccount in the annotation does not exist"
    )]
    TokenNotFilled { name: Shown },
    #[error(
        "Secret {name} has no {field} in its data; read the Secret again once the control plane has filled it"
    )]
    MissingField { name: Shown, field: &'static str },
    #[error(
        "Secret {name}: data.{field} is not valid base64; copy the whole output of `kubectl get secret NAME -o json` again"
    )]
    BadBase64 { name: Shown, field: &'static str },
    #[error("Secret {name}: data.{field} {reason}")]
    BadValue { name: Shown, field: &'static str, reason: String },
    #[error("server {value}: {reason}")]
    BadServer { value: Shown, reason: String },
    #[error("namespace {value}: {reason}")]
    BadNamespace { value: Shown, reason: String },
    #[error(transparent)]
    Input(#[from] crate::input::InputError),
    #[error("cluster name {value}: {reason}")]
    BadClusterName { value: Shown, reason: String },
}

/// What goes into the kubeconfig.
#[derive(Clone, PartialEq, Eq)]
pub struct KubeconfigParts {
    pub cluster_name: String,
    pub server: String,
    /// PEM bytes of the cluster CA (`ca.crt`).
    pub ca_crt: Vec<u8>,
    pub namespace: String,
    pub token: String,
    /// RFC 3339 time when a bound token stops working.
    pub expires: Option<String>,
}

impl fmt::Debug for KubeconfigParts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KubeconfigParts")
            .field("cluster_name", &self.cluster_name)
            .field("server", &self.server)
            .field("namespace", &self.namespace)
            .field("token", &"<redacted>")
            .field("expires", &self.expires)
            .finish_non_exhaustive()
    }
}

/// The fields of a filled token Secret.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenSecret {
    pub name: String,
    pub service_account: String,
    pub ca_crt: Vec<u8>,
    pub namespace: String,
    pub token: String,
}

impl fmt::Debug for TokenSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSecret")
            .field("name", &self.name)
            .field("service_account", &self.service_account)
            .field("namespace", &self.namespace)
            .field("token", &"<redacted>")
            .finish_non_exhaustive()
    }
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct Config<'a> {
    #[serde(rename = "apiVersion")]
    api_version: &'a str,
    kind: &'a str,
    clusters: [Named<'a, Cluster<'a>>; 1],
    contexts: [Named<'a, Context<'a>>; 1],
    current_context: &'a str,
    users: [Named<'a, User<'a>>; 1],
}

#[derive(Serialize)]
struct Named<'a, T> {
    name: &'a str,
    #[serde(flatten)]
    item: T,
}

#[derive(Serialize)]
struct Cluster<'a> {
    cluster: ClusterFields<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct ClusterFields<'a> {
    certificate_authority_data: String,
    server: &'a str,
}

#[derive(Serialize)]
struct Context<'a> {
    context: ContextFields<'a>,
}

#[derive(Serialize)]
struct ContextFields<'a> {
    cluster: &'a str,
    namespace: &'a str,
    user: &'a str,
}

#[derive(Serialize)]
struct User<'a> {
    user: UserFields<'a>,
}

#[derive(Serialize)]
struct UserFields<'a> {
    token: &'a str,
}

fn check_token(name: &str, token: &str) -> Result<(), KubeconfigError> {
    if token.is_empty() {
        return Err(KubeconfigError::TokenNotFilled { name: Shown::new(name) });
    }
    if !token.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.=+/".contains(&b)) {
        return Err(KubeconfigError::BadValue {
            name: Shown::new(name),
            field: "token",
            reason: "holds characters a bearer token never has; copy the Secret again".into(),
        });
    }
    Ok(())
}

/// Renders the kubeconfig in the documented shape: one cluster, context `default-context`
/// with the namespace, user `default-user` with the token.
pub fn render_kubeconfig(parts: &KubeconfigParts) -> Result<String, KubeconfigError> {
    validate_server(&parts.server).map_err(|reason| KubeconfigError::BadServer {
        value: Shown::new(&parts.server),
        reason,
    })?;
    validate_cluster_name(&parts.cluster_name).map_err(|reason| {
        KubeconfigError::BadClusterName { value: Shown::new(&parts.cluster_name), reason }
    })?;
    validate_namespace(&parts.namespace).map_err(|reason| KubeconfigError::BadNamespace {
        value: Shown::new(&parts.namespace),
        reason,
    })?;
    check_token("(token)", &parts.token)?;
    let config = Config {
        api_version: "v1",
        kind: "Config",
        clusters: [Named {
            name: &parts.cluster_name,
            item: Cluster {
                cluster: ClusterFields {
                    certificate_authority_data: STANDARD.encode(&parts.ca_crt),
                    server: &parts.server,
                },
            },
        }],
        contexts: [Named {
            name: CONTEXT_NAME,
            item: Context {
                context: ContextFields {
                    cluster: &parts.cluster_name,
                    namespace: &parts.namespace,
                    user: USER_NAME,
                },
            },
        }],
        current_context: CONTEXT_NAME,
        users: [Named { name: USER_NAME, item: User { user: UserFields { token: &parts.token } } }],
    };
    let body = serde_yaml::to_string(&config)
        .map_err(|e| KubeconfigError::Unreadable { reason: e.to_string() })?;
    Ok(match &parts.expires {
        Some(at) => format!(
            "# Bound ServiceAccount token: stops working at {at}. Issue a new one before then.\n{body}"
        ),
        None => body,
    })
}

fn text_field<'a>(value: &'a serde_json::Value, path: &[&str]) -> Option<&'a str> {
    path.iter().try_fold(value, |v, key| v.get(key))?.as_str()
}

/// Reads a token Secret as the API returns it (a JSON value of `kubectl get secret -o json`).
/// `expected_service_account` is checked against the annotation when given.
pub fn read_token_secret(
    secret: &serde_json::Value,
    expected_service_account: Option<&str>,
) -> Result<TokenSecret, KubeconfigError> {
    let kind = text_field(secret, &["kind"]).unwrap_or("");
    if kind != "Secret" {
        let kind = if kind.is_empty() { "object without a kind" } else { kind };
        return Err(KubeconfigError::NotASecret { kind: kind.chars().take(60).collect() });
    }
    let name = text_field(secret, &["metadata", "name"]).unwrap_or("").to_owned();
    let found_type = text_field(secret, &["type"]).unwrap_or("Opaque");
    if found_type != TOKEN_SECRET_TYPE {
        return Err(KubeconfigError::WrongType {
            name: Shown::new(&name),
            found: Shown::new(found_type),
        });
    }
    let service_account = secret
        .get("metadata")
        .and_then(|m| m.get("annotations"))
        .and_then(|a| a.get(SERVICE_ACCOUNT_ANNOTATION))
        .and_then(serde_json::Value::as_str)
        .unwrap_or("")
        .to_owned();
    if let Some(expected) = expected_service_account
        && expected != service_account
    {
        return Err(KubeconfigError::WrongServiceAccount {
            name: Shown::new(&name),
            expected: Shown::new(expected),
            found: Shown::new(&service_account),
        });
    }
    let data = secret.get("data");
    let field = |key: &'static str| -> Result<Option<Vec<u8>>, KubeconfigError> {
        let Some(value) = data.and_then(|d| d.get(key)) else { return Ok(None) };
        let text = value
            .as_str()
            .ok_or(KubeconfigError::BadBase64 { name: Shown::new(&name), field: key })?;
        let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        STANDARD
            .decode(compact)
            .map(Some)
            .map_err(|_| KubeconfigError::BadBase64 { name: Shown::new(&name), field: key })
    };
    let token = field("token")?.unwrap_or_default();
    let token = String::from_utf8(token).map_err(|_| KubeconfigError::BadValue {
        name: Shown::new(&name),
        field: "token",
        reason: "is not text; copy the Secret again".into(),
    })?;
    check_token(&name, &token)?;
    let ca_crt = field("ca.crt")?
        .ok_or(KubeconfigError::MissingField { name: Shown::new(&name), field: "ca.crt" })?;
    if !ca_crt.starts_with(b"-----BEGIN CERTIFICATE-----") {
        return Err(KubeconfigError::BadValue {
            name: Shown::new(&name),
            field: "ca.crt",
            reason: "is not a PEM certificate; copy the Secret again".into(),
        });
    }
    let namespace = field("namespace")?
        .ok_or(KubeconfigError::MissingField { name: Shown::new(&name), field: "namespace" })?;
    let namespace = String::from_utf8(namespace).unwrap_or_default();
    // The token controller writes the Secret's own namespace; another one means the text
    // was edited, and the kubeconfig would point the pipeline at the wrong namespace.
    if let Some(own) = text_field(secret, &["metadata", "namespace"])
        && own != namespace
    {
        return Err(KubeconfigError::BadValue {
            name: Shown::new(&name),
            field: "namespace",
            reason: format!(
                "is {} but the Secret is in namespace {}; copy the Secret again, unedited",
                Shown::new(&namespace),
                Shown::new(own)
            ),
        });
    }
    Ok(TokenSecret { name, service_account, ca_crt, namespace, token })
}

/// Parses pasted `kubectl get secret NAME -o json` or `-o yaml` output.
pub fn parse_secret_text(text: &str) -> Result<serde_json::Value, KubeconfigError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(KubeconfigError::Unreadable { reason: "nothing was pasted".into() });
    }
    crate::input::check_text("the pasted Secret", text, crate::input::MAX_PASTE_BYTES)?;
    // JSON is YAML: one parser for both keeps a second one out of the page.
    serde_yaml::from_str::<serde_json::Value>(text).map_err(|e| KubeconfigError::Unreadable {
        // serde_yaml's messages quote no input, so no token can leak through them.
        reason: e.to_string(),
    })
}

/// The whole documented extraction: pasted Secret + server URL → kubeconfig text.
pub fn kubeconfig_from_secret(
    secret_text: &str,
    server: &str,
    cluster_name: &str,
    expected_service_account: Option<&str>,
) -> Result<String, KubeconfigError> {
    let value = parse_secret_text(secret_text)?;
    let secret = read_token_secret(&value, expected_service_account)?;
    render_kubeconfig(&KubeconfigParts {
        cluster_name: cluster_name.to_owned(),
        server: server.to_owned(),
        ca_crt: secret.ca_crt,
        namespace: secret.namespace,
        token: secret.token,
        expires: None,
    })
}

/// Whether `text` is a kubeconfig as this tool issues them for `namespace`: one context,
/// [`CONTEXT_NAME`] in that namespace, for [`USER_NAME`]. `rotate` replaces such a file
/// without `--force`; anything else (another access's kubeconfig, any other file) needs it.
pub fn is_issued_for(text: &str, namespace: &str) -> bool {
    if crate::input::check_text("the kubeconfig", text, crate::input::MAX_PASTE_BYTES).is_err() {
        return false;
    }
    let Ok(config) = serde_yaml::from_str::<serde_json::Value>(text) else { return false };
    let contexts = config.get("contexts").and_then(serde_json::Value::as_array);
    let [context] = contexts.map(Vec::as_slice).unwrap_or_default() else { return false };
    let field = |name: &str| context.pointer(name).and_then(serde_json::Value::as_str);
    config.get("kind").and_then(serde_json::Value::as_str) == Some("Config")
        && field("/name") == Some(CONTEXT_NAME)
        && field("/context/namespace") == Some(namespace)
        && field("/context/user") == Some(USER_NAME)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CA: &str = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n";
    const TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln";

    fn secret(extra: &str) -> String {
        let b = |s: &str| STANDARD.encode(s);
        format!(
            r#"{{"apiVersion":"v1","kind":"Secret","type":"kubernetes.io/service-account-token",
            "metadata":{{"name":"ci-cd","namespace":"demo","annotations":{{"kubernetes.io/service-account.name":"ci-cd"}}}},
            "data":{{"ca.crt":"{}","namespace":"{}"{extra}}}}}"#,
            b(CA),
            b("demo"),
        )
    }

    fn filled() -> String {
        secret(&format!(r#","token":"{}""#, STANDARD.encode(TOKEN)))
    }

    #[test]
    fn a_secret_edited_to_another_namespace_is_refused() {
        let edited = filled().replace(&STANDARD.encode("demo"), &STANDARD.encode("prod"));
        let error = kubeconfig_from_secret(&edited, "https://127.0.0.1:6443", "c", None)
            .unwrap_err()
            .to_string();
        assert!(error.contains(r#"is "prod" but the Secret is in namespace "demo""#), "{error}");
    }

    #[test]
    fn golden_kubeconfig() {
        let text =
            kubeconfig_from_secret(&filled(), "https://127.0.0.1:6443", "default-cluster", None)
                .unwrap();
        insta::assert_snapshot!(text);
    }

    #[test]
    fn yaml_input_gives_the_same_kubeconfig() {
        let value: serde_json::Value = serde_json::from_str(&filled()).unwrap();
        let yaml = serde_yaml::to_string(&value).unwrap();
        assert_eq!(
            kubeconfig_from_secret(&yaml, "https://a.example:443", "c", Some("ci-cd")).unwrap(),
            kubeconfig_from_secret(&filled(), "https://a.example:443", "c", Some("ci-cd")).unwrap()
        );
    }

    #[test]
    fn clear_errors_and_no_token_in_them() {
        let server = "https://a.example";
        let cases = [
            (secret(""), "has no token yet"),
            (filled().replace("ci-cd\"}", "other\"}"), "expected \"ci-cd\""),
            (
                filled().replace("kubernetes.io/service-account-token", "Opaque"),
                "not kubernetes.io/service-account-token",
            ),
            (filled().replace("\"kind\":\"Secret\"", "\"kind\":\"ConfigMap\""), "is a ConfigMap"),
            (secret(r#","token":"!!notbase64""#), "not valid base64"),
            (filled().replace("\"ca.crt\"", "\"ca.pem\""), "no ca.crt"),
            (
                filled()
                    .replace(&STANDARD.encode("demo"), &STANDARD.encode("Bad_NS"))
                    .replace(r#""namespace":"demo""#, r#""namespace":"Bad_NS""#),
                "namespace \"Bad_NS\": a namespace is a DNS-1123 label",
            ),
            ("{".to_owned(), "not a Secret in JSON or YAML"),
        ];
        for (input, expected) in cases {
            let err = kubeconfig_from_secret(&input, server, "c", Some("ci-cd")).unwrap_err();
            let text = err.to_string();
            assert!(text.contains(expected), "{text}");
            assert!(!text.contains(TOKEN), "{text}");
            assert!(!format!("{err:?}").contains(TOKEN));
        }
    }

    #[test]
    fn debug_redacts_the_token() {
        let value = parse_secret_text(&filled()).unwrap();
        let secret = read_token_secret(&value, None).unwrap();
        assert!(!format!("{secret:?}").contains(TOKEN));
    }

    #[test]
    fn bound_tokens_say_when_they_expire() {
        let parts = KubeconfigParts {
            cluster_name: "c".into(),
            server: "https://a.example".into(),
            ca_crt: CA.into(),
            namespace: "demo".into(),
            token: TOKEN.into(),
            expires: Some("2026-11-27T12:00:00Z".into()),
        };
        assert!(
            render_kubeconfig(&parts)
                .unwrap()
                .starts_with("# Bound ServiceAccount token: stops working at 2026-11-27T12:00:00Z")
        );
    }

    /// JSON goes through the YAML parser: what `kubectl -o json` and JSON tools print must
    /// read the same as with a JSON parser (escapes, tabs, no spaces, one line).
    #[test]
    fn json_reads_as_json() {
        for text in [
            "{\"kind\":\"Secret\",\"data\":{\"a\":\"x\\/y\\u00e9\\n\"},\"n\":[1,2.5,true,null]}",
            "{\n\t\"kind\": \"Secret\",\n\t\"data\": {\n\t\t\"a\": \"x\\/y\\u00e9\\n\"\n\t},\n\t\"n\": [1, 2.5, true, null]\n}",
        ] {
            let value = parse_secret_text(text).unwrap();
            assert_eq!(
                value,
                serde_json::json!({"kind": "Secret", "data": {"a": "x/y\u{e9}\n"}, "n": [1, 2.5, true, null]}),
                "{text}"
            );
        }
    }

    #[test]
    fn an_issued_kubeconfig_is_recognised_for_its_namespace_only() {
        let text = render_kubeconfig(&KubeconfigParts {
            cluster_name: "c".into(),
            server: "https://127.0.0.1:6443".into(),
            ca_crt: b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n".to_vec(),
            namespace: "demo".into(),
            token: "t".into(),
            expires: None,
        })
        .unwrap();
        assert!(is_issued_for(&text, "demo"));
        assert!(!is_issued_for(&text, "other"));
        assert!(!is_issued_for("precious notes\n", "demo"));
        assert!(!is_issued_for("", "demo"));
    }
}
