//! YAML out: every document the core writes (manifests, kubeconfig, spec, authentication
//! configuration) in block style, byte for byte as `serde_yaml::to_string` writes it for the
//! values the core has — scalars plain where a reader takes them back as the same string,
//! otherwise single-quoted, double-quoted with escapes, or as a literal block (`|-`) when
//! they hold newlines.
//!
//! Why not serde_yaml's serializer: it links libyaml's whole emitter and a second
//! serialization of every type into the page; this writer, over the JSON serde_json already
//! writes for the page's JSON outputs, leaves the page's wasm 5 KB smaller in gzip
//! (BENCHMARKS.md). Reading YAML stays serde_yaml's.
//!
//! Two rare strings are written differently than serde_yaml would, still as YAML that reads
//! back as the same string: those with a Unicode line or paragraph separator or NEL (always
//! double-quoted here), and multi-line ones ending in two line breaks (double-quoted here,
//! `|+` there).

use std::fmt;

use serde::Serialize;

/// Why a value cannot be written as YAML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError(String);

impl fmt::Display for YamlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for YamlError {}

/// `value` as one YAML document (no `---`), ending with a newline.
pub fn to_string<T: Serialize + ?Sized>(value: &T) -> Result<String, YamlError> {
    // Through serde_json's writer, which the page has for every type already (the JSON
    // outputs): a serializer of its own here would put a second copy of every type's
    // serialization into the page.
    let json = serde_json::to_string(value).map_err(|e| YamlError(e.to_string()))?;
    let node = Reader { json: &json, at: 0 }.value()?;
    let mut out = String::new();
    match &node {
        Node::Seq(items) if !items.is_empty() => write_seq(&mut out, items, 0),
        Node::Map(entries) if !entries.is_empty() => write_map(&mut out, entries, 0),
        scalar => {
            write_scalar(&mut out, scalar, 2);
            out.push('\n');
        }
    }
    Ok(out)
}

/// A serialized value, before it is written.
#[derive(Debug)]
enum Node {
    Null,
    /// A bool or a number: plain, as serde_json wrote it.
    Plain(String),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(String, Node)>),
}

fn write_map(out: &mut String, entries: &[(String, Node)], indent: usize) {
    for (at, (key, value)) in entries.iter().enumerate() {
        // The first entry of a map in a sequence item follows its `- `.
        if at > 0 {
            push_indent(out, indent);
        }
        if is_simple_key(key) {
            write_str(out, key, 0, true);
        } else {
            // libyaml's explicit key: `? KEY`, then `: VALUE` on the next line.
            out.push_str("? ");
            write_str(out, key, indent + 2, false);
            out.push('\n');
            push_indent(out, indent);
        }
        out.push(':');
        match value {
            Node::Map(inner) if !inner.is_empty() => {
                out.push('\n');
                push_indent(out, indent + 2);
                write_map(out, inner, indent + 2);
            }
            // Sequences in a map are not indented (libyaml's and kubectl's style).
            Node::Seq(items) if !items.is_empty() => {
                out.push('\n');
                push_indent(out, indent);
                write_seq(out, items, indent);
            }
            scalar => {
                out.push(' ');
                write_scalar(out, scalar, indent + 2);
                out.push('\n');
            }
        }
    }
}

fn write_seq(out: &mut String, items: &[Node], indent: usize) {
    for (at, item) in items.iter().enumerate() {
        if at > 0 {
            push_indent(out, indent);
        }
        out.push_str("- ");
        match item {
            Node::Map(inner) if !inner.is_empty() => write_map(out, inner, indent + 2),
            Node::Seq(inner) if !inner.is_empty() => write_seq(out, inner, indent + 2),
            scalar => {
                write_scalar(out, scalar, indent + 2);
                out.push('\n');
            }
        }
    }
}

fn push_indent(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

/// A scalar, or an empty collection in flow style; `indent` is where a literal block's lines go.
fn write_scalar(out: &mut String, node: &Node, indent: usize) {
    match node {
        Node::Null => out.push_str("null"),
        Node::Plain(text) => out.push_str(text),
        Node::Str(text) => write_str(out, text, indent, false),
        Node::Seq(_) => out.push_str("[]"),
        Node::Map(_) => out.push_str("{}"),
    }
}

/// A key that fits on its line before `:` (libyaml's simple key).
fn is_simple_key(key: &str) -> bool {
    key.len() <= 128 && !key.contains(is_break)
}

fn write_str(out: &mut String, text: &str, indent: usize, key: bool) {
    match style(text, key) {
        Style::Plain => out.push_str(text),
        Style::Single => {
            out.push('\'');
            out.push_str(&text.replace('\'', "''"));
            out.push('\'');
        }
        Style::Double => write_double_quoted(out, text),
        Style::Literal => write_literal(out, text, indent),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    Plain,
    Single,
    Double,
    Literal,
}

/// libyaml's choice for a string serde_yaml hands it: a literal block for text with
/// newlines, quotes for text a reader would take for another type (`'true'`, `'8080'`,
/// `''`), else the plainest form its characters allow.
fn style(text: &str, key: bool) -> Style {
    let scan = Scan::of(text);
    if scan.other_breaks {
        return Style::Double;
    }
    if text.contains('\n') {
        let ends_in_two_breaks = text.ends_with("\n\n") || text == "\n";
        return if key || !scan.block_allowed || ends_in_two_breaks {
            Style::Double
        } else {
            Style::Literal
        };
    }
    if text.is_empty() || read_as_other_type(text) || !scan.plain_allowed {
        return if scan.single_allowed { Style::Single } else { Style::Double };
    }
    Style::Plain
}

/// What libyaml's analysis of a scalar finds, for block context.
struct Scan {
    plain_allowed: bool,
    single_allowed: bool,
    block_allowed: bool,
    /// A line break besides `\n` (`\r` is not printable, so it is double-quoted anyway).
    other_breaks: bool,
}

fn is_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

fn is_blank_or_end(c: Option<char>) -> bool {
    c.is_none_or(|c| c == ' ' || c == '\t' || is_break(c) || c == '\0')
}

/// YAML's printable characters (libyaml's `IS_PRINTABLE`).
fn is_printable(c: char) -> bool {
    matches!(c, '\n' | ' '..='~' | '\u{85}' | '\u{A0}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
        && c != '\u{FEFF}'
}

impl Scan {
    fn of(text: &str) -> Scan {
        let mut indicators = text.starts_with("---") || text.starts_with("...");
        let (mut special, mut line_breaks, mut other_breaks) = (false, false, false);
        let (mut space_break, mut break_space) = (false, false);
        let (mut previous_space, mut previous_break) = (false, false);
        let mut preceded_by_blank = true;
        let mut chars = text.chars().peekable();
        let mut first = true;
        while let Some(c) = chars.next() {
            let followed_by_blank = is_blank_or_end(chars.peek().copied());
            if first {
                indicators |= matches!(
                    c,
                    '#' | ','
                        | '['
                        | ']'
                        | '{'
                        | '}'
                        | '&'
                        | '*'
                        | '!'
                        | '|'
                        | '>'
                        | '\''
                        | '"'
                        | '%'
                        | '@'
                        | '`'
                ) || (matches!(c, '?' | ':' | '-') && followed_by_blank);
            } else {
                indicators |= (c == ':' && followed_by_blank) || (c == '#' && preceded_by_blank);
            }
            special |= !is_printable(c);
            if c == ' ' {
                break_space |= previous_break;
                (previous_space, previous_break) = (true, false);
            } else if is_break(c) {
                line_breaks = true;
                other_breaks |= c != '\n';
                space_break |= previous_space;
                (previous_space, previous_break) = (false, true);
            } else {
                (previous_space, previous_break) = (false, false);
            }
            preceded_by_blank = is_blank_or_end(Some(c));
            first = false;
        }
        let leading = text.starts_with(|c: char| c == ' ' || is_break(c));
        let trailing_space = text.ends_with(' ');
        let trailing = trailing_space || text.ends_with(is_break);
        Scan {
            plain_allowed: !(leading
                || trailing
                || break_space
                || space_break
                || special
                || line_breaks
                || indicators),
            single_allowed: !(break_space || space_break || special),
            block_allowed: !(trailing_space || space_break || special),
            other_breaks,
        }
    }
}

/// Whether serde_yaml reads `text`, unquoted, as null, a bool or a number (the YAML 1.2 core
/// schema as serde_yaml 0.9 applies it).
fn read_as_other_type(text: &str) -> bool {
    matches!(
        text,
        "~" | "null" | "Null" | "NULL" | "true" | "True" | "TRUE" | "false" | "False" | "FALSE"
    ) || leading_zero_digits(text)
        || is_integer(text)
        || is_float(text)
}

/// `0123`: a string in YAML 1.2, but serde_yaml quotes it so that YAML 1.1 readers agree.
fn leading_zero_digits(text: &str) -> bool {
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    digits.len() > 1 && digits.starts_with('0') && digits[1..].bytes().all(|b| b.is_ascii_digit())
}

fn is_integer(text: &str) -> bool {
    let unsigned = text.strip_prefix('+').unwrap_or(text);
    let negative = text.strip_prefix('-');
    for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] {
        let digits = unsigned.strip_prefix(prefix).or_else(|| negative?.strip_prefix(prefix));
        if let Some(digits) = digits
            && !digits.starts_with(['+', '-'])
            && u128::from_str_radix(digits, radix).is_ok()
        {
            return true;
        }
    }
    !unsigned.starts_with(['+', '-']) && unsigned.parse::<u128>().is_ok()
        || text.parse::<i128>().is_ok()
}

fn is_float(text: &str) -> bool {
    let unsigned = match text.strip_prefix('+') {
        Some(rest) if rest.starts_with(['+', '-']) => return false,
        Some(rest) => rest,
        None => text,
    };
    matches!(unsigned, ".inf" | ".Inf" | ".INF")
        || matches!(text, "-.inf" | "-.Inf" | "-.INF" | ".nan" | ".NaN" | ".NAN")
        || unsigned.parse::<f64>().is_ok_and(f64::is_finite)
}

fn write_double_quoted(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        let escape = match c {
            '\0' => "\\0",
            '\u{7}' => "\\a",
            '\u{8}' => "\\b",
            '\t' => "\\t",
            '\n' => "\\n",
            '\u{B}' => "\\v",
            '\u{C}' => "\\f",
            '\r' => "\\r",
            '\u{1B}' => "\\e",
            '"' => "\\\"",
            '\\' => "\\\\",
            '\u{85}' => "\\N",
            '\u{2028}' => "\\L",
            '\u{2029}' => "\\P",
            c if !is_printable(c) => {
                let code = u32::from(c);
                let (prefix, digits) = match code {
                    ..=0xFF => ("\\x", 2),
                    0x100..=0xFFFF => ("\\u", 4),
                    _ => ("\\U", 8),
                };
                out.push_str(prefix);
                for digit in (0..digits).rev().map(|at| (code >> (4 * at)) & 0xF) {
                    out.push(char::from(b"0123456789ABCDEF"[digit as usize]));
                }
                continue;
            }
            c => {
                out.push(c);
                continue;
            }
        };
        out.push_str(escape);
    }
    out.push('"');
}

/// `|` with libyaml's hints (`2` when the text starts with a space or a break, `-` when it
/// does not end with one), then each line at `indent`; empty lines stay empty.
fn write_literal(out: &mut String, text: &str, indent: usize) {
    out.push('|');
    if text.starts_with(|c: char| c == ' ' || is_break(c)) {
        out.push('2');
    }
    let body = text.strip_suffix('\n').unwrap_or_else(|| {
        out.push('-');
        text
    });
    for line in body.split('\n') {
        out.push('\n');
        if !line.is_empty() {
            push_indent(out, indent);
            out.push_str(line);
        }
    }
}

/// Reads the JSON text serde_json wrote into a [`Node`], keeping the order of the fields.
struct Reader<'a> {
    json: &'a str,
    at: usize,
}

fn malformed() -> YamlError {
    YamlError("serde_json wrote unreadable JSON".to_owned())
}

impl Reader<'_> {
    fn peek(&self) -> Option<u8> {
        self.json.as_bytes().get(self.at).copied()
    }

    fn eat(&mut self, byte: u8) -> bool {
        let found = self.peek() == Some(byte);
        self.at += usize::from(found);
        found
    }

    fn value(&mut self) -> Result<Node, YamlError> {
        match self.peek().ok_or_else(malformed)? {
            b'{' => {
                self.at += 1;
                let mut entries = Vec::new();
                if !self.eat(b'}') {
                    loop {
                        let key = self.string()?;
                        if !self.eat(b':') {
                            return Err(malformed());
                        }
                        entries.push((key, self.value()?));
                        if self.eat(b'}') {
                            break;
                        }
                        if !self.eat(b',') {
                            return Err(malformed());
                        }
                    }
                }
                Ok(Node::Map(entries))
            }
            b'[' => {
                self.at += 1;
                let mut items = Vec::new();
                if !self.eat(b']') {
                    loop {
                        items.push(self.value()?);
                        if self.eat(b']') {
                            break;
                        }
                        if !self.eat(b',') {
                            return Err(malformed());
                        }
                    }
                }
                Ok(Node::Seq(items))
            }
            b'"' => Ok(Node::Str(self.string()?)),
            _ => {
                // true, false, null or a number: up to the next delimiter, as written.
                let rest = &self.json[self.at..];
                let token = &rest[..rest.find([',', ']', '}']).unwrap_or(rest.len())];
                self.at += token.len();
                Ok(if token == "null" { Node::Null } else { Node::Plain(token.to_owned()) })
            }
        }
    }

    /// A JSON string, unescaped.
    fn string(&mut self) -> Result<String, YamlError> {
        if !self.eat(b'"') {
            return Err(malformed());
        }
        let mut text = String::new();
        loop {
            let rest = &self.json[self.at..];
            let end = rest.find(['"', '\\']).ok_or_else(malformed)?;
            text.push_str(&rest[..end]);
            self.at += end + 1;
            if rest.as_bytes()[end] == b'"' {
                return Ok(text);
            }
            let escape = self.peek().ok_or_else(malformed)?;
            self.at += 1;
            text.push(match escape {
                b'n' => '\n',
                b't' => '\t',
                b'r' => '\r',
                b'b' => '\u{8}',
                b'f' => '\u{C}',
                b'u' => self.code_point()?,
                other => char::from(other),
            });
        }
    }

    /// Four hex digits of a `\uXXXX` escape.
    fn unit(&mut self) -> Result<u32, YamlError> {
        let hex = self.json.get(self.at..self.at + 4).ok_or_else(malformed)?;
        self.at += 4;
        u32::from_str_radix(hex, 16).map_err(|_| malformed())
    }

    /// The character of a `\uXXXX` escape, or of a pair of them (a surrogate pair).
    fn code_point(&mut self) -> Result<char, YamlError> {
        let high = self.unit()?;
        let code = if (0xD800..0xDC00).contains(&high) {
            if !(self.eat(b'\\') && self.eat(b'u')) {
                return Err(malformed());
            }
            let low = self.unit()?;
            0x10000 + ((high - 0xD800) << 10) + (low.wrapping_sub(0xDC00) & 0x3FF)
        } else {
            high
        };
        char::from_u32(code).ok_or_else(malformed)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;
    use serde::Serialize;

    use super::to_string;

    /// What serde_yaml writes, which these documents must match byte for byte.
    fn same_as_serde_yaml<T: Serialize>(value: &T) {
        let ours = to_string(value).expect("writable");
        let theirs = serde_yaml::to_string(value).expect("writable");
        assert_eq!(ours, theirs);
    }

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Doc {
        api_version: &'static str,
        names: Vec<String>,
        empty: Vec<String>,
        nothing: BTreeMap<String, String>,
        labels: BTreeMap<String, String>,
        nested: Vec<Vec<u32>>,
        items: Vec<Item>,
        flag: bool,
        missing: Option<String>,
        count: i64,
    }

    #[derive(Serialize)]
    struct Item {
        name: String,
        text: String,
        inner: Option<Box<Item>>,
    }

    #[test]
    fn documents_are_as_serde_yaml_writes_them() {
        let strings = [
            "",
            "plain",
            "two words",
            "8080",
            "1.20",
            "0123",
            "-5",
            "0x1F",
            ".inf",
            "true",
            "Yes",
            "null",
            "~",
            "a: b",
            "a:b",
            "- x",
            "-x",
            "#x",
            "x #y",
            "x#y",
            "'quoted'",
            "\"double\"",
            " lead",
            "trail ",
            "tab\there",
            "line\nbreak",
            "line\nbreak\n",
            "trailing \nspace",
            "\nleading break",
            " indented\nblock",
            "ünïcödé",
            "bell\u{7}",
            "[x]",
            "x, y",
            "{a}",
            "*alias",
            "&anchor",
            "!tag",
            "%x",
            "@x",
            "`x",
            "|x",
            ">x",
            "?x",
            "? x",
            ":x",
            "---",
            "...x",
            "a\n\nb",
            "a\n \nb",
            "back\\slash",
            "nbsp\u{a0}x",
            "1e5",
            "+1",
            "+.5",
            "-.inf",
            ".NaN",
            "nan",
            "inf",
            "0o17",
            "0b101",
            "-0x5",
            "1_000",
            "12345678901234567890123456789012345678901234",
        ];
        let item = |s: &str| Item { name: s.to_owned(), text: s.to_owned(), inner: None };
        let doc = Doc {
            api_version: "rbac.authorization.k8s.io/v1",
            names: strings.iter().map(|s| (*s).to_owned()).collect(),
            empty: vec![],
            nothing: BTreeMap::new(),
            labels: strings
                .iter()
                .filter(|s| !s.contains('\n'))
                .map(|s| ((*s).to_owned(), (*s).to_owned()))
                .collect(),
            nested: vec![vec![1, 2], vec![], vec![3]],
            items: strings
                .iter()
                .map(|s| Item { inner: Some(Box::new(item(s))), ..item(s) })
                .collect(),
            flag: true,
            missing: None,
            count: -3,
        };
        same_as_serde_yaml(&doc);
        same_as_serde_yaml(&strings.to_vec());
        same_as_serde_yaml(&"top\nlevel");
        same_as_serde_yaml(&Vec::<String>::new());
    }

    proptest! {
        /// Any string (short of the two rare kinds the module names) is written as
        /// serde_yaml writes it, as a value and as a key, and reads back as itself.
        #[test]
        fn strings_are_as_serde_yaml_writes_them(text in "(?s)[ -~\t\n\u{a0}-\u{ff}é€\u{1f600}\u{0}-\u{1f}]{0,12}") {
            let value = vec![BTreeMap::from([(text.clone(), text.clone())])];
            let ours = to_string(&value).expect("writable");
            let back: Vec<BTreeMap<String, String>> = serde_yaml::from_str(&ours).expect("YAML");
            prop_assert_eq!(&back, &value);
            if !(text.ends_with("\n\n") || text == "\n") {
                prop_assert_eq!(ours, serde_yaml::to_string(&value).expect("writable"));
            }
        }

        #[test]
        fn rare_strings_read_back_as_themselves(text in "(?s)[a \n\u{85}\u{2028}\u{2029}]{0,8}") {
            let ours = to_string(&vec![text.clone()]).expect("writable");
            let back: Vec<String> = serde_yaml::from_str(&ours).expect("YAML");
            prop_assert_eq!(back, vec![text]);
        }
    }
}
