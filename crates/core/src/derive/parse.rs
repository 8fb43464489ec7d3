//! Manifest text into objects: documents split at `---`, `List`s flattened, Helm's
//! `# Source:` comments and hook annotations kept.

use serde::Serialize;

use super::DeriveError;

/// One input file (or the pasted text, or stdin).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// Shown in messages: a path, `-` or `pasted`.
    pub name: String,
    pub text: String,
}

impl Source {
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        Source { name: name.into(), text: text.into() }
    }
}

/// One object found in the manifests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ObjectRef {
    pub api_version: String,
    pub kind: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Where it was found: `chart/templates/x.yaml` (from helm's `# Source:` comment) or
    /// `file.yaml, document 2`.
    pub origin: String,
}

impl ObjectRef {
    pub(super) fn group(&self) -> &str {
        self.api_version.rsplit_once('/').map_or("", |(group, _)| group)
    }

    pub(super) fn label(&self) -> String {
        format!("{} {}", self.kind, self.name)
    }
}

/// An object with what the deploy method needs to know about it.
#[derive(Debug, Clone)]
pub(super) struct Found {
    pub(super) object: ObjectRef,
    /// `helm.sh/hook` annotation, split at commas.
    pub(super) hooks: Vec<String>,
    /// It has only `metadata.generateName`: the API server names it at each create.
    pub(super) generated: bool,
}

/// The objects of one source: documents split at `---`, `List`s flattened, documents that
/// are empty or only comments skipped.
pub fn parse_objects(source: &Source) -> Result<Vec<ObjectRef>, DeriveError> {
    Ok(parse_manifests(source)?.into_iter().map(|f| f.object).collect())
}

pub(super) fn parse_manifests(source: &Source) -> Result<Vec<Found>, DeriveError> {
    crate::input::check_text("the manifests", &source.text, crate::input::MAX_MANIFEST_BYTES)
        .map_err(|reason| DeriveError::Input { origin: source.name.clone(), reason })?;
    let mut found = Vec::new();
    let documents = split_documents(&source.text);
    let many = documents.len() > 1;
    for (index, document) in documents.iter().enumerate() {
        let origin = match (&document.helm_source, many) {
            (Some(path), _) => format!("{} ({path})", source.name),
            (None, true) => format!("{}, document {}", source.name, index + 1),
            (None, false) => source.name.clone(),
        };
        if document.text.lines().all(|l| {
            let l = l.trim();
            l.is_empty() || l.starts_with('#')
        }) {
            continue;
        }
        let value: serde_json::Value = serde_yaml::from_str(&document.text).map_err(|e| {
            let line = document.line + e.location().map_or(0, |l| l.line().saturating_sub(1));
            let message = e.to_string();
            // serde_yaml appends " at line L column C", which is about the document alone.
            let message = message.split(" at line ").next().unwrap_or(&message).to_owned();
            DeriveError::Yaml { origin: origin.clone(), line, message }
        })?;
        if value.is_null() {
            continue;
        }
        flatten(&value, &origin, document.line, &mut found)?;
    }
    Ok(found)
}

fn text<'a>(value: &'a serde_json::Value, path: &[&str]) -> Option<&'a str> {
    path.iter().try_fold(value, |v, key| v.get(*key))?.as_str()
}

fn flatten(
    value: &serde_json::Value,
    origin: &str,
    line: usize,
    found: &mut Vec<Found>,
) -> Result<(), DeriveError> {
    let (Some(kind), Some(api_version)) = (text(value, &["kind"]), text(value, &["apiVersion"]))
    else {
        return Err(DeriveError::NotAnObject { origin: origin.to_owned(), line });
    };
    if kind.ends_with("List") && value.get("items").is_some() {
        let bad = || DeriveError::BadList { origin: origin.to_owned(), kind: kind.to_owned() };
        let items = value.get("items").and_then(serde_json::Value::as_array).ok_or_else(bad)?;
        for (index, item) in items.iter().enumerate() {
            if item.is_null() {
                continue;
            }
            if !item.is_object() {
                return Err(bad());
            }
            flatten(item, &format!("{origin}, item {}", index + 1), line, found)?;
        }
        return Ok(());
    }
    let name = text(value, &["metadata", "name"]).map_or_else(
        || {
            text(value, &["metadata", "generateName"])
                .map_or_else(|| "(no name)".to_owned(), |prefix| format!("{prefix}*"))
        },
        str::to_owned,
    );
    let generated = text(value, &["metadata", "name"]).is_none()
        && text(value, &["metadata", "generateName"]).is_some();
    let hooks = text(value, &["metadata", "annotations", "helm.sh/hook"])
        .map(|h| h.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect())
        .unwrap_or_default();
    found.push(Found {
        object: ObjectRef {
            api_version: api_version.to_owned(),
            kind: kind.to_owned(),
            name,
            namespace: text(value, &["metadata", "namespace"]).map(str::to_owned),
            origin: origin.to_owned(),
        },
        hooks,
        generated,
    });
    Ok(())
}

struct RawDocument {
    text: String,
    /// 1-based line of the document's first line in the source.
    line: usize,
    /// The path of helm template's `# Source: chart/templates/x.yaml` comment.
    helm_source: Option<String>,
}

/// Splits at `---` lines (which YAML allows to carry content or a comment after a space) and
/// drops what follows a `...` end marker until the next `---`.
fn split_documents(text: &str) -> Vec<RawDocument> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut documents = Vec::new();
    let mut current = RawDocument { text: String::new(), line: 1, helm_source: None };
    let mut ended = false;
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        if let Some(rest) =
            line.strip_prefix("---").filter(|r| r.is_empty() || r.starts_with([' ', '\t']))
        {
            documents.push(std::mem::replace(
                &mut current,
                RawDocument { text: String::new(), line: number, helm_source: None },
            ));
            ended = false;
            let rest = rest.trim_start();
            if !rest.is_empty() && !rest.starts_with('#') {
                current.text.push_str(rest);
                current.text.push('\n');
            }
            continue;
        }
        if line.starts_with("...") && line[3..].trim().is_empty() {
            ended = true;
            continue;
        }
        if ended {
            continue;
        }
        if current.helm_source.is_none()
            && let Some(path) = line.strip_prefix("# Source:")
        {
            current.helm_source = Some(path.trim().to_owned());
        }
        current.text.push_str(line);
        current.text.push('\n');
    }
    documents.push(current);
    documents
}

#[cfg(test)]
mod tests {
    use super::*;

    const ODD_SEPARATORS: &str = include_str!("../../tests/fixtures/derive/odd-separators.yaml");

    #[test]
    fn odd_separators() {
        let sources = [Source::new("odd.yaml", ODD_SEPARATORS)];
        let objects = parse_objects(&sources[0]).unwrap();
        insta::assert_yaml_snapshot!("odd_separators", objects);
    }

    #[test]
    fn separators_edge_cases() {
        let parse = |text: &str| parse_objects(&Source::new("t", text)).unwrap();
        let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n";
        assert_eq!(parse(&format!("---\n{cm}")).len(), 1);
        assert_eq!(
            parse(&format!("--- # first\n{cm}---\n# only a comment\n---\n\n---\n{cm}")).len(),
            2
        );
        assert_eq!(parse(&format!("{cm}...\n---\n{cm}...\n")).len(), 2);
        assert_eq!(
            parse("--- {apiVersion: v1, kind: Secret, metadata: {name: s}}\n")[0].kind,
            "Secret"
        );
        assert_eq!(parse(&format!("\u{feff}{}", cm.replace('\n', "\r\n")))[0].name, "a");
        // `----` is content, not a separator.
        let block =
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\ndata:\n  x: |\n    ----\n";
        assert_eq!(parse(block).len(), 1);
    }
}
