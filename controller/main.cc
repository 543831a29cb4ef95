// keel-controller: watches Kubernetes (or a manifests folder), translates Ingresses
// into snapshots and serves them to dataplanes over gRPC.
#include <cstdlib>
#include <iostream>

#include "common/flags.h"
#include "common/log.h"
#include "controller/app/app.h"

int main(int argc, char** argv) {
  std::string kubeconfig, manifests, watch_namespace, log_level = "info";
  std::string controller_class = "keel.dev/ingress-controller", ingress_class = "keel";
  std::string config_listen = "0.0.0.0:18000", metrics_listen = "0.0.0.0:10254", metrics_compat = "none";
  std::string publish_service, publish_address, election_id = "keel-controller-leader";
  std::string default_ssl_certificate, tls_cert, tls_key, tls_ca;
  bool watch_without_class = false, insecure_config_channel = false, leader_elect = true;

  keel::Flags flags("keel-controller",
                    "Watches Ingress, IngressClass, Service, EndpointSlice and TLS Secret objects,\n"
                    "translates them into versioned snapshots and streams them to keel-dataplane pods.");
  flags.String("kubeconfig", &kubeconfig, "Path to a kubeconfig; empty: in-cluster service account");
  flags.String("manifests", &manifests, "Read objects from YAML files in this folder instead of the API (local runs)");
  flags.String("watch-namespace", &watch_namespace, "Watch only this namespace; empty: all namespaces");
  flags.String("controller-class", &controller_class, "IngressClass spec.controller value this controller owns");
  flags.String("ingress-class", &ingress_class, "IngressClass name (and legacy annotation value) this controller owns");
  flags.Bool("watch-ingress-without-class", &watch_without_class, "Also claim Ingresses that name no class and no default class exists");
  flags.String("config-listen", &config_listen, "Address for the dataplane config stream (gRPC)");
  flags.Bool("insecure-config-channel", &insecure_config_channel, "Serve the config stream without TLS (local runs only: it carries private keys)");
  flags.String("config-tls-cert", &tls_cert, "PEM certificate for the config stream");
  flags.String("config-tls-key", &tls_key, "PEM private key for the config stream");
  flags.String("config-tls-ca", &tls_ca, "PEM CA that dataplane client certificates must chain to");
  flags.String("metrics-listen", &metrics_listen, "Address for /metrics, /healthz, /readyz and /diagnostics; empty: off");
  flags.String("publish-service", &publish_service, "namespace/name of the Service whose address (load balancer, externalIPs, else clusterIP) goes into status.loadBalancer of owned Ingresses; with --manifests there is no API: logged instead");
  flags.String("publish-address", &publish_address, "Fixed address(es) for Ingress status, comma-separated; wins over --publish-service");
  flags.Bool("leader-elect", &leader_elect, "Use a coordination.k8s.io Lease so only one replica writes status and Events (all serve snapshots). Events are Warnings for rejected Ingresses and bad Secrets; with --manifests they are logged");
  flags.String("election-id", &election_id, "Name of the leader-election Lease");
  flags.String("default-ssl-certificate", &default_ssl_certificate, "namespace/name of the TLS Secret served when no host certificate matches");
  flags.String("metrics-compat", &metrics_compat, "none, or nginx: also export ingress-nginx metric names and labels");
  flags.String("log-level", &log_level, "debug, info, warn or error");

  bool help = false;
  if (!flags.Parse(argc, argv, &help)) return 2;
  if (help) return 0;
  keel::log::Level level;
  if (!keel::log::ParseLevel(log_level, &level)) {
    std::cerr << "keel-controller: bad --log-level '" << log_level << "'\n";
    return 2;
  }
  keel::log::SetLevel(level);
  keel::controller::AppOptions app;
  if (metrics_compat != "none" && metrics_compat != "nginx") {
    std::cerr << "keel-controller: --metrics-compat must be none or nginx, not '" << metrics_compat << "'\n";
    return 2;
  }
  app.metrics_compat_nginx = metrics_compat == "nginx";
  app.kubeconfig = kubeconfig;
  app.manifests = manifests;
  app.watch_namespace = watch_namespace;
  app.config_listen = config_listen;
  app.metrics_listen = metrics_listen;
  app.insecure_config_channel = insecure_config_channel;
  app.tls_cert = tls_cert;
  app.tls_key = tls_key;
  app.tls_ca = tls_ca;
  app.publish_service = publish_service;
  app.publish_address = publish_address;
  app.leader_elect = leader_elect;
  app.election_id = election_id;
  app.translate.controller_class = controller_class;
  app.translate.ingress_class = ingress_class;
  app.translate.watch_without_class = watch_without_class;
  app.translate.default_ssl_certificate = default_ssl_certificate;
  return keel::controller::Run(app);
}
