// Copyright 2026 The Weightserver Authors.
//
// cli/metrics_text.cc
#include "cli/metrics_text.h"

#include <netdb.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <limits>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace weightserver::cli {
namespace {

// Closes the socket when the function returns.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) close(fd);
  }
};

absl::Status SocketError(absl::string_view what, const std::string& address) {
  const int e = errno;
  if (e == EAGAIN || e == EWOULDBLOCK || e == EINPROGRESS) {
    return absl::DeadlineExceededError(
        absl::StrCat(what, " ", address, ": timed out"));
  }
  return absl::UnavailableError(
      absl::StrCat(what, " ", address, ": ", std::strerror(e)));
}

bool ParseValue(absl::string_view text, double* value) {
  if (text == "+Inf" || text == "Inf") {
    *value = std::numeric_limits<double>::infinity();
  } else if (text == "-Inf") {
    *value = -std::numeric_limits<double>::infinity();
  } else if (text == "NaN" || text == "Nan") {
    *value = std::numeric_limits<double>::quiet_NaN();
  } else {
    return absl::SimpleAtod(text, value);
  }
  return true;
}

// Parses `{a="x",b="y"}` at the start of `rest`; advances it past the '}'.
bool ParseLabels(absl::string_view* rest,
                 std::map<std::string, std::string>* labels) {
  absl::string_view s = *rest;
  s.remove_prefix(1);  // '{'
  while (true) {
    s = absl::StripLeadingAsciiWhitespace(s);
    if (absl::ConsumePrefix(&s, "}")) break;
    const size_t eq = s.find('=');
    if (eq == absl::string_view::npos) return false;
    std::string key(absl::StripAsciiWhitespace(s.substr(0, eq)));
    s.remove_prefix(eq + 1);
    if (!absl::ConsumePrefix(&s, "\"")) return false;
    std::string value;
    while (true) {
      if (s.empty()) return false;
      const char c = s.front();
      s.remove_prefix(1);
      if (c == '"') break;
      if (c == '\\' && !s.empty()) {
        const char e = s.front();
        s.remove_prefix(1);
        value += e == 'n' ? '\n' : e;
      } else {
        value += c;
      }
    }
    (*labels)[std::move(key)] = std::move(value);
    s = absl::StripLeadingAsciiWhitespace(s);
    absl::ConsumePrefix(&s, ",");
  }
  *rest = s;
  return true;
}

bool Matches(const MetricSample& s,
             const std::map<std::string, std::string>& match) {
  for (const auto& [k, v] : match) {
    auto it = s.labels.find(k);
    if (it == s.labels.end() || it->second != v) return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<std::string> HttpGet(const std::string& host_port,
                                    const std::string& path,
                                    absl::Duration timeout) {
  const size_t colon = host_port.rfind(':');
  if (colon == std::string::npos || colon + 1 == host_port.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", host_port, "': want HOST:PORT"));
  }
  std::string host = host_port.substr(0, colon);
  const std::string port = host_port.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &found);
      rc != 0) {
    return absl::UnavailableError(
        absl::StrCat("resolve ", host_port, ": ", gai_strerror(rc)));
  }
  Fd sock;
  absl::Status status = absl::UnavailableError(
      absl::StrCat("connect ", host_port, ": no address"));
  const timeval tv = absl::ToTimeval(timeout);
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    Fd s{socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol)};
    if (s.fd < 0) continue;
    setsockopt(s.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(s.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (connect(s.fd, a->ai_addr, a->ai_addrlen) == 0) {
      std::swap(sock.fd, s.fd);
      status = absl::OkStatus();
      break;
    }
    status = SocketError("connect", host_port);
  }
  freeaddrinfo(found);
  if (!status.ok()) return status;
  const std::string request = absl::StrCat(
      "GET ", path, " HTTP/1.0\r\nHost: ", host_port,
      "\r\nAccept: text/plain\r\nConnection: close\r\n\r\n");
  for (size_t sent = 0; sent < request.size();) {
    const ssize_t n =
        send(sock.fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return SocketError("send to", host_port);
    sent += static_cast<size_t>(n);
  }
  std::string response;
  char buffer[16384];
  while (true) {
    const ssize_t n = recv(sock.fd, buffer, sizeof(buffer), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return SocketError("read from", host_port);
    if (n == 0) break;
    response.append(buffer, static_cast<size_t>(n));
  }
  const size_t end = response.find("\r\n\r\n");
  const std::string status_line = response.substr(0, response.find("\r\n"));
  std::vector<absl::string_view> words = absl::StrSplit(status_line, ' ');
  if (end == std::string::npos || words.size() < 2 ||
      !absl::StartsWith(words[0], "HTTP/") || words[1] != "200") {
    return absl::UnavailableError(absl::StrCat(
        "GET http://", host_port, path, ": ",
        status_line.empty() ? "no HTTP answer" : status_line));
  }
  return response.substr(end + 4);
}

absl::StatusOr<std::vector<MetricSample>> ParseMetricsText(
    absl::string_view text) {
  std::vector<MetricSample> samples;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line.front() == '#') continue;
    MetricSample sample;
    size_t name_end = 0;
    while (name_end < line.size() && line[name_end] != '{' &&
           line[name_end] != ' ' && line[name_end] != '\t') {
      ++name_end;
    }
    sample.name = std::string(line.substr(0, name_end));
    absl::string_view rest = line.substr(name_end);
    bool ok = !sample.name.empty();
    if (ok && !rest.empty() && rest.front() == '{') {
      ok = ParseLabels(&rest, &sample.labels);
    }
    std::vector<absl::string_view> fields =
        absl::StrSplit(rest, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    // A value, and maybe a timestamp.
    if (!ok || fields.empty() || fields.size() > 2 ||
        !ParseValue(fields[0], &sample.value)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "metrics line ", line_number, " is not a sample: '",
          line.substr(0, 200), "'"));
    }
    samples.push_back(std::move(sample));
  }
  return samples;
}

double SumSamples(const std::vector<MetricSample>& samples,
                  absl::string_view name,
                  const std::map<std::string, std::string>& match) {
  double sum = 0;
  for (const MetricSample& s : samples) {
    if (s.name == name && Matches(s, match) && !std::isnan(s.value)) {
      sum += s.value;
    }
  }
  return sum;
}

std::vector<std::string> LabelValues(const std::vector<MetricSample>& samples,
                                     absl::string_view name,
                                     absl::string_view label) {
  std::vector<std::string> values;
  for (const MetricSample& s : samples) {
    if (s.name != name) continue;
    auto it = s.labels.find(std::string(label));
    if (it != s.labels.end()) values.push_back(it->second);
  }
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
  return values;
}

double HistogramQuantile(const std::vector<MetricSample>& samples,
                         absl::string_view name, double q,
                         const std::map<std::string, std::string>& match) {
  // Cumulative count by upper bound, summed over the unmatched labels.
  std::map<double, double> buckets;
  const std::string bucket_name = absl::StrCat(name, "_bucket");
  for (const MetricSample& s : samples) {
    if (s.name != bucket_name || !Matches(s, match)) continue;
    auto le = s.labels.find("le");
    double bound = 0;
    if (le == s.labels.end() || !ParseValue(le->second, &bound)) continue;
    buckets[bound] += s.value;
  }
  if (buckets.empty() || buckets.rbegin()->second <= 0) return -1;
  const double total = buckets.rbegin()->second;
  const double rank = std::clamp(q, 0.0, 1.0) * total;
  double lower = 0, below = 0;
  for (const auto& [bound, count] : buckets) {
    if (count >= rank) {
      if (std::isinf(bound)) return lower;
      if (count == below) return bound;
      return lower + (bound - lower) * (rank - below) / (count - below);
    }
    lower = bound;
    below = count;
  }
  return lower;
}

}  // namespace weightserver::cli
