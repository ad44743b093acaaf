// Copyright 2026 The Weightserver Authors.
//
// format/utf8.h: a strict UTF-8 validator (RFC 3629), as Rust's str::from_utf8.
//
// Rejects overlong encodings, UTF-16 surrogates (U+D800..U+DFFF), code points
// above U+10FFFF, stray continuation bytes and truncated sequences. NUL is a
// valid code point.
//
// Example:
//   IsValidUtf8("caf\xc3\xa9");  // true
//   IsValidUtf8("\xc0\xaf");     // false (overlong '/')
//
// Thread-safety: pure function.
#ifndef WEIGHTSERVER_FORMAT_UTF8_H_
#define WEIGHTSERVER_FORMAT_UTF8_H_

#include <cstddef>

#include "absl/strings/string_view.h"

namespace weightserver::format {

// True when all of `bytes` is well-formed UTF-8.
bool IsValidUtf8(absl::string_view bytes);

// Offset of the first byte of the first ill-formed sequence, or bytes.size()
// when the whole input is valid.
size_t FirstInvalidUtf8(absl::string_view bytes);

}  // namespace weightserver::format

#endif  // WEIGHTSERVER_FORMAT_UTF8_H_
