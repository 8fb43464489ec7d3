//! Bounds on what users hand the core — spec files, manifests, pasted text — the same for
//! the page and the CLI, checked in linear time before any parser sees the text.
//!
//! The YAML parser's own recursion limit is reached only after it has scanned the whole
//! nesting, in time quadratic in its depth (100k levels, a 200 KB file: 41 s). The size
//! limits keep a file from becoming a Role the API server would refuse with a 413 (its
//! request limit is 3 MiB, etcd's object limit 1.5 MiB) or from filling memory.

/// A `CiCdAccess` file: a spec of a thousand rules is about 150 KB.
pub const MAX_SPEC_BYTES: usize = 1 << 20;
/// Everything given to one derivation together: `helm template` of large charts is a few MB.
pub const MAX_MANIFEST_BYTES: usize = 32 << 20;
/// One pasted or read text: a Secret, a kubeconfig, `can-i` output, a rules review, a 403.
pub const MAX_PASTE_BYTES: usize = 1 << 20;
/// Rules of one Role: a thousand rules fit well under the API server's request limit.
pub const MAX_RULES: usize = 1000;
/// Nesting of a YAML or JSON text: Kubernetes objects, CRD schemas included, stay far below.
pub const MAX_DEPTH: usize = 100;

/// Why a text was refused before it was parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    #[error(
        "{what} is {size} bytes, more than the {limit} this tool reads; split it, or give only what the pipeline needs"
    )]
    TooLarge { what: &'static str, size: usize, limit: usize },
    #[error(
        "{what} nests deeper than {limit} levels at line {line}; no Kubernetes object does, so it is not read"
    )]
    TooDeep { what: &'static str, line: usize, limit: usize },
}

/// Refuses `text` when it is larger than `limit` bytes or nests deeper than [`MAX_DEPTH`].
pub fn check_text(what: &'static str, text: &str, limit: usize) -> Result<(), InputError> {
    if text.len() > limit {
        return Err(InputError::TooLarge { what, size: text.len(), limit });
    }
    match deepest_line(text, MAX_DEPTH) {
        Some(line) => Err(InputError::TooDeep { what, line, limit: MAX_DEPTH }),
        None => Ok(()),
    }
}

/// The first line (1-based) where the nesting of a YAML or JSON text exceeds `limit`: block
/// levels (indentation and `- - -` runs) plus open flow brackets. An estimate that errs
/// towards less depth (quotes end at the line's end), in one pass.
fn deepest_line(text: &str, limit: usize) -> Option<usize> {
    let mut indents: Vec<usize> = Vec::new();
    let mut flow = 0usize;
    for (index, line) in text.lines().enumerate() {
        let body = line.trim_start_matches(' ');
        if body.is_empty() || body.starts_with('#') {
            continue;
        }
        let indent = line.len() - body.len();
        if flow == 0 {
            while indents.last().is_some_and(|&top| top > indent) {
                indents.pop();
            }
            if indents.last().is_none_or(|&top| top < indent) {
                indents.push(indent);
            }
        }
        let mut rest = body;
        let mut dashes = 0;
        while let Some(after) = rest.strip_prefix('-') {
            if !(after.is_empty() || after.starts_with(' ')) {
                break;
            }
            dashes += 1;
            rest = after.trim_start_matches(' ');
        }
        let block = indents.len() + dashes;
        let mut deepest = flow;
        let mut quote = None;
        let mut previous = ' ';
        for c in rest.chars() {
            match (quote, c) {
                (Some(open), _) if c == open => quote = None,
                (None, '\'' | '"') if matches!(previous, ' ' | '[' | '{' | ',' | ':') => {
                    quote = Some(c);
                }
                (None, '#') if previous == ' ' => break,
                (None, '[' | '{') => {
                    flow += 1;
                    deepest = deepest.max(flow);
                }
                (None, ']' | '}') => flow = flow.saturating_sub(1),
                // Inside quotes only the closing quote counts.
                _ => {}
            }
            previous = c;
        }
        if block + deepest > limit {
            return Some(index + 1);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_objects_pass() {
        let role = "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: ci-cd\n\
                    rules:\n- apiGroups: ['']\n  resources: [pods, 'pods/log']\n  verbs: [get]\n";
        assert_eq!(check_text("the spec", role, MAX_SPEC_BYTES), Ok(()));
        let json = r#"{"a": {"b": [{"c": "don't [stop"}, {"d": "}}}"}]}}"#;
        assert_eq!(check_text("the spec", json, MAX_SPEC_BYTES), Ok(()));
    }

    #[test]
    fn deep_flow_block_and_dash_nesting_are_refused_with_their_line() {
        let flow = format!("a: 1\nb: {}{}\n", "[".repeat(200), "]".repeat(200));
        assert_eq!(
            check_text("the spec", &flow, MAX_SPEC_BYTES),
            Err(InputError::TooDeep { what: "the spec", line: 2, limit: MAX_DEPTH })
        );
        let block: String =
            (0..150).flat_map(|level| [" ".repeat(level), "k:\n".to_owned()]).collect();
        assert!(matches!(check_text("x", &block, usize::MAX), Err(InputError::TooDeep { .. })));
        let dashes = format!("{}x\n", "- ".repeat(150));
        assert!(matches!(check_text("x", &dashes, usize::MAX), Err(InputError::TooDeep { .. })));
        // Deep but within the limit.
        let fine = format!("{}{}", "[".repeat(90), "]".repeat(90));
        assert_eq!(check_text("x", &fine, usize::MAX), Ok(()));
    }

    #[test]
    fn size_is_checked_first() {
        let error = check_text("the spec", &"x".repeat(11), 10).unwrap_err();
        assert_eq!(
            error.to_string(),
            "the spec is 11 bytes, more than the 10 this tool reads; split it, or give only what the pipeline needs"
        );
    }
}
