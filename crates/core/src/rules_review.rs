//! Reading a SelfSubjectRulesReview as the API server returns it (`kubectl create -f
//! review.yaml -o json`, or what the CLI receives): the rules an identity holds in a
//! namespace, and whether the list is complete.

use serde_json::Value;

use crate::spec::Rule;

/// The `kind` of the object.
pub const KIND: &str = "SelfSubjectRulesReview";

/// What a SelfSubjectRulesReview says the identity may do.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RulesReview {
    /// `spec.namespace`: where the rules apply (cluster-wide rules are included).
    pub namespace: Option<String>,
    /// Resource rules, then non-resource rules, as returned.
    pub rules: Vec<Rule>,
    /// `status.incomplete`: an authorizer could not list its rules (e.g. a webhook), so the
    /// identity may hold more than `rules`.
    pub incomplete: bool,
    /// `status.evaluationError`, when given.
    pub evaluation_error: Option<String>,
}

/// Why a SelfSubjectRulesReview could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RulesReviewError {
    #[error(
        "the text is empty: paste the SelfSubjectRulesReview the API server returned (`kubectl create -f review.yaml -o json`)"
    )]
    Empty,
    #[error(
        "line {line}, column {column}: not valid JSON or YAML ({message}); paste the answer unchanged"
    )]
    Syntax { line: usize, column: usize, message: String },
    #[error(transparent)]
    Input(#[from] crate::input::InputError),
    #[error(
        "kind is {found:?}, expected \"SelfSubjectRulesReview\"; paste the review, not another object"
    )]
    WrongKind { found: String },
    #[error(
        "the review has no status: paste the API server's answer (`-o json`), not the request you sent"
    )]
    NoStatus,
    #[error("{path} should be {expected}; paste the answer unchanged")]
    Field { path: String, expected: &'static str },
}

/// Reads a SelfSubjectRulesReview in JSON (or YAML), or just its `status`.
pub fn parse_rules_review(text: &str) -> Result<RulesReview, RulesReviewError> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(RulesReviewError::Empty);
    }
    let value = read_value(trimmed)?;
    if !value.is_object() {
        return Err(RulesReviewError::Field { path: "the document".into(), expected: "an object" });
    }
    if let Some(kind) = value.get("kind") {
        let kind = kind.as_str().unwrap_or_default();
        if kind != KIND {
            return Err(RulesReviewError::WrongKind { found: kind.to_owned() });
        }
    }
    let (status, prefix) = match value.get("status") {
        Some(status) => (status, "status."),
        None if value.get("resourceRules").is_some() || value.get("nonResourceRules").is_some() => {
            (&value, "")
        }
        None => return Err(RulesReviewError::NoStatus),
    };
    let namespace = value
        .pointer("/spec/namespace")
        .and_then(Value::as_str)
        .filter(|ns| !ns.is_empty())
        .map(str::to_owned);
    let mut rules = Vec::new();
    for (index, item) in array(status, "resourceRules", prefix)?.iter().enumerate() {
        let path = format!("{prefix}resourceRules[{index}]");
        rules.push(Rule {
            api_groups: strings(item, "apiGroups", &path)?,
            resources: strings(item, "resources", &path)?,
            resource_names: strings(item, "resourceNames", &path)?,
            non_resource_urls: Vec::new(),
            verbs: strings(item, "verbs", &path)?,
        });
    }
    for (index, item) in array(status, "nonResourceRules", prefix)?.iter().enumerate() {
        let path = format!("{prefix}nonResourceRules[{index}]");
        rules.push(Rule {
            non_resource_urls: strings(item, "nonResourceURLs", &path)?,
            verbs: strings(item, "verbs", &path)?,
            ..Rule::default()
        });
    }
    let incomplete = match status.get("incomplete") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(incomplete)) => *incomplete,
        Some(_) => {
            return Err(RulesReviewError::Field {
                path: format!("{prefix}incomplete"),
                expected: "true or false",
            });
        }
    };
    let evaluation_error = status
        .get("evaluationError")
        .and_then(Value::as_str)
        .filter(|e| !e.is_empty())
        .map(str::to_owned);
    Ok(RulesReview { namespace, rules, incomplete, evaluation_error })
}

fn read_value(text: &str) -> Result<Value, RulesReviewError> {
    crate::input::check_text("the review", text, crate::input::MAX_PASTE_BYTES)?;
    // JSON is YAML: one parser for both keeps a second one out of the page.
    serde_yaml::from_str(text).map_err(|error| {
        let location = error.location();
        RulesReviewError::Syntax {
            line: location.as_ref().map_or(0, serde_yaml::Location::line),
            column: location.as_ref().map_or(0, serde_yaml::Location::column),
            message: error.to_string(),
        }
    })
}

fn array<'a>(object: &'a Value, key: &str, prefix: &str) -> Result<&'a [Value], RulesReviewError> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(_) => {
            Err(RulesReviewError::Field { path: format!("{prefix}{key}"), expected: "a list" })
        }
    }
}

fn strings(object: &Value, key: &str, path: &str) -> Result<Vec<String>, RulesReviewError> {
    let field_error =
        || RulesReviewError::Field { path: format!("{path}.{key}"), expected: "a list of strings" };
    if !object.is_object() {
        return Err(RulesReviewError::Field { path: path.to_owned(), expected: "an object" });
    }
    match object.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| item.as_str().map(str::to_owned).ok_or_else(field_error))
            .collect(),
        Some(_) => Err(field_error()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::InputError;

    const REVIEW: &str = r#"{
  "kind": "SelfSubjectRulesReview",
  "apiVersion": "authorization.k8s.io/v1",
  "metadata": {"creationTimestamp": null},
  "spec": {"namespace": "demo"},
  "status": {
    "resourceRules": [
      {"verbs": ["create"], "apiGroups": ["authorization.k8s.io"], "resources": ["selfsubjectaccessreviews", "selfsubjectrulesreviews"]},
      {"verbs": ["get", "update"], "apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["app"]}
    ],
    "nonResourceRules": [
      {"verbs": ["get"], "nonResourceURLs": ["/healthz", "/version"]}
    ],
    "incomplete": false
  }
}"#;

    #[test]
    fn reads_the_api_answer() {
        let review = parse_rules_review(REVIEW).unwrap();
        assert_eq!(review.namespace.as_deref(), Some("demo"));
        assert!(!review.incomplete);
        assert_eq!(
            review.rules,
            [
                Rule::new(
                    &["authorization.k8s.io"],
                    &["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
                    &["create"]
                ),
                Rule::new(&[""], &["configmaps"], &["get", "update"]).with_names(&["app"]),
                Rule::non_resource(&["/healthz", "/version"], &["get"]),
            ]
        );
    }

    #[test]
    fn keeps_incomplete_and_evaluation_error() {
        let text = r#"{"status": {"resourceRules": [], "nonResourceRules": [], "incomplete": true, "evaluationError": "webhook authorizer does not support user rule resolution"}}"#;
        let review = parse_rules_review(text).unwrap();
        assert!(review.incomplete);
        assert_eq!(
            review.evaluation_error.as_deref(),
            Some("webhook authorizer does not support user rule resolution")
        );
    }

    #[test]
    fn yaml_and_bare_status() {
        let yaml = "kind: SelfSubjectRulesReview\nstatus:\n  resourceRules:\n  - verbs: [get]\n    apiGroups: [apps]\n    resources: [deployments]\n  incomplete: false\n";
        assert_eq!(
            parse_rules_review(yaml).unwrap().rules,
            [Rule::new(&["apps"], &["deployments"], &["get"])]
        );
        let bare = r#"{"resourceRules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}], "incomplete": false}"#;
        assert_eq!(parse_rules_review(bare).unwrap().rules, [Rule::new(&["*"], &["*"], &["*"])]);
    }

    #[test]
    fn errors_say_what_to_paste() {
        assert_eq!(parse_rules_review(""), Err(RulesReviewError::Empty));
        assert_eq!(
            parse_rules_review(r#"{"kind": "Pod"}"#),
            Err(RulesReviewError::WrongKind { found: "Pod".into() })
        );
        assert_eq!(
            parse_rules_review(r#"{"kind": "SelfSubjectRulesReview", "spec": {"namespace": "x"}}"#),
            Err(RulesReviewError::NoStatus)
        );
        assert_eq!(
            parse_rules_review(r#"{"status": {"resourceRules": [{"verbs": "get"}]}}"#),
            Err(RulesReviewError::Field {
                path: "status.resourceRules[0].verbs".into(),
                expected: "a list of strings"
            })
        );
        assert!(matches!(
            parse_rules_review("{\"status\": {\n  \"resourceRules\": [,]}}"),
            Err(RulesReviewError::Syntax { line: 2, .. })
        ));
        assert!(matches!(parse_rules_review("- a\n- b"), Err(RulesReviewError::Field { .. })));
        assert!(matches!(
            parse_rules_review(&"[".repeat(1_000_000)),
            Err(RulesReviewError::Input(InputError::TooDeep { .. }))
        ));
        assert!(matches!(
            parse_rules_review(&"- ".repeat(100_000)),
            Err(RulesReviewError::Input(InputError::TooDeep { .. }))
        ));
    }

    /// Real SelfSubjectRulesReview answers, and the `can-i --list` of the same identities.
    const REAL: &[(&str, &str)] = &[
        (
            "namespace-admin",
            include_str!("../../../tests/fixtures/selfsubjectrulesreview/namespace-admin.json"),
        ),
        ("nobody", include_str!("../../../tests/fixtures/selfsubjectrulesreview/nobody.json")),
        (
            "welkin-ci-cd",
            include_str!("../../../tests/fixtures/selfsubjectrulesreview/welkin-ci-cd.json"),
        ),
    ];

    #[test]
    fn real_reviews_hold_what_can_i_list_prints() {
        use crate::coverage::missing_rules;
        for (who, json) in REAL {
            let review = parse_rules_review(json).unwrap();
            assert!(!review.incomplete, "{who}");
            let (_, listing, _) =
                crate::canilist::tests::REAL.iter().find(|(name, _, _)| name == who).unwrap();
            let listed = crate::canilist::parse_can_i_list(listing).unwrap().rules;
            assert_eq!(missing_rules(&review.rules, &listed), [], "{who}: listed, not reviewed");
            assert_eq!(missing_rules(&listed, &review.rules), [], "{who}: reviewed, not listed");
        }
    }
}
