//! A local OIDC issuer on loopback over HTTPS, standing in for GitHub Actions' and GitLab
//! CI's token services: the discovery document, the JWKS, RS256 tokens shaped like the
//! providers' own, and GitHub's token request endpoint (`ACTIONS_ID_TOKEN_REQUEST_URL`),
//! which checks its bearer and honours `audience`.
//!
//! ```no_run
//! use cicd_access_tests::{ControlPlane, OidcIssuer};
//!
//! let issuer = OidcIssuer::start();
//! let cluster = ControlPlane::start_with_args(&issuer.api_server_flags("https://aud", "github:"));
//! // A job's environment, as GitHub Actions sets it (plus SSL_CERT_FILE for the issuer's CA):
//! let env = issuer.github_env();
//! // Tokens minted directly, e.g. another repository's:
//! let mut claims = issuer.github_claims(&issuer.github_job(), "https://aud");
//! claims.insert("repository".into(), "org/other".into());
//! let token = issuer.mint(&claims);
//! ```
//!
//! Certificates and the signing key are made with the `openssl` command line, as the
//! control plane's are ([`crate::pki`]); signatures too (`openssl dgst -sha256 -sign`, which
//! is RS256's PKCS#1 v1.5). TLS is served by rustls, already in the workspace for the CLI.

use std::fs;
use std::io::{Read as _, Write as _};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, Result, bail};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::{Map, Value, json};
use tempfile::TempDir;

/// The JWKS key id of the issuer's one signing key.
pub const KEY_ID: &str = "cicd-access-test-key";
/// How long minted tokens live, like GitHub's (about five minutes at most, here ten).
pub const TOKEN_LIFETIME: i64 = 600;

/// The GitHub Actions job the token endpoint answers for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GithubJob {
    /// `ORG/REPO`.
    pub repository: String,
    /// `refs/heads/main`, `refs/tags/v1`.
    pub git_ref: String,
    /// The job's `environment:`, which then makes the `sub`.
    pub environment: Option<String>,
    pub event_name: String,
}

impl GithubJob {
    /// A push to `git_ref` of `repository`.
    pub fn new(repository: &str, git_ref: &str) -> GithubJob {
        GithubJob {
            repository: repository.to_owned(),
            git_ref: git_ref.to_owned(),
            environment: None,
            event_name: "push".to_owned(),
        }
    }

    /// GitHub's `sub`: `repo:ORG/REPO:environment:NAME`, `repo:ORG/REPO:pull_request` or
    /// `repo:ORG/REPO:ref:REF`.
    pub fn subject(&self) -> String {
        match (&self.environment, self.event_name.as_str()) {
            (Some(environment), _) => format!("repo:{}:environment:{environment}", self.repository),
            (None, "pull_request") => format!("repo:{}:pull_request", self.repository),
            (None, _) => format!("repo:{}:ref:{}", self.repository, self.git_ref),
        }
    }
}

/// A GitLab CI job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitlabJob {
    /// `GROUP/PROJECT` (groups may nest).
    pub project_path: String,
    /// `branch` or `tag`.
    pub ref_type: String,
    /// The branch or tag name, e.g. `main`.
    pub git_ref: String,
    pub environment: Option<String>,
}

impl GitlabJob {
    /// A pipeline of branch `branch` of `project_path`.
    pub fn new(project_path: &str, branch: &str) -> GitlabJob {
        GitlabJob {
            project_path: project_path.to_owned(),
            ref_type: "branch".to_owned(),
            git_ref: branch.to_owned(),
            environment: None,
        }
    }

    /// GitLab's `sub`: `project_path:GROUP/PROJECT:ref_type:branch:ref:main`.
    pub fn subject(&self) -> String {
        format!(
            "project_path:{}:ref_type:{}:ref:{}",
            self.project_path, self.ref_type, self.git_ref
        )
    }
}

/// The issuer's state shared with its serving thread.
#[derive(Debug)]
struct State {
    url: String,
    signing_key: PathBuf,
    modulus: String,
    request_token: String,
    job: Mutex<GithubJob>,
    audiences: Mutex<Vec<String>>,
    serial: AtomicU64,
    stop: AtomicBool,
}

/// A running issuer; dropping it stops serving.
#[derive(Debug)]
pub struct OidcIssuer {
    state: Arc<State>,
    ca_cert: PathBuf,
    port: u16,
    _dir: TempDir,
}

impl OidcIssuer {
    /// Starts an issuer on a free loopback port. Panics if it cannot.
    pub fn start() -> OidcIssuer {
        OidcIssuer::try_start().unwrap_or_else(|e| panic!("the OIDC issuer did not start: {e:#}"))
    }

    pub fn try_start() -> Result<OidcIssuer> {
        let dir = tempfile::Builder::new().prefix("cicd-access-oidc-").tempdir()?;
        let path = |name: &str| dir.path().join(name);
        let (ca_cert, serving_cert, serving_key) =
            (path("ca.crt"), path("tls.crt"), path("tls.key"));
        let signing_key = path("signing.key");
        make_certificates(dir.path(), &ca_cert, &serving_cert, &serving_key)?;
        openssl(
            &[
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:2048",
                "-out",
                s(&signing_key)?,
            ],
            None,
        )?;
        let modulus = modulus(&signing_key)?;

        let chain = CertificateDer::pem_file_iter(&serving_cert)
            .context("serving certificate")?
            .collect::<Result<Vec<_>, _>>()
            .context("serving certificate")?;
        let key = PrivateKeyDer::from_pem_file(&serving_key).context("serving key")?;
        let tls = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
        let tls = Arc::new(tls);

        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        let url = format!("https://127.0.0.1:{port}");
        let state = Arc::new(State {
            url,
            signing_key,
            modulus,
            request_token: format!("request-bearer-{}", std::process::id()),
            job: Mutex::new(GithubJob::new("org/app", "refs/heads/main")),
            audiences: Mutex::new(Vec::new()),
            serial: AtomicU64::new(0),
            stop: AtomicBool::new(false),
        });
        let serving = Arc::clone(&state);
        thread::Builder::new().name("oidc-issuer".into()).spawn(move || {
            for stream in listener.incoming() {
                if serving.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let (state, tls) = (Arc::clone(&serving), Arc::clone(&tls));
                thread::spawn(move || {
                    let _ = serve(&state, tls, stream);
                });
            }
        })?;
        Ok(OidcIssuer { state, ca_cert, port, _dir: dir })
    }

    /// `https://127.0.0.1:PORT`: the `iss` of its tokens and `--oidc-issuer-url`.
    pub fn url(&self) -> &str {
        &self.state.url
    }

    /// The CA (PEM) of its serving certificate: `--oidc-ca-file`, `SSL_CERT_FILE`.
    pub fn ca_cert(&self) -> &Path {
        &self.ca_cert
    }

    /// GitHub's `ACTIONS_ID_TOKEN_REQUEST_URL`, with its query string as GitHub's has one.
    pub fn request_url(&self) -> String {
        format!("{}/token?api-version=2.0", self.state.url)
    }

    /// GitHub's `ACTIONS_ID_TOKEN_REQUEST_TOKEN`: the bearer the token endpoint wants.
    pub fn request_token(&self) -> &str {
        &self.state.request_token
    }

    /// The variables of a GitHub Actions job with `permissions: id-token: write`, and
    /// `SSL_CERT_FILE` so that the job trusts this issuer.
    pub fn github_env(&self) -> Vec<(String, String)> {
        vec![
            ("ACTIONS_ID_TOKEN_REQUEST_URL".into(), self.request_url()),
            ("ACTIONS_ID_TOKEN_REQUEST_TOKEN".into(), self.request_token().into()),
            ("SSL_CERT_FILE".into(), self.ca_cert.display().to_string()),
        ]
    }

    /// The job the token endpoint mints for from now on.
    pub fn set_github_job(&self, job: GithubJob) {
        *lock(&self.state.job) = job;
    }

    /// The job the token endpoint mints for.
    pub fn github_job(&self) -> GithubJob {
        lock(&self.state.job).clone()
    }

    /// Every `audience` the token endpoint was asked for, in order.
    pub fn requested_audiences(&self) -> Vec<String> {
        lock(&self.state.audiences).clone()
    }

    /// The kube-apiserver 1.20 flags that trust this issuer for `audience`, naming users
    /// `prefix` + `sub`.
    pub fn api_server_flags(&self, audience: &str, prefix: &str) -> Vec<String> {
        vec![
            format!("--oidc-issuer-url={}", self.url()),
            format!("--oidc-client-id={audience}"),
            format!("--oidc-ca-file={}", self.ca_cert.display()),
            "--oidc-username-claim=sub".into(),
            format!("--oidc-username-prefix={prefix}"),
            "--oidc-signing-algs=RS256".into(),
        ]
    }

    /// A control plane whose kube-apiserver trusts this issuer ([`OidcIssuer::api_server_flags`]),
    /// returned once it does: see [`OidcIssuer::wait_until_trusted_by`].
    pub fn control_plane(&self, audience: &str, prefix: &str) -> crate::ControlPlane {
        let cluster =
            crate::ControlPlane::start_with_args(&self.api_server_flags(audience, prefix));
        self.wait_until_trusted_by(&cluster, audience);
        cluster
    }

    /// Waits until `cluster`'s API server takes this issuer's tokens for `audience`. Its OIDC
    /// authenticator fetches the discovery document in the background after start-up, and
    /// until then answers every token with 401 ("oidc: authenticator not initialized" in its
    /// log): a test that starts at once would see that instead of what it tests.
    pub fn wait_until_trusted_by(&self, cluster: &crate::ControlPlane, audience: &str) {
        // The job the token endpoint answers for: the one --oidc-required-claim flags are for.
        let probe = self.github_job();
        let mut last = String::new();
        let trusted =
            crate::poll("the API server's OIDC authenticator", Duration::from_mins(1), || {
                let token = self.mint(&self.github_claims(&probe, audience));
                let output = Command::new("kubectl")
                    .env("KUBECONFIG", "/dev/null")
                    .args(["--server", cluster.server(), "--certificate-authority"])
                    .arg(cluster.ca_cert())
                    .args(["--token", &token, "get", "--raw", "/api", "--request-timeout=5s"])
                    .output()
                    .context("running kubectl")?;
                last = String::from_utf8_lossy(&output.stderr).into_owned();
                Ok(output.status.success().then_some(()))
            });
        if let Err(e) = trusted {
            panic!("{e:#}; kubectl with a token of the issuer said: {last}");
        }
    }

    /// GitHub's claims for `job`, issued now for `audience`.
    pub fn github_claims(&self, job: &GithubJob, audience: &str) -> Map<String, Value> {
        self.state.github_claims(job, audience)
    }

    /// GitLab's claims for `job`, issued now for `audience`.
    pub fn gitlab_claims(&self, job: &GitlabJob, audience: &str) -> Map<String, Value> {
        let now = now();
        let serial = self.state.serial.fetch_add(1, Ordering::SeqCst);
        let namespace = job.project_path.rsplit_once('/').map_or("", |(ns, _)| ns);
        let mut claims = json!({
            "namespace_id": "72",
            "namespace_path": namespace,
            "project_id": "4242",
            "project_path": job.project_path,
            "user_id": "7",
            "user_login": "ci-user",
            "user_email": "ci-user@example.com",
            "user_access_level": "developer",
            "pipeline_id": (1000 + serial).to_string(),
            "pipeline_source": "push",
            "job_id": (5000 + serial).to_string(),
            "ref": job.git_ref,
            "ref_type": job.ref_type,
            "ref_path": format!("refs/{}/{}", if job.ref_type == "tag" { "tags" } else { "heads" }, job.git_ref),
            "ref_protected": "true",
            "runner_id": 1,
            "runner_environment": "gitlab-hosted",
            "sha": "0123456789abcdef0123456789abcdef01234567",
            "project_visibility": "private",
            "ci_config_ref_uri": format!("gitlab.com/{}//.gitlab-ci.yml@refs/heads/{}", job.project_path, job.git_ref),
            "ci_config_sha": "0123456789abcdef0123456789abcdef01234567",
            "jti": format!("gitlab-{serial}-{}", std::process::id()),
            "iss": self.url(),
            "iat": now,
            "nbf": now - 5,
            "exp": now + TOKEN_LIFETIME,
            "sub": job.subject(),
            "aud": audience,
        });
        if let Some(environment) = &job.environment {
            claims["environment"] = json!(environment);
            claims["environment_protected"] = json!("true");
            claims["deployment_tier"] = json!("production");
        }
        match claims {
            Value::Object(map) => map,
            _ => unreachable!("a JSON object"),
        }
    }

    /// Signs `claims` (RS256, this issuer's key): a token the API server verifies.
    pub fn mint(&self, claims: &Map<String, Value>) -> String {
        self.state.mint(claims).unwrap_or_else(|e| panic!("cannot sign a token: {e:#}"))
    }

    /// `claims` made to have expired a minute ago.
    pub fn expired(mut claims: Map<String, Value>) -> Map<String, Value> {
        let now = now();
        claims.insert("iat".into(), json!(now - 900));
        claims.insert("nbf".into(), json!(now - 900));
        claims.insert("exp".into(), json!(now - 60));
        claims
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }
}

impl Drop for OidcIssuer {
    fn drop(&mut self) {
        self.state.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop, which then sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

impl State {
    fn github_claims(&self, job: &GithubJob, audience: &str) -> Map<String, Value> {
        let now = now();
        let serial = self.serial.fetch_add(1, Ordering::SeqCst);
        let owner = job.repository.split('/').next().unwrap_or_default();
        let workflow_ref =
            format!("{}/.github/workflows/deploy.yml@{}", job.repository, job.git_ref);
        let ref_type = if job.git_ref.starts_with("refs/tags/") { "tag" } else { "branch" };
        let mut claims = json!({
            "jti": format!("github-{serial}-{}", std::process::id()),
            "sub": job.subject(),
            "aud": audience,
            "ref": job.git_ref,
            "sha": "0123456789abcdef0123456789abcdef01234567",
            "repository": job.repository,
            "repository_owner": owner,
            "repository_owner_id": "65432",
            "repository_id": "123456",
            "repository_visibility": "private",
            "run_id": (9000 + serial).to_string(),
            "run_number": "1",
            "run_attempt": "1",
            "actor": "ci-user",
            "actor_id": "1234",
            "workflow": "deploy",
            "head_ref": "",
            "base_ref": "",
            "event_name": job.event_name,
            "ref_type": ref_type,
            "ref_protected": "true",
            "workflow_ref": workflow_ref,
            "workflow_sha": "0123456789abcdef0123456789abcdef01234567",
            "job_workflow_ref": workflow_ref,
            "job_workflow_sha": "0123456789abcdef0123456789abcdef01234567",
            "runner_environment": "github-hosted",
            "iss": self.url,
            "nbf": now - 5,
            "iat": now,
            "exp": now + TOKEN_LIFETIME,
        });
        if let Some(environment) = &job.environment {
            claims["environment"] = json!(environment);
        }
        match claims {
            Value::Object(map) => map,
            _ => unreachable!("a JSON object"),
        }
    }

    fn mint(&self, claims: &Map<String, Value>) -> Result<String> {
        let header = json!({"alg": "RS256", "kid": KEY_ID, "typ": "JWT"});
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(Value::Object(claims.clone()).to_string())
        );
        let signature =
            openssl(&["dgst", "-sha256", "-sign", s(&self.signing_key)?], Some(input.as_bytes()))?;
        Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature)))
    }

    fn discovery(&self) -> Value {
        json!({
            "issuer": self.url,
            "jwks_uri": format!("{}/jwks", self.url),
            "subject_types_supported": ["public", "pairwise"],
            "response_types_supported": ["id_token"],
            "claims_supported": ["sub", "aud", "exp", "iat", "iss", "jti", "nbf", "ref", "repository", "repository_owner", "environment", "workflow", "event_name", "job_workflow_ref", "project_path", "namespace_path", "ref_type"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid"],
        })
    }

    fn jwks(&self) -> Value {
        json!({"keys": [{
            "kty": "RSA", "alg": "RS256", "use": "sig", "kid": KEY_ID,
            "n": self.modulus, "e": "AQAB",
        }]})
    }

    /// GitHub's token request: the bearer checked, the audience honoured (GitHub's default
    /// audience, the owner's URL, when none is asked for).
    fn token(&self, query: &str, authorization: Option<&str>) -> (u16, Value) {
        let bearer = authorization.and_then(|a| {
            a.split_once(' ')
                .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
                .map(|(_, b)| b.trim())
        });
        if bearer != Some(self.request_token.as_str()) {
            return (401, json!({"message": "Bad credentials"}));
        }
        let job = lock(&self.job).clone();
        let audience = query
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .find(|(k, _)| *k == "audience")
            .map_or_else(
                || {
                    format!(
                        "https://github.com/{}",
                        job.repository.split('/').next().unwrap_or_default()
                    )
                },
                |(_, v)| percent_decode(v),
            );
        lock(&self.audiences).push(audience.clone());
        match self.mint(&self.github_claims(&job, &audience)) {
            Ok(token) => (200, json!({"count": token.len(), "value": token})),
            Err(e) => (500, json!({"message": format!("{e:#}")})),
        }
    }
}

fn serve(state: &State, tls: Arc<rustls::ServerConfig>, stream: TcpStream) -> Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    stream.set_write_timeout(Some(Duration::from_secs(10)))?;
    let connection = rustls::ServerConnection::new(tls)?;
    let mut tls = rustls::StreamOwned::new(connection, stream);
    let mut head = Vec::new();
    let mut buffer = [0_u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let read = tls.read(&mut buffer)?;
        if read == 0 || head.len() > 64 * 1024 {
            return Ok(());
        }
        head.extend_from_slice(&buffer[..read]);
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default();
    let mut parts = request_line.split(' ');
    let (method, target) = (parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
    let authorization = lines
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("authorization"))
        .map(|(_, value)| value.trim().to_owned());
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let (status, body) = match (method, path) {
        ("GET", "/.well-known/openid-configuration") => (200, state.discovery()),
        ("GET", "/jwks") => (200, state.jwks()),
        ("GET", "/token") => state.token(query, authorization.as_deref()),
        _ => (404, json!({"message": "Not Found"})),
    };
    let body = body.to_string();
    let reason = match status {
        200 => "OK",
        401 => "Unauthorized",
        404 => "Not Found",
        _ => "Internal Server Error",
    };
    write!(
        tls,
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    tls.flush()?;
    tls.conn.send_close_notify();
    let _ = tls.flush();
    let _ = tls.sock.shutdown(Shutdown::Write);
    Ok(())
}

fn make_certificates(dir: &Path, ca_cert: &Path, cert: &Path, key: &Path) -> Result<()> {
    let ca_key = dir.join("ca.key");
    let csr = dir.join("tls.csr");
    let extensions = dir.join("tls.ext");
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"];
    let mut args = vec!["req", "-x509", "-nodes", "-days", "30"];
    args.extend(ec);
    args.extend(["-subj", "/CN=cicd-access-test-oidc-ca"]);
    args.extend(["-addext", "basicConstraints=critical,CA:TRUE"]);
    args.extend(["-addext", "keyUsage=critical,keyCertSign,cRLSign"]);
    args.extend(["-keyout", s(&ca_key)?, "-out", s(ca_cert)?]);
    openssl(&args, None)?;
    fs::write(
        &extensions,
        "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n\
         extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n",
    )?;
    let mut args = vec!["req", "-new", "-nodes"];
    args.extend(ec);
    args.extend(["-subj", "/CN=oidc-issuer", "-keyout", s(key)?, "-out", s(&csr)?]);
    openssl(&args, None)?;
    openssl(
        &[
            "x509",
            "-req",
            "-days",
            "30",
            "-set_serial",
            "2",
            "-in",
            s(&csr)?,
            "-CA",
            s(ca_cert)?,
            "-CAkey",
            s(&ca_key)?,
            "-extfile",
            s(&extensions)?,
            "-out",
            s(cert)?,
        ],
        None,
    )?;
    Ok(())
}

/// The RSA key's modulus, base64url (the JWK's `n`).
fn modulus(key: &Path) -> Result<String> {
    let out = openssl(&["rsa", "-in", s(key)?, "-noout", "-modulus"], None)?;
    let text = String::from_utf8(out)?;
    let hex = text.trim().strip_prefix("Modulus=").context("openssl printed no modulus")?;
    let bytes = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16))
        .collect::<Result<Vec<u8>, _>>()?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

fn openssl(args: &[&str], input: Option<&[u8]>) -> Result<Vec<u8>> {
    let mut child = Command::new("openssl")
        .args(args)
        .stdin(if input.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("could not run `openssl`; install it (Debian: apt-get install openssl)")?;
    if let (Some(input), Some(mut stdin)) = (input, child.stdin.take()) {
        stdin.write_all(input)?;
    }
    let output = child.wait_with_output()?;
    if !output.status.success() {
        bail!("`openssl {}` failed: {}", args.join(" "), String::from_utf8_lossy(&output.stderr));
    }
    Ok(output.stdout)
}

fn s(path: &Path) -> Result<&str> {
    path.to_str().context("a non-UTF-8 path")
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn percent_decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 3 <= bytes.len() && value.is_char_boundary(i + 3) => {
                if let Ok(byte) = u8::from_str_radix(&value[i + 1..i + 3], 16) {
                    out.push(byte);
                    i += 3;
                } else {
                    out.push(b'%');
                    i += 1;
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            byte => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
