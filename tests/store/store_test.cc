// Store semantics: Replace removes what is missing, non-TLS Secrets are never kept,
// no-op updates do not notify, views are consistent snapshots, and the change record
// tells translation when only EndpointSlices moved.
#include "controller/store/store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "controller/store/base64.h"

namespace keel::store {
namespace {

using nlohmann::json;

json Meta(const std::string& ns, const std::string& name) {
  json m = {{"name", name}};
  if (!ns.empty()) m["namespace"] = ns;
  return m;
}

json IngressJson(const std::string& ns, const std::string& name, const std::string& host = "a.example.test") {
  return {{"metadata", Meta(ns, name)},
          {"spec",
           {{"rules",
             {{{"host", host},
               {"http",
                {{"paths",
                  {{{"path", "/"},
                    {"pathType", "Prefix"},
                    {"backend", {{"service", {{"name", "web"}, {"port", {{"number", 80}}}}}}}}}}}}}}}}}};
}

json SliceJson(const std::string& name, const std::string& service, const std::string& ip) {
  return {{"metadata",
           {{"name", name}, {"namespace", "default"}, {"labels", {{"kubernetes.io/service-name", service}}}}},
          {"addressType", "IPv4"},
          {"endpoints", {{{"addresses", {ip}}}}}};
}

json SecretJson(const std::string& name, const std::string& type) {
  return {{"metadata", Meta("default", name)},
          {"type", type},
          {"data", {{"tls.crt", Base64Encode("CERT")}, {"tls.key", Base64Encode("KEY")}}}};
}

TEST(Store, ReplaceRemovesMissingObjects) {
  Store st;
  st.Replace(Kind::Ingress, {IngressJson("a", "one"), IngressJson("a", "two"), IngressJson("b", "three")});
  EXPECT_EQ(st.Size(Kind::Ingress), 3u);
  st.Replace(Kind::Ingress, {IngressJson("a", "two")});
  StoreView v = st.View();
  ASSERT_EQ(v.ingresses().size(), 1u);
  EXPECT_EQ(v.ingresses().begin()->first, (ObjectRef{"a", "two"}));
}

TEST(Store, UpsertRemoveAndDefaultNamespace) {
  Store st;
  st.Upsert(Kind::Service, {{"metadata", Meta("", "web")}, {"spec", {{"ports", {{{"port", 80}}}}}}});
  EXPECT_NE(st.View().FindService({"default", "web"}), nullptr);
  st.Remove(Kind::Service, "default", "web");
  EXPECT_EQ(st.View().FindService({"default", "web"}), nullptr);
  st.Upsert(Kind::IngressClass, {{"metadata", Meta("ignored-ns", "keel")}, {"spec", {{"controller", "x"}}}});
  ASSERT_NE(st.View().FindIngressClass("keel"), nullptr);
  st.Remove(Kind::IngressClass, "", "keel");
  EXPECT_EQ(st.View().FindIngressClass("keel"), nullptr);
}

TEST(Store, SecretsOfOtherTypesAreNotKept) {
  Store st;
  st.Replace(Kind::Secret, {SecretJson("tls", "kubernetes.io/tls"), SecretJson("opaque", "Opaque"),
                            SecretJson("token", "kubernetes.io/service-account-token")});
  StoreView v = st.View();
  EXPECT_EQ(v.secrets().size(), 1u);
  ASSERT_NE(v.FindSecret({"default", "tls"}), nullptr);
  EXPECT_EQ(v.FindSecret({"default", "tls"})->cert_pem, "CERT");
  EXPECT_EQ(v.FindSecret({"default", "opaque"}), nullptr);
  ASSERT_NE(v.OtherSecretType({"default", "opaque"}), nullptr);
  EXPECT_EQ(*v.OtherSecretType({"default", "opaque"}), "Opaque");
  // A TLS secret re-typed (manifests folder) drops its key material at once.
  st.Upsert(Kind::Secret, SecretJson("tls", "Opaque"));
  EXPECT_EQ(st.View().FindSecret({"default", "tls"}), nullptr);
  st.Replace(Kind::Secret, {});
  EXPECT_EQ(st.View().OtherSecretType({"default", "opaque"}), nullptr);
}

TEST(Store, OpaqueSecretDataIsKeptForBasicAuthOtherTypesKeepNone) {
  const std::string kSha = "{SHA}EUxJCGrxv/9U2G9jzflfGtBMRt4=";
  Store st;
  std::vector<Kind> notified;
  st.SetChangeCallback([&notified](Kind k) { notified.push_back(k); });
  json opaque = {
      {"metadata", Meta("default", "htpasswd")},
      {"type", "Opaque"},
      {"data", {{"auth", Base64Encode("alice:" + kSha + "\r\n# c\nbob:hunter2\n-----BEGIN KEY-----\n")}}},
      {"stringData", {{"extra", "plain"}, {"carol", kSha}}}};
  st.Replace(Kind::Secret, {opaque, SecretJson("token", "kubernetes.io/service-account-token")});
  StoreView v = st.View();
  const OtherSecret* o = v.FindOtherSecret({"default", "htpasswd"});
  ASSERT_NE(o, nullptr);
  EXPECT_EQ(o->type, "Opaque");
  // Only password hashes are held: a plaintext entry keeps its user (for the diagnostic),
  // other lines and values that are not hashes (passwords, keys) are not kept.
  EXPECT_EQ(o->data.at("auth"), "alice:" + kSha + "\nbob:" + std::string(kNotAHash) + "\n");
  EXPECT_EQ(o->data.at("extra"), kNotAHash);
  EXPECT_EQ(o->data.at("carol"), kSha);
  ASSERT_NE(v.FindOtherSecret({"default", "token"}), nullptr);
  EXPECT_TRUE(v.FindOtherSecret({"default", "token"})->data.empty());  // never read
  // An edit of the data is a change (re-translation: who gets in changes).
  size_t before = notified.size();
  opaque["data"]["auth"] = Base64Encode("dave:" + kSha);
  st.Upsert(Kind::Secret, opaque);
  EXPECT_EQ(notified.size(), before + 1);
  EXPECT_EQ(st.View().FindOtherSecret({"default", "htpasswd"})->data.at("auth"), "dave:" + kSha + "\n");
  st.Upsert(Kind::Secret, opaque);  // same data: no-op
  EXPECT_EQ(notified.size(), before + 1);
  // Bad base64 in an Opaque Secret is a rejection, not silently empty data.
  opaque["data"]["auth"] = "!!!";
  st.Upsert(Kind::Secret, opaque);
  EXPECT_EQ(st.View().FindOtherSecret({"default", "htpasswd"}), nullptr);
  ASSERT_EQ(st.View().rejections().size(), 1u);
}

TEST(Store, NoOpUpdatesDoNotNotifyButAreStored) {
  Store st;
  std::vector<Kind> notified;
  st.SetChangeCallback([&notified](Kind k) { notified.push_back(k); });
  json ing = IngressJson("a", "web");
  st.Upsert(Kind::Ingress, ing);
  EXPECT_EQ(notified.size(), 1u);
  // Our own status write comes back as MODIFIED with a new resourceVersion.
  ing["metadata"]["resourceVersion"] = "42";
  ing["status"] = {{"loadBalancer", {{"ingress", {{{"ip", "10.0.0.9"}}}}}}};
  st.Upsert(Kind::Ingress, ing);
  EXPECT_EQ(notified.size(), 1u);
  const auto& stored = st.View().ingresses().at({"a", "web"});
  EXPECT_EQ(stored->meta.resource_version, "42");
  ASSERT_EQ(stored->status.size(), 1u);
  EXPECT_EQ(stored->status[0].ip, "10.0.0.9");
  // A spec change does notify.
  st.Upsert(Kind::Ingress, IngressJson("a", "web", "b.example.test"));
  ASSERT_EQ(notified.size(), 2u);
  EXPECT_EQ(notified[1], Kind::Ingress);
  // Replacing with the same content does not.
  st.Replace(Kind::Ingress, {IngressJson("a", "web", "b.example.test")});
  EXPECT_EQ(notified.size(), 2u);
}

TEST(Store, ViewsAreConsistentSnapshots) {
  Store st;
  st.Replace(Kind::Ingress, {IngressJson("a", "one")});
  StoreView before = st.View();
  const Ingress* kept = before.ingresses().at({"a", "one"}).get();
  st.Upsert(Kind::Ingress, IngressJson("a", "two"));
  st.Remove(Kind::Ingress, "a", "one");
  EXPECT_EQ(before.ingresses().size(), 1u);
  EXPECT_EQ(before.ingresses().at({"a", "one"}).get(), kept);
  StoreView after = st.View();
  EXPECT_EQ(after.ingresses().size(), 1u);
  EXPECT_EQ(after.ingresses().count({"a", "two"}), 1u);
}

TEST(Store, UnchangedObjectsAreSharedBetweenViews) {
  Store st;
  st.Replace(Kind::Ingress, {IngressJson("a", "one"), IngressJson("a", "two")});
  StoreView v1 = st.View();
  st.Upsert(Kind::Ingress, IngressJson("a", "two", "changed.example.test"));
  StoreView v2 = st.View();
  EXPECT_EQ(v1.ingresses().at({"a", "one"}).get(), v2.ingresses().at({"a", "one"}).get());
  EXPECT_NE(v1.ingresses().at({"a", "two"}).get(), v2.ingresses().at({"a", "two"}).get());
}

TEST(Store, ChangesTellWhenOnlyEndpointSlicesMoved) {
  Store st;
  st.Replace(Kind::Ingress, {IngressJson("a", "one")});
  StoreChanges c;
  st.View(&c);
  EXPECT_TRUE(c.Has(Kind::Ingress));
  EXPECT_FALSE(c.OnlyEndpointSlices());

  st.Upsert(Kind::EndpointSlice, SliceJson("web-1", "web", "10.0.0.1"));
  st.Upsert(Kind::EndpointSlice, SliceJson("api-1", "api", "10.0.0.2"));
  st.View(&c);
  EXPECT_TRUE(c.OnlyEndpointSlices());
  EXPECT_EQ(c.endpoint_services, (std::set<ObjectRef>{{"default", "api"}, {"default", "web"}}));

  st.View(&c);  // drained
  EXPECT_FALSE(c.Any());

  // A slice whose service label moves reports both services.
  st.Upsert(Kind::EndpointSlice, SliceJson("web-1", "web2", "10.0.0.1"));
  StoreView v = st.View(&c);
  EXPECT_EQ(c.endpoint_services, (std::set<ObjectRef>{{"default", "web"}, {"default", "web2"}}));
  EXPECT_EQ(v.FindSlices({"default", "web"}), nullptr);
  ASSERT_NE(v.FindSlices({"default", "web2"}), nullptr);
  EXPECT_EQ(v.FindSlices({"default", "web2"})->size(), 1u);
  EXPECT_EQ(v.endpoint_slices().size(), 2u);  // api and web2

  st.Remove(Kind::EndpointSlice, "default", "web-1");
  v = st.View(&c);
  EXPECT_EQ(c.endpoint_services, (std::set<ObjectRef>{{"default", "web2"}}));
  EXPECT_EQ(v.FindSlices({"default", "web2"}), nullptr);
}

TEST(Store, MalformedObjectIsRejectedAndReplacesTheOldVersion) {
  Store st;
  st.Upsert(Kind::Ingress, IngressJson("a", "web"));
  json bad = IngressJson("a", "web");
  bad["spec"]["rules"] = "not a list";
  st.Upsert(Kind::Ingress, bad);
  StoreView v = st.View();
  EXPECT_TRUE(v.ingresses().empty());
  ASSERT_EQ(v.rejections().size(), 1u);
  EXPECT_EQ(v.rejections()[0].kind, Kind::Ingress);
  EXPECT_EQ(v.rejections()[0].ref, (ObjectRef{"a", "web"}));
  EXPECT_EQ(v.rejections()[0].message, "spec.rules: expected a list");
  st.Upsert(Kind::Ingress, IngressJson("a", "web"));
  v = st.View();
  EXPECT_EQ(v.ingresses().size(), 1u);
  EXPECT_TRUE(v.rejections().empty());
  // Replace clears rejections of objects that are gone.
  st.Upsert(Kind::Ingress, bad);
  st.Replace(Kind::Ingress, {});
  EXPECT_TRUE(st.View().rejections().empty());
}

TEST(Store, ConcurrentWritersAndReaders) {
  Store st;
  std::atomic<int> notifications{0};
  st.SetChangeCallback([&notifications](Kind) { notifications.fetch_add(1); });
  std::atomic<bool> stop{false};
  std::vector<std::thread> writers;
  for (int w = 0; w < 3; ++w) {
    writers.emplace_back([&st, w] {
      for (int i = 0; i < 300; ++i) {
        st.Upsert(
            Kind::EndpointSlice,
            SliceJson("s" + std::to_string(w) + "-" + std::to_string(i % 20), "svc" + std::to_string(i % 5),
                      "10.0." + std::to_string(w) + "." + std::to_string(i % 250)));
        if (i % 7 == 0) st.Remove(Kind::EndpointSlice, "default", "s" + std::to_string(w) + "-3");
      }
    });
  }
  std::thread reader([&st, &stop] {
    while (!stop.load()) {
      StoreView v = st.View();
      size_t total = 0;
      v.endpoint_slices().ForEach([&total](const ObjectRef&, const SliceSet& set) {
        for (const auto& [name, slice] : set) total += slice->spec.endpoints.size();
      });
      EXPECT_LE(total, 60u);
    }
  });
  for (auto& t : writers) t.join();
  stop = true;
  reader.join();
  EXPECT_GT(notifications.load(), 0);
  EXPECT_LE(st.Size(Kind::EndpointSlice), 60u);
}

}  // namespace
}  // namespace keel::store
