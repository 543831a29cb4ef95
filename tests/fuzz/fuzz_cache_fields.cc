// libFuzzer target: the cache's field-value parsers (Cache-Control, lists such as Vary and
// Pragma, HTTP-dates), with the driver's invariants.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "tests/fuzz/cache_driver.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string failure = keel::cache::fuzz::CheckFieldValue({reinterpret_cast<const char*>(data), size});
  if (!failure.empty()) {
    std::fprintf(stderr, "invariant broken: %s\n", failure.c_str());
    std::abort();
  }
  return 0;
}
