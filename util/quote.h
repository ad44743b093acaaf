// Copyright 2026 The Weightserver Authors.
//
// util/quote.h: client input, made safe to echo in an error message.
//
// Every message that repeats something a client sent (a model, tensor or
// file name) goes through QuoteInput: escaped (names are bytes) and cut to
// kMaxQuotedInputBytes, so a hostile 60 MB name costs neither the server's
// memory nor the client's metadata limit (gRPC refuses status messages that
// overflow its 8 KiB default).
//
// Example:
//   return absl::NotFoundError(absl::StrCat("no model ", QuoteInput(name)));
//   // no model 'org/x'     no model 'aaaa...(20000 bytes)'
//
// Thread-safety: a pure function.
#ifndef WEIGHTSERVER_UTIL_QUOTE_H_
#define WEIGHTSERVER_UTIL_QUOTE_H_

#include <cstddef>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace weightserver {

inline constexpr size_t kMaxQuotedInputBytes = 256;

// `input` in single quotes, C-escaped; when longer than kMaxQuotedInputBytes
// its first kMaxQuotedInputBytes bytes, then "...(N bytes)".
inline std::string QuoteInput(absl::string_view input) {
  if (input.size() <= kMaxQuotedInputBytes) {
    return absl::StrCat("'", absl::CHexEscape(input), "'");
  }
  return absl::StrCat("'", absl::CHexEscape(input.substr(0, kMaxQuotedInputBytes)),
                      "...(", input.size(), " bytes)'");
}

}  // namespace weightserver

#endif  // WEIGHTSERVER_UTIL_QUOTE_H_
