// keel-e2e-grpc: the gRPC peer of the e2e tests.
//   serve --listen 127.0.0.1:PORT --name NAME [--tls-cert FILE --tls-key FILE]
//       an Echo server (echo.proto) that names itself in replies, initial metadata
//       (x-instance) and trailing metadata (x-trailer-instance);
//   call --target 127.0.0.1:PORT --authority HOST --method unary|server-stream|client-stream
//        [--message M] [--count N] [--fail-code C] [--payload-bytes B] [--deadline-ms D]
//        [--repeat N] [--parallel P] [--tls-ca FILE --tls-name NAME]
//       calls through the proxy and prints one JSON line: the status code and message
//       of the last call (they travel in HTTP/2 trailers), its initial and trailing
//       metadata, its replies, and per-instance counts over all calls.
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "echo.grpc.pb.h"

namespace {

using keel::e2e::Echo;
using keel::e2e::EchoReply;
using keel::e2e::EchoRequest;

std::map<std::string, std::string> ParseFlags(int argc, char** argv, int first) {
  std::map<std::string, std::string> flags;
  for (int i = first; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    if (k.rfind("--", 0) == 0) flags[k.substr(2)] = argv[i + 1];
  }
  return flags;
}

std::string Get(const std::map<std::string, std::string>& f, const std::string& k,
                const std::string& def = "") {
  auto it = f.find(k);
  return it == f.end() ? def : it->second;
}

class EchoService final : public Echo::Service {
 public:
  explicit EchoService(std::string name) : name_(std::move(name)) {}

  grpc::Status Unary(grpc::ServerContext* ctx, const EchoRequest* req, EchoReply* reply) override {
    Tag(ctx);
    if (req->fail_code() != 0) return Fail(ctx, req->fail_code());
    Fill(ctx, *req, 0, reply);
    return grpc::Status::OK;
  }

  grpc::Status ServerStream(grpc::ServerContext* ctx, const EchoRequest* req,
                            grpc::ServerWriter<EchoReply>* writer) override {
    Tag(ctx);
    for (int i = 0; i < req->count(); ++i) {
      EchoReply reply;
      Fill(ctx, *req, i, &reply);
      if (!writer->Write(reply)) return grpc::Status(grpc::StatusCode::CANCELLED, "client went away");
    }
    if (req->fail_code() != 0) return Fail(ctx, req->fail_code());  // after the replies: trailers only
    return grpc::Status::OK;
  }

  grpc::Status ClientStream(grpc::ServerContext* ctx, grpc::ServerReader<EchoRequest>* reader,
                            EchoReply* reply) override {
    Tag(ctx);
    EchoRequest req;
    int64_t bytes = 0;
    int32_t messages = 0;
    EchoRequest last;
    while (reader->Read(&req)) {
      bytes += static_cast<int64_t>(req.message().size());
      messages++;
      last = req;
    }
    Fill(ctx, last, 0, reply);
    reply->set_message("");
    reply->set_received_bytes(bytes);
    reply->set_received_messages(messages);
    return grpc::Status::OK;
  }

 private:
  void Tag(grpc::ServerContext* ctx) {
    ctx->AddInitialMetadata("x-instance", name_);
    ctx->AddTrailingMetadata("x-trailer-instance", name_);
  }
  grpc::Status Fail(grpc::ServerContext* ctx, int code) {
    ctx->AddTrailingMetadata("x-detail", "failing-on-purpose");
    return grpc::Status(static_cast<grpc::StatusCode>(code), "failing on purpose");
  }
  void Fill(grpc::ServerContext* ctx, const EchoRequest& req, int index, EchoReply* reply) {
    reply->set_message(req.message());
    reply->set_instance(name_);
    grpc::string_ref authority = ctx->ExperimentalGetAuthority();
    reply->set_authority(std::string(authority.data(), authority.size()));
    reply->set_index(index);
    reply->set_payload(std::string(static_cast<size_t>(std::max(0, req.payload_bytes())), 'p'));
  }
  std::string name_;
};

int Serve(const std::map<std::string, std::string>& f) {
  EchoService service(Get(f, "name", "grpc"));
  grpc::ServerBuilder builder;
  std::shared_ptr<grpc::ServerCredentials> creds = grpc::InsecureServerCredentials();
  if (!Get(f, "tls-cert").empty()) {  // GRPCS: TLS, ALPN h2 (gRPC insists on it)
    auto slurp = [](const std::string& path) {
      std::ifstream in(path);
      std::stringstream s;
      s << in.rdbuf();
      return s.str();
    };
    grpc::SslServerCredentialsOptions o;
    o.pem_key_cert_pairs.push_back({slurp(Get(f, "tls-key")), slurp(Get(f, "tls-cert"))});
    creds = grpc::SslServerCredentials(o);
  }
  builder.AddListeningPort(Get(f, "listen", "127.0.0.1:50051"), creds);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server) {
    std::cerr << "cannot listen on " << Get(f, "listen") << "\n";
    return 1;
  }
  std::cout << "serving " << Get(f, "listen") << std::endl;
  server->Wait();
  return 0;
}

nlohmann::json Metadata(const std::multimap<grpc::string_ref, grpc::string_ref>& md) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [k, v] : md) out[std::string(k.data(), k.size())] = std::string(v.data(), v.size());
  return out;
}

struct CallResult {
  grpc::Status status;
  nlohmann::json initial, trailing, replies = nlohmann::json::array();
};

CallResult CallOnce(Echo::Stub& stub, const std::map<std::string, std::string>& f) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() +
                   std::chrono::milliseconds(std::stoi(Get(f, "deadline-ms", "5000"))));
  EchoRequest req;
  req.set_message(Get(f, "message", "hello"));
  req.set_count(std::stoi(Get(f, "count", "3")));
  req.set_fail_code(std::stoi(Get(f, "fail-code", "0")));
  req.set_payload_bytes(std::stoi(Get(f, "payload-bytes", "0")));
  CallResult r;
  auto add = [&](const EchoReply& reply) {
    r.replies.push_back({{"message", reply.message()},
                         {"instance", reply.instance()},
                         {"authority", reply.authority()},
                         {"index", reply.index()},
                         {"payload_len", reply.payload().size()},
                         {"received_bytes", reply.received_bytes()},
                         {"received_messages", reply.received_messages()}});
  };
  std::string method = Get(f, "method", "unary");
  if (method == "unary") {
    EchoReply reply;
    r.status = stub.Unary(&ctx, req, &reply);
    if (r.status.ok()) add(reply);
  } else if (method == "server-stream") {
    auto reader = stub.ServerStream(&ctx, req);
    EchoReply reply;
    while (reader->Read(&reply)) add(reply);
    r.status = reader->Finish();
  } else if (method == "client-stream") {
    EchoReply reply;
    auto writer = stub.ClientStream(&ctx, &reply);
    std::string chunk(static_cast<size_t>(std::max(1, req.payload_bytes())), 'c');
    for (int i = 0; i < req.count(); ++i) {
      EchoRequest part;
      part.set_message(chunk);
      if (!writer->Write(part)) break;
    }
    writer->WritesDone();
    r.status = writer->Finish();
    if (r.status.ok()) add(reply);
  } else {
    r.status = grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "unknown --method " + method);
    return r;
  }
  r.initial = Metadata(ctx.GetServerInitialMetadata());
  r.trailing = Metadata(ctx.GetServerTrailingMetadata());
  return r;
}

int Call(const std::map<std::string, std::string>& f) {
  grpc::ChannelArguments args;
  if (!Get(f, "authority").empty()) args.SetString(GRPC_ARG_DEFAULT_AUTHORITY, Get(f, "authority"));
  std::shared_ptr<grpc::ChannelCredentials> creds = grpc::InsecureChannelCredentials();
  if (!Get(f, "tls-ca").empty()) {
    std::ifstream in(Get(f, "tls-ca"));
    std::stringstream pem;
    pem << in.rdbuf();
    grpc::SslCredentialsOptions o;
    o.pem_root_certs = pem.str();
    creds = grpc::SslCredentials(o);
    if (!Get(f, "tls-name").empty()) args.SetSslTargetNameOverride(Get(f, "tls-name"));
  }
  auto channel = grpc::CreateCustomChannel(Get(f, "target"), creds, args);
  auto stub = Echo::NewStub(channel);
  int repeat = std::stoi(Get(f, "repeat", "1"));
  int parallel = std::max(1, std::stoi(Get(f, "parallel", "1")));
  std::mutex mu;
  std::map<std::string, int> instances, codes;
  CallResult last;
  std::atomic<int> next{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < parallel; ++t) {
    threads.emplace_back([&] {
      while (next.fetch_add(1) < repeat) {
        CallResult r = CallOnce(*stub, f);
        std::lock_guard<std::mutex> lock(mu);
        codes[std::to_string(r.status.error_code())]++;
        if (r.initial.contains("x-instance")) instances[r.initial["x-instance"].get<std::string>()]++;
        last = std::move(r);
      }
    });
  }
  for (auto& t : threads) t.join();
  nlohmann::json out = {{"code", last.status.error_code()},
                        {"message", last.status.error_message()},
                        {"initial", last.initial},
                        {"trailing", last.trailing},
                        {"replies", last.replies},
                        {"codes", codes},
                        {"instances", instances}};
  std::cout << out.dump() << std::endl;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: keel-e2e-grpc serve|call --flag value ...\n";
    return 2;
  }
  std::string mode = argv[1];
  auto flags = ParseFlags(argc, argv, 2);
  if (mode == "serve") return Serve(flags);
  if (mode == "call") return Call(flags);
  std::cerr << "unknown mode " << mode << "\n";
  return 2;
}
