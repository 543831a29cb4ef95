// Micro-benchmarks of the HTTP/1 parser: a typical ~400-byte browser request head,
// the same head arriving in two reads (hint), a response head, and a chunked body.
#include <benchmark/benchmark.h>

#include <string>

#include "dataplane/http1/parser.h"

namespace keel::http1 {
namespace {

// A Firefox navigation request as seen by an ingress (cookie trimmed): 400 bytes, 9 fields.
const std::string kBrowserRequest =
    "GET /products/shoes/running?size=42&color=blue HTTP/1.1\r\n"
    "Host: shop.example.com\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n"
    "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
    "Accept-Language: en-US,en;q=0.5\r\n"
    "Accept-Encoding: gzip, deflate, br, zstd\r\n"
    "Connection: keep-alive\r\n"
    "Cookie: sid=4f1c2a9e7b\r\n"
    "Upgrade-Insecure-Requests: 1\r\n"
    "\r\n";

void BM_BrowserRequestHead(benchmark::State& state) {
  RequestHead head;
  const Limits limits;
  for (auto _ : state) {
    ParseResult r = ParseRequestHead(kBrowserRequest, limits, &head);
    benchmark::DoNotOptimize(r);
    benchmark::DoNotOptimize(head.num_headers);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kBrowserRequest.size()));
  state.counters["head_bytes"] = static_cast<double>(kBrowserRequest.size());
}
BENCHMARK(BM_BrowserRequestHead);

// As above with a RequestHead constructed per call: its inline field array (4 KiB of
// string_views) is zeroed each time, the price of not keeping one per connection.
void BM_BrowserRequestHeadFreshStruct(benchmark::State& state) {
  const Limits limits;
  for (auto _ : state) {
    RequestHead head;
    ParseResult r = ParseRequestHead(kBrowserRequest, limits, &head);
    benchmark::DoNotOptimize(r);
    benchmark::DoNotOptimize(head.num_headers);
  }
}
BENCHMARK(BM_BrowserRequestHeadFreshStruct);

// The head split in the middle: one NeedMore call with a hint, then the rest.
void BM_BrowserRequestHeadTwoReads(benchmark::State& state) {
  RequestHead head;
  const Limits limits;
  const std::string_view whole = kBrowserRequest;
  for (auto _ : state) {
    ParseHint hint;
    ParseResult r = ParseRequestHead(whole.substr(0, whole.size() / 2), limits, &head, &hint);
    r = ParseRequestHead(whole, limits, &head, &hint);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_BrowserRequestHeadTwoReads);

void BM_ResponseHead(benchmark::State& state) {
  const std::string in =
      "HTTP/1.1 200 OK\r\nServer: nginx\r\nDate: Mon, 23 Nov 2026 10:00:00 GMT\r\n"
      "Content-Type: text/html; charset=utf-8\r\nContent-Length: 12345\r\nConnection: keep-alive\r\n"
      "Cache-Control: max-age=60\r\nETag: \"5f3a-1b2c\"\r\n\r\n";
  ResponseHead head;
  const Limits limits;
  for (auto _ : state) {
    ParseResult r = ParseResponseHead(in, limits, "GET", &head);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_ResponseHead);

void BM_ChunkedBody(benchmark::State& state) {
  std::string body;
  for (int i = 0; i < 64; ++i) body += "400\r\n" + std::string(1024, 'x') + "\r\n";
  body += "0\r\n\r\n";
  for (auto _ : state) {
    ChunkedDecoder dec;
    std::string_view in = body;
    size_t data = 0;
    while (true) {
      ChunkedDecoder::Result r = dec.Feed(in);
      data += r.data.size();
      in.remove_prefix(r.consumed);
      if (r.status != ChunkedDecoder::Status::Data) break;
    }
    benchmark::DoNotOptimize(data);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.size()));
}
BENCHMARK(BM_ChunkedBody);

}  // namespace
}  // namespace keel::http1

BENCHMARK_MAIN();
