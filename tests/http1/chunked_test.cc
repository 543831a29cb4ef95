// The chunked decoder: valid bodies, every strictness rule, trailers, and the oracle
// that any split of the input (at every byte) decodes exactly like the whole.
#include <string>
#include <vector>

#include "tests/http1/test_util.h"

namespace keel::http1 {
namespace {

using Status = ChunkedDecoder::Status;

struct Decoded {
  Status status = Status::NeedMore;
  std::string data;
  size_t consumed = 0;  // total input bytes used (up to Done / the faulty byte)
  int http_status = 0;
  std::string reason;
  std::vector<std::pair<std::string, std::string>> trailers;
};

// Feeds `pieces` in order, as successive reads, keeping unconsumed bytes.
Decoded DecodePieces(const std::vector<std::string_view>& pieces, const Limits& limits = {}) {
  ChunkedDecoder dec(limits);
  Decoded out;
  for (std::string_view piece : pieces) {
    while (true) {
      ChunkedDecoder::Result r = dec.Feed(piece);
      out.data.append(r.data);
      out.consumed += r.consumed;
      piece.remove_prefix(r.consumed);
      out.status = r.status;
      if (r.status == Status::Error) {
        out.http_status = r.http_status;
        out.reason = std::string(r.reason);
        return out;
      }
      if (r.status == Status::Done) {
        for (const Header& t : dec.trailers()) out.trailers.emplace_back(t.name, t.value);
        EXPECT_EQ(dec.body_bytes(), out.data.size());
        return out;
      }
      if (r.status == Status::NeedMore) break;
    }
  }
  return out;
}

Decoded Decode(std::string_view in, const Limits& limits = {}) { return DecodePieces({in}, limits); }

TEST(Chunked, DecodesChunksAndStopsAtTheEnd) {
  const std::string in = "5\r\nhello\r\n1;ext=1\r\n \r\nA\r\n0123456789\r\n0\r\n\r\nGET / HTTP/1.1";
  Decoded d = Decode(in);
  EXPECT_EQ(d.status, Status::Done);
  EXPECT_EQ(d.data, "hello 0123456789");
  EXPECT_EQ(d.consumed, in.find("GET")) << "the next pipelined message is left alone";
  EXPECT_TRUE(d.trailers.empty());
}

TEST(Chunked, DataIsAViewOfTheInput) {
  const std::string in = "3\r\nabc\r\n0\r\n\r\n";
  ChunkedDecoder dec;
  ChunkedDecoder::Result r = dec.Feed(in);
  ASSERT_EQ(r.status, Status::Data);
  EXPECT_EQ(r.data, "abc");
  EXPECT_EQ(r.data.data(), in.data() + 3);
  EXPECT_EQ(r.consumed, 6u);
}

TEST(Chunked, SizesAndExtensions) {
  EXPECT_EQ(Decode("a\r\n0123456789\r\n0\r\n\r\n").data, "0123456789");
  EXPECT_EQ(Decode("0000000000000001\r\nx\r\n0\r\n\r\n").data, "x") << "16 digits with leading zeros";
  EXPECT_EQ(Decode("1;a;b=c;d=\"q \\\" ;x\"\r\nx\r\n000;z\r\n\r\n").status, Status::Done);
  Limits unbounded;
  unbounded.max_body_bytes = UINT64_MAX;
  EXPECT_EQ(Decode("ffffffffffffffff\r\nabc", unbounded).status, Status::NeedMore) << "max uint64 size fits";
}

TEST(Chunked, ExtensionBytesAreBoundedExactly) {
  const std::string at_limit =
      "1;" + std::string(ChunkedDecoder::kMaxChunkExtBytes, 'a') + "\r\nx\r\n0\r\n\r\n";
  EXPECT_EQ(Decode(at_limit).status, Status::Done);
  const std::string over =
      "1;" + std::string(ChunkedDecoder::kMaxChunkExtBytes + 1, 'a') + "\r\nx\r\n0\r\n\r\n";
  EXPECT_EQ(Decode(over).status, Status::Error);
}

TEST(Chunked, Trailers) {
  Decoded d = Decode("1\r\nx\r\n0\r\nGrpc-Status: 0\r\nX-Sum:  abc \r\n\r\nrest");
  ASSERT_EQ(d.status, Status::Done);
  ASSERT_EQ(d.trailers.size(), 2u);
  EXPECT_EQ(d.trailers[0], std::make_pair(std::string("Grpc-Status"), std::string("0")));
  EXPECT_EQ(d.trailers[1], std::make_pair(std::string("X-Sum"), std::string("abc")));
}

struct BadCase {
  std::string name;
  std::string input;
  int http_status;
  Limits limits = {};
};

std::vector<BadCase> BadCases() {
  using namespace std::string_literals;
  return {
      {"HexPrefix", "0x10\r\n", 400},
      {"Negative", "-1\r\n", 400},
      {"LeadingSpace", " 1\r\nx\r\n0\r\n\r\n", 400},
      {"SpaceBeforeExtension", "1 ;a\r\nx\r\n0\r\n\r\n", 400},
      {"TrailingSpace", "1 \r\nx\r\n0\r\n\r\n", 400},
      {"TabAfterSize", "1\t\r\nx\r\n0\r\n\r\n", 400},
      {"SeventeenDigits", "00000000000000001\r\nx\r\n", 400},
      {"SizeOverflow", "10000000000000000\r\n", 400},
      {"EmptySizeLine", "\r\nx\r\n", 400},
      {"BareLfAfterSize", "1\nx\r\n0\r\n\r\n", 400},
      {"BareCrAfterSize", "1\rx\r\n0\r\n\r\n", 400},
      {"DataNotFollowedByCrlf", "1\r\nxy\r\n0\r\n\r\n", 400},
      {"DataFollowedByBareLf", "1\r\nx\n0\r\n\r\n", 400},
      {"DataFollowedByCrOnly", "1\r\nx\r0\r\n\r\n", 400},
      {"ExtensionWithoutName", "1;=a\r\nx\r\n", 400},
      {"ExtensionWithSpace", "1; a\r\nx\r\n", 400},
      {"ExtensionEmptyValue", "1;a=\r\nx\r\n", 400},
      {"UnterminatedQuotedExtension", "1;a=\"b\r\nx\r\n", 400},
      {"ExtensionTooLong", "1;a=" + std::string(ChunkedDecoder::kMaxChunkExtBytes, 'b') + "\r\nx\r\n", 400},
      {"NulInSize", "1\0\r\n"s, 400},
      {"ChunkOverBodyLimit", "40000001\r\n", 413},
      {"TotalOverBodyLimit", "5\r\nhello\r\n6\r\n", 413, Limits{8192, 65536, 100, 10}},
      {"TrailerObsFold", "0\r\nA: 1\r\n b\r\n\r\n", 400},
      {"TrailerWithoutColon", "0\r\nA\r\n\r\n", 400},
      {"TrailerSpaceBeforeColon", "0\r\nA : 1\r\n\r\n", 400},
      {"TrailerBareLf", "0\r\nA: 1\n\r\n", 400},
      {"TrailerNul", "0\r\nA: \0\r\n\r\n"s, 400},
      {"TrailerTooLarge", "0\r\nA: " + std::string(70000, 'a') + "\r\n\r\n", 431},
      {"TooManyTrailers",
       [] {
         std::string s = "0\r\n";
         for (int i = 0; i < 101; ++i) s += "T: 1\r\n";
         return s + "\r\n";
       }(),
       431},
      {"BareCrAtEnd", "0\r\n\rx", 400},
  };
}

TEST(Chunked, StrictnessCasesAreRejected) {
  for (const BadCase& c : BadCases()) {
    SCOPED_TRACE(c.name);
    Decoded d = Decode(c.input, c.limits);
    EXPECT_EQ(d.status, Status::Error) << d.reason;
    EXPECT_EQ(d.http_status, c.http_status) << d.reason;
    EXPECT_FALSE(d.reason.empty());
  }
}

TEST(Chunked, ErrorAndDoneAreSticky) {
  ChunkedDecoder dec;
  ChunkedDecoder::Result r = dec.Feed("zz");
  ASSERT_EQ(r.status, Status::Error);
  r = dec.Feed("0\r\n\r\n");
  EXPECT_EQ(r.status, Status::Error);
  EXPECT_EQ(r.consumed, 0u);
  dec.Reset();
  r = dec.Feed("0\r\n\r\n");
  ASSERT_EQ(r.status, Status::Done);
  r = dec.Feed("0\r\n\r\n");
  EXPECT_EQ(r.status, Status::Done);
  EXPECT_EQ(r.consumed, 0u);
}

// Oracle: for each body, two reads cut at every byte and one byte per read decode
// exactly as the whole input does.
TEST(Chunked, EverySplitPointAgrees) {
  std::vector<std::string> bodies = {
      "5\r\nhello\r\n6;a=\"b;c\"\r\n world\r\n0\r\nX-T: 1\r\nY: two words \r\n\r\nnext",
      "1\r\na\r\n10\r\n0123456789abcdef\r\n0\r\n\r\n",
      "4\r\nabcd\r\n1 \r\nx\r\n0\r\n\r\n",
      "3\r\nabc\r\n0\r\nA\r\n\r\n",
      "2\r\nabc\r\n",
      "0\r\n\r\n",
  };
  for (const auto& c : BadCases()) {
    if (c.input.size() < 512 && c.limits.max_body_bytes == Limits{}.max_body_bytes) bodies.push_back(c.input);
  }
  for (const std::string& body : bodies) {
    const Decoded whole = Decode(body);
    for (size_t k = 0; k <= body.size(); ++k) {
      std::string_view v = body;
      Decoded two = DecodePieces({v.substr(0, k), v.substr(k)});
      ASSERT_EQ(two.status, whole.status) << body << " split " << k;
      ASSERT_EQ(two.data, whole.data) << body << " split " << k;
      ASSERT_EQ(two.consumed, whole.consumed) << body << " split " << k;
      ASSERT_EQ(two.reason, whole.reason) << body << " split " << k;
      ASSERT_EQ(two.trailers, whole.trailers) << body << " split " << k;
    }
    std::vector<std::string_view> bytes;
    for (size_t i = 0; i < body.size(); ++i) bytes.push_back(std::string_view(body).substr(i, 1));
    Decoded one = DecodePieces(bytes);
    EXPECT_EQ(one.status, whole.status) << body;
    EXPECT_EQ(one.data, whole.data) << body;
    EXPECT_EQ(one.consumed, whole.consumed) << body;
    EXPECT_EQ(one.trailers, whole.trailers) << body;
  }
}

TEST(Chunked, TrailerLimitFaultsAtTheSameByteForEverySplit) {
  Limits tight;
  tight.max_header_bytes = 16;
  const std::string body = "1\r\nx\r\n0\r\nA: 1\r\nX-Long: 0123456789abcdef\r\n\r\n";
  const Decoded whole = Decode(body, tight);
  ASSERT_EQ(whole.status, Status::Error);
  EXPECT_EQ(whole.http_status, 431);
  // "A: 1" stores 5 bytes with its separator, so byte 11 of "X-Long..." is the 17th.
  EXPECT_EQ(whole.consumed, body.find("X-Long") + 11);
  for (size_t k = 0; k <= body.size(); ++k) {
    std::string_view v = body;
    Decoded two = DecodePieces({v.substr(0, k), v.substr(k)}, tight);
    ASSERT_EQ(two.consumed, whole.consumed) << "split " << k;
    ASSERT_EQ(two.http_status, 431) << "split " << k;
  }
}

}  // namespace
}  // namespace keel::http1
