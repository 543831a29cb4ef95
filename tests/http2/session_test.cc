// ServerSession against an nghttp2 client (or raw frames) in memory: SETTINGS, request
// dispatch, deferred response data, manual flow control, and the abuse limits
// (rapid reset, CONTINUATION flood, header list size).
#include "dataplane/http2/session.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>

#include "tests/http2/h2_client.h"

namespace keel::h2 {
namespace {

using testing::Client;
using testing::Frame;
using testing::Headers;

struct Req {
  HeadVerdict verdict = HeadVerdict::kOk;
  std::string method, target, host;
  Headers fields;
  bool end_stream = false, ended = false, closed = false;
  uint32_t close_code = 0;
  std::string body;
};

class Recorder : public SessionHandler {
 public:
  Stream* NewStream(int32_t id) override {
    streams_[id] = std::make_unique<Stream>(id);
    return streams_[id].get();
  }
  void OnRequest(Stream* s, HeadVerdict verdict, const http1::RequestHead& head, bool end_stream) override {
    Req& r = reqs[s->id()];
    r.verdict = verdict;
    r.end_stream = end_stream;
    if (verdict == HeadVerdict::kOk) {
      r.method = head.method;
      r.target = head.target;
      r.host = head.host;
      for (const auto& f : head.fields()) r.fields.emplace_back(f.name, f.value);
    }
    if (on_request) on_request(s, r);
  }
  void OnRequestBody(Stream* s, std::string_view data) override {
    reqs[s->id()].body.append(data);
    if (consume) session->Consume(s, data.size());
  }
  void OnRequestEnd(Stream* s) override { reqs[s->id()].ended = true; }
  void OnStreamClose(Stream* s, uint32_t code) override {
    reqs[s->id()].closed = true;
    reqs[s->id()].close_code = code;
  }
  void OnStreamDrained(Stream*) override { drained++; }

  Stream* stream(int32_t id) { return streams_.at(id).get(); }

  ServerSession* session = nullptr;
  std::map<int32_t, Req> reqs;
  std::function<void(Stream*, Req&)> on_request;
  bool consume = true;
  int drained = 0;

 private:
  std::map<int32_t, std::unique_ptr<Stream>> streams_;
};

class SessionTest : public ::testing::Test {
 protected:
  void Make(SessionOptions options = {}) {
    server = std::make_unique<ServerSession>(options, http1::Limits{}, &rec);
    rec.session = server.get();
  }
  // Moves bytes both ways until both sides are quiet. False if the server failed.
  bool Converse(Client& c) {
    bool ok = true;
    for (int i = 0; i < 1000; ++i) {
      std::string up = c.TakeOutput();
      if (!up.empty() && ok && !server->Receive(up)) ok = false;
      net::Buffer down;
      server->Send(&down, size_t{1} << 30);
      if (!down.empty()) c.Feed(down.view());
      if (up.empty() && down.empty()) break;
    }
    return ok;
  }
  // Raw bytes in; what the server answers, as frames.
  std::vector<testing::RawFrame> Raw(std::string_view bytes, bool* ok) {
    *ok = server->Receive(bytes);
    net::Buffer down;
    server->Send(&down, size_t{1} << 30);
    return testing::ParseFrames(down.view());
  }
  void RespondText(Stream* s, int status, std::string_view body) {
    FieldList f;
    f.Add("content-type", "text/plain");
    server->Respond(s, status, f, !body.empty());
    server->QueueBody(s, body);
    server->EndBody(s);
  }

  Recorder rec;  // outlives the session: streams stay valid for it
  std::unique_ptr<ServerSession> server;
};

Headers Post(std::string_view path) {
  return {{":method", "POST"}, {":scheme", "http"}, {":authority", "a.test"}, {":path", std::string(path)}};
}

TEST_F(SessionTest, AdvertisesSettingsAndConnectionWindow) {
  SessionOptions o;
  o.max_concurrent_streams = 77;
  o.initial_window_bytes = 10;  // clamped up to 64 KiB
  Make(o);
  server->Start();
  Client c;
  c.Start();
  ASSERT_TRUE(Converse(c));
  EXPECT_EQ(c.remote_setting(NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS), 77u);
  EXPECT_EQ(c.remote_setting(NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE), 64u * 1024);
  EXPECT_EQ(c.remote_setting(NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE), 64u * 1024);
  EXPECT_EQ(nghttp2_session_get_remote_window_size(c.session()), 1024 * 1024);
}

TEST_F(SessionTest, DispatchesRequestAndStreamsDeferredBody) {
  Make();
  server->Start();
  rec.on_request = [&](Stream* s, Req&) {
    FieldList f;
    f.Add("X-Upper", "1");  // lower-cased on the way out
    server->Respond(s, 200, f, true);
    server->QueueBody(s, "hello ");
  };
  Client c;
  c.Start();
  int32_t id = c.Get("a.test", "/x?y=1", {{"cookie", "a=1"}, {"cookie", "b=2"}});
  ASSERT_TRUE(Converse(c));
  ASSERT_EQ(rec.reqs.count(id), 1u);
  const Req& r = rec.reqs[id];
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.target, "/x?y=1");
  EXPECT_EQ(r.host, "a.test");
  EXPECT_TRUE(r.end_stream);
  ASSERT_EQ(r.fields.size(), 1u);
  EXPECT_EQ(r.fields[0].second, "a=1; b=2");
  EXPECT_EQ(c.response(id).status, 200);
  EXPECT_EQ(c.response(id).body, "hello ");
  EXPECT_FALSE(c.response(id).closed);  // the provider is deferred, not finished
  EXPECT_EQ(c.response(id).header("x-upper"), "1");
  server->QueueBody(rec.stream(id), "world");
  server->EndBody(rec.stream(id));
  ASSERT_TRUE(Converse(c));
  EXPECT_EQ(c.response(id).body, "hello world");
  EXPECT_TRUE(c.response(id).closed);
  EXPECT_TRUE(rec.reqs[id].closed);
  EXPECT_EQ(server->open_streams(), 0u);
}

TEST_F(SessionTest, MalformedRequestsAreResetWithProtocolError) {
  Make();
  server->Start();
  rec.on_request = [&](Stream* s, Req&) { RespondText(s, 200, "ok"); };
  Client c;
  c.Start();
  int32_t conn = c.Get("a.test", "/", {{"connection", "close"}});
  int32_t host = c.Get("a.test", "/", {{"host", "other.test"}});
  int32_t nopath = c.Request({{":method", "GET"}, {":scheme", "http"}, {":authority", "a.test"}});
  int32_t good = c.Get("a.test", "/fine");
  ASSERT_TRUE(Converse(c));
  for (int32_t id : {conn, host, nopath}) {
    EXPECT_TRUE(c.response(id).reset_by_server) << id;
    EXPECT_EQ(c.response(id).reset_code, static_cast<uint32_t>(NGHTTP2_PROTOCOL_ERROR)) << id;
    EXPECT_EQ(rec.reqs[id].method, "") << "never dispatched: " << id;
  }
  EXPECT_EQ(c.response(good).status, 200);  // a stream error, not a connection error
  EXPECT_FALSE(c.goaway());
}

TEST_F(SessionTest, OversizedHeaderListReachesHandlerAsTooLarge) {
  SessionOptions o;
  o.max_header_list_bytes = 4096;
  Make(o);
  server->Start();
  rec.on_request = [&](Stream* s, Req& r) {
    RespondText(s, r.verdict == HeadVerdict::kTooLarge ? 431 : 200, "x");
  };
  Client c;
  c.Start();
  Headers big;
  for (int i = 0; i < 8; ++i) big.emplace_back("x-big-" + std::to_string(i), std::string(1000, 'v'));
  int32_t id = c.Get("a.test", "/", big);
  int32_t next = c.Get("a.test", "/");
  ASSERT_TRUE(Converse(c));
  EXPECT_EQ(rec.reqs[id].verdict, HeadVerdict::kTooLarge);
  EXPECT_EQ(c.response(id).status, 431);
  EXPECT_EQ(c.response(next).status, 200);
}

TEST_F(SessionTest, RapidResetFloodGetsEnhanceYourCalm) {
  SessionOptions o;
  o.max_resets_per_second = 50;
  Make(o);
  server->Start();
  Client c;
  c.Start();
  ASSERT_TRUE(Converse(c));
  // HEADERS then RST_STREAM for each stream, all in one write: CVE-2023-44487.
  auto flood = [&](int n) {
    std::string bytes;
    for (int i = 0; i < n; ++i) {
      int32_t id = c.Get("a.test", "/");
      bytes += c.TakeOutput();
      c.Reset(id, NGHTTP2_CANCEL);
      bytes += c.TakeOutput();
    }
    server->Receive(bytes);
    Converse(c);
  };
  flood(40);
  EXPECT_FALSE(c.goaway()) << "40 resets are under the limit";
  EXPECT_EQ(rec.reqs.size(), 40u);
  flood(40);
  EXPECT_TRUE(c.goaway());
  EXPECT_EQ(c.goaway_code(), static_cast<uint32_t>(NGHTTP2_ENHANCE_YOUR_CALM));
  EXPECT_TRUE(server->stats().enhance_your_calm);
  EXPECT_GE(server->stats().client_resets, 51u);
  EXPECT_FALSE(server->WantRead());
  EXPECT_FALSE(server->WantWrite());
  for (auto& [id, r] : rec.reqs) EXPECT_TRUE(r.closed) << "stream " << id << " left open";
}

// HEADERS (no END_HEADERS) with :method GET, :scheme http, :path / from the static table.
std::string OpenHeaders(uint32_t stream) { return Frame(0x1, 0x1 /*END_STREAM*/, stream, "\x82\x86\x84"); }

TEST_F(SessionTest, ContinuationFloodEndsTheSession) {
  Make();
  server->Start();
  std::string bytes(testing::kPreface);
  bytes += Frame(0x4, 0, 0, "") + OpenHeaders(1);
  for (int i = 0; i < 20; ++i) bytes += Frame(0x9, 0, 1, testing::LiteralField("x-a", "b"));
  bool ok = true;
  auto frames = Raw(bytes, &ok);
  EXPECT_FALSE(ok);
  bool goaway = false;
  for (const auto& f : frames) {
    if (f.type != 0x7) continue;
    goaway = true;
    ASSERT_EQ(f.payload.size(), 8u);
    EXPECT_EQ(static_cast<uint8_t>(f.payload[7]), NGHTTP2_ENHANCE_YOUR_CALM);
  }
  EXPECT_TRUE(goaway);
  EXPECT_TRUE(rec.reqs.empty() || rec.reqs.begin()->second.method.empty());
  EXPECT_TRUE(server->stats().enhance_your_calm);
}

TEST_F(SessionTest, FewContinuationsAreFine) {
  Make();
  server->Start();
  rec.on_request = [&](Stream* s, Req&) { RespondText(s, 204, ""); };
  std::string bytes(testing::kPreface);
  bytes += Frame(0x4, 0, 0, "") + OpenHeaders(1);
  for (int i = 0; i < 4; ++i) bytes += Frame(0x9, 0, 1, testing::LiteralField("x-a", "b"));
  bytes += Frame(0x9, 0x4, 1, testing::LiteralField("host", "a.test"));
  bool ok = false;
  Raw(bytes, &ok);
  EXPECT_TRUE(ok);
  ASSERT_EQ(rec.reqs.count(1), 1u);
  EXPECT_EQ(rec.reqs[1].method, "GET");
  EXPECT_EQ(rec.reqs[1].fields.size(), 5u);  // four x-a and host
}

TEST_F(SessionTest, TrailersEndTheBodyAndAreDropped) {
  Make();
  server->Start();
  std::string bytes(testing::kPreface);
  bytes += Frame(0x4, 0, 0, "");
  bytes += Frame(0x1, 0x4, 1, "\x83\x86\x84" + testing::LiteralField("host", "a.test"));  // POST, END_HEADERS
  bytes += Frame(0x0, 0x0, 1, "abc");
  bytes += Frame(0x1, 0x5, 1, testing::LiteralField("x-trailer", "v"));  // END_STREAM | END_HEADERS
  bool ok = false;
  Raw(bytes, &ok);
  ASSERT_TRUE(ok);
  const Req& r = rec.reqs[1];
  EXPECT_EQ(r.method, "POST");
  EXPECT_FALSE(r.end_stream);
  EXPECT_EQ(r.body, "abc");
  EXPECT_TRUE(r.ended);
  for (const auto& f : r.fields) EXPECT_NE(f.first, "x-trailer");
}

TEST_F(SessionTest, RequestBodyWindowOpensOnlyAsConsumed) {
  Make();  // stream window 256 KiB
  server->Start();
  rec.consume = false;
  Client c;
  c.Start();
  int32_t id = c.Request(Post("/up"), std::string(1024 * 1024, 'b'), true);
  ASSERT_TRUE(Converse(c));
  EXPECT_EQ(rec.reqs[id].body.size(), 256u * 1024) << "the client may send one window, no more";
  EXPECT_EQ(rec.stream(id)->unconsumed_bytes(), 256u * 1024);
  server->Consume(rec.stream(id), 256 * 1024);
  ASSERT_TRUE(Converse(c));
  EXPECT_EQ(rec.reqs[id].body.size(), 512u * 1024);
  rec.consume = true;
  server->Consume(rec.stream(id), rec.stream(id)->unconsumed_bytes());
  ASSERT_TRUE(Converse(c));
  EXPECT_EQ(rec.reqs[id].body.size(), 1024u * 1024);
  EXPECT_TRUE(rec.reqs[id].ended);
}

TEST_F(SessionTest, ClosedStreamReturnsItsUnconsumedBytesToTheConnection) {
  Make();  // stream window 256 KiB, connection window 1 MiB
  server->Start();
  rec.consume = false;
  Client c;
  c.Start();
  int32_t first = c.Request(Post("/a"), std::string(256 * 1024, 'a'), true);
  ASSERT_TRUE(Converse(c));
  ASSERT_EQ(rec.reqs[first].body.size(), 256u * 1024);
  c.Reset(first, NGHTTP2_CANCEL);
  ASSERT_TRUE(Converse(c));
  ASSERT_TRUE(rec.reqs[first].closed);
  // 768 KiB more fill the 1 MiB connection window. Consuming 300 KiB of them brings
  // the consumed total past half the window (nghttp2's WINDOW_UPDATE threshold) only
  // if the reset stream's 256 KiB were given back.
  std::vector<int32_t> ids;
  for (int i = 0; i < 4; ++i) ids.push_back(c.Request(Post("/b"), std::string(256 * 1024, 'b'), true));
  ASSERT_TRUE(Converse(c));
  auto total = [&] {
    size_t n = 0;
    for (int32_t id : ids) n += rec.reqs[id].body.size();
    return n;
  };
  ASSERT_EQ(total(), 768u * 1024);
  size_t to_consume = 300 * 1024;
  for (int32_t id : ids) {
    size_t n = std::min(to_consume, rec.stream(id)->unconsumed_bytes());
    server->Consume(rec.stream(id), n);
    to_consume -= n;
  }
  ASSERT_EQ(to_consume, 0u);
  ASSERT_TRUE(Converse(c));
  EXPECT_GT(total(), 768u * 1024);
}

TEST_F(SessionTest, NotifiesWhenAQueuedResponseDrains) {
  Make();
  server->Start();
  rec.on_request = [&](Stream* s, Req&) {
    server->Respond(s, 200, FieldList{}, true);
    server->QueueBody(s, std::string(300 * 1024, 'r'));
    s->NotifyWhenDrained();
  };
  Client c;  // 64 KiB window, auto WINDOW_UPDATE
  c.Start();
  int32_t id = c.Get("a.test", "/big");
  server->Receive(c.TakeOutput());
  EXPECT_EQ(server->queued_bytes(), 300u * 1024);
  ASSERT_TRUE(Converse(c));
  EXPECT_EQ(rec.drained, 1);
  EXPECT_EQ(server->queued_bytes(), 0u);
  server->EndBody(rec.stream(id));
  ASSERT_TRUE(Converse(c));
  EXPECT_EQ(c.response(id).body.size(), 300u * 1024);
  EXPECT_TRUE(c.response(id).closed);
}

TEST_F(SessionTest, EarlyResponseAsksClientToStopSending) {
  Make();
  server->Start();
  rec.consume = false;
  rec.on_request = [&](Stream* s, Req&) { RespondText(s, 413, ""); };
  Client c;
  c.Start();
  int32_t id = c.Request(Post("/up"), std::string(1024 * 1024, 'b'), true);
  ASSERT_TRUE(Converse(c));
  EXPECT_EQ(c.response(id).status, 413);
  EXPECT_TRUE(c.response(id).reset_by_server);
  EXPECT_EQ(c.response(id).reset_code, static_cast<uint32_t>(NGHTTP2_NO_ERROR));  // RFC 9113 §8.1
  EXPECT_TRUE(rec.reqs[id].closed);
}

TEST_F(SessionTest, UpgradedRequestIsStreamOne) {
  Make();
  std::string raw =
      "GET /up HTTP/1.1\r\nHost: a.test\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
      "HTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\n\r\n";
  http1::RequestHead h1;
  ASSERT_EQ(http1::ParseRequestHead(raw, http1::Limits{}, &h1).status, http1::ParseStatus::Done);
  auto settings = DecodeSettingsHeader("AAMAAABkAAQAoAAAAAIAAAAA");
  rec.on_request = [&](Stream* s, Req&) { RespondText(s, 200, "up"); };
  ASSERT_TRUE(server->StartUpgraded(*settings, h1));
  ASSERT_EQ(rec.reqs.count(1), 1u);
  EXPECT_EQ(rec.reqs[1].target, "/up");
  EXPECT_TRUE(rec.reqs[1].fields.empty());
  Client c;
  ASSERT_TRUE(c.StartUpgraded(*settings));
  ASSERT_TRUE(Converse(c));
  EXPECT_EQ(c.response(1).status, 200);
  EXPECT_EQ(c.response(1).body, "up");
}

TEST_F(SessionTest, ShutdownLetsOpenStreamsFinish) {
  Make();
  server->Start();
  rec.on_request = [&](Stream* s, Req&) { server->Respond(s, 200, FieldList{}, true); };
  Client c;
  c.Start();
  int32_t id = c.Get("a.test", "/slow");
  ASSERT_TRUE(Converse(c));
  server->Shutdown();
  ASSERT_TRUE(Converse(c));
  EXPECT_TRUE(c.goaway());
  EXPECT_EQ(c.goaway_code(), static_cast<uint32_t>(NGHTTP2_NO_ERROR));
  EXPECT_EQ(c.goaway_last_stream(), id);
  EXPECT_TRUE(server->WantRead());  // the open stream still counts
  server->QueueBody(rec.stream(id), "done");
  server->EndBody(rec.stream(id));
  ASSERT_TRUE(Converse(c));
  EXPECT_EQ(c.response(id).body, "done");
  EXPECT_FALSE(server->WantRead());
  EXPECT_FALSE(server->WantWrite());
}

}  // namespace
}  // namespace keel::h2
