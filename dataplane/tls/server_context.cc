// ServerContext: SSL_CTX policy and the two per-handshake callbacks (certificate
// selection on the ClientHello, ALPN).
#include "dataplane/tls/server_context.h"

#include <openssl/bytestring.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <mutex>
#include <string_view>

#include "dataplane/tls/self_signed.h"

namespace keel::tls {
namespace {

// TLS 1.2 suites: ECDHE + AEAD only (forward secrecy, no CBC/RSA key exchange), as in
// Mozilla's "intermediate" profile. TLS 1.3 suites are fixed by BoringSSL (all AEAD).
constexpr char kCiphers12[] =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

constexpr uint16_t kExtSignatureAlgorithms = 13;
constexpr uint16_t kExtSupportedVersions = 43;

int CtxIndex() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

// Whether the client can verify an ECDSA certificate: an ECDSA signature scheme
// offered (RFC 8446 §4.2.3) and, below TLS 1.3, an ECDHE_ECDSA cipher suite.
bool ClientTakesEcdsa(const SSL_CLIENT_HELLO* hello) {
  const uint8_t* data = nullptr;
  size_t len = 0;
  bool ecdsa_sig = false;
  if (SSL_early_callback_ctx_extension_get(hello, kExtSignatureAlgorithms, &data, &len)) {
    CBS ext, list;
    CBS_init(&ext, data, len);
    uint16_t alg = 0;
    if (CBS_get_u16_length_prefixed(&ext, &list)) {
      while (CBS_get_u16(&list, &alg)) {
        if (alg == 0x0403 || alg == 0x0503 || alg == 0x0603) ecdsa_sig = true;
      }
    }
  }
  if (!ecdsa_sig) return false;
  if (SSL_early_callback_ctx_extension_get(hello, kExtSupportedVersions, &data, &len)) {
    CBS ext, list;
    CBS_init(&ext, data, len);
    uint16_t v = 0;
    if (CBS_get_u8_length_prefixed(&ext, &list)) {
      while (CBS_get_u16(&list, &v)) {
        if (v == TLS1_3_VERSION) return true;
      }
    }
  }
  CBS suites;
  CBS_init(&suites, hello->cipher_suites, hello->cipher_suites_len);
  uint16_t s = 0;
  while (CBS_get_u16(&suites, &s)) {
    if (s == 0xC02B || s == 0xC02C || s == 0xCCA9) return true;  // ECDHE_ECDSA AEAD suites
  }
  return false;
}

}  // namespace

struct Callbacks {
  static ssl_select_cert_result_t SelectCertificate(const SSL_CLIENT_HELLO* hello) {
    SSL* ssl = hello->ssl;
    auto* self = static_cast<const ServerContext*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), CtxIndex()));
    auto* store = static_cast<const CertStore*>(SSL_get_ex_data(ssl, ServerContext::CertIndex()));
    const char* sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    const CertChoice* choice =
        store ? store->Find(sni ? std::string_view(sni) : std::string_view()) : nullptr;
    const CertifiedKey* key = choice ? choice->Pick(ClientTakesEcdsa(hello)) : self->generated_.get();
    if (!SSL_set_chain_and_key(ssl, key->chain_view.data(), key->chain_view.size(), key->key.get(),
                               nullptr)) {
      return ssl_select_cert_error;
    }
    return ssl_select_cert_success;
  }

  // h2 when the client offers it, else http/1.1; a client offering neither gets no
  // ALPN answer and is spoken to in HTTP/1.1 (RFC 7301 §3.2 allows ignoring).
  static int SelectAlpn(SSL*, const uint8_t** out, uint8_t* out_len, const uint8_t* in, unsigned in_len,
                        void*) {
    const uint8_t* http11 = nullptr;
    CBS list;
    CBS_init(&list, in, in_len);
    CBS proto;
    while (CBS_get_u8_length_prefixed(&list, &proto)) {
      std::string_view p(reinterpret_cast<const char*>(CBS_data(&proto)), CBS_len(&proto));
      if (p == "h2") {
        *out = CBS_data(&proto);
        *out_len = 2;
        return SSL_TLSEXT_ERR_OK;
      }
      if (p == "http/1.1") http11 = CBS_data(&proto);
    }
    if (!http11) return SSL_TLSEXT_ERR_NOACK;
    *out = http11;
    *out_len = 8;
    return SSL_TLSEXT_ERR_OK;
  }
};

HandshakeStats::HandshakeStats() {
  auto& r = metrics::Registry::Default();
  const std::string done = "keel_tls_handshakes_total", fail = "keel_tls_handshake_failures_total";
  tls12 = r.AddCounter(done, "Completed downstream TLS handshakes by protocol version",
                       {{"protocol", "TLSv1.2"}});
  tls13 = r.AddCounter(done, "Completed downstream TLS handshakes by protocol version",
                       {{"protocol", "TLSv1.3"}});
  resumed =
      r.AddCounter("keel_tls_resumed_handshakes_total", "Downstream TLS handshakes that resumed a session");
  failed = r.AddCounter(fail, "Downstream TLS handshakes that failed", {{"reason", "error"}});
  timed_out = r.AddCounter(fail, "Downstream TLS handshakes that failed", {{"reason", "timeout"}});
}

int ServerContext::CertIndex() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

Result<std::shared_ptr<ServerContext>> ServerContext::Create() {
  std::shared_ptr<ServerContext> self(new ServerContext());
  auto generated = GenerateSelfSigned("keel default certificate");
  if (!generated.ok()) return Error{generated.error()};
  self->generated_ = std::move(*generated);
  SSL_CTX* ctx = SSL_CTX_new(TLS_method());
  if (!ctx) return Error{"SSL_CTX_new failed"};
  self->ctx_ = ctx;
  if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
      !SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) ||
      !SSL_CTX_set_strict_cipher_list(ctx, kCiphers12)) {
    return Error{"TLS policy rejected by BoringSSL"};
  }
  // The connections write from a buffer that may move and retry with a longer one.
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  // Resumption: a server-side session cache (TLS 1.2 session IDs) and tickets (TLS 1.2
  // and 1.3) whose keys BoringSSL generates and rotates itself every 48 h, keeping the
  // previous key for decryption; one SSL_CTX, so every worker shares both.
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
  SSL_CTX_sess_set_cache_size(ctx, 20000);
  static const uint8_t kSessionContext[] = "keel";
  SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof kSessionContext - 1);
  SSL_CTX_set_select_certificate_cb(ctx, &Callbacks::SelectCertificate);
  SSL_CTX_set_alpn_select_cb(ctx, &Callbacks::SelectAlpn, nullptr);
  SSL_CTX_set_ex_data(ctx, CtxIndex(), self.get());
  return self;
}

ServerContext::~ServerContext() {
  if (ctx_) SSL_CTX_free(ctx_);
}

bssl::UniquePtr<SSL> ServerContext::NewSsl(int fd, const CertStore* certs) const {
  bssl::UniquePtr<SSL> ssl(SSL_new(ctx_));
  if (!ssl || !SSL_set_fd(ssl.get(), fd)) return nullptr;
  SSL_set_accept_state(ssl.get());
  SSL_set_ex_data(ssl.get(), CertIndex(), const_cast<CertStore*>(certs));
  return ssl;
}

bool NegotiatedH2(const SSL* ssl) {
  const uint8_t* proto = nullptr;
  unsigned len = 0;
  SSL_get0_alpn_selected(ssl, &proto, &len);
  return len == 2 && proto[0] == 'h' && proto[1] == '2';
}

void SendSessionTickets(SSL* ssl) {
  if (SSL_version(ssl) == TLS1_3_VERSION && SSL_write(ssl, "", 0) <= 0) ERR_clear_error();
}

}  // namespace keel::tls
