//! Where a kind lives: the catalog's namespaced kinds, the built-in cluster-scoped kinds,
//! the custom resources of widely used operators and the user's overrides.

use k8s_openapi::ClusterResourceScope;
use k8s_openapi::api::{
    admissionregistration, certificates, core, flowcontrol, networking, node, rbac, scheduling,
    storage,
};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use k8s_openapi::kube_aggregator::pkg::apis::apiregistration::v1::APIService;

use super::{DeriveOptions, KindOverride};
use crate::catalog;
use crate::coverage;

/// A custom resource of a widely used operator: group, kind, plural, namespaced, product.
struct WellKnown {
    group: &'static str,
    kind: &'static str,
    plural: &'static str,
    namespaced: bool,
    product: &'static str,
}

const fn crd(
    group: &'static str,
    kind: &'static str,
    plural: &'static str,
    namespaced: bool,
    product: &'static str,
) -> WellKnown {
    WellKnown { group, kind, plural, namespaced, product }
}

const MONITORING: &str = "monitoring.coreos.com";
const CERT_MANAGER: &str = "cert-manager.io";
const TRAEFIK: &str = "traefik.io";
const TRAEFIK_OLD: &str = "traefik.containo.us";
const GATEWAY: &str = "gateway.networking.k8s.io";

static WELL_KNOWN: &[WellKnown] = &[
    crd(MONITORING, "PrometheusRule", "prometheusrules", true, "Prometheus Operator"),
    crd(MONITORING, "ServiceMonitor", "servicemonitors", true, "Prometheus Operator"),
    crd(MONITORING, "PodMonitor", "podmonitors", true, "Prometheus Operator"),
    crd(MONITORING, "Probe", "probes", true, "Prometheus Operator"),
    crd(MONITORING, "ScrapeConfig", "scrapeconfigs", true, "Prometheus Operator"),
    crd(MONITORING, "AlertmanagerConfig", "alertmanagerconfigs", true, "Prometheus Operator"),
    crd(MONITORING, "Prometheus", "prometheuses", true, "Prometheus Operator"),
    crd(MONITORING, "Alertmanager", "alertmanagers", true, "Prometheus Operator"),
    crd(MONITORING, "ThanosRuler", "thanosrulers", true, "Prometheus Operator"),
    crd(CERT_MANAGER, "Certificate", "certificates", true, "cert-manager"),
    crd(CERT_MANAGER, "CertificateRequest", "certificaterequests", true, "cert-manager"),
    crd(CERT_MANAGER, "Issuer", "issuers", true, "cert-manager"),
    crd(CERT_MANAGER, "ClusterIssuer", "clusterissuers", false, "cert-manager"),
    crd(TRAEFIK, "IngressRoute", "ingressroutes", true, "Traefik"),
    crd(TRAEFIK, "IngressRouteTCP", "ingressroutetcps", true, "Traefik"),
    crd(TRAEFIK, "IngressRouteUDP", "ingressrouteudps", true, "Traefik"),
    crd(TRAEFIK, "Middleware", "middlewares", true, "Traefik"),
    crd(TRAEFIK, "MiddlewareTCP", "middlewaretcps", true, "Traefik"),
    crd(TRAEFIK, "TLSOption", "tlsoptions", true, "Traefik"),
    crd(TRAEFIK, "TLSStore", "tlsstores", true, "Traefik"),
    crd(TRAEFIK, "TraefikService", "traefikservices", true, "Traefik"),
    crd(TRAEFIK, "ServersTransport", "serverstransports", true, "Traefik"),
    crd(TRAEFIK_OLD, "IngressRoute", "ingressroutes", true, "Traefik 2"),
    crd(TRAEFIK_OLD, "Middleware", "middlewares", true, "Traefik 2"),
    crd(TRAEFIK_OLD, "TLSOption", "tlsoptions", true, "Traefik 2"),
    crd(GATEWAY, "Gateway", "gateways", true, "Gateway API"),
    crd(GATEWAY, "HTTPRoute", "httproutes", true, "Gateway API"),
    crd(GATEWAY, "GRPCRoute", "grpcroutes", true, "Gateway API"),
    crd(GATEWAY, "TCPRoute", "tcproutes", true, "Gateway API"),
    crd(GATEWAY, "TLSRoute", "tlsroutes", true, "Gateway API"),
    crd(GATEWAY, "UDPRoute", "udproutes", true, "Gateway API"),
    crd(GATEWAY, "ReferenceGrant", "referencegrants", true, "Gateway API"),
    crd(GATEWAY, "GatewayClass", "gatewayclasses", false, "Gateway API"),
    crd("keda.sh", "ScaledObject", "scaledobjects", true, "KEDA"),
    crd("keda.sh", "ScaledJob", "scaledjobs", true, "KEDA"),
    crd("keda.sh", "TriggerAuthentication", "triggerauthentications", true, "KEDA"),
    crd("keda.sh", "ClusterTriggerAuthentication", "clustertriggerauthentications", false, "KEDA"),
    crd("external-secrets.io", "ExternalSecret", "externalsecrets", true, "External Secrets"),
    crd("external-secrets.io", "SecretStore", "secretstores", true, "External Secrets"),
    crd(
        "external-secrets.io",
        "ClusterSecretStore",
        "clustersecretstores",
        false,
        "External Secrets",
    ),
    crd("bitnami.com", "SealedSecret", "sealedsecrets", true, "Sealed Secrets"),
    crd(
        "autoscaling.k8s.io",
        "VerticalPodAutoscaler",
        "verticalpodautoscalers",
        true,
        "Vertical Pod Autoscaler",
    ),
    crd("networking.istio.io", "VirtualService", "virtualservices", true, "Istio"),
    crd("networking.istio.io", "DestinationRule", "destinationrules", true, "Istio"),
    crd("networking.istio.io", "Gateway", "gateways", true, "Istio"),
    crd("networking.istio.io", "ServiceEntry", "serviceentries", true, "Istio"),
    crd("argoproj.io", "Rollout", "rollouts", true, "Argo Rollouts"),
    crd("kyverno.io", "Policy", "policies", true, "Kyverno"),
    crd("kyverno.io", "ClusterPolicy", "clusterpolicies", false, "Kyverno"),
    crd("snapshot.storage.k8s.io", "VolumeSnapshot", "volumesnapshots", true, "CSI snapshots"),
    crd(
        "snapshot.storage.k8s.io",
        "VolumeSnapshotClass",
        "volumesnapshotclasses",
        false,
        "CSI snapshots",
    ),
];

/// Built-in cluster-scoped kinds: group and kind from k8s-openapi, like the catalog.
struct ClusterKind {
    group: &'static str,
    kind: &'static str,
}

const fn cluster<T: k8s_openapi::Resource<Scope = ClusterResourceScope>>() -> ClusterKind {
    ClusterKind { group: T::GROUP, kind: T::KIND }
}

static CLUSTER_KINDS: &[ClusterKind] = &[
    cluster::<core::v1::Namespace>(),
    cluster::<core::v1::Node>(),
    cluster::<core::v1::PersistentVolume>(),
    cluster::<rbac::v1::ClusterRole>(),
    cluster::<rbac::v1::ClusterRoleBinding>(),
    cluster::<CustomResourceDefinition>(),
    cluster::<APIService>(),
    cluster::<scheduling::v1::PriorityClass>(),
    cluster::<storage::v1::StorageClass>(),
    cluster::<storage::v1::CSIDriver>(),
    cluster::<storage::v1::CSINode>(),
    cluster::<storage::v1::VolumeAttachment>(),
    cluster::<networking::v1::IngressClass>(),
    cluster::<node::v1::RuntimeClass>(),
    cluster::<certificates::v1::CertificateSigningRequest>(),
    cluster::<flowcontrol::v1::FlowSchema>(),
    cluster::<flowcontrol::v1::PriorityLevelConfiguration>(),
    cluster::<admissionregistration::v1::ValidatingWebhookConfiguration>(),
    cluster::<admissionregistration::v1::MutatingWebhookConfiguration>(),
    cluster::<admissionregistration::v1::ValidatingAdmissionPolicy>(),
    cluster::<admissionregistration::v1::ValidatingAdmissionPolicyBinding>(),
];

/// Where a kind lives.
pub(super) enum Lookup {
    Namespaced { group: String, resource: String, rbac: bool },
    Cluster { product: Option<&'static str> },
    Unknown,
}

/// The user's overrides first, then the table, then what the cluster's discovery says.
pub(super) fn lookup(group: &str, kind: &str, options: &DeriveOptions) -> Lookup {
    let matches = |o: &&KindOverride| o.group == group && o.kind == kind;
    if let Some(o) = options.overrides.iter().find(matches) {
        return overridden(o);
    }
    match known(group, kind) {
        Lookup::Unknown => {
            options.discovered.iter().find(matches).map_or(Lookup::Unknown, overridden)
        }
        known => known,
    }
}

/// What the cluster's discovery said of a kind neither the user nor the table knows.
pub(super) fn discovered<'a>(
    group: &str,
    kind: &str,
    options: &'a DeriveOptions,
) -> Option<&'a KindOverride> {
    let matches = |o: &&KindOverride| o.group == group && o.kind == kind;
    if options.overrides.iter().any(|o| matches(&o))
        || !matches!(known(group, kind), Lookup::Unknown)
    {
        return None;
    }
    options.discovered.iter().find(matches)
}

fn overridden(o: &KindOverride) -> Lookup {
    if o.namespaced {
        Lookup::Namespaced {
            group: o.group.clone(),
            resource: o.resource.clone(),
            rbac: o.group == coverage::RBAC_GROUP,
        }
    } else {
        Lookup::Cluster { product: None }
    }
}

fn known(group: &str, kind: &str) -> Lookup {
    if let Some(entry) = catalog::find_kind(group, kind) {
        return Lookup::Namespaced {
            group: entry.group.to_owned(),
            resource: entry.plural.to_owned(),
            rbac: entry.group == coverage::RBAC_GROUP,
        };
    }
    if CLUSTER_KINDS.iter().any(|c| c.group == group && c.kind == kind) {
        return Lookup::Cluster { product: None };
    }
    match WELL_KNOWN.iter().find(|w| w.group == group && w.kind == kind) {
        Some(w) if w.namespaced => Lookup::Namespaced {
            group: w.group.to_owned(),
            resource: w.plural.to_owned(),
            rbac: false,
        },
        Some(w) => Lookup::Cluster { product: Some(w.product) },
        None => Lookup::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_known_crds_and_cluster_kinds_do_not_clash_with_the_catalog() {
        for w in WELL_KNOWN {
            assert!(catalog::find_kind(w.group, w.kind).is_none(), "{}", w.kind);
        }
        for c in CLUSTER_KINDS {
            assert!(catalog::find_kind(c.group, c.kind).is_none(), "{}", c.kind);
        }
    }
}
