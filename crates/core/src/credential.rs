//! `kubectl cicd token`: what the exec credential plugin of a keyless kubeconfig decides.
//! Where the job's OIDC token comes from (GitHub's token request, GitLab's `id_tokens:`
//! variable), what its payload says, and the `ExecCredential` kubectl reads.
//!
//! The token is a bearer credential: no error of this module ever holds it, nor the
//! request bearer of GitHub's token endpoint. Claims are read without verifying the
//! signature; the API server verifies it, this module only needs the expiry for kubectl.

use base64::Engine as _;
use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize};

use crate::time::rfc3339;

/// The variables GitHub Actions sets in a job whose workflow has `permissions: id-token: write`.
pub const GITHUB_REQUEST_URL: &str = "ACTIONS_ID_TOKEN_REQUEST_URL";
/// The bearer of GitHub's token request.
pub const GITHUB_REQUEST_TOKEN: &str = "ACTIONS_ID_TOKEN_REQUEST_TOKEN";

/// Why no credential could be made. No variant holds a token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CredentialError {
    /// GitHub Actions did not set its token request variables.
    #[error(
        "{variable} is not set: the workflow lacks `permissions: id-token: write` (add it to the job, or to the workflow's top-level permissions)"
    )]
    GithubRequestMissing { variable: &'static str },
    /// GitLab CI did not set the `id_tokens:` variable.
    #[error(
        "{variable} is not set: add to the job `id_tokens: {variable}: aud: {audience}` so that GitLab puts the job's ID token there"
    )]
    GitlabVariableMissing { variable: String, audience: String },
    /// A custom issuer's token variable is not set.
    #[error("{variable} is not set: the job must put its OIDC ID token in it")]
    VariableMissing { variable: String },
    /// The text is not a JWT (three base64url parts, a JSON object in the middle).
    #[error("the ID token is not a JWT: {reason}")]
    Malformed { reason: &'static str },
    /// The token's `exp` is not after `now`.
    #[error(
        "the ID token expired at {expired_at}: fetch a new one (GitLab: re-run the job; its id_tokens last as long as the job)"
    )]
    Expired { expired_at: String },
    /// GitHub's token endpoint answered something else than `{"value": "..."}`.
    #[error("GitHub's token request answered no token: {reason}")]
    BadResponse { reason: String },
    /// The request URL is not an https (or loopback http) URL.
    #[error("{GITHUB_REQUEST_URL} is not an https URL; is the job running on GitHub Actions?")]
    BadRequestUrl,
}

/// The payload claims the plugin and its messages use; others are ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Claims {
    pub iss: Option<String>,
    pub sub: Option<String>,
    /// `aud` is a string or a list in JWTs; always a list here.
    pub aud: Vec<String>,
    /// Seconds since the Unix epoch.
    pub exp: Option<i64>,
}

#[derive(Deserialize)]
struct Payload {
    iss: Option<String>,
    sub: Option<String>,
    #[serde(default)]
    aud: Option<Audience>,
    exp: Option<serde_json::Number>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

/// Reads the claims of a JWT's payload without verifying its signature.
pub fn read_claims(token: &str) -> Result<Claims, CredentialError> {
    let token = token.trim();
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(CredentialError::Malformed { reason: "it has not three dot-separated parts" });
    };
    if header.is_empty() || payload.is_empty() || signature.is_empty() {
        return Err(CredentialError::Malformed { reason: "a part is empty" });
    }
    let bytes = URL_SAFE_NO_PAD
        .decode(payload)
        .or_else(|_| URL_SAFE.decode(payload))
        .map_err(|_| CredentialError::Malformed { reason: "its payload is not base64url" })?;
    let payload: Payload = serde_json::from_slice(&bytes).map_err(|_| {
        CredentialError::Malformed { reason: "its payload is not a JSON object of claims" }
    })?;
    let exp = match payload.exp {
        None => None,
        Some(number) => Some(
            number
                .as_i64()
                .or_else(|| number.as_f64().filter(|f| f.abs() < 1e15).map(truncate))
                .ok_or(CredentialError::Malformed {
                    reason: "its exp is not a number of seconds",
                })?,
        ),
    };
    Ok(Claims {
        iss: payload.iss,
        sub: payload.sub,
        aud: match payload.aud {
            None => Vec::new(),
            Some(Audience::One(one)) => vec![one],
            Some(Audience::Many(many)) => many,
        },
        exp,
    })
}

#[allow(clippy::cast_possible_truncation)]
fn truncate(seconds: f64) -> i64 {
    seconds as i64
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExecCredential<'a> {
    api_version: &'static str,
    kind: &'static str,
    status: Status<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Status<'a> {
    token: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    expiration_timestamp: Option<String>,
}

/// The `client.authentication.k8s.io/v1` `ExecCredential` kubectl reads from the plugin's
/// stdout, with the token's expiry so that kubectl asks again before it runs out.
pub fn render_exec_credential(token: &str, expires_at: Option<i64>) -> String {
    let credential = ExecCredential {
        api_version: "client.authentication.k8s.io/v1",
        kind: "ExecCredential",
        status: Status { token, expiration_timestamp: expires_at.map(rfc3339) },
    };
    let mut text = serde_json::to_string(&credential).unwrap_or_default();
    text.push('\n');
    text
}

/// The credential of a fetched ID token: checked to be a JWT not expired at `now` (seconds
/// since the epoch), its `exp` as the expiry.
pub fn exec_credential(token: &str, now: i64) -> Result<String, CredentialError> {
    let token = token.trim();
    let claims = read_claims(token)?;
    if let Some(exp) = claims.exp
        && exp <= now
    {
        return Err(CredentialError::Expired { expired_at: rfc3339(exp) });
    }
    Ok(render_exec_credential(token, claims.exp))
}

/// Where and with which bearer to ask GitHub for the job's token, from the two variables
/// as read (`None` when unset or empty).
pub fn github_request(
    url: Option<&str>,
    bearer: Option<&str>,
    audience: &str,
) -> Result<(String, String), CredentialError> {
    let url = url
        .filter(|u| !u.is_empty())
        .ok_or(CredentialError::GithubRequestMissing { variable: GITHUB_REQUEST_URL })?;
    let bearer = bearer
        .filter(|b| !b.is_empty())
        .ok_or(CredentialError::GithubRequestMissing { variable: GITHUB_REQUEST_TOKEN })?;
    if !url.starts_with("https://") {
        return Err(CredentialError::BadRequestUrl);
    }
    Ok((github_token_url(url, audience), bearer.to_owned()))
}

/// GitHub's request URL already has a query (`?api-version=2.0`): the audience is appended
/// to it, percent-encoded.
pub fn github_token_url(request_url: &str, audience: &str) -> String {
    let (base, fragment) = match request_url.split_once('#') {
        Some((base, _)) => (base, ""),
        None => (request_url, ""),
    };
    let separator = if !base.contains('?') {
        "?"
    } else if base.ends_with('?') || base.ends_with('&') {
        ""
    } else {
        "&"
    };
    format!("{base}{separator}audience={}{fragment}", percent_encode(audience))
}

/// RFC 3986 query-component encoding: everything but the unreserved characters.
fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[derive(Deserialize)]
struct TokenResponse {
    value: Option<String>,
}

/// The token in GitHub's answer `{"count": N, "value": "<jwt>"}`.
pub fn parse_github_response(body: &[u8]) -> Result<String, CredentialError> {
    let response: TokenResponse = serde_json::from_slice(body).map_err(|_| {
        CredentialError::BadResponse { reason: "the answer is not a JSON object".into() }
    })?;
    match response.value {
        Some(value) if !value.trim().is_empty() => Ok(value.trim().to_owned()),
        _ => Err(CredentialError::BadResponse { reason: "its value is missing or empty".into() }),
    }
}

/// The token a GitLab job's `id_tokens:` variable holds, or the error saying how to add it.
pub fn gitlab_token(
    variable: &str,
    value: Option<&str>,
    audience: &str,
) -> Result<String, CredentialError> {
    match value.map(str::trim) {
        Some(token) if !token.is_empty() => Ok(token.to_owned()),
        _ => Err(CredentialError::GitlabVariableMissing {
            variable: variable.to_owned(),
            audience: audience.to_owned(),
        }),
    }
}

/// The token a custom issuer's job put in `variable`.
pub fn variable_token(variable: &str, value: Option<&str>) -> Result<String, CredentialError> {
    match value.map(str::trim) {
        Some(token) if !token.is_empty() => Ok(token.to_owned()),
        _ => Err(CredentialError::VariableMissing { variable: variable.to_owned() }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "s3cr3t-signature-part";

    fn jwt(payload: &str) -> String {
        format!(
            "{}.{}.{SECRET}",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256","typ":"JWT"}"#),
            URL_SAFE_NO_PAD.encode(payload)
        )
    }

    fn no_secret(error: &CredentialError) {
        let text = error.to_string();
        assert!(!text.contains(SECRET), "{text}");
        assert!(!text.contains("eyJ"), "{text}");
    }

    #[test]
    fn claims_are_read_without_verifying() {
        let token = jwt(
            r#"{"iss":"https://token.actions.githubusercontent.com","sub":"repo:org/app:ref:refs/heads/main","aud":"https://k8s.example:6443","exp":1764684300,"repository":"org/app"}"#,
        );
        let claims = read_claims(&token).unwrap();
        assert_eq!(claims.sub.as_deref(), Some("repo:org/app:ref:refs/heads/main"));
        assert_eq!(claims.aud, ["https://k8s.example:6443"]);
        assert_eq!(claims.exp, Some(1_764_684_300));
        let list = read_claims(&jwt(r#"{"aud":["a","b"],"exp":5.9}"#)).unwrap();
        assert_eq!(list.aud, ["a", "b"]);
        assert_eq!(list.exp, Some(5));
        assert_eq!(read_claims(&jwt("{}")).unwrap(), Claims::default());
    }

    #[test]
    fn malformed_tokens_say_why_and_never_show_the_token() {
        let cases = [
            ("", "three"),
            ("abc", "three"),
            (&format!("a.b.c.{SECRET}"), "three"),
            (&format!("a..{SECRET}"), "empty"),
            (&format!("a.!!!.{SECRET}"), "base64url"),
            (&format!("a.{}.{SECRET}", URL_SAFE_NO_PAD.encode("[1]")), "JSON object"),
            (&format!("a.{}.{SECRET}", URL_SAFE_NO_PAD.encode("not json")), "JSON object"),
            (&jwt(r#"{"exp":"tomorrow"}"#), "JSON object"),
            (&jwt(r#"{"exp":1e300}"#), "seconds"),
        ];
        for (token, reason) in cases {
            let error = read_claims(token).unwrap_err();
            assert!(matches!(&error, CredentialError::Malformed { .. }), "{token}: {error:?}");
            assert!(error.to_string().contains(reason), "{token}: {error}");
            no_secret(&error);
        }
    }

    #[test]
    fn exec_credential_has_the_token_and_its_expiry() {
        let token = jwt(r#"{"sub":"x","exp":1764684300}"#);
        let text = exec_credential(&format!("{token}\n"), 1_764_684_000).unwrap();
        assert!(text.ends_with('\n'));
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            value,
            serde_json::json!({
                "apiVersion": "client.authentication.k8s.io/v1",
                "kind": "ExecCredential",
                "status": {"token": token, "expirationTimestamp": "2025-12-02T14:05:00Z"}
            })
        );
        let forever = render_exec_credential("t", None);
        assert_eq!(
            forever,
            "{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{\"token\":\"t\"}}\n"
        );
    }

    #[test]
    fn an_expired_token_is_refused_with_its_expiry_only() {
        let token = jwt(r#"{"exp":1764684300}"#);
        let error = exec_credential(&token, 1_764_684_300).unwrap_err();
        assert_eq!(error, CredentialError::Expired { expired_at: "2025-12-02T14:05:00Z".into() });
        no_secret(&error);
        assert!(exec_credential(&token, 1_764_684_299).is_ok());
    }

    #[test]
    fn the_audience_joins_the_request_query() {
        let url = "https://pipelines.actions.githubusercontent.com/abc/idtoken?api-version=2.0";
        assert_eq!(
            github_token_url(url, "https://k8s.example.com:6443/x y"),
            format!("{url}&audience=https%3A%2F%2Fk8s.example.com%3A6443%2Fx%20y")
        );
        assert_eq!(github_token_url("https://h/t", "a"), "https://h/t?audience=a");
        assert_eq!(github_token_url("https://h/t?", "a&b"), "https://h/t?audience=a%26b");
        assert_eq!(github_token_url("https://h/t?x=1#f", "é"), "https://h/t?x=1&audience=%C3%A9");
    }

    #[test]
    fn missing_github_variables_name_the_permission() {
        for (url, bearer, variable) in [
            (None, Some("b"), GITHUB_REQUEST_URL),
            (Some(""), Some("b"), GITHUB_REQUEST_URL),
            (Some("https://h/t?v=2"), None, GITHUB_REQUEST_TOKEN),
        ] {
            let error = github_request(url, bearer, "aud").unwrap_err();
            assert_eq!(error, CredentialError::GithubRequestMissing { variable });
            assert!(error.to_string().contains("permissions: id-token: write"), "{error}");
            assert!(error.to_string().starts_with(variable), "{error}");
        }
        assert_eq!(
            github_request(Some("http://h/t"), Some("b"), "a").unwrap_err(),
            CredentialError::BadRequestUrl
        );
        assert_eq!(
            github_request(Some("https://h/t?v=2"), Some(SECRET), "a").unwrap(),
            ("https://h/t?v=2&audience=a".to_owned(), SECRET.to_owned())
        );
    }

    #[test]
    fn github_response_value() {
        assert_eq!(parse_github_response(br#"{"count":1234,"value":"a.b.c"}"#).unwrap(), "a.b.c");
        for body in [&b"{\"count\":1}"[..], b"{\"value\":\"\"}", b"<html>", b"", b"{\"value\":3}"] {
            let error = parse_github_response(body).unwrap_err();
            assert!(matches!(error, CredentialError::BadResponse { .. }), "{error:?}");
        }
    }

    #[test]
    fn variables_say_how_to_set_them() {
        let error =
            gitlab_token("CICD_ACCESS_ID_TOKEN", Some("  "), "https://k8s:6443").unwrap_err();
        assert_eq!(
            error.to_string(),
            "CICD_ACCESS_ID_TOKEN is not set: add to the job `id_tokens: CICD_ACCESS_ID_TOKEN: aud: https://k8s:6443` so that GitLab puts the job's ID token there"
        );
        assert_eq!(gitlab_token("V", Some(" a.b.c\n"), "x").unwrap(), "a.b.c");
        assert_eq!(
            variable_token("MY_TOKEN", None).unwrap_err().to_string(),
            "MY_TOKEN is not set: the job must put its OIDC ID token in it"
        );
        assert_eq!(variable_token("V", Some("a.b.c")).unwrap(), "a.b.c");
    }
}
