// Copyright 2026 The Weightserver Authors.
//
// util/status_context.h: say where an error happened, keeping what it is.
//
// WithContext prefixes a status's message ("model 'llama': ...") and keeps
// its code and every payload (the format error kind, wire details), which
// absl::Status(s.code(), StrCat(...)) would drop.
//
// Example:
//   if (!out.ok()) return WithContext(absl::StrCat("model '", name, "'"), out.status());
//
// Thread-safety: a pure function.
#ifndef WEIGHTSERVER_UTIL_STATUS_CONTEXT_H_
#define WEIGHTSERVER_UTIL_STATUS_CONTEXT_H_

#include "absl/status/status.h"
#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace weightserver {

// "<context>: <message>" with `status`'s code and payloads; OK stays OK.
inline absl::Status WithContext(absl::string_view context,
                                const absl::Status& status) {
  if (status.ok()) return status;
  absl::Status out(status.code(), absl::StrCat(context, ": ", status.message()));
  status.ForEachPayload([&](absl::string_view url, const absl::Cord& payload) {
    out.SetPayload(url, payload);
  });
  return out;
}

}  // namespace weightserver

#endif  // WEIGHTSERVER_UTIL_STATUS_CONTEXT_H_
