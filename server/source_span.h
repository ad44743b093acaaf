// Copyright 2026 The Weightserver Authors.
//
// server/source_span.h: a contiguous run of a served file's bytes.
//
// Thread-safety: a plain value.
#ifndef WEIGHTSERVER_SERVER_SOURCE_SPAN_H_
#define WEIGHTSERVER_SERVER_SOURCE_SPAN_H_

#include <cstdint>

namespace weightserver::server {

// A contiguous run of source bytes, as an offset from the start of the file.
struct SourceSpan {
  uint64_t offset = 0;
  uint64_t length = 0;
};

}  // namespace weightserver::server

#endif  // WEIGHTSERVER_SERVER_SOURCE_SPAN_H_
