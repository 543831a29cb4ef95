// Accept-Encoding negotiation (RFC 9110 §12.5.3) and the streaming encoders, whose
// output is decoded again with the reference libraries.
#include <brotli/decode.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include "dataplane/compress/encoder.h"
#include "dataplane/compress/negotiate.h"

namespace keel::compress {
namespace {

TEST(Negotiate, HighestQWinsAndBrotliBreaksTies) {
  EXPECT_EQ(Negotiate("gzip, deflate, br"), Coding::kBrotli);
  EXPECT_EQ(Negotiate("gzip;q=1.0, br;q=0.5"), Coding::kGzip);
  EXPECT_EQ(Negotiate("br;q=0.8, gzip;q=0.8"), Coding::kBrotli);
  EXPECT_EQ(Negotiate("GZIP"), Coding::kGzip);
  EXPECT_EQ(Negotiate("x-gzip"), Coding::kGzip);
}

TEST(Negotiate, QZeroForbidsAndStarCoversTheRest) {
  EXPECT_EQ(Negotiate("br;q=0, gzip;q=0"), Coding::kIdentity);
  EXPECT_EQ(Negotiate("*;q=0.5, br;q=0"), Coding::kGzip);
  EXPECT_EQ(Negotiate("*"), Coding::kBrotli);
  EXPECT_EQ(Negotiate(""), Coding::kIdentity);
  EXPECT_EQ(Negotiate("identity"), Coding::kIdentity);
}

TEST(Negotiate, MalformedWeightsRefuse) {
  EXPECT_EQ(Negotiate("gzip;q=2"), Coding::kIdentity);
  EXPECT_EQ(Negotiate("gzip;q=0.12345"), Coding::kIdentity);
  EXPECT_EQ(Negotiate("gzip;q=abc, br;q=0.001"), Coding::kBrotli);
}

TEST(Normalize, SameSetSameKey) {
  EXPECT_EQ(NormalizeAcceptEncoding("gzip, deflate, br"), "br,deflate,gzip");
  EXPECT_EQ(NormalizeAcceptEncoding("br;q=0.2,GZIP ,deflate"), "br,deflate,gzip");
  EXPECT_EQ(NormalizeAcceptEncoding("gzip, br;q=0"), "gzip");
  EXPECT_EQ(NormalizeAcceptEncoding(""), "");
}

TEST(Types, TextJsonScriptYesImagesNo) {
  EXPECT_TRUE(CompressibleType("text/html; charset=utf-8"));
  EXPECT_TRUE(CompressibleType("application/json"));
  EXPECT_TRUE(CompressibleType("application/problem+json"));
  EXPECT_TRUE(CompressibleType("image/svg+xml"));
  EXPECT_FALSE(CompressibleType("image/png"));
  EXPECT_FALSE(CompressibleType("application/zip"));
  EXPECT_FALSE(CompressibleType(""));
}

std::string Input() {
  std::string s;
  for (int i = 0; i < 5000; ++i) s += "line " + std::to_string(i % 97) + " of a very compressible text\n";
  return s;
}

std::string Encode(Coding c, const std::string& in) {
  auto e = Encoder::Make(c);
  EXPECT_TRUE(e);
  std::string out;
  for (size_t i = 0; i < in.size(); i += 7001)
    EXPECT_TRUE(e->Write(std::string_view(in).substr(i, 7001), &out));
  EXPECT_TRUE(e->Finish(&out));
  return out;
}

TEST(Encoder, GzipRoundTrip) {
  std::string in = Input(), z = Encode(Coding::kGzip, in);
  ASSERT_LT(z.size(), in.size() / 5);
  EXPECT_EQ(static_cast<unsigned char>(z[0]), 0x1f);  // gzip magic, RFC 1952
  z_stream s{};
  ASSERT_EQ(inflateInit2(&s, 15 + 16), Z_OK);
  std::string out(in.size() + 16, '\0');
  s.next_in = reinterpret_cast<Bytef*>(z.data());
  s.avail_in = static_cast<uInt>(z.size());
  s.next_out = reinterpret_cast<Bytef*>(out.data());
  s.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(inflate(&s, Z_FINISH), Z_STREAM_END);
  out.resize(s.total_out);
  inflateEnd(&s);
  EXPECT_EQ(out, in);
}

TEST(Encoder, BrotliRoundTrip) {
  std::string in = Input(), b = Encode(Coding::kBrotli, in);
  ASSERT_LT(b.size(), in.size() / 5);
  std::string out(in.size() + 16, '\0');
  size_t n = out.size();
  ASSERT_EQ(BrotliDecoderDecompress(b.size(), reinterpret_cast<const uint8_t*>(b.data()), &n,
                                    reinterpret_cast<uint8_t*>(out.data())),
            BROTLI_DECODER_RESULT_SUCCESS);
  out.resize(n);
  EXPECT_EQ(out, in);
}

TEST(Encoder, EmptyBodyStillMakesAValidStream) {
  EXPECT_FALSE(Encode(Coding::kGzip, "").empty());
  EXPECT_FALSE(Encode(Coding::kBrotli, "").empty());
  EXPECT_EQ(Encoder::Make(Coding::kIdentity), nullptr);
}

}  // namespace
}  // namespace keel::compress
