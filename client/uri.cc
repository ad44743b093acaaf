// Copyright 2026 The Weightserver Authors.
//
// client/uri.cc
#include "weightserver/client/uri.h"

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace weightserver::client {
namespace {

constexpr absl::string_view kTcpScheme = "weightserver://";
constexpr absl::string_view kUnixScheme = "weightserver+unix://";
constexpr absl::string_view kDnsPrefix = "dns:///";
constexpr absl::string_view kGrpcSchemes[] = {"dns", "unix", "unix-abstract",
                                              "ipv4", "ipv6", "vsock"};

absl::Status Bad(absl::string_view uri, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(
      "model URI '", uri, "': ", why,
      " (expected weightserver://HOST[:PORT]/MODEL[@REVISION] or "
      "weightserver+unix://SOCKET/MODEL[@REVISION])"));
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

absl::StatusOr<std::string> PercentDecode(absl::string_view uri,
                                          absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out.push_back(text[i]);
      continue;
    }
    if (i + 2 >= text.size()) {
      return Bad(uri, "a '%' escape is cut short");
    }
    const int hi = HexValue(text[i + 1]), lo = HexValue(text[i + 2]);
    if (hi < 0 || lo < 0) return Bad(uri, "a '%' escape is not two hex digits");
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

// Unreserved characters and '/' stay; everything else is %XX.
std::string PercentEncode(absl::string_view text, bool keep_slash) {
  std::string out;
  for (unsigned char c : text) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.' ||
        c == '~' || (keep_slash && c == '/')) {
      out.push_back(static_cast<char>(c));
    } else {
      constexpr char kHex[] = "0123456789ABCDEF";  // RFC 3986: uppercase.
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

absl::StatusOr<std::string> TcpTarget(absl::string_view uri,
                                      absl::string_view authority) {
  if (authority.empty()) return Bad(uri, "no HOST");
  if (authority.find('@') != absl::string_view::npos) {
    return Bad(uri, "user information ('user@') is not supported");
  }
  absl::string_view host = authority, port;
  if (authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == absl::string_view::npos) return Bad(uri, "an unclosed '[' in HOST");
    host = authority.substr(0, close + 1);
    absl::string_view rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (!absl::ConsumePrefix(&rest, ":")) return Bad(uri, "junk after ']'");
      port = rest;
      if (port.empty()) return Bad(uri, "an empty PORT");
    }
    if (host.size() == 2) return Bad(uri, "an empty IPv6 address");
    for (char c : host.substr(1, host.size() - 2)) {
      if (!absl::ascii_isxdigit(c) && c != ':' && c != '.') {
        return Bad(uri, "the IPv6 address in '[...]' holds other than hex digits, ':' and '.'");
      }
    }
  } else {
    const size_t colon = authority.rfind(':');
    if (colon != absl::string_view::npos) {
      host = authority.substr(0, colon);
      port = authority.substr(colon + 1);
      if (port.empty()) return Bad(uri, "an empty PORT");
    }
    if (host.empty()) return Bad(uri, "no HOST");
    for (char c : host) {
      if (!absl::ascii_isalnum(c) && c != '-' && c != '.' && c != '_') {
        return Bad(uri, absl::StrCat("HOST has the character '",
                                     absl::CHexEscape(absl::string_view(&c, 1)),
                                     "'"));
      }
    }
  }
  int port_number = kDefaultPort;
  if (!port.empty()) {
    for (char c : port) {
      if (!absl::ascii_isdigit(c)) return Bad(uri, "PORT is not a number");
    }
    if (port.size() > 5 || !absl::SimpleAtoi(port, &port_number) ||
        port_number < 1 || port_number > 65535) {
      return Bad(uri, "PORT is outside 1-65535");
    }
  }
  // gRPC reads "unix:...", "dns:...", "ipv4:..." as a scheme: a host of such
  // a name takes the explicit dns:/// form.
  for (absl::string_view scheme : kGrpcSchemes) {
    if (absl::EqualsIgnoreCase(host, scheme)) {
      return absl::StrCat(kDnsPrefix, host, ":", port_number);
    }
  }
  return absl::StrCat(host, ":", port_number);
}

}  // namespace

bool IsModelUri(absl::string_view text) {
  return absl::StartsWith(text, kTcpScheme) || absl::StartsWith(text, kUnixScheme);
}

absl::StatusOr<ModelUri> ParseModelUri(absl::string_view uri) {
  absl::string_view rest = uri;
  const bool unix_socket = absl::ConsumePrefix(&rest, kUnixScheme);
  if (!unix_socket && !absl::ConsumePrefix(&rest, kTcpScheme)) {
    return Bad(uri, "unknown scheme");
  }
  if (rest.find_first_of("?#") != absl::string_view::npos) {
    return Bad(uri, "a query ('?') or fragment ('#') is not supported");
  }
  const size_t slash = rest.find('/');
  if (slash == absl::string_view::npos) return Bad(uri, "no MODEL");
  const absl::string_view authority = rest.substr(0, slash);
  absl::string_view path = rest.substr(slash + 1);

  ModelUri out;
  if (unix_socket) {
    if (authority.empty()) return Bad(uri, "no SOCKET");
    absl::StatusOr<std::string> socket = PercentDecode(uri, authority);
    if (!socket.ok()) return socket.status();
    if (socket->empty() || socket->front() != '/') {
      return Bad(uri, "SOCKET must be an absolute path, percent-encoded (%2Frun%2Fws.sock)");
    }
    out.target = absl::StrCat("unix:", *socket);
  } else {
    absl::StatusOr<std::string> target = TcpTarget(uri, authority);
    if (!target.ok()) return target.status();
    out.target = *std::move(target);
  }

  // The revision follows the last '@' of the last segment (an '@' in a
  // name is written %40).
  const size_t last_slash = path.rfind('/');
  const size_t at = path.rfind('@');
  if (at != absl::string_view::npos &&
      (last_slash == absl::string_view::npos || at > last_slash)) {
    absl::string_view revision = path.substr(at + 1);
    path = path.substr(0, at);
    if (revision.empty()) return Bad(uri, "an empty REVISION after '@'");
    for (char c : revision) {
      if (!absl::ascii_isalnum(c)) return Bad(uri, "REVISION must be letters and digits");
    }
    out.revision = std::string(revision);
  }
  if (path.empty()) return Bad(uri, "no MODEL");
  std::vector<std::string> segments;
  for (absl::string_view segment : absl::StrSplit(path, '/')) {
    absl::StatusOr<std::string> decoded = PercentDecode(uri, segment);
    if (!decoded.ok()) return decoded.status();
    if (decoded->empty() || *decoded == "." || *decoded == "..") {
      return Bad(uri, "MODEL has an empty, '.' or '..' segment");
    }
    if (decoded->find('/') != std::string::npos) {
      return Bad(uri, "a MODEL segment holds an encoded '/'");
    }
    segments.push_back(*std::move(decoded));
  }
  out.model = absl::StrJoin(segments, "/");
  return out;
}

std::string FormatModelUri(const ModelUri& uri) {
  std::string out;
  absl::string_view target = uri.target;
  if (absl::ConsumePrefix(&target, "unix:")) {
    absl::StrAppend(&out, kUnixScheme, PercentEncode(target, false));
  } else {
    absl::ConsumePrefix(&target, kDnsPrefix);
    absl::StrAppend(&out, kTcpScheme, target);
  }
  absl::StrAppend(&out, "/", PercentEncode(uri.model, true));
  if (!uri.revision.empty()) absl::StrAppend(&out, "@", uri.revision);
  return out;
}

}  // namespace weightserver::client
