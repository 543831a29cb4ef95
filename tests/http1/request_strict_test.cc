// Table of request heads the strict parser must accept or reject, one named case per
// rule; every case is also replayed through the split-point and fuzz-driver oracles.
#include <set>
#include <string>
#include <vector>

#include "tests/fuzz/http1_driver.h"
#include "tests/http1/test_util.h"

namespace keel::http1 {
namespace {

using namespace std::string_literals;

struct Case {
  std::string name;
  std::string input;
  ParseStatus status;
  int http_status = 0;  // for errors
  Limits limits = {};
};

constexpr auto kDone = ParseStatus::Done;
constexpr auto kError = ParseStatus::Error;
constexpr auto kMore = ParseStatus::NeedMore;

std::string Get(std::string fields, std::string line = "GET / HTTP/1.1") {
  return line + "\r\n" + fields + "\r\n";
}
std::string Host(std::string more = "") { return "Host: a.example\r\n" + more; }

Limits Small() { return Limits{32, 128, 3, 100}; }

std::vector<Case> Cases() {
  return {
      // Accepted shapes.
      {"SimpleGet", Get(Host()), kDone},
      {"Http10WithoutHost", Get("", "GET / HTTP/1.0"), kDone},
      {"LeadingEmptyLineIgnored", "\r\n" + Get(Host()), kDone},
      {"ExtensionMethod", Get(Host(), "PURGE /x HTTP/1.1"), kDone},
      {"ObsTextInValue", Get(Host("X-Name: caf\xc3\xa9\r\n")), kDone},
      {"HtabInValue", Get(Host("X-A: a\tb\r\n")), kDone},
      {"EmptyValue", Get(Host("X-A:\r\n")), kDone},
      {"EmptyHost", Get("Host:\r\n"), kDone},
      {"HostWithPort", Get("Host: a.example:8080\r\n"), kDone},
      {"HostIpv6", Get("Host: [::1]:8080\r\n"), kDone},
      {"ChunkedAnyCase", Get(Host("Transfer-Encoding: CHUNKED\r\n"), "POST / HTTP/1.1"), kDone},
      {"ChunkedWithEmptyListElements", Get(Host("Transfer-Encoding: , chunked ,\r\n"), "POST / HTTP/1.1"),
       kDone},
      {"ContentLengthLeadingZeros", Get(Host("Content-Length: 007\r\n"), "POST / HTTP/1.1"), kDone},
      {"AbsoluteForm", Get(Host(), "GET http://b.example:81/p?q HTTP/1.1"), kDone},
      {"AsteriskFormForOptions", Get(Host(), "OPTIONS * HTTP/1.1"), kDone},
      {"Expect100Continue", Get(Host("Expect: 100-continue\r\n"), "POST / HTTP/1.1"), kDone},
      {"OtherExpectationIgnoredInHttp10", Get("Expect: fancy\r\n", "GET / HTTP/1.0"), kDone},
      {"BrowserPunctuationInQuery", Get(Host(), "GET /a?b={\"c\"}|^` HTTP/1.1"), kDone},
      {"ValidPercentEncoding", Get(Host(), "GET /a%20b%2F HTTP/1.1"), kDone},

      // Framing: Content-Length and Transfer-Encoding (RFC 9112 §6).
      {"ContentLengthAndTransferEncoding",
       Get(Host("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n"), "POST / HTTP/1.1"), kError, 400},
      {"TransferEncodingAndContentLength",
       Get(Host("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n"), "POST / HTTP/1.1"), kError, 400},
      {"TwoEqualContentLengths", Get(Host("Content-Length: 5\r\nContent-Length: 5\r\n")), kError, 400},
      {"TwoDifferentContentLengths", Get(Host("Content-Length: 5\r\nContent-Length: 6\r\n")), kError, 400},
      {"CommaListedContentLength", Get(Host("Content-Length: 5, 5\r\n")), kError, 400},
      {"NonDigitContentLength", Get(Host("Content-Length: abc\r\n")), kError, 400},
      {"NegativeContentLength", Get(Host("Content-Length: -1\r\n")), kError, 400},
      {"PlusSignContentLength", Get(Host("Content-Length: +5\r\n")), kError, 400},
      {"HexContentLength", Get(Host("Content-Length: 0x5\r\n")), kError, 400},
      {"SpaceInsideContentLength", Get(Host("Content-Length: 1 2\r\n")), kError, 400},
      {"EmptyContentLength", Get(Host("Content-Length:\r\n")), kError, 400},
      {"OverflowingContentLength", Get(Host("Content-Length: 18446744073709551616\r\n")), kError, 400},
      {"ContentLengthOverLimit", Get(Host("Content-Length: 1073741825\r\n")), kError, 413},
      {"FinalCodingNotChunked", Get(Host("Transfer-Encoding: gzip\r\n")), kError, 400},
      {"IdentityCoding", Get(Host("Transfer-Encoding: identity\r\n")), kError, 400},
      {"UnknownCodingAlone", Get(Host("Transfer-Encoding: xchunked\r\n")), kError, 400},
      {"ChunkedAppliedTwice", Get(Host("Transfer-Encoding: chunked, chunked\r\n")), kError, 400},
      {"ChunkedTwiceOnTwoLines", Get(Host("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n")),
       kError, 400},
      {"ChunkedThenGzip", Get(Host("Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n")), kError,
       400},
      {"UnknownCodingThenChunked", Get(Host("Transfer-Encoding: foo, chunked\r\n")), kError, 501},
      {"GzipThenChunked", Get(Host("Transfer-Encoding: gzip, chunked\r\n")), kError, 501},
      {"ChunkedWithParameters", Get(Host("Transfer-Encoding: chunked;q=1\r\n")), kError, 400},
      {"EmptyTransferEncoding", Get(Host("Transfer-Encoding:\r\n")), kError, 400},
      {"SpaceInsideCoding", Get(Host("Transfer-Encoding: chunked x\r\n")), kError, 400},
      {"VerticalTabBeforeChunked",
       Get(Host("Transfer-Encoding: \x0b"
                "chunked\r\n")),
       kError, 400},
      {"TransferEncodingInHttp10", Get("Transfer-Encoding: chunked\r\n", "POST / HTTP/1.0"), kError, 400},

      // Field-line syntax (RFC 9112 §5).
      {"ObsFold", Get(Host("X-A: a\r\n b\r\n")), kError, 400},
      {"ObsFoldedTransferEncoding", Get(Host("Transfer-Encoding:\r\n chunked\r\n")), kError, 400},
      {"WhitespaceBeforeFirstField", Get(" Host: a.example\r\n"), kError, 400},
      {"BareCr", Get(Host("X-A: a\rb\r\n")), kError, 400},
      {"BareLfLineEndings", "GET / HTTP/1.1\nHost: a.example\n\n", kError, 400},
      {"BareLfInField", Get(Host("X-A: a\nX-B: b\r\n")), kError, 400},
      {"BareLfEndOfHead", "GET / HTTP/1.1\r\nHost: a.example\r\n\n", kError, 400},
      {"SpaceBeforeColon", Get("Host : a.example\r\n"), kError, 400},
      {"TabBeforeColon", Get(Host("Content-Length\t: 5\r\n")), kError, 400},
      {"EmptyFieldName", Get(Host(": a\r\n")), kError, 400},
      {"InvalidFieldNameChar", Get(Host("X@Y: a\r\n")), kError, 400},
      {"ObsTextInFieldName", Get(Host("X\xe9: a\r\n")), kError, 400},
      {"FieldWithoutColon", Get(Host("X-A\r\n")), kError, 400},
      {"ControlCharInValue",
       Get(Host("X-A: a\x01"
                "b\r\n")),
       kError, 400},
      {"DelInValue",
       Get(Host("X-A: a\x7f"
                "b\r\n")),
       kError, 400},
      {"NulInValue", Get(Host("X-A: a\0b\r\n"s)), kError, 400},
      {"NulInMethod", "G\0T / HTTP/1.1\r\nHost: a\r\n\r\n"s, kError, 400},
      {"NulInTarget", "GET /\0 HTTP/1.1\r\nHost: a\r\n\r\n"s, kError, 400},
      {"NulInName", Get(Host("X\0A: b\r\n"s)), kError, 400},

      // Request line (RFC 9112 §3).
      {"InvalidMethodChar", Get(Host(), "G@T / HTTP/1.1"), kError, 400},
      {"EmptyMethod", Get(Host(), " / HTTP/1.1"), kError, 400},
      {"DoubleSpace", Get(Host(), "GET  / HTTP/1.1"), kError, 400},
      {"SpaceInTarget", Get(Host(), "GET /a b HTTP/1.1"), kError, 400},
      {"TabInTarget", Get(Host(), "GET /a\tb HTTP/1.1"), kError, 400},
      {"ControlCharInTarget", Get(Host(), "GET /a\x01 HTTP/1.1"), kError, 400},
      {"ObsTextInTarget", Get(Host(), "GET /caf\xc3\xa9 HTTP/1.1"), kError, 400},
      {"FragmentInTarget", Get(Host(), "GET /a#b HTTP/1.1"), kError, 400},
      {"BadPercentEncoding", Get(Host(), "GET /a%zz HTTP/1.1"), kError, 400},
      {"TruncatedPercentEncoding", Get(Host(), "GET /a%4 HTTP/1.1"), kError, 400},
      {"MissingVersion", Get(Host(), "GET /"), kError, 400},
      {"LowercaseVersion", Get(Host(), "GET / http/1.1"), kError, 400},
      {"TrailingSpaceAfterVersion", Get(Host(), "GET / HTTP/1.1 "), kError, 400},
      {"LongVersion", Get(Host(), "GET / HTTP/1.10"), kError, 400},
      {"Http20Version", Get(Host(), "GET / HTTP/2.0"), kError, 505},
      {"Http09Version", Get(Host(), "GET / HTTP/0.9"), kError, 505},
      {"Http12Version", Get(Host(), "GET / HTTP/1.2"), kError, 505},
      {"PriWithoutFullPreface", "PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n", kError, 505},
      {"H2Preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\x12\x04"s, ParseStatus::H2Preface},
      {"PartialH2Preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n", kMore},

      // Target forms (RFC 9112 §3.2).
      {"AbsoluteFormWithUserinfo", Get(Host(), "GET http://u@b.example/ HTTP/1.1"), kError, 400},
      {"AbsoluteFormOtherScheme", Get(Host(), "GET ftp://b.example/ HTTP/1.1"), kError, 400},
      {"AbsoluteFormWithoutAuthority", Get(Host(), "GET http:/p HTTP/1.1"), kError, 400},
      {"AsteriskFormForGet", Get(Host(), "GET * HTTP/1.1"), kError, 400},
      {"AuthorityFormForGet", Get(Host(), "GET b.example:443 HTTP/1.1"), kError, 400},
      {"Connect", Get(Host(), "CONNECT b.example:443 HTTP/1.1"), kError, 405},
      {"ConnectWithoutPort", Get(Host(), "CONNECT b.example HTTP/1.1"), kError, 400},
      {"ConnectOriginForm", Get(Host(), "CONNECT / HTTP/1.1"), kError, 400},

      // Host (RFC 9112 §3.2, RFC 9110 §7.2).
      {"MissingHostHttp11", Get(""), kError, 400},
      {"MultipleHost", Get("Host: a.example\r\nHost: a.example\r\n"), kError, 400},
      {"HostWithSpace", Get("Host: a b\r\n"), kError, 400},
      {"HostWithComma", Get("Host: a,b\r\n"), kError, 400},
      {"HostWithUserinfo", Get("Host: u@a\r\n"), kError, 400},
      {"HostPortTooBig", Get("Host: a:65536\r\n"), kError, 400},
      {"HostEmptyPort", Get("Host: a:\r\n"), kError, 400},
      {"HostUnclosedIpv6", Get("Host: [::1\r\n"), kError, 400},

      // Connection, Upgrade, Expect.
      {"MalformedConnection", Get(Host("Connection: close;x\r\n")), kError, 400},
      {"TooManyConnectionOptions", Get(Host("Connection: a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q\r\n")), kError,
       400},
      {"MultipleUpgrade", Get(Host("Upgrade: a\r\nUpgrade: b\r\n")), kError, 400},
      {"MalformedUpgrade", Get(Host("Upgrade: web socket\r\n")), kError, 400},
      {"UnsupportedExpectation", Get(Host("Expect: fancy\r\n")), kError, 417},

      // Limits, enforced on incomplete input too.
      // "GET " + target + " HTTP/1.0" is 32 bytes with a 19-byte target: exactly the limit.
      {"RequestLineAtLimit", Get("", "GET /" + std::string(18, 'a') + " HTTP/1.0"), kDone, 0, Small()},
      {"RequestLineTooLong", Get("", "GET /" + std::string(19, 'a') + " HTTP/1.0"), kError, 414, Small()},
      {"IncompleteRequestLineTooLong", "GET /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", kError, 414,
       Small()},
      {"HeaderBlockTooBig", Get("X-A: " + std::string(120, 'a') + "\r\n", "GET / HTTP/1.0"), kError, 431,
       Small()},
      {"IncompleteHeaderBlockTooBig", "GET / HTTP/1.0\r\nX-A: " + std::string(200, 'a'), kError, 431,
       Small()},
      {"LeadingBareLf", "\n" + Get(Host()), kError, 400},
      {"EndlessCrlfs",
       [] {
         std::string s;
         for (int i = 0; i < 100; ++i) s += "\r\n";
         return s;
       }(),
       kError, 431, Small()},
      {"HeadersAtLimit", Get("A: 1\r\nB: 2\r\nC: 3\r\n", "GET / HTTP/1.0"), kDone, 0, Small()},
      {"TooManyHeaders", Get("A: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n", "GET / HTTP/1.0"), kError, 431, Small()},
      {"MaxHeadersClampedToCapacity",
       [] {
         std::string f = Host();
         for (size_t i = 0; i < kMaxHeaders; ++i) f += "X: 1\r\n";
         return Get(f);
       }(),
       kError, 431, Limits{8192, 1 << 20, 100000, 0}},

      // Incomplete but valid so far.
      {"EmptyInput", "", kMore},
      {"PartialRequestLine", "GET /ind", kMore},
      {"PartialHead", "GET / HTTP/1.1\r\nHost: a\r\n", kMore},
      {"HeadEndingInCr", "GET / HTTP/1.1\r\nHost: a\r\n\r", kMore},
  };
}

// Every row is checked and reported by name; one TEST per property keeps the number of
// ctest processes (each costs ~0.3 s under ASan) small.
TEST(RequestStrict, Verdicts) {
  for (const Case& c : Cases()) {
    SCOPED_TRACE(c.name);
    RequestHead head;
    ParseResult r = ParseRequestHead(c.input, c.limits, &head);
    EXPECT_EQ(r.status, c.status) << r;
    if (c.status == kError) {
      EXPECT_EQ(r.http_status, c.http_status) << r;
      EXPECT_FALSE(r.reason.empty());
    }
    if (c.status == kDone) {
      EXPECT_EQ(r.consumed, c.input.size());
    }
  }
}

// Oracle: cutting the input at any byte (two reads, one hint, buffer moved in
// between) or parsing any prefix from scratch never changes the verdict.
::testing::AssertionResult SplitsAgree(const Case& c) {
  RequestHead head;
  const ParseResult whole = ParseRequestHead(c.input, c.limits, &head);
  for (size_t k = 0; k <= c.input.size(); ++k) {
    RequestHead h;
    ParseResult two = ParseInTwoReads(c.input, k, [&](std::string_view b, ParseHint* hint) {
      return ParseRequestHead(b, c.limits, &h, hint);
    });
    if (!(two == whole))
      return ::testing::AssertionFailure() << "split at " << k << ": " << two << " vs " << whole;
    ParseResult prefix = ParseRequestHead(std::string_view(c.input).substr(0, k), c.limits, &h);
    if (prefix.status != kMore && !(prefix == whole)) {
      return ::testing::AssertionFailure() << "prefix " << k << ": " << prefix << " vs " << whole;
    }
  }
  return ::testing::AssertionSuccess();
}

TEST(RequestStrict, EverySplitPointAgrees) {
  for (const Case& c : Cases()) EXPECT_TRUE(SplitsAgree(c)) << c.name;
}

TEST(RequestStrict, FuzzDriverInvariantsHold) {
  for (const Case& c : Cases()) EXPECT_EQ(fuzz::CheckRequestStream(c.input), "") << c.name;
}

TEST(RequestStrict, CaseNamesAreUnique) {
  std::set<std::string> names;
  for (const Case& c : Cases()) EXPECT_TRUE(names.insert(c.name).second) << c.name;
}

}  // namespace
}  // namespace keel::http1
