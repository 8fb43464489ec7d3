//! Ready-made Roles for common pipelines.

use crate::derive::Deployer;
use crate::spec::{AccessSpec, Rule};

const SEVEN: &[&str] = &["create", "delete", "get", "list", "patch", "update", "watch"];
const READ: &[&str] = &["get", "list", "watch"];

/// A named starting point for the Role.
#[derive(Debug, Clone, Copy)]
pub struct Preset {
    pub name: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    /// How the preset's pipeline deploys; `None` is `kubectl apply`.
    pub deployer: Option<Deployer>,
    build: fn() -> Vec<Rule>,
}

impl Preset {
    pub fn rules(&self) -> Vec<Rule> {
        (self.build)()
    }

    /// A spec with defaults everywhere and this preset's rules.
    pub fn spec(&self) -> AccessSpec {
        AccessSpec { rules: self.rules(), deployer: self.deployer, ..AccessSpec::default() }
    }
}

fn welkin_user_demo() -> Vec<Rule> {
    vec![
        Rule::new(&[""], &["configmaps", "pods", "secrets", "services"], SEVEN),
        Rule::new(&["apps"], &["deployments", "replicasets"], SEVEN),
        Rule::new(&["autoscaling"], &["horizontalpodautoscalers"], SEVEN),
        Rule::new(&["networking.k8s.io"], &["ingresses"], SEVEN),
        Rule::new(&["monitoring.coreos.com"], &["prometheusrules", "servicemonitors"], SEVEN),
        Rule::new(&["networking.k8s.io"], &["networkpolicies"], SEVEN),
        Rule::new(&["cert-manager.io"], &["certificates"], READ),
    ]
}

fn deployment_service_ingress() -> Vec<Rule> {
    vec![
        Rule::new(&["apps"], &["deployments"], SEVEN),
        Rule::new(&[""], &["services"], SEVEN),
        Rule::new(&["networking.k8s.io"], &["ingresses"], SEVEN),
    ]
}

fn read_only() -> Vec<Rule> {
    vec![
        Rule::new(&[""], &["configmaps", "endpoints", "events", "pods", "services"], READ),
        // Logs answer only to get.
        Rule::new(&[""], &["pods/log"], &["get"]),
        Rule::new(&["apps"], &["deployments", "replicasets", "statefulsets", "daemonsets"], READ),
        Rule::new(&["batch"], &["cronjobs", "jobs"], READ),
        Rule::new(&["autoscaling"], &["horizontalpodautoscalers"], READ),
        Rule::new(&["networking.k8s.io"], &["ingresses", "networkpolicies"], READ),
    ]
}

fn batch_jobs() -> Vec<Rule> {
    vec![
        Rule::new(&["batch"], &["cronjobs", "jobs"], SEVEN),
        Rule::new(&[""], &["configmaps"], SEVEN),
        Rule::new(&[""], &["pods"], READ),
        Rule::new(&[""], &["pods/log"], &["get"]),
    ]
}

/// Every preset, in the order the page offers them.
pub static PRESETS: &[Preset] = &[
    Preset {
        name: "welkin-user-demo",
        title: "Welkin user demo (Helm)",
        description: "What the documented Welkin user demo's pipeline needs for helm upgrade --install --wait, list and uninstall: the app's workloads, Service, Ingress, HPA, NetworkPolicy, monitoring objects, and Secrets where Helm keeps its releases.",
        deployer: Some(Deployer::Helm),
        build: welkin_user_demo,
    },
    Preset {
        name: "deployment-service-ingress",
        title: "Deployment + Service + Ingress",
        description: "An app that is only a Deployment, a Service and an Ingress, deployed with kubectl apply.",
        deployer: None,
        build: deployment_service_ingress,
    },
    Preset {
        name: "read-only",
        title: "Read-only observer",
        description: "Reads workloads, their Pods and logs, Services and Ingresses for smoke tests and status checks; cannot change anything and cannot read Secrets.",
        deployer: None,
        build: read_only,
    },
    Preset {
        name: "batch-jobs",
        title: "Jobs and CronJobs",
        description: "A pipeline that runs Jobs and schedules CronJobs with their ConfigMaps and reads the Pods and logs they produce.",
        deployer: None,
        build: batch_jobs,
    },
];

/// The preset called `name`.
pub fn find(name: &str) -> Option<&'static Preset> {
    PRESETS.iter().find(|p| p.name == name)
}

/// The preset names, for help texts and error hints.
pub fn names() -> Vec<&'static str> {
    PRESETS.iter().map(|p| p.name).collect()
}

/// The preset whose rules are exactly `rules`, if any.
pub fn matching(rules: &[Rule]) -> Option<&'static Preset> {
    PRESETS.iter().find(|p| p.rules() == rules)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::validate_rules;

    #[test]
    fn every_preset_is_valid() {
        for preset in PRESETS {
            assert_eq!(validate_rules(&preset.rules()), vec![], "{}", preset.name);
        }
    }

    #[test]
    fn welkin_demo_is_verbatim() {
        let rules = find("welkin-user-demo").unwrap().rules();
        assert_eq!(rules.len(), 7);
        assert_eq!(rules[6], Rule::new(&["cert-manager.io"], &["certificates"], READ));
    }
}
