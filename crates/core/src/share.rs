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
}

impl Imported {
    /// What the page says besides "imported", when there is more to say.
    pub fn note(&self) -> Option<String> {
        (self.pipelines > 1).then(|| {
            format!(
                "the file holds {} pipelines; the page shows the first, the CLI reads them all",
                self.pipelines
            )
        })
    }
}

/// Reads an imported `CiCdAccess` file (YAML or JSON, one or more documents).
pub fn import_spec(text: &str) -> Result<Imported, ShareError> {
    let specs = AccessSpec::parse_documents(text)?;
    let pipelines = specs.len();
    let spec = specs.into_iter().next().ok_or(SpecFileError::Empty)?;
    Ok(Imported { spec, pipelines })
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
    fn an_imported_file_gives_its_first_pipeline_and_counts_the_rest() {
        let one = AccessSpec::default().to_yaml();
        let imported = import_spec(&format!("{one}---\n{one}")).expect("two specs");
        assert_eq!(imported.pipelines, 2);
        assert!(imported.note().is_some_and(|n| n.contains("2 pipelines")));
        assert_eq!(import_spec(&one).map(|i| i.note()), Ok(None));
        assert_eq!(import_spec(""), Err(ShareError::File(SpecFileError::Empty)));
    }
}
