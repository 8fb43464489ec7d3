//! The derivation: the rules with their reasons, what was refused or unknown, and the report.

use std::fmt::Write as _;

use serde::Serialize;

use super::{Deployer, ObjectRef};
use crate::spec::Rule;

/// Why a rule holds some of its verbs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reason {
    pub verbs: Vec<String>,
    pub because: String,
}

/// A derived rule with its reasons.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DerivedRule {
    pub rule: Rule,
    pub reasons: Vec<Reason>,
}

/// Why an object gets no rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Refusal {
    /// A Role cannot grant cluster-scoped kinds.
    ClusterScoped,
    /// A Role grants nothing outside its namespace.
    OtherNamespace,
    /// Writing RBAC lets the pipeline grant permissions.
    Rbac,
    /// `kubectl apply` cannot apply an object that has only a generateName.
    GenerateName,
}

/// An object a namespaced CI/CD identity cannot or should not deploy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Refused {
    pub object: ObjectRef,
    pub refusal: Refusal,
    pub why: String,
}

/// A kind neither the catalog, the well-known CRDs nor an override knows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnknownKind {
    pub api_version: String,
    pub kind: String,
    pub objects: Vec<String>,
}

/// Kinds that stay unknown with the cluster at hand: issuing the access would give the
/// pipeline a kubeconfig that fails on them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unresolved {
    pub message: String,
    pub hint: String,
}

impl UnknownKind {
    /// `AnalysisTemplate.argoproj.io`, as `--kind` names it.
    fn qualified(&self) -> String {
        match self.api_version.rsplit_once('/') {
            Some((group, _)) => format!("{}.{group}", self.kind),
            None => self.kind.clone(),
        }
    }
}

/// The derived Role and everything the user should know about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Derivation {
    pub deployer: Deployer,
    pub objects: Vec<ObjectRef>,
    pub rules: Vec<DerivedRule>,
    pub refused: Vec<Refused>,
    pub unknown: Vec<UnknownKind>,
    /// Objects the method does not deploy (Helm test hooks), with why.
    pub skipped: Vec<String>,
    pub notes: Vec<String>,
}

impl Derivation {
    /// The rules alone, for [`crate::AccessSpec::rules`].
    pub fn rules(&self) -> Vec<Rule> {
        self.rules.iter().map(|r| r.rule.clone()).collect()
    }

    /// The rules with their reasons.
    pub fn rules_with_reasons(&self) -> &[DerivedRule] {
        &self.rules
    }

    /// How [`crate::lint::lint_role`] should read the derived rules.
    pub fn lint_options(&self) -> crate::lint::LintOptions {
        crate::lint::LintOptions {
            helm: self.deployer == Deployer::Helm,
            server_side: self.deployer == Deployer::ServerSide,
        }
    }

    /// What stops `apply` and `check` when kinds stay unknown after the cluster's discovery
    /// was asked: the pipeline's deploy would fail on them, with a 403 or "no matches for
    /// kind", after the access was issued.
    pub fn unresolved(&self) -> Option<Unresolved> {
        let first = self.unknown.first()?;
        let kinds: Vec<String> = self
            .unknown
            .iter()
            .map(|u| format!("{} ({}: {})", u.kind, u.api_version, u.objects.join(", ")))
            .collect();
        let example = format!("--kind {}={}s", first.qualified(), first.kind.to_ascii_lowercase());
        Some(Unresolved {
            message: format!(
                "the cluster serves no such kind, and no rule was derived for it: {}; the pipeline's deploy would fail on {}",
                kinds.join(", "),
                if self.unknown.len() == 1 { "it" } else { "them" }
            ),
            hint: format!(
                "install the CRD first (`kubectl api-resources` lists what the cluster serves), or name the plural with {example}, or pass --allow-unknown to issue the access without a rule for {}",
                if self.unknown.len() == 1 { "it" } else { "them" }
            ),
        })
    }

    /// Whether every object got a rule (nothing refused, nothing unknown).
    pub fn is_complete(&self) -> bool {
        self.refused.is_empty() && self.unknown.is_empty()
    }

    /// The report the CLI prints: rules with reasons, refused objects, unknown kinds, notes.
    pub fn explain(&self) -> String {
        let mut out = String::new();
        let count = self.objects.len();
        let plural = if count == 1 { "" } else { "s" };
        let _ =
            writeln!(out, "Derived from {count} object{plural} for `{}`:", self.deployer.command());
        for derived in &self.rules {
            let rule = &derived.rule;
            let group = rule.api_groups.first().map_or("", String::as_str);
            let group = crate::catalog::group_label(group);
            let _ = writeln!(
                out,
                "\n  {} ({group}): {}",
                rule.resources.join(", "),
                rule.verbs.join(", ")
            );
            for reason in &derived.reasons {
                let _ = writeln!(out, "    {}: {}", reason.verbs.join(", "), reason.because);
            }
        }
        if !self.refused.is_empty() {
            out.push_str(
                "\nNot granted: a namespaced CI/CD identity cannot or should not deploy these:\n",
            );
            for r in &self.refused {
                let _ = writeln!(out, "  - {} ({}): {}", r.object.label(), r.object.origin, r.why);
            }
        }
        if !self.unknown.is_empty() {
            out.push_str("\nUnknown kinds, no rule derived:\n");
            for u in &self.unknown {
                let _ =
                    writeln!(out, "  - {} ({}): {}", u.kind, u.api_version, u.objects.join(", "));
            }
        }
        if !self.skipped.is_empty() {
            out.push_str("\nNot deployed by this method:\n");
            for s in &self.skipped {
                let _ = writeln!(out, "  - {s}");
            }
        }
        if !self.notes.is_empty() {
            out.push_str("\nNotes:\n");
            for n in &self.notes {
                let _ = writeln!(out, "  - {n}");
            }
        }
        out
    }
}
