//! `kubectl cicd token`: the exec credential plugin of a keyless kubeconfig. Inside the CI
//! job it fetches the job's own OIDC token and prints it as an `ExecCredential` on stdout,
//! the one place this tool prints a token: kubectl reads it from there. Every decision is
//! the core's ([`cicd_access_core::credential`]); this module reads the environment and
//! makes GitHub's token request.
//!
//! HTTPS trusts the system's roots and, as Go's kubectl does, also the bundle named by
//! `SSL_CERT_FILE` (and the directories of `SSL_CERT_DIR`): a self-hosted issuer's or a
//! proxy's CA is added that way.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, Result};
use cicd_access_core::credential::{self, GITHUB_REQUEST_TOKEN, GITHUB_REQUEST_URL};
use cicd_access_core::keyless::ID_TOKEN_VARIABLE;
use http_body_util::{BodyExt as _, Empty, Limited};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use rustls::RootCertStore;

use crate::args::TokenProvider;
use crate::output::print;
use crate::problem::Problem;

/// GitHub answers in well under a second; past this the job would rather fail clearly
/// than have kubectl hang.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// A token response is a few KB; anything past this is not one.
const MAX_RESPONSE_BYTES: usize = 1 << 20;

/// Prints the `ExecCredential` of the job's token; exit 0, or an error that holds neither
/// the token nor the request bearer.
pub async fn run(
    provider: TokenProvider,
    audience: Option<&str>,
    variable: Option<&str>,
) -> Result<u8> {
    let audience = audience.unwrap_or_default();
    let variable = variable.unwrap_or(ID_TOKEN_VARIABLE);
    let token = match provider {
        TokenProvider::Github => {
            let (url, bearer) = credential::github_request(
                env(GITHUB_REQUEST_URL).as_deref(),
                env(GITHUB_REQUEST_TOKEN).as_deref(),
                audience,
            )
            .map_err(|e| failed(&e))?;
            let body = fetch(&url, &bearer).await?;
            credential::parse_github_response(&body).map_err(|e| failed(&e))?
        }
        TokenProvider::Gitlab => {
            credential::gitlab_token(variable, env(variable).as_deref(), audience)
                .map_err(|e| failed(&e))?
        }
        TokenProvider::Env => credential::variable_token(variable, env(variable).as_deref())
            .map_err(|e| failed(&e))?,
    };
    let credential = credential::exec_credential(&token, now()).map_err(|e| failed(&e))?;
    print(&credential)?;
    Ok(0)
}

fn failed(error: &credential::CredentialError) -> anyhow::Error {
    Problem::failed(error.to_string()).into()
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// GET `url` with GitHub's bearer; the body of a 2xx answer.
async fn fetch(url: &str, bearer: &str) -> Result<Vec<u8>> {
    let request_failed = || {
        Problem::failed("GitHub's token request failed")
            .hint("the runner cannot reach its token service; re-run the job")
    };
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .context("no TLS versions")?
    .with_root_certificates(roots()?)
    .with_no_client_auth();
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_only()
        .enable_http1()
        .build();
    let client: Client<_, Empty<Bytes>> = Client::builder(TokioExecutor::new()).build(https);
    let request = hyper::Request::get(url)
        .header(hyper::header::AUTHORIZATION, format!("bearer {bearer}"))
        .header(hyper::header::ACCEPT, "application/json; api-version=2.0")
        .header(hyper::header::USER_AGENT, concat!("kubectl-cicd/", env!("CARGO_PKG_VERSION")))
        .body(Empty::new())
        .map_err(|_| Problem::failed(format!("{GITHUB_REQUEST_URL} is not a valid URL")))?;
    let exchange = async {
        let response = client.request(request).await.map_err(|e| {
            // The chain names the cause (refused, DNS, certificate); the request holds the
            // bearer only in a header, which no error shows.
            anyhow::Error::new(e).context(request_failed())
        })?;
        let status = response.status();
        let body = Limited::new(response.into_body(), MAX_RESPONSE_BYTES)
            .collect()
            .await
            .map_err(|e| anyhow::anyhow!("reading the answer: {e}").context(request_failed()))?
            .to_bytes();
        if !status.is_success() {
            return Err(Problem::failed(format!("GitHub's token request answered {status}"))
                .hint(
                    "the request token is valid only in its own job; a 401 or 403 after a \
                     job's end is expected",
                )
                .into());
        }
        Ok(body.to_vec())
    };
    tokio::time::timeout(REQUEST_TIMEOUT, exchange).await.unwrap_or_else(|_| {
        Err(Problem::failed(format!(
            "GitHub's token request did not answer within {}s",
            REQUEST_TIMEOUT.as_secs()
        ))
        .hint("the runner cannot reach its token service; re-run the job")
        .into())
    })
}

/// The system's roots and those of `SSL_CERT_FILE` / `SSL_CERT_DIR`. rustls-native-certs
/// reads only the variables when they are set; the system store is added back, as Go does
/// (on Linux and the BSDs, whose store is a directory).
fn roots() -> Result<RootCertStore> {
    let mut roots = RootCertStore::empty();
    let mut found = rustls_native_certs::load_native_certs();
    if let Some(error) = found.errors.first()
        && found.certs.is_empty()
    {
        return Err(Problem::failed(format!("cannot read the trusted CA certificates: {error}"))
            .hint("check SSL_CERT_FILE: it must name a PEM file of CA certificates")
            .into());
    }
    if std::env::var_os("SSL_CERT_FILE").is_some() || std::env::var_os("SSL_CERT_DIR").is_some() {
        for dir in openssl_probe::candidate_cert_dirs() {
            found.certs.extend(rustls_native_certs::load_certs_from_paths(None, Some(dir)).certs);
        }
    }
    roots.add_parsable_certificates(found.certs);
    if roots.is_empty() {
        return Err(Problem::failed("no trusted CA certificates found")
            .hint("install the system's CA certificates (Debian: ca-certificates), or name a PEM bundle in SSL_CERT_FILE")
            .into());
    }
    Ok(roots)
}
