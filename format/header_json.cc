// Copyright 2026 The Weightserver Authors.
//
// format/header_json.cc: the header's JSON schema, as a SAX state machine.
//
// nlohmann's parser is iterative and reports events; HeaderSax keeps a stack
// of open containers and, for the value about to arrive, the role it plays
// (metadata, a tensor, a tensor's dtype, ...). Any event that does not fit the
// role stops the parse with a message. Values of unknown tensor fields are
// walked and dropped, still subject to the duplicate-key and depth rules.
#include "format/header_json.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "weightserver/format/dtype.h"
#include "weightserver/format/errors.h"
#include "nlohmann/json.hpp"

namespace weightserver::format::internal {
namespace {

using Json = nlohmann::json;

constexpr absl::string_view kMetadataKey = "__metadata__";

// What the next value is.
enum class Role {
  kRoot,           // The whole header.
  kMetadata,       // __metadata__'s value.
  kMetadataValue,  // A value inside __metadata__.
  kTensor,         // A tensor object.
  kDType,
  kShape,
  kShapeDim,  // An element of shape.
  kOffsets,
  kOffset,   // An element of data_offsets.
  kIgnored,  // Inside an unknown tensor field.
  kDone,     // After the root object.
};

enum class Frame { kRoot, kMetadata, kTensor, kShape, kOffsets, kIgnored };

struct OpenContainer {
  Frame frame;
  bool is_object;
  absl::flat_hash_set<std::string> keys;  // Objects: keys seen so far.
};

class HeaderSax {
 public:
  explicit HeaderSax(ParsedJson* out) : out_(out) {}

  const std::string& error() const { return error_; }

  bool null() {
    switch (CurrentRole()) {
      case Role::kMetadata:  // null __metadata__ means "no metadata".
      case Role::kIgnored:
        return true;
      default:
        return Unexpected("null");
    }
  }

  bool boolean(bool) {
    return CurrentRole() == Role::kIgnored || Unexpected("a boolean");
  }

  bool number_unsigned(Json::number_unsigned_t value) {
    switch (CurrentRole()) {
      case Role::kIgnored:
        return true;
      case Role::kShapeDim:
        tensor_.shape.push_back(value);
        return true;
      case Role::kOffset:
        if (offsets_seen_ >= 2) {
          return Fail(absl::StrCat("tensor ", QuoteName(tensor_.name),
                                   ": data_offsets has more than 2 entries"));
        }
        (offsets_seen_ == 0 ? tensor_.begin : tensor_.end) = value;
        ++offsets_seen_;
        return true;
      default:
        return Unexpected(absl::StrCat("the number ", value));
    }
  }

  bool number_integer(Json::number_integer_t value) {
    // nlohmann reports only negative integers here.
    return NotUnsigned(absl::StrCat(value));
  }

  bool number_float(Json::number_float_t, const Json::string_t& text) {
    // Fractions, exponents and integers beyond u64 all land here.
    return NotUnsigned(text);
  }

  bool string(Json::string_t& value) {
    switch (CurrentRole()) {
      case Role::kIgnored:
        return true;
      case Role::kDType: {
        std::optional<DType> dtype = ParseDType(value);
        if (!dtype.has_value()) {
          return Fail(absl::StrCat("tensor ", QuoteName(tensor_.name),
                                   ": unknown dtype ", QuoteName(value)));
        }
        tensor_.dtype = *dtype;
        has_dtype_ = true;
        return true;
      }
      case Role::kMetadataValue:
        (*out_->metadata)[std::move(pending_key_)] = std::move(value);
        return true;
      default:
        return Unexpected("a string");
    }
  }

  bool binary(Json::binary_t&) { return Unexpected("binary data"); }

  bool start_object(std::size_t) {
    const Role role = CurrentRole();
    switch (role) {
      case Role::kRoot:
        return Open(Frame::kRoot, /*is_object=*/true);
      case Role::kMetadata:
        out_->metadata.emplace();
        return Open(Frame::kMetadata, true);
      case Role::kTensor:
        tensor_.dtype = DType::kU8;
        tensor_.shape.clear();
        tensor_.begin = tensor_.end = 0;
        has_dtype_ = has_shape_ = has_offsets_ = false;
        return Open(Frame::kTensor, true);
      case Role::kIgnored:
        return Open(Frame::kIgnored, true);
      default:
        return Unexpected("an object");
    }
  }

  bool key(Json::string_t& key) {
    OpenContainer& top = stack_.back();
    if (!top.keys.insert(key).second) {
      return Fail(absl::StrCat("duplicate key ", QuoteName(key), " in ",
                               Where(top.frame)));
    }
    switch (top.frame) {
      case Frame::kRoot:
        if (key == kMetadataKey) {
          role_ = Role::kMetadata;
        } else {
          tensor_.name = std::move(key);
          role_ = Role::kTensor;
        }
        return true;
      case Frame::kMetadata:
        pending_key_ = std::move(key);
        role_ = Role::kMetadataValue;
        return true;
      case Frame::kTensor:
        if (key == "dtype") {
          role_ = Role::kDType;
        } else if (key == "shape") {
          role_ = Role::kShape;
        } else if (key == "data_offsets") {
          role_ = Role::kOffsets;
        } else {
          role_ = Role::kIgnored;  // Unknown fields are ignored, like serde.
        }
        return true;
      default:
        role_ = Role::kIgnored;
        return true;
    }
  }

  bool end_object() {
    const Frame frame = stack_.back().frame;
    stack_.pop_back();
    if (frame == Frame::kRoot) {
      role_ = Role::kDone;
    } else if (frame == Frame::kTensor) {
      const char* missing = !has_dtype_     ? "dtype"
                            : !has_shape_   ? "shape"
                            : !has_offsets_ ? "data_offsets"
                                            : nullptr;
      if (missing != nullptr) {
        return Fail(absl::StrCat("tensor ", QuoteName(tensor_.name),
                                 ": missing field `", missing, "`"));
      }
      out_->tensors.push_back(std::move(tensor_));
      tensor_ = TensorInfo();
    }
    return true;
  }

  bool start_array(std::size_t) {
    switch (CurrentRole()) {
      case Role::kShape:
        has_shape_ = true;
        return Open(Frame::kShape, /*is_object=*/false);
      case Role::kOffsets:
        has_offsets_ = true;
        offsets_seen_ = 0;
        return Open(Frame::kOffsets, false);
      case Role::kIgnored:
        return Open(Frame::kIgnored, false);
      default:
        return Unexpected("an array");
    }
  }

  bool end_array() {
    const Frame frame = stack_.back().frame;
    stack_.pop_back();
    if (frame == Frame::kOffsets && offsets_seen_ != 2) {
      return Fail(absl::StrCat("tensor ", QuoteName(tensor_.name),
                               ": data_offsets has ", offsets_seen_,
                               " entries, expected 2"));
    }
    return true;
  }

  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception& ex) {
    return Fail(
        absl::StrCat("JSON syntax error at byte ", position, ": ", ex.what()));
  }

 private:
  // The role of the value about to arrive: an array's element role, or the
  // role the last key gave it.
  Role CurrentRole() const {
    if (stack_.empty()) return role_;
    const OpenContainer& top = stack_.back();
    if (top.is_object) return role_;
    switch (top.frame) {
      case Frame::kShape:
        return Role::kShapeDim;
      case Frame::kOffsets:
        return Role::kOffset;
      default:
        return Role::kIgnored;
    }
  }

  bool Open(Frame frame, bool is_object) {
    if (static_cast<int>(stack_.size()) >= kMaxJsonDepth) {
      return Fail(
          absl::StrCat("JSON nested deeper than ", kMaxJsonDepth, " levels"));
    }
    stack_.push_back(OpenContainer{frame, is_object, {}});
    return true;
  }

  bool NotUnsigned(absl::string_view text) {
    switch (CurrentRole()) {
      case Role::kIgnored:
        return true;
      case Role::kShapeDim:
      case Role::kOffset:
        return Fail(absl::StrCat(
            "tensor ", QuoteName(tensor_.name), ": ",
            CurrentRole() == Role::kShapeDim ? "shape" : "data_offsets",
            " entry ", text, " is not an integer in [0, 2^64)"));
      default:
        return Unexpected(absl::StrCat("the number ", text));
    }
  }

  std::string Where(Frame frame) const {
    switch (frame) {
      case Frame::kRoot:
        return "the header";
      case Frame::kMetadata:
        return "__metadata__";
      case Frame::kTensor:
        return absl::StrCat("tensor ", QuoteName(tensor_.name));
      default:
        return "an ignored field's value";
    }
  }

  bool Unexpected(absl::string_view found) {
    std::string expected;
    switch (CurrentRole()) {
      case Role::kRoot:
        expected = "the header to be a JSON object";
        break;
      case Role::kMetadata:
        expected = "__metadata__ to be an object of strings or null";
        break;
      case Role::kMetadataValue:
        expected = absl::StrCat("__metadata__ value of ",
                                QuoteName(pending_key_), " to be a string");
        break;
      case Role::kTensor:
        expected = absl::StrCat("tensor ", QuoteName(tensor_.name),
                                " to be an object");
        break;
      case Role::kDType:
        expected = absl::StrCat("tensor ", QuoteName(tensor_.name),
                                ": dtype to be a string");
        break;
      case Role::kShape:
        expected = absl::StrCat("tensor ", QuoteName(tensor_.name),
                                ": shape to be an array");
        break;
      case Role::kOffsets:
        expected = absl::StrCat("tensor ", QuoteName(tensor_.name),
                                ": data_offsets to be an array");
        break;
      case Role::kShapeDim:
      case Role::kOffset:
        expected = absl::StrCat("tensor ", QuoteName(tensor_.name),
                                ": an integer in [0, 2^64)");
        break;
      default:
        expected = "nothing";
    }
    return Fail(absl::StrCat("expected ", expected, ", found ", found));
  }

  bool Fail(std::string message) {
    if (error_.empty()) error_ = std::move(message);
    return false;
  }

  ParsedJson* out_;
  std::vector<OpenContainer> stack_;
  Role role_ = Role::kRoot;
  TensorInfo tensor_;  // The tensor object being read (they never nest).
  bool has_dtype_ = false, has_shape_ = false, has_offsets_ = false;
  int offsets_seen_ = 0;
  std::string pending_key_;  // The __metadata__ key whose value comes next.
  std::string error_;
};

}  // namespace

std::string QuoteName(absl::string_view name) {
  return absl::StrCat("'", absl::CHexEscape(name), "'");
}

std::string FormatShape(const std::vector<uint64_t>& shape) {
  return absl::StrCat("[", absl::StrJoin(shape, ", "), "]");
}

absl::StatusOr<ParsedJson> ParseHeaderJson(absl::string_view json,
                                           absl::string_view source) {
  auto fail = [&](absl::string_view detail) {
    return FormatError(absl::StatusCode::kDataLoss,
                       ErrorKind::kInvalidHeaderDeserialization, source,
                       detail);
  };
  // nlohmann silently skips a leading UTF-8 BOM; serde_json rejects it.
  if (json.substr(0, 3) == "\xEF\xBB\xBF") {
    return fail("header starts with a UTF-8 byte order mark");
  }
  // nlohmann's lexer takes a NUL byte for the end of input, so `{}` followed
  // by NUL padding (or anything after a NUL) would pass. A raw NUL is never
  // valid JSON (inside strings it must be escaped), so refuse it up front.
  if (const size_t nul = json.find('\0'); nul != absl::string_view::npos) {
    return fail(absl::StrCat("NUL byte at offset ", nul,
                             " (NUL padding is not JSON whitespace)"));
  }
  ParsedJson out;
  HeaderSax sax(&out);
  const bool ok = Json::sax_parse(json.data(), json.data() + json.size(), &sax,
                                  Json::input_format_t::json,
                                  /*strict=*/true, /*ignore_comments=*/false);
  if (!ok) {
    return fail(sax.error().empty() ? "invalid JSON" : sax.error());
  }
  return out;
}

}  // namespace weightserver::format::internal
