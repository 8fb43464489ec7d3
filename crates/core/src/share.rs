//! A spec carried outside the tool: in a share link's fragment (`#spec=…`, the page's URL
//! and the embed code) and as an imported `CiCdAccess` file. Only the spec travels, never a
//! token or anything pasted.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::spec::{AccessSpec, SpecFileError};

/// The fragment's key: `#spec=` and the spec's YAML, base64url without padding.
pub const LINK_KEY: &str = "spec=";
/// Longest spec a link carries, in characters of base64url: a spec is a few KB, and browsers
/// and chat tools cut or refuse links far shorter than the page could produce.
pub const MAX_LINK_SPEC_CHARS: usize = 64 * 1024;

/// Why a share link or an imported file gave no spec.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShareError {
    #[error(
        "the link's spec is {chars} characters long, more than the {limit} a link carries; ask for the link again, or for the exported spec file"
    )]
    LinkTooLong { chars: usize, limit: usize },
    #[error("the link's spec is not valid base64url; copy the whole link again")]
    NotBase64,
    #[error("the link's spec is not text; copy the whole link again")]
    NotText,
    #[error("the link's spec: {0}")]
    LinkSpec(SpecFileError),
    #[error(transparent)]
    File(#[from] SpecFileError),
    #[error(
        "the Role: {0}; a Role has metadata.name and rules, as `kubectl get role NAME -o yaml` prints it"
    )]
    Role(String),
}

/// The fragment (without `#`) that carries `spec`, or why a link cannot carry it.
pub fn encode_link(spec: &AccessSpec) -> Result<String, ShareError> {
    let encoded = URL_SAFE_NO_PAD.encode(spec.to_yaml());
    if encoded.len() > MAX_LINK_SPEC_CHARS {
        return Err(ShareError::LinkTooLong { chars: encoded.len(), limit: MAX_LINK_SPEC_CHARS });
    }
    Ok(format!("{LINK_KEY}{encoded}"))
}

/// Reads a link's fragment, with or without its `#`. `Ok(None)` when it carries no spec; of
/// a fragment with several documents, the first.
pub fn decode_link(fragment: &str) -> Result<Option<AccessSpec>, ShareError> {
    let fragment = fragment.strip_prefix('#').unwrap_or(fragment);
    let Some(encoded) = fragment.split('&').find_map(|part| part.strip_prefix(LINK_KEY)) else {
        return Ok(None);
    };
    if encoded.len() > MAX_LINK_SPEC_CHARS {
        return Err(ShareError::LinkTooLong { chars: encoded.len(), limit: MAX_LINK_SPEC_CHARS });
    }
    let bytes =
        URL_SAFE_NO_PAD.decode(encoded.trim_end_matches('=')).map_err(|_| ShareError::NotBase64)?;
    let text = String::from_utf8(bytes).map_err(|_| ShareError::NotText)?;
    let specs = AccessSpec::parse_documents(&text).map_err(ShareError::LinkSpec)?;
    Ok(specs.into_iter().next())
}

/// An imported `CiCdAccess` file: the spec the page shows, and how many pipelines the file
/// holds (the CLI reads them all).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    pub spec: AccessSpec,
    pub pipelines: usize,
    /// The file was a plain Role: its name, namespace and rules, the rest the defaults.
    pub from_role: bool,
}

impl Imported {
    /// What the page says besides "imported", when there is more to say.
    pub fn note(&self) -> Option<String> {
        if self.from_role {
            return Some(format!(
                "read Role {} with {} rule{}; the other objects take the default names, check them in step 1",
                self.spec.role,
                self.spec.rules.len(),
                if self.spec.rules.len() == 1 { "" } else { "s" }
            ));
        }
        (self.pipelines > 1).then(|| {
            format!(
                "the file holds {} pipelines; the page shows the first, the CLI reads them all",
                self.pipelines
            )
        })
    }
}

/// Reads an imported `CiCdAccess` file (YAML or JSON, one or more documents), or a plain
/// RBAC `Role` (the documentation's `ci-cd-role.yaml`, `kubectl get role -o yaml`).
pub fn import_spec(text: &str) -> Result<Imported, ShareError> {
    if let Some(role) = role_document(text) {
        return Ok(Imported { spec: role?, pipelines: 1, from_role: true });
    }
    let specs = AccessSpec::parse_documents(text)?;
    let pipelines = specs.len();
    let spec = specs.into_iter().next().ok_or(SpecFileError::Empty)?;
    Ok(Imported { spec, pipelines, from_role: false })
}

/// The access of a text whose first document is a `Role`; `None` for anything else.
fn role_document(text: &str) -> Option<Result<AccessSpec, ShareError>> {
    use serde::Deserialize as _;
    crate::input::check_text("the file", text, crate::input::MAX_SPEC_BYTES).ok()?;
    let value = serde_yaml::Deserializer::from_str(text)
        .map(serde_json::Value::deserialize)
        .find(|v| !matches!(v, Ok(serde_json::Value::Null)))?
        .ok()?;
    let text_at = |pointer: &str| value.pointer(pointer).and_then(serde_json::Value::as_str);
    if text_at("/kind") != Some("Role")
        || !text_at("/apiVersion")?.starts_with("rbac.authorization.k8s.io/")
    {
        return None;
    }
    let read = || -> Result<AccessSpec, ShareError> {
        let name = text_at("/metadata/name")
            .ok_or_else(|| ShareError::Role("it has no metadata.name".into()))?;
        let rules = value.get("rules").cloned().unwrap_or(serde_json::Value::Array(Vec::new()));
        let rules: Vec<crate::spec::Rule> =
            serde_json::from_value(rules).map_err(|e| ShareError::Role(e.to_string()))?;
        Ok(AccessSpec {
            role: name.to_owned(),
            namespace: text_at("/metadata/namespace").map(str::to_owned),
            rules,
            ..AccessSpec::default()
        })
    };
    Some(read())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Rule;

    #[test]
    fn a_link_carries_the_spec_there_and_back() {
        let spec = AccessSpec { namespace: Some("dev".into()), ..AccessSpec::default() };
        let fragment = encode_link(&spec).expect("a small spec fits");
        assert_eq!(decode_link(&format!("#{fragment}")), Ok(Some(spec.clone())));
        assert_eq!(decode_link(&format!("embed&{fragment}")), Ok(Some(spec)));
        assert_eq!(decode_link(""), Ok(None));
        assert_eq!(decode_link("#embed"), Ok(None));
    }

    #[test]
    fn broken_and_oversized_links_are_refused_with_what_to_do() {
        assert_eq!(decode_link("#spec=%%%"), Err(ShareError::NotBase64));
        assert_eq!(decode_link("#spec=__8"), Err(ShareError::NotText));
        let long = format!("#spec={}", "A".repeat(MAX_LINK_SPEC_CHARS + 1));
        assert!(matches!(decode_link(&long), Err(ShareError::LinkTooLong { .. })));
        let not_a_spec = URL_SAFE_NO_PAD.encode("kind: Pod\n");
        let error = decode_link(&format!("#spec={not_a_spec}")).unwrap_err().to_string();
        assert!(error.starts_with("the link's spec: document 1: kind is \"Pod\""), "{error}");
    }

    #[test]
    fn a_spec_too_large_for_a_link_says_so_instead_of_making_one() {
        let rules = (0..800)
            .map(|i| Rule::new(&["example.com"], &[&format!("widgets{i:04}")], &["get", "list"]))
            .collect();
        let spec = AccessSpec { rules, ..AccessSpec::default() };
        let error = encode_link(&spec).unwrap_err();
        assert!(matches!(error, ShareError::LinkTooLong { .. }), "{error}");
        assert!(error.to_string().contains("exported spec file"), "{error}");
    }

    #[test]
    fn a_plain_role_is_imported_with_its_name_and_rules() {
        let text = include_str!("../../../tests/fixtures/welkin-user-demo-role.yaml");
        let imported = import_spec(text).expect("the documented Role");
        assert!(imported.from_role);
        assert_eq!(imported.spec.rules, crate::preset::find("welkin-user-demo").unwrap().rules());
        assert_eq!(imported.spec.role, "ci-cd");
        assert_eq!(imported.spec.namespace, None);
        assert!(imported.note().is_some_and(|n| n.contains("Role ci-cd with 7 rules")));
        let broken = "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: x\nrules:\n- verbz: [get]\n";
        assert!(import_spec(broken).unwrap_err().to_string().contains("verbz"));
        let pod = import_spec("apiVersion: v1\nkind: Pod\n").unwrap_err().to_string();
        assert!(pod.contains("kind is \"Pod\""), "{pod}");
    }

    #[test]
    fn an_imported_file_gives_its_first_pipeline_and_counts_the_rest() {
        let one = AccessSpec::default().to_yaml();
        let imported = import_spec(&format!("{one}---\n{one}")).expect("two specs");
        assert_eq!(imported.pipelines, 2);
        assert!(imported.note().is_some_and(|n| n.contains("2 pipelines")));
        assert_eq!(import_spec(&one).map(|i| i.note()), Ok(None));
        assert_eq!(import_spec(""), Err(ShareError::File(SpecFileError::Empty)));
    }
}
