// ServerContext + TlsTransport against a BoringSSL client over a socketpair: SNI
// picks the certificate (checked by subject CN), the generated fallback, ALPN, the
// version floor, RSA/ECDSA choice by the client's signature algorithms, resumption,
// and data both ways through the non-blocking transport.
#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "dataplane/tls/server_context.h"
#include "dataplane/tls/tls_transport.h"
#include "tests/tls/test_certs.h"

namespace keel::tls {
namespace {

using keel::config::v1::Snapshot;
using testing::MakeCert;
using testing::Pem;

struct ClientOptions {
  std::string sni;
  std::vector<std::string> alpn;
  uint16_t max_version = TLS1_3_VERSION;
  bool rsa_only = false;
  SSL_SESSION* session = nullptr;
};

ClientOptions Hello(std::string sni, uint16_t max_version = TLS1_3_VERSION,
                    std::vector<std::string> alpn = {}) {
  ClientOptions o;
  o.sni = std::move(sni);
  o.max_version = max_version;
  o.alpn = std::move(alpn);
  return o;
}

ClientOptions RsaOnly(ClientOptions o) {
  o.rsa_only = true;
  return o;
}

ClientOptions Resume(ClientOptions o, SSL_SESSION* session) {
  o.session = session;
  return o;
}

class HandshakeTest : public ::testing::Test {
 protected:
  // Certificates are minted once for the suite (RSA key generation is slow).
  static void SetUpTestSuite() {
    snapshot_ = new Snapshot();
    Snapshot& s = *snapshot_;
    auto add = [&](const std::string& name, const Pem& pem, const std::string& host) {
      auto* c = s.add_certificates();
      c->set_name(name);
      c->set_cert_chain_pem(pem.cert);
      c->set_private_key_pem(pem.key);
      c->add_dns_names(host);
      auto* vh = s.add_virtual_hosts();
      vh->set_name(host);
      vh->set_certificate(name);
    };
    add("ns/a", MakeCert("a.test", "DNS:a.test"), "a.test");
    add("ns/wild", MakeCert("wildcard", "DNS:*.wild.test"), "*.wild.test");
    add("ns/rsa", MakeCert("both-rsa", "DNS:both.test", true), "both.test");
    auto* ec = s.add_certificates();  // the ECDSA twin of both.test
    Pem ec_pem = MakeCert("both-ec", "DNS:both.test");
    ec->set_name("ns/ec");
    ec->set_cert_chain_pem(ec_pem.cert);
    ec->set_private_key_pem(ec_pem.key);
    ec->add_dns_names("both.test");
  }
  static void TearDownTestSuite() { delete snapshot_; }

  void SetUp() override {
    auto ctx = ServerContext::Create();
    ASSERT_TRUE(ctx.ok()) << ctx.error();
    server_ctx_ = *ctx;
    std::vector<std::string> errors;
    store_ = CertStore::Build(*snapshot_, &errors);
    ASSERT_TRUE(errors.empty());
  }

  void TearDown() override {
    if (sv_[0] >= 0) close(sv_[0]);
    if (sv_[1] >= 0) close(sv_[1]);
  }

  // Runs both handshakes to completion (or failure) in this thread.
  bool Connect(const ClientOptions& o, const CertStore* store) {
    if (sv_[0] >= 0) close(sv_[0]), close(sv_[1]);
    EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv_), 0);
    server_ = server_ctx_->NewSsl(sv_[0], store);
    client_ctx_.reset(SSL_CTX_new(TLS_method()));
    SSL_CTX_set_max_proto_version(client_ctx_.get(), o.max_version);
    SSL_CTX_set_min_proto_version(client_ctx_.get(), TLS1_VERSION);
    SSL_CTX_set_session_cache_mode(client_ctx_.get(), SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL);
    SSL_CTX_sess_set_new_cb(client_ctx_.get(), [](SSL* ssl, SSL_SESSION* session) {
      auto* self = static_cast<HandshakeTest*>(SSL_get_app_data(ssl));
      self->new_session_.reset(session);
      return 1;  // we took the reference
    });
    if (o.rsa_only) {
      static const uint16_t kRsa[] = {SSL_SIGN_RSA_PSS_RSAE_SHA256, SSL_SIGN_RSA_PKCS1_SHA256};
      SSL_CTX_set_verify_algorithm_prefs(client_ctx_.get(), kRsa, 2);
    }
    client_.reset(SSL_new(client_ctx_.get()));
    SSL_set_app_data(client_.get(), this);
    SSL_set_fd(client_.get(), sv_[1]);
    SSL_set_connect_state(client_.get());
    if (!o.sni.empty()) SSL_set_tlsext_host_name(client_.get(), o.sni.c_str());
    if (o.session) SSL_set_session(client_.get(), o.session);
    std::string wire;
    for (const auto& p : o.alpn) wire += static_cast<char>(p.size()) + p;
    if (!wire.empty()) {
      SSL_set_alpn_protos(client_.get(), reinterpret_cast<const uint8_t*>(wire.data()), wire.size());
    }
    bool s_done = false, c_done = false;
    for (int i = 0; i < 100 && !(s_done && c_done); ++i) {
      if (!s_done) {
        int r = SSL_do_handshake(server_.get());
        if (r == 1)
          s_done = true;
        else if (int e = SSL_get_error(server_.get(), r);
                 e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
          return false;
      }
      if (!c_done) {
        int r = SSL_do_handshake(client_.get());
        if (r == 1)
          c_done = true;
        else if (int e = SSL_get_error(client_.get(), r);
                 e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
          return false;
      }
    }
    ERR_clear_error();
    return s_done && c_done;
  }

  std::string PeerCn() {
    bssl::UniquePtr<X509> peer(SSL_get_peer_certificate(client_.get()));
    if (!peer) return "(none)";
    char cn[256] = {};
    X509_NAME_get_text_by_NID(X509_get_subject_name(peer.get()), NID_commonName, cn, sizeof cn);
    return cn;
  }

  std::string Alpn() {
    const uint8_t* p = nullptr;
    unsigned len = 0;
    SSL_get0_alpn_selected(client_.get(), &p, &len);
    return std::string(reinterpret_cast<const char*>(p), len);
  }

  std::shared_ptr<ServerContext> server_ctx_;
  std::shared_ptr<const CertStore> store_;
  bssl::UniquePtr<SSL_CTX> client_ctx_;
  bssl::UniquePtr<SSL> server_, client_;
  bssl::UniquePtr<SSL_SESSION> new_session_;
  int sv_[2] = {-1, -1};
  static Snapshot* snapshot_;
};

Snapshot* HandshakeTest::snapshot_ = nullptr;

TEST_F(HandshakeTest, SniPicksExactAndWildcard) {
  ASSERT_TRUE(Connect(Hello("a.test"), store_.get()));
  EXPECT_EQ(PeerCn(), "a.test");
  EXPECT_EQ(SSL_version(client_.get()), TLS1_3_VERSION);
  ASSERT_TRUE(Connect(Hello("x.wild.test"), store_.get()));
  EXPECT_EQ(PeerCn(), "wildcard");
}

TEST_F(HandshakeTest, UnknownNameGetsGeneratedCertificate) {
  ASSERT_TRUE(Connect(Hello("nobody.test"), store_.get()));
  EXPECT_EQ(PeerCn(), "keel default certificate");
  ASSERT_TRUE(Connect(Hello(""), nullptr));  // before any snapshot
  EXPECT_EQ(PeerCn(), "keel default certificate");
}

TEST_F(HandshakeTest, AlpnPrefersH2ThenHttp11) {
  ASSERT_TRUE(Connect(Hello("a.test", TLS1_3_VERSION, {"http/1.1", "h2"}), store_.get()));
  EXPECT_EQ(Alpn(), "h2");
  EXPECT_TRUE(NegotiatedH2(server_.get()));
  ASSERT_TRUE(Connect(Hello("a.test", TLS1_3_VERSION, {"http/1.1"}), store_.get()));
  EXPECT_EQ(Alpn(), "http/1.1");
  EXPECT_FALSE(NegotiatedH2(server_.get()));
  ASSERT_TRUE(Connect(Hello("a.test", TLS1_3_VERSION, {"spdy/3"}), store_.get()));
  EXPECT_EQ(Alpn(), "");
}

TEST_F(HandshakeTest, Tls11AndOlderRefused) {
  EXPECT_FALSE(Connect(Hello("a.test", TLS1_1_VERSION), store_.get()));
  EXPECT_FALSE(Connect(Hello("a.test", TLS1_VERSION), store_.get()));
  ASSERT_TRUE(Connect(Hello("a.test", TLS1_2_VERSION), store_.get()));
  EXPECT_EQ(SSL_version(client_.get()), TLS1_2_VERSION);
  EXPECT_NE(std::string(SSL_get_cipher_name(client_.get())).find("ECDHE"), std::string::npos);
}

TEST_F(HandshakeTest, EcdsaOrRsaByClientSupport) {
  ASSERT_TRUE(Connect(Hello("both.test"), store_.get()));
  EXPECT_EQ(PeerCn(), "both-ec");
  ASSERT_TRUE(Connect(RsaOnly(Hello("both.test")), store_.get()));
  EXPECT_EQ(PeerCn(), "both-rsa");
  ASSERT_TRUE(Connect(RsaOnly(Hello("both.test", TLS1_2_VERSION)), store_.get()));
  EXPECT_EQ(PeerCn(), "both-rsa");
}

TEST_F(HandshakeTest, SessionsResume) {
  for (uint16_t version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
    new_session_.reset();
    ASSERT_TRUE(Connect(Hello("a.test", version), store_.get()));
    EXPECT_FALSE(SSL_session_reused(server_.get()));
    // TLS 1.3 tickets travel after the handshake, before the first response bytes.
    ASSERT_EQ(SSL_write(server_.get(), "x", 1), 1);
    char buf[16];
    EXPECT_EQ(SSL_read(client_.get(), buf, sizeof buf), 1);
    ASSERT_TRUE(new_session_) << version;
    bssl::UniquePtr<SSL_SESSION> session = std::move(new_session_);
    ASSERT_TRUE(Connect(Resume(Hello("a.test", version), session.get()), store_.get()));
    EXPECT_TRUE(SSL_session_reused(server_.get())) << version;
    EXPECT_TRUE(SSL_session_reused(client_.get())) << version;
  }
}

TEST_F(HandshakeTest, RotationAffectsOnlyNewHandshakes) {
  ASSERT_TRUE(Connect(Hello("a.test"), store_.get()));
  EXPECT_EQ(PeerCn(), "a.test");
  Snapshot s;
  auto* c = s.add_certificates();
  Pem renewed = MakeCert("a.test renewed", "DNS:a.test");
  c->set_name("ns/a");
  c->set_cert_chain_pem(renewed.cert);
  c->set_private_key_pem(renewed.key);
  auto* vh = s.add_virtual_hosts();
  vh->set_name("a.test");
  vh->set_certificate("ns/a");
  std::vector<std::string> errors;
  auto next = CertStore::Build(s, &errors);
  ASSERT_TRUE(Connect(Hello("a.test"), next.get()));
  EXPECT_EQ(PeerCn(), "a.test renewed");
}

// After the handshake the server has something to say at once (its session tickets),
// so the client's Finished is answered without waiting for the first request.
TEST_F(HandshakeTest, SessionTicketsLeaveRightAfterTheHandshake) {
  ASSERT_TRUE(Connect(Hello("a.test"), store_.get()));
  char buf[64];
  EXPECT_EQ(recv(sv_[1], buf, sizeof buf, MSG_PEEK), -1);  // held back by BoringSSL
  EXPECT_EQ(errno, EAGAIN);
  EXPECT_TRUE(new_session_ == nullptr);
  SendSessionTickets(server_.get());
  ASSERT_GT(recv(sv_[1], buf, sizeof buf, MSG_PEEK), 0);
  EXPECT_EQ(SSL_read(client_.get(), buf, sizeof buf), -1);  // tickets only, no data
  EXPECT_EQ(SSL_get_error(client_.get(), -1), SSL_ERROR_WANT_READ);
  EXPECT_TRUE(new_session_ != nullptr);  // the client got a resumable session
  SendSessionTickets(server_.get());     // nothing left to send: harmless
  EXPECT_EQ(recv(sv_[1], buf, sizeof buf, MSG_PEEK), -1);
}

TEST_F(HandshakeTest, TransportMovesDataBothWays) {
  ASSERT_TRUE(Connect(Hello("a.test", TLS1_3_VERSION, {"h2"}), store_.get()));
  TlsTransport t(std::move(server_));
  EXPECT_TRUE(t.secure());
  char buf[net::kMinReadBuffer];
  EXPECT_EQ(t.Read(buf, sizeof buf), -1);
  EXPECT_EQ(errno, EAGAIN);
  // 1 MiB out through a socketpair whose buffer is far smaller: partial writes and
  // EAGAIN, retried from the same leading bytes as the transport contract says.
  std::string big(1 << 20, 'x');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 26);
  size_t sent = 0;
  std::string got;
  while (got.size() < big.size()) {
    if (sent < big.size()) {
      ssize_t n = t.Write(big.data() + sent, big.size() - sent);
      if (n > 0)
        sent += static_cast<size_t>(n);
      else
        ASSERT_EQ(errno, EAGAIN);
    }
    int r = SSL_read(client_.get(), buf, sizeof buf);
    if (r > 0) got.append(buf, static_cast<size_t>(r));
  }
  EXPECT_EQ(got, big);
  ASSERT_EQ(SSL_write(client_.get(), "ping", 4), 4);
  ASSERT_EQ(t.Read(buf, sizeof buf), 4);
  EXPECT_EQ(std::string(buf, 4), "ping");
  SSL_shutdown(client_.get());
  EXPECT_EQ(t.Read(buf, sizeof buf), 0);  // close_notify is an orderly end
  t.Shutdown();
}

}  // namespace
}  // namespace keel::tls
