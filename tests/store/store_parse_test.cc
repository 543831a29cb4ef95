// Parsers against real API server bytes (testdata/ copies of k8s-wire captures), and
// their refusal to throw on malformed shapes.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "controller/store/base64.h"
#include "controller/store/parse.h"

namespace keel::store {
namespace {

using nlohmann::json;

json Load(const std::string& name) {
  std::ifstream in(std::string(KEEL_STORE_TESTDATA) + "/" + name);
  std::stringstream ss;
  ss << in.rdbuf();
  return json::parse(ss.str());
}

TEST(ParseIngress, RealGetResponse) {
  Result<Ingress> ing = ParseIngress(Load("07-ingress-get.json"));
  ASSERT_TRUE(ing.ok()) << ing.error();
  EXPECT_EQ(ing->meta.ns, "wire");
  EXPECT_EQ(ing->meta.name, "web");
  EXPECT_EQ(ing->meta.uid, "7231586b-b318-40ce-8239-b5ae7e54c6ff");
  EXPECT_EQ(ing->meta.resource_version, "229");
  EXPECT_EQ(ing->meta.generation, 2);
  EXPECT_EQ(ing->meta.creation_timestamp, "2026-11-23T08:32:25Z");
  // kubectl's last-applied copy is dropped; the real annotation stays.
  EXPECT_EQ(ing->meta.annotations.size(), 1u);
  EXPECT_EQ(ing->meta.annotations.at("nginx.ingress.kubernetes.io/rewrite-target"), "/");
  ASSERT_TRUE(ing->spec.ingress_class_name.has_value());
  EXPECT_EQ(*ing->spec.ingress_class_name, "wire-class");
  ASSERT_TRUE(ing->spec.default_backend.has_value());
  EXPECT_EQ(ing->spec.default_backend->service_name, "echo");
  EXPECT_EQ(ing->spec.default_backend->port_name, "http");
  EXPECT_EQ(ing->spec.default_backend->port_number, 0);
  ASSERT_EQ(ing->spec.tls.size(), 1u);
  EXPECT_EQ(ing->spec.tls[0].hosts, std::vector<std::string>{"demo.example.test"});
  EXPECT_EQ(ing->spec.tls[0].secret_name, "demo-tls");
  ASSERT_EQ(ing->spec.rules.size(), 2u);
  const IngressRule& r0 = ing->spec.rules[0];
  EXPECT_EQ(r0.host, "demo.example.test");
  ASSERT_EQ(r0.paths.size(), 2u);
  EXPECT_EQ(r0.paths[0].path, "/api");
  EXPECT_EQ(r0.paths[0].path_type, "Prefix");
  EXPECT_EQ(r0.paths[0].backend.port_number, 80);
  EXPECT_EQ(r0.paths[1].path, "/exact2");
  EXPECT_EQ(r0.paths[1].path_type, "Exact");
  EXPECT_EQ(r0.paths[1].backend.port_name, "http");
  EXPECT_EQ(ing->spec.rules[1].host, "*.example.test");
  EXPECT_EQ(ing->spec.rules[1].paths[0].path_type, "ImplementationSpecific");
  EXPECT_EQ(ing->spec.rules[1].paths[0].backend.port_number, 9000);
  EXPECT_TRUE(ing->status.empty());
}

TEST(ParseIngress, ListItemWithStatus) {
  json list = Load("14-list-ingresses-limit1.json");
  ASSERT_EQ(list["items"].size(), 1u);
  Result<Ingress> ing = ParseIngress(list["items"][0]);  // list items carry no "kind"
  ASSERT_TRUE(ing.ok()) << ing.error();
  EXPECT_EQ(ing->meta.ref(), (ObjectRef{"lab", "web"}));
  ASSERT_EQ(ing->status.size(), 1u);
  EXPECT_EQ(ing->status[0].ip, "10.244.0.200");
  EXPECT_EQ(ing->spec.tls[0].hosts.size(), 2u);
  EXPECT_EQ(ing->meta.annotations.at("example.test/note"), "first version");
}

TEST(ParseIngressClass, DefaultAnnotation) {
  json list = Load("14-list-ingressclasses.json");
  ASSERT_EQ(list["items"].size(), 2u);
  Result<IngressClass> lab = ParseIngressClass(list["items"][0]);
  Result<IngressClass> wire = ParseIngressClass(list["items"][1]);
  ASSERT_TRUE(lab.ok() && wire.ok());
  EXPECT_EQ(lab->meta.name, "lab-class");
  EXPECT_FALSE(lab->is_default);  // annotation present but "false"
  EXPECT_EQ(lab->controller, "example.test/lab-ingress-controller");
  EXPECT_TRUE(wire->is_default);
  EXPECT_EQ(wire->controller, "example.test/ingress-controller");
  EXPECT_TRUE(wire->meta.ns.empty());
}

TEST(ParseService, PortsAcrossPages) {
  json page1 = Load("14-list-services-limit2.json");
  Result<Service> kube = ParseService(page1["items"][0]);
  ASSERT_TRUE(kube.ok()) << kube.error();
  EXPECT_EQ(kube->spec.type, "ClusterIP");
  EXPECT_EQ(kube->spec.cluster_ip, "10.96.0.1");
  ASSERT_EQ(kube->spec.ports.size(), 1u);
  EXPECT_EQ(kube->spec.ports[0].name, "https");
  EXPECT_EQ(kube->spec.ports[0].port, 443);
  EXPECT_EQ(kube->spec.ports[0].target_port_number, 6443);
  EXPECT_EQ(kube->meta.labels.at("component"), "apiserver");

  json page2 = Load("14-list-services-page2.json");
  Result<Service> echo = ParseService(page2["items"][0]);
  ASSERT_TRUE(echo.ok()) << echo.error();
  ASSERT_EQ(echo->spec.ports.size(), 2u);
  EXPECT_EQ(echo->spec.ports[0].target_port_name, "web");  // named targetPort
  EXPECT_EQ(echo->spec.ports[0].target_port_number, 0);
  EXPECT_EQ(echo->spec.ports[1].app_protocol, "kubernetes.io/h2c");
  EXPECT_EQ(echo->spec.ports[1].target_port_number, 9000);
  EXPECT_EQ(echo->spec.ports[1].protocol, "TCP");
}

TEST(ParseEndpointSlice, ConditionsWithNilSemantics) {
  json list = Load("14-list-endpointslices.json");
  Result<EndpointSlice> web = ParseEndpointSlice(list["items"][0]);
  ASSERT_TRUE(web.ok()) << web.error();
  EXPECT_EQ(web->spec.service_name, "web");
  EXPECT_EQ(web->spec.address_type, "IPv4");
  ASSERT_EQ(web->spec.endpoints.size(), 2u);
  EXPECT_TRUE(web->spec.endpoints[0].ready);
  // {ready: false} with serving/terminating absent: serving follows ready, not terminating.
  EXPECT_FALSE(web->spec.endpoints[1].ready);
  EXPECT_FALSE(web->spec.endpoints[1].serving);
  EXPECT_FALSE(web->spec.endpoints[1].terminating);

  Result<EndpointSlice> echo = ParseEndpointSlice(list["items"][1]);
  ASSERT_TRUE(echo.ok()) << echo.error();
  ASSERT_EQ(echo->spec.ports.size(), 2u);
  EXPECT_EQ(echo->spec.ports[1].name, "grpc");
  EXPECT_EQ(echo->spec.ports[1].port, 9000);
  EXPECT_EQ(echo->spec.ports[1].app_protocol, "kubernetes.io/h2c");
  EXPECT_EQ(echo->spec.endpoints[0].zone, "zone-a");
  EXPECT_EQ(echo->spec.endpoints[0].target_name, "echo-6d9f7-abcde");
  EXPECT_TRUE(echo->spec.endpoints[1].terminating);
}

TEST(ParseEndpointSlice, EveryWatchEvent) {
  std::ifstream in(std::string(KEEL_STORE_TESTDATA) + "/03-watch-endpointslices.ndjson");
  std::string line;
  int parsed = 0, bookmarks = 0;
  while (std::getline(in, line)) {
    json ev = json::parse(line);
    if (ev["type"] == "BOOKMARK") {
      ++bookmarks;
      continue;
    }
    Result<EndpointSlice> s = ParseEndpointSlice(ev["object"]);
    ASSERT_TRUE(s.ok()) << s.error();
    EXPECT_EQ(s->meta.ns, "wire");
    ++parsed;
  }
  EXPECT_EQ(parsed, 7);
  EXPECT_EQ(bookmarks, 2);
}

TEST(ParseSecret, TlsDecodedAndOtherTypesNotRead) {
  json list = Load("14-list-tls-secrets.json");
  Result<SecretParse> s = ParseSecret(list["items"][0]);
  ASSERT_TRUE(s.ok()) << s.error();
  ASSERT_TRUE(s->tls.has_value());
  EXPECT_EQ(s->tls->cert_pem.rfind("-----BEGIN CERTIFICATE-----", 0), 0u);
  EXPECT_NE(s->tls->key_pem.find("PRIVATE KEY-----"), std::string::npos);

  json opaque = {{"metadata", {{"name", "db"}, {"namespace", "app"}}},
                 {"type", "Opaque"},
                 {"data", {{"password", "aHVudGVyMg=="}}}};
  Result<SecretParse> o = ParseSecret(opaque);
  ASSERT_TRUE(o.ok());
  EXPECT_FALSE(o->tls.has_value());
  EXPECT_EQ(o->other.type, "Opaque");
  EXPECT_EQ(o->ref, (ObjectRef{"app", "db"}));
  // Opaque data is decoded, but only password hashes are kept (basic auth)...
  EXPECT_EQ(o->other.data.at("password"), kNotAHash);
  json broken = {{"metadata", {{"name", "x"}}}, {"type", "Opaque"}, {"data", 42}};
  EXPECT_FALSE(ParseSecret(broken).ok());

  // ...any other type is just "not ours": its data is never looked at.
  json weird = {{"metadata", {{"name", "x"}}}, {"type", "kubernetes.io/service-account-token"}, {"data", 42}};
  ASSERT_TRUE(ParseSecret(weird).ok());
  EXPECT_TRUE(ParseSecret(weird)->other.data.empty());
}

TEST(ParseSecret, StringDataWinsAndMissingKeyFails) {
  json s = {{"metadata", {{"name", "t"}}},
            {"type", "kubernetes.io/tls"},
            {"data", {{"tls.crt", Base64Encode("OLD")}, {"tls.key", Base64Encode("KEY")}}},
            {"stringData", {{"tls.crt", "NEW"}}}};
  Result<SecretParse> p = ParseSecret(s);
  ASSERT_TRUE(p.ok()) << p.error();
  EXPECT_EQ(p->tls->cert_pem, "NEW");
  EXPECT_EQ(p->tls->key_pem, "KEY");

  s.erase("stringData");
  s["data"].erase("tls.key");
  Result<SecretParse> missing = ParseSecret(s);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error(), "data.tls.key: missing");
}

TEST(Parse, MalformedShapesAreErrorsNotExceptions) {
  const json shapes[] = {
      json(nullptr),
      json(42),
      json("str"),
      json::array({1, 2}),
      {{"metadata", 5}},
      {{"metadata", {{"name", 5}}}},
      {{"metadata", {{"name", "x"}, {"annotations", {{"a", true}}}}}},
      {{"metadata", {{"name", "x"}}}, {"spec", {{"rules", {{{"http", {{"paths", "nope"}}}}}}}}},
      {{"metadata", {{"name", "x"}}},
       {"spec",
        {{"rules",
          {{{"http", {{"paths", {{{"backend", {{"service", {{"port", {{"number", "80"}}}}}}}}}}}}}}}}}},
      {{"metadata", {{"name", "x"}}}, {"spec", {{"ports", {{{"port", 0}}}}}}},
      {{"metadata", {{"name", "x"}}}, {"spec", {{"ports", {{{"port", 80}, {"targetPort", 1e10}}}}}}},
      {{"metadata", {{"name", "x"}}}, {"endpoints", {{{"addresses", {1, 2}}}}}},
      {{"metadata", {{"name", "x"}}}, {"endpoints", {{{"conditions", {{"ready", "yes"}}}}}}},
      {{"metadata", {{"name", "x"}}}, {"type", "kubernetes.io/tls"}, {"data", {{"tls.crt", "!!"}}}},
  };
  for (const json& j : shapes) {
    EXPECT_NO_THROW({
      (void)ParseIngress(j);
      (void)ParseIngressClass(j);
      (void)ParseService(j);
      (void)ParseEndpointSlice(j);
      (void)ParseSecret(j);
      (void)ParseRef(j);
    }) << j.dump();
  }
  Result<Ingress> bad = ParseIngress(shapes[8]);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error(), "spec.rules[0].http.paths[0].backend.service.port.number: expected an integer");
  Result<Service> port0 = ParseService(shapes[9]);
  ASSERT_FALSE(port0.ok());
  EXPECT_EQ(port0.error(), "spec.ports[0].port: port out of range 1-65535");
  Result<Ingress> ann = ParseIngress(shapes[6]);
  ASSERT_FALSE(ann.ok());
  EXPECT_EQ(ann.error(), "metadata.annotations.a: expected a string (quote it in YAML)");
}

TEST(Base64, RoundTripAndStrictness) {
  for (const std::string& s : std::vector<std::string>{"", "f", "fo", "foo", "foob", "fooba", "foobar",
                                                       std::string("\0\xff\x10", 3)}) {
    auto d = Base64Decode(Base64Encode(s));
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(*d, s);
  }
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(*Base64Decode("Zm9v\nYmFy\r\n"), "foobar");  // line breaks are ignored
  EXPECT_FALSE(Base64Decode("Zm9").has_value());         // not a multiple of 4
  EXPECT_FALSE(Base64Decode("Zm9v!mFy").has_value());
  EXPECT_FALSE(Base64Decode("Zg==Zg==").has_value());  // data after padding
  EXPECT_FALSE(Base64Decode("Zh==").has_value());      // non-zero trailing bits
}

}  // namespace
}  // namespace keel::store
