//! Reading the API server's privilege-escalation 403 as people paste it.
//!
//! Two formats exist. Since Kubernetes 1.12:
//!
//! ```text
//! Error from server (Forbidden): error when creating "role.yaml": roles.rbac.authorization.k8s.io "ci-cd" is forbidden: user "jane" (groups=["dev" "system:authenticated"]) is attempting to grant RBAC permissions not currently held:
//! {APIGroups:["apps"], Resources:["deployments"], Verbs:["delete"]}
//! {APIGroups:[""], Resources:["secrets"], ResourceNames:["x"], Verbs:["get"]}; resolution errors: [...]
//! ```
//!
//! and before it, on one line, Go's `%v` of the rules, then the user and the rules it held:
//!
//! ```text
//! ... is forbidden: attempt to grant extra privileges: [{[get] [] [secrets] [] []}] user=&{jane  [system:authenticated] map[]} ownerrules=[{[create] [authorization.k8s.io] [selfsubjectaccessreviews] [] []}] ruleResolutionErrors=[]
//! ```
//!
//! (some releases printed `PolicyRule{Resources:["*"], APIGroups:["*"], Verbs:["*"]}`
//! instead, keys in varying order). The kubectl prefix, a JSON `Status` object or text
//! around the message are all accepted.

use crate::spec::Rule;

const CURRENT_MARKER: &str = "is attempting to grant RBAC permissions not currently held:";
const LEGACY_MARKER: &str = "attempt to grant extra privileges:";
const RESOLUTION_ERRORS: &str = "; resolution errors:";

/// Which release family printed the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Kubernetes 1.12 and later: one `{APIGroups:[...], ...}` per line.
    Current,
    /// Before 1.12: `attempt to grant extra privileges: [...] user=... ownerrules=[...]`.
    Legacy,
}

/// The object whose write was refused, e.g. `roles.rbac.authorization.k8s.io` `"ci-cd"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object {
    pub resource: String,
    pub name: String,
}

/// What an escalation 403 says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forbidden {
    pub format: Format,
    pub object: Option<Object>,
    pub user: Option<String>,
    pub groups: Vec<String>,
    /// The rules not held, in the order printed (the API server sorts them).
    pub missing: Vec<Rule>,
    /// What the user held (`ownerrules`); only the legacy format prints it.
    pub held: Vec<Rule>,
    /// Errors resolving the user's rules, as printed; these rules may be missing from `held`.
    pub resolution_errors: Option<String>,
}

/// Why a pasted 403 could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ForbiddenError {
    #[error(
        "the text is empty: paste the error kubectl printed, from `Error from server (Forbidden)` on"
    )]
    Empty,
    #[error(
        "this 403 is an ordinary authorization denial, not an escalation refusal ({message}): ask for that permission itself"
    )]
    Denied { message: String },
    #[error(
        "no escalation refusal found: paste the whole message, it contains \"is attempting to grant RBAC permissions not currently held\""
    )]
    NotEscalation,
    #[error(
        "line {line}: the message lists no rule after the colon; paste the lines that follow it too"
    )]
    NoRules { line: usize },
    #[error(
        "line {line}, column {column}: expected {expected}, found {found:?}; paste the message unchanged"
    )]
    Syntax { line: usize, column: usize, expected: &'static str, found: String },
    #[error(transparent)]
    Input(#[from] crate::input::InputError),
}

/// Reads an escalation 403: the current or the legacy format, with or without kubectl's
/// prefix, or the JSON `Status` the API server sends.
pub fn parse_forbidden(text: &str) -> Result<Forbidden, ForbiddenError> {
    if text.trim().is_empty() {
        return Err(ForbiddenError::Empty);
    }
    crate::input::check_text("the 403", text, crate::input::MAX_PASTE_BYTES)?;
    if let Some(message) = status_message(text) {
        return parse_message(&message);
    }
    parse_message(text)
}

/// The `message` of a pasted `{"kind":"Status", ...}` object.
fn status_message(text: &str) -> Option<String> {
    let trimmed = text.trim();
    if !trimmed.starts_with('{') {
        return None;
    }
    // JSON is YAML: one parser for both keeps a second one out of the page.
    let value: serde_json::Value = serde_yaml::from_str(trimmed).ok()?;
    value.get("message")?.as_str().map(str::to_owned)
}

fn parse_message(text: &str) -> Result<Forbidden, ForbiddenError> {
    let current = text.find(CURRENT_MARKER);
    let legacy = text.find(LEGACY_MARKER);
    match (current, legacy) {
        (Some(at), other) if other.is_none_or(|l| at < l) => parse_current(text, at),
        (_, Some(at)) => parse_legacy(text, at),
        _ => Err(denial(text)
            .map_or(ForbiddenError::NotEscalation, |message| ForbiddenError::Denied { message })),
    }
}

/// The line of an ordinary `User "x" cannot create resource "roles" ...` denial.
fn denial(text: &str) -> Option<String> {
    text.lines()
        .find(|line| line.contains(" is forbidden: ") && line.contains(" cannot "))
        .map(|line| line.trim().to_owned())
}

fn parse_current(text: &str, at: usize) -> Result<Forbidden, ForbiddenError> {
    let before = &text[..at];
    let (object, rest) = object_before(before);
    let (user, groups) = current_user(rest);
    let mut cursor = Cursor { text, at: at + CURRENT_MARKER.len() };
    let mut missing = Vec::new();
    loop {
        cursor.skip_space();
        if cursor.rest().starts_with("PolicyRule{") {
            cursor.at += "PolicyRule".len();
        }
        if !cursor.rest().starts_with('{') {
            break;
        }
        missing.push(cursor.keyed_rule()?);
    }
    if missing.is_empty() {
        return Err(ForbiddenError::NoRules { line: cursor.line_column(at).0 });
    }
    let resolution_errors = cursor
        .rest()
        .strip_prefix(RESOLUTION_ERRORS)
        .map(|errors| errors.lines().next().unwrap_or("").trim().to_owned());
    Ok(Forbidden {
        format: Format::Current,
        object,
        user,
        groups,
        missing,
        held: Vec::new(),
        resolution_errors,
    })
}

fn parse_legacy(text: &str, at: usize) -> Result<Forbidden, ForbiddenError> {
    let (object, _) = object_before(&text[..at]);
    let mut cursor = Cursor { text, at: at + LEGACY_MARKER.len() };
    cursor.skip_space();
    let missing = cursor.rule_list()?;
    if missing.is_empty() {
        return Err(ForbiddenError::NoRules { line: cursor.line_column(at).0 });
    }
    let mut user = None;
    let mut groups = Vec::new();
    let mut held = Vec::new();
    let mut resolution_errors = None;
    cursor.skip_space();
    if cursor.eat("user=&{") {
        let (name, after) = cursor.rest().split_once(' ').unwrap_or((cursor.rest(), ""));
        user = Some(name.to_owned());
        cursor.at = cursor.text.len() - after.len();
        // The UID (usually empty) comes before the groups.
        if let Some(open) = cursor.rest().find('[') {
            cursor.at += open;
            groups = cursor.bare_list()?;
        }
        if let Some(owner) = cursor.rest().find("ownerrules=") {
            cursor.at += owner + "ownerrules=".len();
            held = cursor.rule_list()?;
        }
    }
    if let Some(errors) = cursor.rest().find("ruleResolutionErrors=") {
        let errors = cursor.rest()[errors + "ruleResolutionErrors=".len()..]
            .lines()
            .next()
            .unwrap_or("")
            .trim();
        if !errors.is_empty() && errors != "[]" {
            resolution_errors = Some(errors.to_owned());
        }
    }
    Ok(Forbidden { format: Format::Legacy, object, user, groups, missing, held, resolution_errors })
}

/// `roles.rbac.authorization.k8s.io "ci-cd"` before ` is forbidden: `, and the text after it.
fn object_before(before: &str) -> (Option<Object>, &str) {
    let Some(at) = before.rfind(" is forbidden: ") else {
        return (None, before);
    };
    let rest = &before[at + " is forbidden: ".len()..];
    let head = &before[..at];
    let object = head.strip_suffix('"').and_then(|quoted| {
        let open = quoted.rfind('"')?;
        let name = go_unquote(&head[open..])?;
        let resource = head[..open].trim_end().rsplit([' ', '\t', '\n']).next()?;
        (!resource.is_empty()).then(|| Object { resource: resource.to_owned(), name })
    });
    (object, rest)
}

/// `user "jane" (groups=["a" "b"]) ` before the marker.
fn current_user(segment: &str) -> (Option<String>, Vec<String>) {
    let Some(at) = segment.rfind("user \"") else {
        return (None, Vec::new());
    };
    let mut cursor = Cursor { text: segment, at: at + "user ".len() };
    let Ok(user) = cursor.quoted() else {
        return (None, Vec::new());
    };
    cursor.skip_space();
    let groups =
        if cursor.eat("(groups=") { cursor.quoted_list().unwrap_or_default() } else { Vec::new() };
    (Some(user), groups)
}

/// A position in the pasted text; errors carry the line and column.
struct Cursor<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Cursor<'a> {
    fn rest(&self) -> &'a str {
        &self.text[self.at..]
    }

    fn skip_space(&mut self) {
        let rest = self.rest();
        self.at += rest.len() - rest.trim_start().len();
    }

    fn eat(&mut self, token: &str) -> bool {
        if self.rest().starts_with(token) {
            self.at += token.len();
            true
        } else {
            false
        }
    }

    fn line_column(&self, at: usize) -> (usize, usize) {
        let before = &self.text[..at];
        let line = before.matches('\n').count() + 1;
        let column = before.len() - before.rfind('\n').map_or(0, |n| n + 1) + 1;
        (line, column)
    }

    fn error(&self, expected: &'static str) -> ForbiddenError {
        let (line, column) = self.line_column(self.at);
        let found: String = self.rest().chars().take(24).collect();
        ForbiddenError::Syntax { line, column, expected, found }
    }

    fn expect(&mut self, token: &'static str) -> Result<(), ForbiddenError> {
        if self.eat(token) { Ok(()) } else { Err(self.error(token)) }
    }

    /// `{APIGroups:["apps"], Resources:["deployments"], Verbs:["get"]}`, keys in any order.
    fn keyed_rule(&mut self) -> Result<Rule, ForbiddenError> {
        self.expect("{")?;
        let mut rule = Rule::default();
        loop {
            self.skip_space();
            if self.eat("}") {
                return Ok(rule);
            }
            let field = match () {
                () if self.eat("APIGroups:") => &mut rule.api_groups,
                () if self.eat("Resources:") => &mut rule.resources,
                () if self.eat("NonResourceURLs:") => &mut rule.non_resource_urls,
                () if self.eat("ResourceNames:") => &mut rule.resource_names,
                () if self.eat("Verbs:") => &mut rule.verbs,
                () => {
                    return Err(
                        self.error("APIGroups, Resources, NonResourceURLs, ResourceNames or Verbs")
                    );
                }
            };
            *field = self.quoted_list()?;
            self.skip_space();
            if !self.eat(",") && !self.rest().starts_with('}') {
                return Err(self.error("`,` or `}`"));
            }
        }
    }

    /// `["a" "b"]` with Go-quoted strings.
    fn quoted_list(&mut self) -> Result<Vec<String>, ForbiddenError> {
        self.skip_space();
        self.expect("[")?;
        let mut items = Vec::new();
        loop {
            self.skip_space();
            if self.eat("]") {
                return Ok(items);
            }
            items.push(self.quoted()?);
        }
    }

    fn quoted(&mut self) -> Result<String, ForbiddenError> {
        let rest = self.rest();
        let end = quoted_end(rest).ok_or_else(|| self.error("a quoted string"))?;
        let value = go_unquote(&rest[..end]).ok_or_else(|| self.error("a quoted string"))?;
        self.at += end;
        Ok(value)
    }

    /// `[a b c]` as Go's `%v` prints a string slice: items joined by single spaces, so
    /// `[ apps]` is `["", "apps"]`.
    fn bare_list(&mut self) -> Result<Vec<String>, ForbiddenError> {
        self.expect("[")?;
        let rest = self.rest();
        let end = rest.find(']').ok_or_else(|| self.error("`]`"))?;
        let inner = &rest[..end];
        self.at += end + 1;
        if inner.is_empty() {
            return Ok(Vec::new());
        }
        Ok(inner.split(' ').map(str::to_owned).collect())
    }

    /// `[{...} {...}]` of legacy rules: positional `{[verbs] [groups] [resources] [names]
    /// [urls]}` or keyed `PolicyRule{...}`.
    fn rule_list(&mut self) -> Result<Vec<Rule>, ForbiddenError> {
        self.expect("[")?;
        let mut rules = Vec::new();
        loop {
            self.skip_space();
            if self.eat("]") {
                return Ok(rules);
            }
            let _ = self.eat("PolicyRule");
            if self.rest().starts_with("{[") || self.rest().starts_with("{<nil>") {
                rules.push(self.positional_rule()?);
            } else if self.rest().starts_with('{') {
                rules.push(self.keyed_rule()?);
            } else {
                return Err(self.error("`{` or `]`"));
            }
        }
    }

    fn positional_rule(&mut self) -> Result<Rule, ForbiddenError> {
        self.expect("{")?;
        let verbs = self.bare_list()?;
        self.skip_space();
        // 1.6 printed the internal type, whose AttributeRestrictions came second.
        if self.eat("<nil>") {
            self.skip_space();
        }
        let mut api_groups = self.bare_list()?;
        self.skip_space();
        let resources = self.bare_list()?;
        self.skip_space();
        let resource_names = self.bare_list()?;
        self.skip_space();
        let non_resource_urls = self.bare_list()?;
        self.skip_space();
        self.expect("}")?;
        // `%v` prints the core group `[""]` as `[]`: a resource rule always has a group.
        if api_groups.is_empty() && !resources.is_empty() {
            api_groups.push(String::new());
        }
        Ok(Rule { api_groups, resources, resource_names, non_resource_urls, verbs })
    }
}

/// The byte length of the Go-quoted string at the start of `text`, quotes included.
fn quoted_end(text: &str) -> Option<usize> {
    let mut chars = text.char_indices();
    if chars.next()?.1 != '"' {
        return None;
    }
    let mut escaped = false;
    for (i, c) in chars {
        match c {
            '\n' => return None,
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => return Some(i + 1),
            _ => {}
        }
    }
    None
}

/// Go's `strconv.Unquote` for a double-quoted string.
fn go_unquote(quoted: &str) -> Option<String> {
    let inner = quoted.strip_prefix('"')?.strip_suffix('"')?;
    let mut bytes = Vec::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        let c = if c == '\\' {
            match chars.next()? {
                'a' => '\u{7}',
                'b' => '\u{8}',
                'f' => '\u{c}',
                'n' => '\n',
                'r' => '\r',
                't' => '\t',
                'v' => '\u{b}',
                '\\' => '\\',
                '"' => '"',
                // A byte, not a character: `\xc3\xa9` is `é`.
                'x' => {
                    bytes.push(u8::from_str_radix(&take(&mut chars, 2)?, 16).ok()?);
                    continue;
                }
                d @ '0'..='7' => {
                    let digits = format!("{d}{}", take(&mut chars, 2)?);
                    bytes.push(u8::from_str_radix(&digits, 8).ok()?);
                    continue;
                }
                u @ ('u' | 'U') => {
                    let digits = take(&mut chars, if u == 'u' { 4 } else { 8 })?;
                    char::from_u32(u32::from_str_radix(&digits, 16).ok()?)?
                }
                _ => return None,
            }
        } else {
            c
        };
        let mut buffer = [0; 4];
        bytes.extend_from_slice(c.encode_utf8(&mut buffer).as_bytes());
    }
    Some(
        String::from_utf8(bytes)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
    )
}

fn take(chars: &mut std::str::Chars<'_>, count: usize) -> Option<String> {
    let taken: String = chars.by_ref().take(count).collect();
    (taken.chars().count() == count).then_some(taken)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coverage::compact_string;

    const CURRENT: &str = "Error from server (Forbidden): error when creating \"role.yaml\": roles.rbac.authorization.k8s.io \"ci-cd\" is forbidden: user \"jane\" (groups=[\"dev\" \"system:authenticated\"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:[\"\"], Resources:[\"secrets\"], Verbs:[\"get\" \"list\"]}\n{APIGroups:[\"apps\"], Resources:[\"deployments\"], ResourceNames:[\"web\"], Verbs:[\"delete\"]}\n";

    #[test]
    fn current_format_with_kubectl_prefix() {
        let forbidden = parse_forbidden(CURRENT).unwrap();
        assert_eq!(forbidden.format, Format::Current);
        assert_eq!(
            forbidden.object,
            Some(Object {
                resource: "roles.rbac.authorization.k8s.io".into(),
                name: "ci-cd".into()
            })
        );
        assert_eq!(forbidden.user.as_deref(), Some("jane"));
        assert_eq!(forbidden.groups, ["dev", "system:authenticated"]);
        assert_eq!(
            forbidden.missing,
            [
                Rule::new(&[""], &["secrets"], &["get", "list"]),
                Rule::new(&["apps"], &["deployments"], &["delete"]).with_names(&["web"]),
            ]
        );
        assert_eq!(forbidden.resolution_errors, None);
    }

    #[test]
    fn printed_rules_round_trip() {
        let forbidden = parse_forbidden(CURRENT).unwrap();
        let printed: Vec<String> = forbidden.missing.iter().map(compact_string).collect();
        assert_eq!(printed.join("\n"), CURRENT.split_once(":\n").unwrap().1.trim_end());
    }

    #[test]
    fn without_prefix_and_with_resolution_errors() {
        let text = "user \"system:serviceaccount:ci:deployer\" (groups=[\"system:serviceaccounts\"]) is attempting to grant RBAC permissions not currently held:\n{NonResourceURLs:[\"/metrics\"], Verbs:[\"get\"]}; resolution errors: [role.rbac.authorization.k8s.io \"gone\" not found]";
        let forbidden = parse_forbidden(text).unwrap();
        assert_eq!(forbidden.object, None);
        assert_eq!(forbidden.missing, [Rule::non_resource(&["/metrics"], &["get"])]);
        assert_eq!(
            forbidden.resolution_errors.as_deref(),
            Some("[role.rbac.authorization.k8s.io \"gone\" not found]")
        );
    }

    #[test]
    fn status_json() {
        let status = serde_json::json!({
            "kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "Forbidden", "code": 403,
            "message": CURRENT.split_once("\": ").unwrap().1,
        });
        let forbidden = parse_forbidden(&status.to_string()).unwrap();
        assert_eq!(forbidden.missing.len(), 2);
    }

    #[test]
    fn wrapped_lines_still_read() {
        let text = "user \"u\" (groups=[]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:[\"apps\"], Resources:[\"deployments\"],\n Verbs:[\"get\"\n \"list\"]}";
        assert_eq!(
            parse_forbidden(text).unwrap().missing,
            [Rule::new(&["apps"], &["deployments"], &["get", "list"])]
        );
    }

    #[test]
    fn legacy_positional_format() {
        let text = "Error from server (Forbidden): roles.rbac.authorization.k8s.io \"federation-system:fcm\" is forbidden: attempt to grant extra privileges: [{[get] [] [secrets] [] []} {[list] [ apps] [deployments] [web] []}] user=&{jane@example.com  [system:authenticated] map[]} ownerrules=[{[create] [authorization.k8s.io] [selfsubjectaccessreviews selfsubjectrulesreviews] [] []} {[get] [] [] [] [/api /api/*]}] ruleResolutionErrors=[]";
        let forbidden = parse_forbidden(text).unwrap();
        assert_eq!(forbidden.format, Format::Legacy);
        assert_eq!(forbidden.object.unwrap().name, "federation-system:fcm");
        assert_eq!(forbidden.user.as_deref(), Some("jane@example.com"));
        assert_eq!(forbidden.groups, ["system:authenticated"]);
        assert_eq!(
            forbidden.missing,
            [
                Rule::new(&[""], &["secrets"], &["get"]),
                Rule::new(&["", "apps"], &["deployments"], &["list"]).with_names(&["web"]),
            ]
        );
        assert_eq!(
            forbidden.held,
            [
                Rule::new(
                    &["authorization.k8s.io"],
                    &["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
                    &["create"]
                ),
                Rule::non_resource(&["/api", "/api/*"], &["get"]),
            ]
        );
        assert_eq!(forbidden.resolution_errors, None);
    }

    #[test]
    fn legacy_policy_rule_format() {
        let text = "roles.rbac.authorization.k8s.io \"jupyter-role\" is forbidden: attempt to grant extra privileges: [PolicyRule{Resources:[\"*\"], APIGroups:[\"*\"], Verbs:[\"*\"]}] user=&{someone@example.com  [system:authenticated] map[]} ownerrules=[PolicyRule{NonResourceURLs:[\"/api\" \"/version\"], Verbs:[\"get\"]}] ruleResolutionErrors=[]";
        let forbidden = parse_forbidden(text).unwrap();
        assert_eq!(forbidden.missing, [Rule::new(&["*"], &["*"], &["*"])]);
        assert_eq!(forbidden.held, [Rule::non_resource(&["/api", "/version"], &["get"])]);
    }

    #[test]
    fn ordinary_denial_is_named() {
        let text = "Error from server (Forbidden): roles.rbac.authorization.k8s.io is forbidden: User \"jane\" cannot create resource \"roles\" in API group \"rbac.authorization.k8s.io\" in the namespace \"demo\"";
        assert!(matches!(parse_forbidden(text), Err(ForbiddenError::Denied { .. })));
        assert_eq!(parse_forbidden("hello"), Err(ForbiddenError::NotEscalation));
        assert_eq!(parse_forbidden(" \n"), Err(ForbiddenError::Empty));
    }

    #[test]
    fn broken_rule_names_its_place() {
        let text = "x is attempting to grant RBAC permissions not currently held:\n{APIGroups:[\"apps\"], Colours:[\"red\"]}";
        let err = parse_forbidden(text).unwrap_err();
        assert!(matches!(err, ForbiddenError::Syntax { line: 2, column: 22, .. }), "{err:?}");
        let text = "x is attempting to grant RBAC permissions not currently held:\nnothing";
        assert_eq!(parse_forbidden(text), Err(ForbiddenError::NoRules { line: 1 }));
    }

    #[test]
    fn go_unquote_reads_escapes() {
        assert_eq!(go_unquote(r#""a\"b\\\n\x41\101\u00e9\U0001F600""#).unwrap(), "a\"b\\\nAAé😀");
        assert_eq!(go_unquote(r#""\xc3\xa9""#).unwrap(), "é");
        assert!(go_unquote(r#""\q""#).is_none());
        assert!(go_unquote(r#""\x4""#).is_none());
    }

    #[test]
    fn real_403_from_kubectl() {
        for text in [
            include_str!("../../../tests/fixtures/forbidden/welkin-role.client-side.txt"),
            include_str!("../../../tests/fixtures/forbidden/welkin-role.server-side.txt"),
        ] {
            let forbidden = parse_forbidden(text).unwrap();
            assert_eq!(forbidden.format, Format::Current);
            assert_eq!(
                forbidden.object,
                Some(Object {
                    resource: "roles.rbac.authorization.k8s.io".into(),
                    name: "ci-cd".into()
                })
            );
            assert_eq!(forbidden.user.as_deref(), Some("namespace-admin"));
            assert_eq!(forbidden.groups, ["system:authenticated"]);
            let printed: Vec<String> = forbidden.missing.iter().map(compact_string).collect();
            assert_eq!(printed.join("\n"), text.split_once(":\n").unwrap().1.trim_end());
        }
    }
}
