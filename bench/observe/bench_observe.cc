// Per-request observability cost: what a worker pays per request for metrics and the
// access log. Run: build/ci/bench/observe/bench_observe
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <prometheus/counter.h>
#include <prometheus/registry.h>
#include <unistd.h>

#include <string>

#include "common/metrics/metrics.h"
#include "dataplane/observe/access_log.h"
#include "dataplane/observe/request_record.h"

namespace {

using keel::metrics::BindThisThread;
using keel::metrics::Registry;

// Our sharded counter: each benchmark thread on its own shard, as workers are.
void BM_ShardedCounterInc(benchmark::State& state) {
  static const auto c = Registry::Default().AddCounter("keel_bench_total", "bench");
  BindThisThread(state.thread_index() + 1);
  for (auto _ : state) c.Inc();
}
BENCHMARK(BM_ShardedCounterInc)->Threads(1)->Threads(2);

// prometheus-cpp's counter: one atomic double (CAS loop) shared by all threads.
void BM_PrometheusCppCounterIncrement(benchmark::State& state) {
  static auto* registry = new prometheus::Registry();
  static auto& c = prometheus::BuildCounter().Name("bench_total").Register(*registry).Add({});
  for (auto _ : state) c.Increment();
}
BENCHMARK(BM_PrometheusCppCounterIncrement)->Threads(1)->Threads(2);

void BM_HistogramObserve(benchmark::State& state) {
  static const auto h = Registry::Default().AddHistogram("keel_bench_seconds", "bench", {},
                                                         keel::metrics::DefaultDurationBounds(), 1e-9);
  BindThisThread(1);
  uint64_t v = 0;
  for (auto _ : state) h.Observe((v += 7919) % 50000000);
}
BENCHMARK(BM_HistogramObserve);

const std::string kHead =
    "GET /products/42?color=red HTTP/1.1\r\nHost: shop.example.com\r\nUser-Agent: bench/1.0\r\n"
    "Accept: */*\r\nReferer: https://shop.example.com/\r\n\r\n";

// One request's whole record: Begin, Routed, upstream start/done, Finish.
void RunRecords(benchmark::State& state) {
  keel::http1::RequestHead head;
  if (keel::http1::ParseRequestHead(kHead, keel::http1::Limits{}, &head).status !=
      keel::http1::ParseStatus::Done) {
    state.SkipWithError("parse");
    return;
  }
  BindThisThread(1);
  keel::observe::RequestRecord r;
  const keel::proxy::RouteLabels labels{"shop", "storefront", "catalog:80"};
  for (auto _ : state) {
    r.Begin(head, "10.0.0.7", "HTTP/1.1", kHead.size());
    r.Routed(labels);
    r.UpstreamStarted();
    r.UpstreamDone("10.1.2.3:8080", 200);
    r.Finish(200, "0123456789abcdef0123456789abcdef", 0, 1024);
  }
}

void BM_RequestRecordLogOff(benchmark::State& state) { RunRecords(state); }
BENCHMARK(BM_RequestRecordLogOff);

void BM_RequestRecordJsonLog(benchmark::State& state) {
  int fd = ::open("/dev/null", O_WRONLY);
  keel::observe::AccessLog::Default().Start({keel::observe::LogFormat::kJson, 1.0, fd, 1 << 20, 5});
  RunRecords(state);
  keel::observe::AccessLog::Default().Stop();
  ::close(fd);
  state.counters["dropped"] = static_cast<double>(keel::observe::AccessLog::Default().dropped());
}
BENCHMARK(BM_RequestRecordJsonLog);

}  // namespace

BENCHMARK_MAIN();
