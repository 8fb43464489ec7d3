//! The pipeline's kubeconfig, assembled from a filled service-account token Secret.
//!
//! Nothing here ever puts the token into an error message or a `Debug` output.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Serialize;

use crate::manifest::{SERVICE_ACCOUNT_ANNOTATION, TOKEN_SECRET_TYPE};
use crate::time::rfc3339;
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
    #[error(
        "this is Secret {found}, but step 1 names the token Secret {expected}; paste that one (the command is beside the field), or change the Secret name in step 1"
    )]
    OtherSecret { found: Shown, expected: Shown },
    #[error(
        "{what} is in namespace {found}, but step 1 names namespace {expected}; paste the one from {expected}, or change the namespace in step 1"
    )]
    OtherNamespace { what: String, found: Shown, expected: Shown },
    #[error(
        "the pasted token is not a ServiceAccount token (its claims could not be read); paste the output of `kubectl create token SERVICEACCOUNT --namespace NAMESPACE --duration 24h`"
    )]
    NotABoundToken,
    #[error(
        "the token is for ServiceAccount {found}, but step 1 names {expected}; run `kubectl create token {expected}` instead"
    )]
    TokenForOtherAccount { found: Shown, expected: Shown },
    #[error(
        "the CA {reason}; paste the certificate-authority-data of your own kubeconfig, or its PEM"
    )]
    BadCa { reason: &'static str },
    #[error(
        "the access has a token of its own, not a keyless identity; issue its kubeconfig from its token, or set token: {{kind: keyless, ...}}"
    )]
    NotKeyless,
    #[error(transparent)]
    BadIdentity(crate::validate::ValidationError),
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

/// The user's credential: the token, or for keyless access the command that fetches the
/// job's own token each time kubectl needs one.
/// (Two options rather than an enum: serde_yaml writes an enum variant as a YAML tag.)
#[derive(Serialize)]
struct UserFields<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    token: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    exec: Option<ExecPlugin<'a>>,
}

/// `client.authentication.k8s.io/v1` exec credential plugin configuration.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExecPlugin<'a> {
    api_version: &'static str,
    command: &'static str,
    args: Vec<&'a str>,
    interactive_mode: &'static str,
    provide_cluster_info: bool,
}

/// The command a keyless kubeconfig runs: `kubectl cicd token` as the plugin's own binary,
/// since kubectl runs exec plugins without its plugin lookup.
pub const EXEC_COMMAND: &str = "kubectl-cicd";

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
    let body = render(
        &parts.cluster_name,
        &parts.server,
        &parts.ca_crt,
        &parts.namespace,
        UserFields { token: Some(&parts.token), exec: None },
    )?;
    Ok(match &parts.expires {
        Some(at) => format!(
            "# Bound ServiceAccount token: stops working at {at}. Issue a new one before then.\n{body}"
        ),
        None => body,
    })
}

/// The one kubeconfig shape, whatever the credential.
fn render(
    cluster_name: &str,
    server: &str,
    ca_crt: &[u8],
    namespace: &str,
    user: UserFields<'_>,
) -> Result<String, KubeconfigError> {
    let config = Config {
        api_version: "v1",
        kind: "Config",
        clusters: [Named {
            name: cluster_name,
            item: Cluster {
                cluster: ClusterFields {
                    certificate_authority_data: STANDARD.encode(ca_crt),
                    server,
                },
            },
        }],
        contexts: [Named {
            name: CONTEXT_NAME,
            item: Context {
                context: ContextFields { cluster: cluster_name, namespace, user: USER_NAME },
            },
        }],
        current_context: CONTEXT_NAME,
        users: [Named { name: USER_NAME, item: User { user } }],
    };
    crate::yaml::to_string(&config)
        .map_err(|e| KubeconfigError::Unreadable { reason: e.to_string() })
}

/// The arguments of `kubectl cicd token` for `identity`: which provider's token to fetch,
/// for which audience (GitHub's token request, GitLab's `id_tokens:` variable), or which
/// variable holds a custom issuer's token.
pub fn exec_args<'a>(identity: &crate::spec::KeylessIdentity, audience: &'a str) -> Vec<&'a str> {
    use crate::keyless::ID_TOKEN_VARIABLE;
    match identity.provider {
        crate::spec::Provider::Github => {
            vec!["token", "--provider", "github", "--audience", audience]
        }
        crate::spec::Provider::Gitlab => vec![
            "token",
            "--provider",
            "gitlab",
            "--audience",
            audience,
            "--variable",
            ID_TOKEN_VARIABLE,
        ],
        crate::spec::Provider::Custom => {
            vec!["token", "--provider", "env", "--variable", ID_TOKEN_VARIABLE]
        }
    }
}

/// The kubeconfig of a keyless access: server, CA and namespace, and instead of a token
/// the exec plugin that fetches the job's own. Nothing in it is secret: it can be
/// committed or kept as a plain CI variable. `server` and `namespace` are the spec's or,
/// where it leaves them out, the current context's; `ca_crt` is PEM.
pub fn keyless_kubeconfig(
    spec: &crate::AccessSpec,
    server: &str,
    namespace: &str,
    ca_crt: &[u8],
) -> Result<Issued, KubeconfigError> {
    let crate::TokenKind::Keyless(identity) = &spec.token else {
        return Err(KubeconfigError::NotKeyless);
    };
    validate_server(server)
        .map_err(|reason| KubeconfigError::BadServer { value: Shown::new(server), reason })?;
    validate_cluster_name(&spec.cluster_name).map_err(|reason| {
        KubeconfigError::BadClusterName { value: Shown::new(&spec.cluster_name), reason }
    })?;
    validate_namespace(namespace)
        .map_err(|reason| KubeconfigError::BadNamespace { value: Shown::new(namespace), reason })?;
    if !ca_crt.starts_with(b"-----BEGIN CERTIFICATE-----") {
        return Err(KubeconfigError::BadCa { reason: "is not a PEM certificate" });
    }
    // The audience defaults to the server the pipeline talks to.
    let audience = identity.audience.as_deref().unwrap_or(server);
    if let Some(bad) = crate::keyless::validate_identity(identity, Some(server)).into_iter().next()
    {
        return Err(KubeconfigError::BadIdentity(bad));
    }
    let args = exec_args(identity, audience);
    let text = render(
        &spec.cluster_name,
        server,
        ca_crt,
        namespace,
        UserFields {
            token: None,
            exec: Some(ExecPlugin {
                api_version: "client.authentication.k8s.io/v1",
                command: EXEC_COMMAND,
                args: args.clone(),
                interactive_mode: "Never",
                provide_cluster_info: false,
            }),
        },
    )?;
    let shown = vec![
        ("cluster", spec.cluster_name.clone()),
        ("server", server.to_owned()),
        ("certificate-authority-data", format!("a PEM certificate, {} bytes", ca_crt.len())),
        ("context", format!("{CONTEXT_NAME}, namespace {namespace}")),
        (
            "user",
            format!(
                "{USER_NAME}, no token: runs {EXEC_COMMAND} {} for the job's own, as {}",
                args.join(" "),
                crate::keyless::username(identity)
            ),
        ),
    ];
    Ok(Issued { text, shown })
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

/// A kubeconfig issued for an access, and what may be shown of it: everything but the token.
#[derive(Clone, PartialEq, Eq)]
pub struct Issued {
    /// The kubeconfig. It holds the token.
    pub text: String,
    /// Its parts without the token, as (label, value), in the file's order.
    pub shown: Vec<(&'static str, String)>,
}

impl fmt::Debug for Issued {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Issued").field("shown", &self.shown).finish_non_exhaustive()
    }
}

impl Issued {
    fn of(parts: &KubeconfigParts, from: &str) -> Result<Issued, KubeconfigError> {
        let text = render_kubeconfig(parts)?;
        let mut shown = vec![
            ("cluster", parts.cluster_name.clone()),
            ("server", parts.server.clone()),
            (
                "certificate-authority-data",
                format!("a PEM certificate, {} bytes", parts.ca_crt.len()),
            ),
            ("context", format!("{CONTEXT_NAME}, namespace {}", parts.namespace)),
            (
                "user",
                format!(
                    "{USER_NAME}, token from {from} ({} characters, not shown)",
                    parts.token.len()
                ),
            ),
        ];
        if let Some(at) = &parts.expires {
            shown.push(("expires", at.clone()));
        }
        Ok(Issued { text, shown })
    }

    /// The kubeconfig in base64 on one line, as CI secrets take it (`base64 -w0`).
    pub fn base64(&self) -> String {
        STANDARD.encode(&self.text)
    }
}

/// The kubeconfig of `spec`'s access from its pasted token Secret: the Secret must be the
/// one the access names, in its namespace, for its ServiceAccount.
pub fn kubeconfig_for_access(
    secret_text: &str,
    server: &str,
    spec: &crate::AccessSpec,
) -> Result<Issued, KubeconfigError> {
    let value = parse_secret_text(secret_text)?;
    if text_field(&value, &["kind"]) == Some("Secret") {
        let name = text_field(&value, &["metadata", "name"]).unwrap_or("");
        if name != spec.secret {
            return Err(KubeconfigError::OtherSecret {
                found: Shown::new(name),
                expected: Shown::new(&spec.secret),
            });
        }
    }
    let secret = read_token_secret(&value, Some(&spec.service_account))?;
    if let Some(expected) = &spec.namespace
        && *expected != secret.namespace
    {
        return Err(KubeconfigError::OtherNamespace {
            what: format!("Secret {}", Shown::new(&secret.name)),
            found: Shown::new(&secret.namespace),
            expected: Shown::new(expected),
        });
    }
    let from = format!("Secret {}", secret.name);
    let parts = KubeconfigParts {
        cluster_name: spec.cluster_name.clone(),
        server: server.to_owned(),
        ca_crt: secret.ca_crt,
        namespace: secret.namespace,
        token: secret.token,
        expires: None,
    };
    Issued::of(&parts, &from)
}

/// What a ServiceAccount token says of itself (its JWT claims, unverified: the API server
/// verifies it; this only checks that it is the token of this access).
struct Claims {
    namespace: String,
    service_account: String,
    expires: Option<i64>,
}

fn claims(token: &str) -> Option<Claims> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    // JSON is YAML: the page's one parser, rather than a second one for bytes.
    let value: serde_json::Value = serde_yaml::from_str(std::str::from_utf8(&bytes).ok()?).ok()?;
    let kubernetes = value.get("kubernetes.io")?;
    Some(Claims {
        namespace: kubernetes.get("namespace")?.as_str()?.to_owned(),
        service_account: kubernetes.pointer("/serviceaccount/name")?.as_str()?.to_owned(),
        expires: value.get("exp").and_then(serde_json::Value::as_i64),
    })
}

/// The kubeconfig of `spec`'s access from a pasted bound token (`kubectl create token`) and
/// the cluster's CA (base64 `certificate-authority-data` or PEM): the token must be the
/// ServiceAccount's of the access, in its namespace.
pub fn kubeconfig_from_token(
    token: &str,
    ca: &str,
    server: &str,
    spec: &crate::AccessSpec,
) -> Result<Issued, KubeconfigError> {
    crate::input::check_text("the pasted token", token, crate::input::MAX_PASTE_BYTES)?;
    crate::input::check_text("the pasted CA", ca, crate::input::MAX_PASTE_BYTES)?;
    let token = token.trim();
    check_token("(pasted token)", token)?;
    let claims = claims(token).ok_or(KubeconfigError::NotABoundToken)?;
    if claims.service_account != spec.service_account {
        return Err(KubeconfigError::TokenForOtherAccount {
            found: Shown::new(&claims.service_account),
            expected: Shown::new(&spec.service_account),
        });
    }
    if let Some(expected) = spec.namespace.as_ref().filter(|n| **n != claims.namespace) {
        return Err(KubeconfigError::OtherNamespace {
            what: "the token".into(),
            found: Shown::new(&claims.namespace),
            expected: Shown::new(expected),
        });
    }
    let ca_crt = read_ca(ca)?;
    let parts = KubeconfigParts {
        cluster_name: spec.cluster_name.clone(),
        server: server.to_owned(),
        ca_crt,
        namespace: claims.namespace,
        token: token.to_owned(),
        expires: claims.expires.map(rfc3339),
    };
    Issued::of(&parts, "kubectl create token")
}

/// The PEM of a pasted CA: the base64 `certificate-authority-data` of a kubeconfig, or the
/// PEM itself.
fn read_ca(ca: &str) -> Result<Vec<u8>, KubeconfigError> {
    let ca = ca.trim();
    if ca.is_empty() {
        return Err(KubeconfigError::BadCa { reason: "is empty" });
    }
    let ca_crt = if ca.starts_with("-----BEGIN") {
        format!("{ca}\n").into_bytes()
    } else {
        let compact: String = ca.chars().filter(|c| !c.is_whitespace()).collect();
        STANDARD.decode(compact).map_err(|_| KubeconfigError::BadCa { reason: "is not base64" })?
    };
    if !ca_crt.starts_with(b"-----BEGIN CERTIFICATE-----") {
        return Err(KubeconfigError::BadCa { reason: "is not a PEM certificate" });
    }
    Ok(ca_crt)
}

/// [`keyless_kubeconfig`] from the cluster's CA as pasted (base64 or PEM), in the spec's
/// namespace: the page's path, which cannot read the current context's namespace.
pub fn keyless_kubeconfig_from_ca(
    spec: &crate::AccessSpec,
    server: &str,
    ca: &str,
) -> Result<Issued, KubeconfigError> {
    crate::input::check_text("the pasted CA", ca, crate::input::MAX_PASTE_BYTES)?;
    let Some(namespace) = &spec.namespace else {
        return Err(KubeconfigError::BadNamespace {
            value: Shown::new(""),
            reason: "is not given: the kubeconfig names it, and only kubectl knows your context's; type the namespace in step 1".into(),
        });
    };
    keyless_kubeconfig(spec, server, namespace, &read_ca(ca)?)
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

    fn access(namespace: Option<&str>) -> crate::AccessSpec {
        crate::AccessSpec {
            namespace: namespace.map(str::to_owned),
            ..crate::AccessSpec::default()
        }
    }

    #[test]
    fn the_pasted_secret_must_be_the_one_of_the_access() {
        let text = secret(&format!(r#","token":"{}""#, STANDARD.encode(TOKEN)));
        let issued =
            kubeconfig_for_access(&text, "https://api:6443", &access(Some("demo"))).unwrap();
        assert_eq!(
            issued.text,
            kubeconfig_from_secret(&text, "https://api:6443", "default-cluster", Some("ci-cd"))
                .unwrap()
        );
        assert!(issued.shown.iter().all(|(_, v)| !v.contains(TOKEN)));
        assert_eq!(STANDARD.decode(issued.base64()).unwrap(), issued.text.as_bytes());
        assert!(kubeconfig_for_access(&text, "https://api:6443", &access(None)).is_ok());
        let other =
            kubeconfig_for_access(&text, "https://api:6443", &access(Some("prod"))).unwrap_err();
        assert!(matches!(other, KubeconfigError::OtherNamespace { .. }), "{other}");
        assert!(other.to_string().contains("namespace \"prod\""), "{other}");
        let renamed = crate::AccessSpec { secret: "deployer".into(), ..access(Some("demo")) };
        let other = kubeconfig_for_access(&text, "https://api:6443", &renamed).unwrap_err();
        assert!(
            other.to_string().starts_with(
                "this is Secret \"ci-cd\", but step 1 names the token Secret \"deployer\""
            ),
            "{other}"
        );
    }

    #[test]
    fn a_bound_token_must_be_the_service_accounts_of_the_access() {
        let jwt = |claims: &str| {
            let b = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
            format!("{}.{}.c2ln", b(r#"{"alg":"RS256"}"#), b(claims))
        };
        let token = jwt(
            r#"{"exp":1767312000,"kubernetes.io":{"namespace":"demo","serviceaccount":{"name":"ci-cd","uid":"x"}}}"#,
        );
        let ca = STANDARD.encode(CA);
        let issued =
            kubeconfig_from_token(&format!("{token}\n"), &ca, "https://api:6443", &access(None))
                .unwrap();
        assert!(
            issued.text.starts_with(
                "# Bound ServiceAccount token: stops working at 2026-01-02T00:00:00Z."
            ),
            "{}",
            issued.text
        );
        assert!(issued.text.contains("namespace: demo"));
        assert_eq!(
            issued,
            kubeconfig_from_token(&token, CA, "https://api:6443", &access(Some("demo"))).unwrap()
        );
        let refusal = |token: &str, ca: &str, spec: &crate::AccessSpec| {
            kubeconfig_from_token(token, ca, "https://api:6443", spec).unwrap_err().to_string()
        };
        assert!(refusal(&token, &ca, &access(Some("prod"))).contains("namespace \"prod\""));
        let other = crate::AccessSpec { service_account: "deployer".into(), ..access(None) };
        assert!(refusal(&token, &ca, &other).contains("kubectl create token \"deployer\""));
        assert!(refusal(TOKEN, &ca, &access(None)).contains("kubectl create token"));
        assert!(refusal(&token, "", &access(None)).contains("CA is empty"));
        assert!(refusal(&token, "bm90IGEgY2VydA==", &access(None)).contains("not a PEM"));
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

    fn keyless(provider: crate::Provider) -> crate::AccessSpec {
        let identity = match provider {
            crate::Provider::Github => crate::KeylessIdentity {
                repository: Some("org/app".into()),
                git_ref: Some("refs/heads/main".into()),
                ..crate::KeylessIdentity::default()
            },
            crate::Provider::Gitlab => crate::KeylessIdentity {
                provider,
                project: Some("group/app".into()),
                git_ref: Some("refs/heads/main".into()),
                audience: Some("kubernetes".into()),
                ..crate::KeylessIdentity::default()
            },
            crate::Provider::Custom => crate::KeylessIdentity {
                provider,
                issuer: Some("https://issuer.example.com".into()),
                value: Some("deployer".into()),
                ..crate::KeylessIdentity::default()
            },
        };
        crate::AccessSpec { token: crate::TokenKind::Keyless(identity), ..access(Some("demo")) }
    }

    #[test]
    fn a_keyless_kubeconfig_runs_the_token_plugin_and_holds_no_secret() {
        let spec = keyless(crate::Provider::Github);
        let issued =
            keyless_kubeconfig(&spec, "https://api.example.com:6443", "demo", CA.as_bytes())
                .unwrap();
        assert!(!issued.text.contains("token:"), "{}", issued.text);
        let config: serde_json::Value = serde_yaml::from_str(&issued.text).unwrap();
        let user = &config["users"][0]["user"];
        assert_eq!(user.as_object().unwrap().len(), 1, "only exec: {user}");
        assert_eq!(user["exec"]["apiVersion"], "client.authentication.k8s.io/v1");
        assert_eq!(user["exec"]["command"], "kubectl-cicd");
        assert_eq!(
            user["exec"]["args"],
            serde_json::json!([
                "token",
                "--provider",
                "github",
                "--audience",
                "https://api.example.com:6443"
            ])
        );
        assert_eq!(user["exec"]["interactiveMode"], "Never");
        assert_eq!(user["exec"]["provideClusterInfo"], false);
        assert_eq!(config["contexts"][0]["context"]["namespace"], "demo");
        assert!(is_issued_for(&issued.text, "demo"));
        insta::assert_snapshot!(issued.text);
    }

    #[test]
    fn a_keyless_kubeconfig_from_a_pasted_ca_takes_base64_or_pem_and_the_specs_namespace() {
        let spec = keyless(crate::Provider::Github);
        let server = "https://api.example.com:6443";
        let direct = keyless_kubeconfig(&spec, server, "demo", CA.as_bytes()).unwrap();
        let base64 = STANDARD.encode(CA);
        assert_eq!(keyless_kubeconfig_from_ca(&spec, server, &base64), Ok(direct.clone()));
        assert_eq!(keyless_kubeconfig_from_ca(&spec, server, CA), Ok(direct));
        assert_eq!(
            keyless_kubeconfig_from_ca(&spec, server, "  "),
            Err(KubeconfigError::BadCa { reason: "is empty" })
        );
        let current = crate::AccessSpec { namespace: None, ..spec };
        let error = keyless_kubeconfig_from_ca(&current, server, CA).unwrap_err().to_string();
        assert!(error.contains("type the namespace in step 1"), "{error}");
    }

    #[test]
    fn keyless_exec_args_per_provider() {
        let args = |provider| {
            let spec = keyless(provider);
            let text = keyless_kubeconfig(&spec, "https://api.example.com", "demo", CA.as_bytes())
                .unwrap()
                .text;
            let config: serde_json::Value = serde_yaml::from_str(&text).unwrap();
            config["users"][0]["user"]["exec"]["args"].clone()
        };
        assert_eq!(
            args(crate::Provider::Gitlab),
            serde_json::json!([
                "token",
                "--provider",
                "gitlab",
                "--audience",
                "kubernetes",
                "--variable",
                "CICD_ACCESS_ID_TOKEN"
            ])
        );
        assert_eq!(
            args(crate::Provider::Custom),
            serde_json::json!(["token", "--provider", "env", "--variable", "CICD_ACCESS_ID_TOKEN"])
        );
    }

    #[test]
    fn a_keyless_kubeconfig_refuses_what_it_cannot_hold() {
        let spec = keyless(crate::Provider::Github);
        let server = "https://api.example.com";
        assert_eq!(
            keyless_kubeconfig(&access(None), server, "demo", CA.as_bytes()).unwrap_err(),
            KubeconfigError::NotKeyless
        );
        assert!(matches!(
            keyless_kubeconfig(&spec, server, "demo", b"junk"),
            Err(KubeconfigError::BadCa { .. })
        ));
        assert!(matches!(
            keyless_kubeconfig(&spec, "http://x", "demo", CA.as_bytes()),
            Err(KubeconfigError::BadServer { .. })
        ));
        let mut bad = spec.clone();
        if let crate::TokenKind::Keyless(identity) = &mut bad.token {
            identity.git_ref = Some("main".into());
        }
        let error = keyless_kubeconfig(&bad, server, "demo", CA.as_bytes()).unwrap_err();
        assert!(error.to_string().starts_with("token.ref \"main\": "), "{error}");
    }
}
