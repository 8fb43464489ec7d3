//! The connection to the cluster, as kubectl makes it, and what its failures mean.

use std::io;
use std::path::Path;

use anyhow::{Context as _, Result};
use base64::Engine as _;
use kube::Client;
use kube::config::{Config, KubeConfigOptions, Kubeconfig};

use crate::args::ClusterArgs;
use crate::problem::Problem;

/// A client for the user's context, with what the issued kubeconfig needs from it.
#[derive(Clone)]
pub struct Cluster {
    pub client: Client,
    pub context: String,
    /// The server URL exactly as the user's kubeconfig writes it.
    pub server: String,
    /// The context's namespace (`default` when it names none).
    pub namespace: String,
    /// PEM of the CA the user's kubeconfig trusts for this server, when it names one.
    pub ca_pem: Option<Vec<u8>>,
    /// The connection settings, for a client that impersonates ([`Cluster::impersonating`]).
    config: Config,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("context", &self.context)
            .field("server", &self.server)
            .field("namespace", &self.namespace)
            .finish_non_exhaustive()
    }
}

/// A kubeconfig parser's message without the file's values: only its first line (the YAML
/// parser adds the offending lines below it, a `token:` among them), quoted values replaced,
/// a last part that is one bare word (`failed to load current context: VALUE`) dropped, and
/// anything credential-shaped (16 or more token or base64 characters) replaced. A kubeconfig
/// holds credentials, so no error about one quotes its values.
fn redacted(error: &dyn std::fmt::Display) -> String {
    let text = error.to_string();
    let mut first = text.lines().next().unwrap_or_default().to_owned();
    if let Some((head, tail)) = first.rsplit_once(": ")
        && !tail.trim().contains(' ')
    {
        first = format!("{head}: (value not shown)");
    }
    let mut out = String::new();
    for (index, part) in first.split('"').enumerate() {
        // Odd parts were between quotes.
        out.push_str(if index % 2 == 1 { "\"…\"" } else { part });
    }
    let opaque = |c: char| c.is_ascii_alphanumeric() || "-._~+/=".contains(c);
    let mut result = String::new();
    let mut run = String::new();
    for c in out.chars().chain(std::iter::once(' ')) {
        if opaque(c) {
            run.push(c);
            continue;
        }
        result.push_str(if run.len() >= 16 { "…" } else { &run });
        run.clear();
        result.push(c);
    }
    result.pop();
    result
}

fn read_kubeconfig(path: Option<&Path>) -> Result<Kubeconfig> {
    let hint = "pass --kubeconfig FILE or set KUBECONFIG, as for kubectl";
    match path {
        Some(path) => Kubeconfig::read_from(path).map_err(|e| {
            Problem::usage(format!("cannot read kubeconfig {}: {}", path.display(), redacted(&e)))
                .hint(hint)
                .into()
        }),
        None => Kubeconfig::read().map_err(|e| {
            Problem::usage(format!(
                "cannot read your kubeconfig ($KUBECONFIG or ~/.kube/config): {}",
                redacted(&e)
            ))
            .hint(hint)
            .into()
        }),
    }
}

/// Connects as kubectl would with `--kubeconfig`, `--context` (and `KUBECONFIG`).
pub async fn connect(args: &ClusterArgs) -> Result<Cluster> {
    let kubeconfig = read_kubeconfig(args.kubeconfig.as_deref())?;
    let context =
        args.context.clone().or_else(|| kubeconfig.current_context.clone()).ok_or_else(|| {
            Problem::usage("the kubeconfig has no current context")
                .hint("pass --context NAME (kubectl config get-contexts lists them)")
        })?;
    let named = kubeconfig.contexts.iter().find(|c| c.name == context).ok_or_else(|| {
        let names: Vec<&str> = kubeconfig.contexts.iter().map(|c| c.name.as_str()).collect();
        // The name is shown only when the user typed it: a current-context in the file is a
        // value of the file, and has been seen holding a token.
        let message = match &args.context {
            Some(given) => format!("context {given:?} is not in the kubeconfig"),
            None => "the kubeconfig's current-context names no context it defines".to_owned(),
        };
        Problem::usage(message).hint(format!("pass --context, one of: {}", names.join(", ")))
    })?;
    let cluster_name = named.context.as_ref().map(|c| c.cluster.clone()).unwrap_or_default();
    let cluster_entry = kubeconfig
        .clusters
        .iter()
        .find(|c| c.name == cluster_name)
        .and_then(|c| c.cluster.clone())
        .unwrap_or_default();
    let ca_pem =
        match (&cluster_entry.certificate_authority_data, &cluster_entry.certificate_authority) {
            (Some(data), _) => base64::engine::general_purpose::STANDARD.decode(data.trim()).ok(),
            (None, Some(file)) => std::fs::read(file).ok(),
            (None, None) => None,
        };
    let options =
        KubeConfigOptions { context: Some(context.clone()), ..KubeConfigOptions::default() };
    let config = Config::from_custom_kubeconfig(kubeconfig, &options).await.map_err(|e| {
        Problem::usage(format!("the kubeconfig's context is not usable: {}", redacted(&e)))
    })?;
    let namespace = config.default_namespace.clone();
    let server = cluster_entry.server.unwrap_or_else(|| config.cluster_url.to_string());
    let client = Client::try_from(config.clone())
        .map_err(|e| Problem::failed(format!("cannot set up a client for {server}: {e}")))?;
    Ok(Cluster { client, context, server, namespace, ca_pem, config })
}

impl Cluster {
    /// A client that acts as `user` (`kubectl --as`): the API server adds the group
    /// `system:authenticated`, as it does for the user's own requests.
    pub fn impersonating(&self, user: &str) -> Result<Client> {
        let mut config = self.config.clone();
        config.auth_info.impersonate = Some(user.to_owned());
        config.auth_info.impersonate_groups = None;
        Client::try_from(config).map_err(|e| {
            Problem::failed(format!("cannot set up a client for {}: {e}", self.server)).into()
        })
    }
}

/// A client from a kubeconfig's text (the issued one), and the namespace of its context.
pub async fn client_from_text(text: &str) -> Result<(Client, String)> {
    let kubeconfig = Kubeconfig::from_yaml(text)
        .map_err(|e| Problem::failed(format!("the kubeconfig is not valid: {}", redacted(&e))))?;
    let config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .map_err(|e| Problem::failed(format!("the kubeconfig is not usable: {}", redacted(&e))))?;
    let namespace = config.default_namespace.clone();
    Ok((Client::try_from(config).context("cannot set up a client")?, namespace))
}

/// What a failed request means, as one of the distinct messages the user can act on.
pub fn explain(error: kube::Error, server: &str, context: &str, doing: &str) -> anyhow::Error {
    if let kube::Error::Api(status) = &error {
        let problem = match status.code {
            401 => Problem::failed(format!(
                "{doing}: the API server at {server} does not accept your credentials (401 Unauthorized)"
            ))
            .hint(format!(
                "the token or certificate of context {context:?} has expired or was revoked: log in again and retry"
            )),
            403 => Problem::failed(format!("{doing}: forbidden: {}", status.message)).hint(
                "ask a cluster administrator for this permission, or use a context that has it",
            ),
            404 if status.message.starts_with("namespaces ") => {
                Problem::failed(format!("{doing}: {}", status.message)).hint(
                    "the namespace does not exist: create it (kubectl create namespace NAME) or pass the right -n",
                )
            }
            _ => Problem::failed(format!("{doing}: the API server answered {} {}: {}", status.code, status.reason, status.message)),
        };
        return anyhow::Error::new(error).context(problem);
    }
    explain_transport(anyhow::Error::new(error), server, context, doing)
}

/// A failure below HTTP (connection, TLS), told apart by its causes.
pub fn explain_transport(
    error: anyhow::Error,
    server: &str,
    context: &str,
    doing: &str,
) -> anyhow::Error {
    let chain: Vec<String> = error.chain().map(ToString::to_string).collect();
    let text = chain.join(": ").to_lowercase();
    let io_kind = error.chain().find_map(|e| e.downcast_ref::<io::Error>()).map(io::Error::kind);
    // A connection that closed (an API server that died mid-request) shows up inside the TLS
    // layer too ("tls handshake eof"): it is told by its I/O kind before TLS is suspected.
    let closed =
        matches!(
            io_kind,
            Some(
                io::ErrorKind::ConnectionRefused
                    | io::ErrorKind::ConnectionReset
                    | io::ErrorKind::ConnectionAborted
                    | io::ErrorKind::TimedOut
                    | io::ErrorKind::NotFound
                    | io::ErrorKind::UnexpectedEof
                    | io::ErrorKind::BrokenPipe
            )
        ) || ["eof", "connection closed", "connection reset", "connection refused", "broken pipe"]
            .iter()
            .any(|words| text.contains(words));
    let problem = if text.contains("certificate") && !closed {
        Problem::failed(format!("{doing}: the TLS handshake with {server} failed"))
            .hint(format!("the server's certificate is not signed by the CA of context {context:?}, or the address is not in it: check certificate-authority-data and the server URL"))
    } else if closed
        || text.contains("connect")
        || text.contains("dns")
        || text.contains("timed out")
        || text.contains("connection")
    {
        Problem::failed(format!("{doing}: cannot reach the API server at {server}"))
            .hint(format!("is the cluster up and is {context:?} the right context? (kubectl cluster-info); re-run when it is back: the command converges"))
    } else if text.contains("tls") || text.contains("handshake") {
        Problem::failed(format!("{doing}: the TLS handshake with {server} failed")).hint(
            "the server did not complete TLS: check that the URL is the API server's HTTPS port",
        )
    } else {
        Problem::failed(format!("{doing}: the request to {server} failed"))
    };
    error.context(problem)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn explained(error: anyhow::Error) -> String {
        let error = explain_transport(error, "https://k", "ctx", "applying");
        error.downcast_ref::<Problem>().map(ToString::to_string).unwrap_or_default()
    }

    #[test]
    fn a_closed_connection_is_not_called_a_certificate_problem() {
        let eof =
            anyhow::Error::new(io::Error::new(io::ErrorKind::UnexpectedEof, "tls handshake eof"))
                .context("client error (Connect)");
        assert_eq!(explained(eof), "applying: cannot reach the API server at https://k");
        let closed = anyhow::anyhow!("connection closed before message completed");
        assert_eq!(explained(closed), "applying: cannot reach the API server at https://k");
        let unknown_ca = anyhow::anyhow!("invalid peer certificate: UnknownIssuer");
        assert_eq!(explained(unknown_ca), "applying: the TLS handshake with https://k failed");
    }

    #[test]
    fn kubeconfig_errors_quote_no_values() {
        let error = "failed to parse kubeconfig YAML: line 11 column 4: did not find expected key\n\
                     --> <input>:11:4\n10 |     token: SECRET\n";
        assert_eq!(
            redacted(&error),
            "failed to parse kubeconfig YAML: line 11 column 4: did not find expected key"
        );
        assert_eq!(
            redacted(&"invalid type: string \"SECRET\", expected a map"),
            "invalid type: string \"…\", expected a map"
        );
    }
}
