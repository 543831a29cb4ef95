// Streaming compressors for responses: gzip (zlib) and brotli (libbrotlienc). Bytes go
// in as the upstream delivers them and come out as soon as the compressor emits
// them, so a large response never sits whole in memory for compression's sake.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "dataplane/compress/negotiate.h"

namespace keel::compress {

class Encoder {
 public:
  virtual ~Encoder() = default;
  // Appends compressed output for `in` to `out`. False on a library error.
  virtual bool Write(std::string_view in, std::string* out) = 0;
  // Flushes and ends the stream.
  virtual bool Finish(std::string* out) = 0;

  // Null for kIdentity or if the library cannot start.
  static std::unique_ptr<Encoder> Make(Coding coding);
};

}  // namespace keel::compress
