// Copyright 2026 The Weightserver Authors.
//
// tools/conformance/cases_duplicates.cc: duplicated JSON keys
// (safetensors.md §2). The reference (serde) keeps the last of a duplicated
// tensor name and ignores duplicates it does not look at, but rejects a
// repeated struct field. This project rejects every duplicated key as
// InvalidHeaderDeserialization (format/header.h; TOB-SFTN-7): where that
// differs from the reference, the case says so with Deviates().
#include <string>

#include "tools/conformance/case_builder.h"

namespace weightserver::conformance::internal {
namespace {

constexpr char kJson[] = "InvalidHeaderDeserialization";
constexpr char kReason[] =
    "this project rejects any duplicated JSON key (format/header.h): a "
    "server must not pick one of two definitions silently (TOB-SFTN-7)";

}  // namespace

void AddDuplicateCases(CaseList& c) {
  // Where the reference agrees: serde's duplicate-field errors.
  c.Bad("bad_duplicate_metadata", kJson,
        File(Object({Entry("__metadata__", R"({"a":"b"})"),
                     Entry("__metadata__", R"({"a":"c"})")})),
        "__metadata__ twice: serde's duplicate field");
  c.Bad("bad_duplicate_metadata_null", kJson,
        File(Object({Entry("__metadata__", "null"),
                     Entry("__metadata__", R"({"a":"c"})")})),
        "__metadata__ twice, the first null");
  c.Bad("bad_duplicate_field_dtype", kJson,
        File(Object({Entry("w", R"({"dtype":"U8","dtype":"U8","shape":[1],"data_offsets":[0,1]})")}),
             Zeros(1)),
        "dtype twice in one tensor");
  c.Bad("bad_duplicate_field_shape", kJson,
        File(Object({Entry("w", R"({"dtype":"U8","shape":[1],"shape":[1],"data_offsets":[0,1]})")}),
             Zeros(1)),
        "shape twice in one tensor");
  c.Bad("bad_duplicate_field_offsets", kJson,
        File(Object({Entry("w", R"({"dtype":"U8","shape":[1],"data_offsets":[0,1],"data_offsets":[0,1]})")}),
             Zeros(1)),
        "data_offsets twice in one tensor");

  // Where this project is stricter. The reference's verdict follows from
  // "the last definition wins".
  const std::string a4 = Tensor("U8", "[4]", 0, 4);
  c.Deviates("valid_duplicate_identical_tensor", "ok", kJson, kReason,
             File(Object({Entry("a", a4), Entry("a", a4)}), Zeros(4)),
             "the same tensor twice, byte-identical");
  c.Deviates("valid_duplicate_escaped_name", "ok", kJson, kReason,
             File(Object({Entry("a", a4), Entry("\\u0061", a4)}), Zeros(4)),
             "\"a\" and \"\\u0061\": one name after unescaping");
  c.Deviates("valid_duplicate_first_is_wrong", "ok", kJson, kReason,
             File(Object({Entry("a", Tensor("F64", "[9]", 0, 4)), Entry("a", a4)}),
                  Zeros(4)),
             "a wrong first definition is dropped unseen by the reference");
  c.Deviates("bad_duplicate_last_is_wrong", "TensorInvalidInfo", kJson, kReason,
             File(Object({Entry("a", a4), Entry("a", Tensor("U8", "[2]", 0, 4))}),
                  Zeros(4)),
             "the last definition (U8 [2] at [0,4]) is the one checked");
  c.Deviates("bad_duplicate_name_hole", "InvalidOffset", kJson, kReason,
             File(Object({Entry("a", a4), Entry("a", Tensor("U8", "[4]", 4, 8))}),
                  Zeros(8)),
             "\"a\" at [0,4] then at [4,8]: [0,4) becomes a hole (issue #401)");
  c.Deviates("bad_duplicate_name_hole_at_end", "MetadataIncompleteBuffer", kJson,
             kReason,
             File(Object({Entry("a", a4), Entry("b", Tensor("U8", "[4]", 4, 8)),
                          Entry("b", Tensor("U8", "[0]", 4, 4))}),
                  Zeros(8)),
             "\"b\" redefined as zero-sized: its bytes are left over at the end");
  c.Deviates("valid_duplicate_metadata_key", "ok", kJson, kReason,
             File(Object({Entry("__metadata__", R"({"k":"a","k":"b"})")})),
             "a key twice inside __metadata__: the last value wins");
  c.Deviates("valid_duplicate_unknown_field", "ok", kJson, kReason,
             File(Object({Entry("w", R"({"dtype":"U8","shape":[1],"data_offsets":[0,1],"x":1,"x":2})")}),
                  Zeros(1)),
             "an unknown tensor field twice: ignored by the reference");
  c.Deviates("valid_duplicate_key_in_unknown_value", "ok", kJson, kReason,
             File(Object({Entry("w", R"({"dtype":"U8","shape":[1],"data_offsets":[0,1],"x":{"k":1,"k":2}})")}),
                  Zeros(1)),
             "a duplicated key inside an ignored value");
}

}  // namespace weightserver::conformance::internal
