// ClientSession (upstream HTTP/2) against our own ServerSession, bytes moved in
// memory: request fields and body out, response head, body and trailers back (the
// gRPC shape), trailers-only responses, manual flow control on responses, refused
// streams, GOAWAY, and the request-body drain signal.
#include "dataplane/http2/client_session.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "dataplane/http2/session.h"

namespace keel::h2 {
namespace {

// The upstream: records requests and answers as each test says.
class Upstream : public SessionHandler {
 public:
  struct Req {
    std::string method, target, host, te, body;
    bool ended = false;
  };
  Stream* NewStream(int32_t id) override {
    streams_[id] = std::make_unique<Stream>(id);
    return streams_[id].get();
  }
  void OnRequest(Stream* s, HeadVerdict, const http1::RequestHead& head, bool end_stream) override {
    Req& r = reqs[s->id()];
    r.method = head.method;
    r.target = head.target;
    r.host = head.host;
    for (const auto& f : head.fields()) {
      if (f.name == "te") r.te = f.value;
    }
    r.ended = end_stream;
    if (on_request) on_request(s);
  }
  void OnRequestBody(Stream* s, std::string_view data) override {
    reqs[s->id()].body.append(data);
    if (consume) session->Consume(s, data.size());
  }
  void OnRequestEnd(Stream* s) override {
    reqs[s->id()].ended = true;
    if (on_end) on_end(s);
  }
  void OnStreamClose(Stream*, uint32_t) override {}
  void OnStreamDrained(Stream*) override {}

  Stream* stream(int32_t id) { return streams_.at(id).get(); }

  ServerSession* session = nullptr;
  std::map<int32_t, Req> reqs;
  std::function<void(Stream*)> on_request, on_end;
  bool consume = true;

 private:
  std::map<int32_t, std::unique_ptr<Stream>> streams_;
};

// The proxy side: what ClientHandler reports per stream.
class Calls : public ClientHandler {
 public:
  struct Got {
    int status = 0;
    std::vector<std::pair<std::string, std::string>> head, trailers;
    std::string body;
    bool head_end = false, ended = false, closed = false;
    uint32_t close_code = 0;
    int drained = 0;
  };
  void OnResponseHead(ClientStream* s, int status, const FieldList& f, bool end_stream) override {
    Got& g = got[s->id()];
    g.status = status;
    g.head_end = end_stream;
    for (size_t i = 0; i < f.size(); ++i) g.head.emplace_back(f.at(i).name, f.at(i).value);
  }
  void OnResponseData(ClientStream* s, std::string_view data) override {
    got[s->id()].body.append(data);
    if (consume) session->Consume(s, data.size());
  }
  void OnResponseTrailers(ClientStream* s, const FieldList& f) override {
    for (size_t i = 0; i < f.size(); ++i) got[s->id()].trailers.emplace_back(f.at(i).name, f.at(i).value);
  }
  void OnResponseEnd(ClientStream* s) override { got[s->id()].ended = true; }
  void OnStreamClose(ClientStream* s, uint32_t code) override {
    got[s->id()].closed = true;
    got[s->id()].close_code = code;
  }
  void OnRequestDrained(ClientStream* s) override {
    got[s->id()].drained++;
    if (on_drained) on_drained(s);
  }

  ClientSession* session = nullptr;
  std::map<int32_t, Got> got;
  std::function<void(ClientStream*)> on_drained;
  bool consume = true;
};

class ClientSessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server = std::make_unique<ServerSession>(SessionOptions{}, http1::Limits{}, &up);
    up.session = server.get();
    client = std::make_unique<ClientSession>(ClientOptions{}, &calls);
    calls.session = client.get();
    server->Start();
    client->Start();
  }
  // Moves bytes both ways until both sides are quiet.
  void Converse() {
    for (int i = 0; i < 1000; ++i) {
      net::Buffer a, b;
      ASSERT_TRUE(client->Send(&a, size_t{1} << 30));
      if (!a.empty()) {
        ASSERT_TRUE(server->Receive(a.view()));
      }
      ASSERT_TRUE(server->Send(&b, size_t{1} << 30));
      if (!b.empty()) {
        ASSERT_TRUE(client->Receive(b.view()));
      }
      if (a.empty() && b.empty()) return;
    }
    FAIL() << "no quiescence";
  }
  static FieldList Request(std::string_view method, std::string_view path) {
    FieldList f;
    f.Add(":method", method);
    f.Add(":scheme", "http");
    f.Add(":authority", "grpc.test");
    f.Add(":path", path);
    f.Add("te", "trailers");
    return f;
  }

  Upstream up;
  Calls calls;
  std::unique_ptr<ServerSession> server;
  std::unique_ptr<ClientSession> client;
};

TEST_F(ClientSessionTest, BodyOutHeadBodyAndTrailersBack) {
  up.on_end = [&](Stream* s) {
    FieldList head;
    head.Add("content-type", "application/grpc");
    server->Respond(s, 200, head, true);
    server->QueueBody(s, "reply-bytes");
    FieldList trailers;
    trailers.Add("grpc-status", "5");
    trailers.Add("grpc-message", "not here");
    server->EndBody(s, &trailers);
  };
  ClientStream st;
  ASSERT_TRUE(client->Submit(&st, Request("POST", "/pkg.Svc/Call"), true));
  client->QueueBody(&st, "request-");
  client->QueueBody(&st, "bytes");
  client->EndBody(&st);
  Converse();
  const auto& r = up.reqs.at(st.id());
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.target, "/pkg.Svc/Call");
  EXPECT_EQ(r.host, "grpc.test");
  EXPECT_EQ(r.te, "trailers");
  EXPECT_EQ(r.body, "request-bytes");
  EXPECT_TRUE(r.ended);
  const auto& g = calls.got.at(st.id());
  EXPECT_EQ(g.status, 200);
  EXPECT_FALSE(g.head_end);
  EXPECT_EQ(g.body, "reply-bytes");
  ASSERT_EQ(g.trailers.size(), 2u);
  EXPECT_EQ(g.trailers[0], (std::pair<std::string, std::string>{"grpc-status", "5"}));
  EXPECT_EQ(g.trailers[1], (std::pair<std::string, std::string>{"grpc-message", "not here"}));
  EXPECT_FALSE(g.ended);  // trailers end the response; OnResponseEnd is for DATA-ended ones
  EXPECT_TRUE(g.closed);
  EXPECT_EQ(g.close_code, 0u);
  EXPECT_TRUE(st.response_ended());
}

TEST_F(ClientSessionTest, TrailersOnlyResponseEndsWithTheHead) {
  // gRPC answers an immediate error as one HEADERS frame with END_STREAM.
  up.on_request = [&](Stream* s) {
    FieldList head;
    head.Add("grpc-status", "12");
    server->Respond(s, 200, head, false);
  };
  ClientStream st;
  ASSERT_TRUE(client->Submit(&st, Request("GET", "/x"), false));
  Converse();
  const auto& g = calls.got.at(st.id());
  EXPECT_EQ(g.status, 200);
  EXPECT_TRUE(g.head_end);
  ASSERT_EQ(g.head.size(), 1u);
  EXPECT_EQ(g.head[0].first, "grpc-status");
  EXPECT_TRUE(g.closed);
  EXPECT_EQ(g.close_code, 0u);
}

TEST_F(ClientSessionTest, ResponseWindowOpensOnlyForConsumedBytes) {
  const std::string big(1024 * 1024, 'z');
  up.on_request = [&](Stream* s) {
    server->Respond(s, 200, FieldList{}, true);
    server->QueueBody(s, big);
    server->EndBody(s);
  };
  calls.consume = false;  // a slow client: nothing handed on yet
  ClientStream st;
  ASSERT_TRUE(client->Submit(&st, Request("GET", "/big"), false));
  Converse();
  auto& g = calls.got.at(st.id());
  // Exactly our advertised stream window arrived; the rest waits at the upstream.
  EXPECT_EQ(g.body.size(), ClientOptions{}.initial_window_bytes);
  EXPECT_EQ(st.unconsumed_bytes(), g.body.size());
  EXPECT_FALSE(g.closed);
  calls.consume = true;
  client->Consume(&st, st.unconsumed_bytes());
  Converse();
  EXPECT_EQ(g.body.size(), big.size());
  EXPECT_TRUE(g.ended);
  EXPECT_TRUE(g.closed);
}

TEST_F(ClientSessionTest, SlowStreamsDoNotStallTheOthers) {
  // 20 large responses whose clients take nothing: each holds its stream window of
  // the connection window. A 21st stream on the same connection must still complete.
  const std::string big(1024 * 1024, 'z');
  up.on_request = [&](Stream* s) {
    server->Respond(s, 200, FieldList{}, true);
    server->QueueBody(s, s->id() == 41 ? std::string_view("small") : std::string_view(big));
    server->EndBody(s);
  };
  calls.consume = false;
  std::vector<std::unique_ptr<ClientStream>> slow;
  for (int i = 0; i < 20; ++i) {
    slow.push_back(std::make_unique<ClientStream>());
    ASSERT_TRUE(client->Submit(slow.back().get(), Request("GET", "/big"), false));
  }
  ClientStream fast;
  ASSERT_TRUE(client->Submit(&fast, Request("GET", "/small"), false));
  ASSERT_EQ(fast.id(), 41);
  Converse();
  EXPECT_EQ(calls.got[fast.id()].body, "small");
  EXPECT_TRUE(calls.got[fast.id()].closed);
  for (const auto& s : slow) EXPECT_EQ(s->unconsumed_bytes(), ClientOptions{}.initial_window_bytes);
}

TEST_F(ClientSessionTest, RefusedStreamIsReportedAsSuch) {
  up.on_request = [&](Stream* s) { server->Reset(s, kRefusedStream); };
  ClientStream st;
  ASSERT_TRUE(client->Submit(&st, Request("GET", "/"), false));
  Converse();
  const auto& g = calls.got.at(st.id());
  EXPECT_TRUE(g.closed);
  EXPECT_EQ(g.close_code, kRefusedStream);
  EXPECT_EQ(g.status, 0);
  EXPECT_FALSE(st.response_ended());
}

TEST_F(ClientSessionTest, GoawayStopsNewStreamsButNotOpenOnes) {
  ClientStream first;
  ASSERT_TRUE(client->Submit(&first, Request("GET", "/slow"), false));
  Converse();
  server->Shutdown();  // GOAWAY(NO_ERROR, last stream = first)
  Converse();
  EXPECT_TRUE(client->going_away());
  EXPECT_EQ(client->spare_streams(), 0u);
  ClientStream second;
  EXPECT_FALSE(client->Submit(&second, Request("GET", "/late"), false));
  // The stream the upstream accepted still gets its answer.
  server->Respond(up.stream(first.id()), 200, FieldList{}, false);
  Converse();
  EXPECT_EQ(calls.got.at(first.id()).status, 200);
  EXPECT_TRUE(calls.got.at(first.id()).closed);
  EXPECT_EQ(calls.got.at(first.id()).close_code, 0u);
}

TEST_F(ClientSessionTest, DrainSignalAsksForMoreRequestBody) {
  up.consume = false;  // the upstream does not read: the stream window it advertised fills
  ClientStream st;
  ASSERT_TRUE(client->Submit(&st, Request("POST", "/upload"), true));
  client->QueueBody(&st, std::string(400 * 1024, 'u'));
  Converse();
  const size_t window = SessionOptions{}.initial_window_bytes;
  EXPECT_EQ(up.reqs.at(st.id()).body.size(), window);
  EXPECT_EQ(st.queued_bytes(), 400u * 1024 - window);
  EXPECT_EQ(calls.got[st.id()].drained, 0);
  int more = 0;
  calls.on_drained = [&](ClientStream* s) {
    if (more++ == 0) {
      client->QueueBody(s, "tail");
      client->EndBody(s);
    }
  };
  up.consume = true;
  server->Consume(up.stream(st.id()), up.reqs.at(st.id()).body.size());
  Converse();
  EXPECT_EQ(up.reqs.at(st.id()).body.size(), 400u * 1024 + 4);
  EXPECT_TRUE(up.reqs.at(st.id()).ended);
  EXPECT_GE(calls.got[st.id()].drained, 1);
}

}  // namespace
}  // namespace keel::h2
