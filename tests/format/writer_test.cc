// Copyright 2026 The Weightserver Authors.
//
// tests/format/writer_test.cc: the writer's exact bytes (the reference's
// writer tests), its order, refusals, round trips and WriteFile.
#include "format/writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "weightserver/format/dtype.h"
#include "weightserver/format/errors.h"
#include "format/header.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/safetensors_builder.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace weightserver::format {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::weightserver::testing::AsBytes;
using ::weightserver::testing::FormatErrorIs;
using ::weightserver::testing::LengthPrefix;
using ::weightserver::testing::ReadBytes;
using ::weightserver::testing::StatusIs;
using ::weightserver::testing::TempDir;
using ::weightserver::testing::WriteBytes;

// Little-endian bytes of the floats 0..5.
std::string SixFloats() {
  std::string out;
  for (float f = 0; f < 6; ++f) {
    char b[4];
    std::memcpy(b, &f, 4);
    out.append(b, 4);
  }
  return out;
}

TensorData Data(std::string name, DType dtype, std::vector<uint64_t> shape,
                const std::string& bytes) {
  return TensorData{TensorSpec{std::move(name), dtype, std::move(shape)},
                    AsBytes(bytes)};
}

std::string Padded(const std::string& json) {
  const size_t n = (json.size() + 7) / 8 * 8;
  return LengthPrefix(n) + json + std::string(n - json.size(), ' ');
}

// --- Exact outputs of the reference writer (tensor.rs tests). ---

TEST(SerializeTest, Serialization) {  // tensor.rs:1066
  const std::string data = SixFloats();
  ASSERT_OK_AND_ASSIGN(
      std::string out,
      Serialize({Data("attn.0", DType::kF32, {1, 2, 3}, data)}, std::nullopt));
  const std::string json =
      R"({"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}})";
  EXPECT_EQ(out, LengthPrefix(64) + json + data);
  EXPECT_EQ(out.size(), 96u);
}

TEST(SerializeTest, SerializationFp4) {  // tensor.rs:1091
  const std::string data("\x21", 1);
  ASSERT_OK_AND_ASSIGN(
      std::string out,
      Serialize({Data("attn.0", DType::kF4, {1, 2}, data)}, std::nullopt));
  EXPECT_EQ(out, LengthPrefix(64) +
                     R"({"attn.0":{"dtype":"F4","shape":[1,2],)"
                     R"("data_offsets":[0,1]}})" +
                     "    " + data);
}

TEST(SerializeTest, Empty) {  // tensor.rs:1133
  ASSERT_OK_AND_ASSIGN(std::string out, Serialize({}, std::nullopt));
  EXPECT_EQ(out, std::string("\x08\0\0\0\0\0\0\0{}      ", 16));
  ASSERT_OK_AND_ASSIGN(out, Serialize({}, Metadata{{"framework", "pt"}}));
  EXPECT_EQ(out, LengthPrefix(40) + R"({"__metadata__":{"framework":"pt"}})" +
                     "     ");
}

TEST(SerializeTest, ForcedAlignment) {  // tensor.rs:1161
  const std::string data = SixFloats();
  ASSERT_OK_AND_ASSIGN(
      std::string out,
      Serialize({Data("attn0", DType::kF32, {1, 1, 2, 3}, data)},
                std::nullopt));
  EXPECT_EQ(out, LengthPrefix(72) +
                     R"({"attn0":{"dtype":"F32","shape":[1,1,2,3],)"
                     R"("data_offsets":[0,24]}})" +
                     std::string(7, ' ') + data);
}

TEST(SerializeTest, ForcesAlignment) {  // test_simple.py:84
  const std::string i32(16, '\x01'), f16(8, '\x02');
  // Input order does not matter: the result is sorted.
  ASSERT_OK_AND_ASSIGN(std::string out,
                       Serialize({Data("test2", DType::kF16, {2, 2}, f16),
                                  Data("test1", DType::kI32, {2, 2}, i32)},
                                 std::nullopt));
  EXPECT_EQ(out, LengthPrefix(128) +
                     R"({"test1":{"dtype":"I32","shape":[2,2],)"
                     R"("data_offsets":[0,16]},"test2":{"dtype":"F16",)"
                     R"("shape":[2,2],"data_offsets":[16,24]}})" +
                     std::string(6, ' ') + i32 + f16);
}

TEST(SerializeTest, EmptyMetadataWithoutTensorsIsValidJson) {
  // The reference writes `{},"__metadata__":{}}` here; we do not.
  ASSERT_OK_AND_ASSIGN(std::string out, Serialize({}, Metadata{}));
  EXPECT_EQ(out, Padded(R"({"__metadata__":{}})"));
  ASSERT_OK_AND_ASSIGN(Header h, ParseFile(AsBytes(out), "x"));
  ASSERT_TRUE(h.metadata.has_value());
  EXPECT_TRUE(h.metadata->empty());
}

TEST(SerializeTest, MetadataIsSortedAndEscaped) {
  const std::string data(2, '\0');
  ASSERT_OK_AND_ASSIGN(
      std::string out,
      Serialize({Data("w", DType::kU8, {2}, data)},
                Metadata{{"z", "1"}, {"a\"", "x\ny"}, {"B", "\xc3\xa9"}}));
  EXPECT_EQ(out, Padded(R"({"__metadata__":{"B":"é","a\"":"x\ny","z":"1"},)"
                        R"("w":{"dtype":"U8","shape":[2],)"
                        R"("data_offsets":[0,2]}})") +
                     data);
}

// --- Order and layout. ---

TEST(PlanFileTest, SortsByDTypeDescendingThenNameBytewise) {
  std::vector<TensorSpec> specs;
  for (DType dtype : AllDTypes()) {
    specs.push_back({std::string(DTypeName(dtype)), dtype, {16}});
  }
  specs.push_back({"\xc3\xa9", DType::kU8, {1}});  // Sorts after ASCII.
  specs.push_back({"B", DType::kU8, {1}});         // Before lowercase.
  specs.push_back({"a", DType::kU8, {1}});
  ASSERT_OK_AND_ASSIGN(FileLayout layout, PlanFile(specs, std::nullopt));
  std::vector<std::string> names;
  for (const TensorInfo& t : layout.tensors) names.push_back(t.name);
  EXPECT_THAT(
      names,
      ElementsAre("U64", "I64", "F64", "C64", "F32", "U32", "I32", "BF16",
                  "F16", "U16", "I16", "F8_E5M2FNUZ", "F8_E4M3FNUZ", "F8_E8M0",
                  "F8_E4M3", "F8_E5M2", "I8", "B", "U8", "a", "\xc3\xa9",
                  "F6_E3M2", "F6_E2M3", "F4", "BOOL"));
  // specs[i] -> tensors[order[i]].
  ASSERT_EQ(layout.order.size(), specs.size());
  for (size_t i = 0; i < specs.size(); ++i) {
    EXPECT_EQ(layout.tensors[layout.order[i]].name, specs[i].name);
  }
}

TEST(PlanFileTest, OffsetsAreContiguousAndAligned) {
  std::vector<TensorSpec> specs;
  for (DType dtype : AllDTypes()) {
    specs.push_back({absl::StrCat("t", DTypeName(dtype)), dtype, {2, 4}});
  }
  specs.push_back({"z0", DType::kF32, {0}});
  ASSERT_OK_AND_ASSIGN(FileLayout layout,
                       PlanFile(specs, Metadata{{"format", "pt"}}));
  EXPECT_EQ(layout.data_offset() % 8, 0u);
  uint64_t end = 0;
  for (const TensorInfo& t : layout.tensors) {
    EXPECT_EQ(t.begin, end);
    end = t.end;
    const int bits = DTypeBits(t.dtype);
    if (bits % 8 == 0) {
      EXPECT_EQ((layout.data_offset() + t.begin) % (bits / 8), 0u) << t.name;
    }
  }
  EXPECT_EQ(layout.data_size(), end);
  EXPECT_EQ(layout.file_size(), layout.data_offset() + end);
  // The planned header is what a reader sees.
  ASSERT_OK_AND_ASSIGN(Header h,
                       ParseHeader(AsBytes(layout.header_bytes).subspan(8),
                                   layout.file_size(), "plan"));
  EXPECT_EQ(h.tensors.size(), specs.size());
  EXPECT_EQ(h.header_size + 8, layout.data_offset());
}

// --- Refusals. ---

TEST(PlanFileTest, RefusesReservedAndRepeatedNames) {
  EXPECT_THAT(PlanFile({{"__metadata__", DType::kU8, {1}}}, std::nullopt),
              FormatErrorIs(absl::StatusCode::kInvalidArgument,
                            ErrorKind::kInvalidHeaderDeserialization));
  EXPECT_THAT(
      PlanFile({{"w", DType::kU8, {1}}, {"w", DType::kF32, {1}}}, std::nullopt),
      FormatErrorIs(absl::StatusCode::kInvalidArgument,
                    ErrorKind::kInvalidHeaderDeserialization));
  // Names that differ only after a NUL are different names.
  EXPECT_OK(PlanFile({{std::string("w\0a", 3), DType::kU8, {1}},
                      {std::string("w\0b", 3), DType::kU8, {1}}},
                     std::nullopt));
}

TEST(PlanFileTest, RefusesBadSizes) {
  // tensor.rs:1114: F4 [1,3].
  EXPECT_THAT(PlanFile({{"w", DType::kF4, {1, 3}}}, std::nullopt),
              FormatErrorIs(absl::StatusCode::kInvalidArgument,
                            ErrorKind::kMisalignedSlice));
  EXPECT_THAT(
      PlanFile({{"w", DType::kU8, {uint64_t{1} << 32, uint64_t{1} << 32}}},
               std::nullopt),
      FormatErrorIs(absl::StatusCode::kInvalidArgument,
                    ErrorKind::kValidationOverflow));
  // Each tensor fits, their sum does not.
  const uint64_t half = uint64_t{1} << 63;
  EXPECT_THAT(PlanFile({{"a", DType::kU8, {half}}, {"b", DType::kU8, {half}}},
                       std::nullopt),
              FormatErrorIs(absl::StatusCode::kInvalidArgument,
                            ErrorKind::kValidationOverflow));
}

TEST(SerializeTest, RefusesDataOfTheWrongSize) {
  // tensor.rs:1122 (InvalidTensorView there): F4 [1,2] given 2 bytes.
  const std::string two(2, '\0');
  EXPECT_THAT(Serialize({Data("w", DType::kF4, {1, 2}, two)}, std::nullopt),
              FormatErrorIs(absl::StatusCode::kInvalidArgument,
                            ErrorKind::kTensorInvalidInfo));
}

TEST(SerializeTest, RefusesHeaderTooLarge) {  // tensor.rs:1597
  Metadata metadata{{"x", std::string(100'000'000, 'a')}};
  EXPECT_THAT(Serialize({}, metadata),
              FormatErrorIs(absl::StatusCode::kInvalidArgument,
                            ErrorKind::kHeaderTooLarge));
}

TEST(AppendJsonStringTest, EscapesLikeSerdeJson) {
  std::string out;
  AppendJsonString(
      std::string("a\"b\\c/d\b\f\n\r\t\x01\x1f\x7f\0e\xc3\xa9", 19), &out);
  EXPECT_EQ(
      out,
      "\"a\\\"b\\\\c/d\\b\\f\\n\\r\\t\\u0001\\u001f\x7f\\u0000e\xc3\xa9\"");
  out = "x";
  AppendJsonString("", &out);
  EXPECT_EQ(out, "x\"\"");
}

// --- Round trips. ---

TEST(SerializeTest, RoundTripsThroughTheReader) {
  std::vector<std::string> bytes;
  std::vector<TensorData> tensors;
  bytes.reserve(AllDTypes().size() + 2);
  for (DType dtype : AllDTypes()) {
    const uint64_t size = DTypeBits(dtype);  // [2,4]: 8 elements.
    bytes.push_back(std::string(size, static_cast<char>(dtype) + 1));
    tensors.push_back(Data(absl::StrCat("t.", DTypeName(dtype)), dtype, {2, 4},
                           bytes.back()));
  }
  bytes.push_back(std::string(4, '\x7f'));
  tensors.push_back(
      Data(std::string("nul\0name\n", 9), DType::kF32, {}, bytes.back()));
  bytes.push_back("");
  tensors.push_back(Data("empty", DType::kF64, {0, 5}, bytes.back()));
  const Metadata metadata{{"format", "pt"}, {"quote\"", "\x01"}};
  ASSERT_OK_AND_ASSIGN(std::string file, Serialize(tensors, metadata));
  ASSERT_OK_AND_ASSIGN(Header h, ParseFile(AsBytes(file), "rt"));
  EXPECT_EQ(h.metadata, metadata);
  ASSERT_EQ(h.tensors.size(), tensors.size());
  for (const TensorData& t : tensors) {
    SCOPED_TRACE(t.spec.name);
    const TensorInfo* info = h.Find(t.spec.name);
    ASSERT_NE(info, nullptr);
    EXPECT_EQ(info->dtype, t.spec.dtype);
    EXPECT_EQ(info->shape, t.spec.shape);
    EXPECT_EQ(file.substr(h.data_offset() + info->begin, info->size()),
              std::string(reinterpret_cast<const char*>(t.data.data()),
                          t.data.size()));
  }
}

// --- WriteFile. ---

TEST(WriteFileTest, WritesWhatSerializeReturns) {
  TempDir dir;
  const std::string path = dir.path() + "/m.safetensors";
  const std::string data = SixFloats();
  const std::vector<TensorData> tensors = {
      Data("attn.0", DType::kF32, {1, 2, 3}, data)};
  ASSERT_OK(WriteFile(path, tensors, Metadata{{"format", "pt"}}));
  ASSERT_OK_AND_ASSIGN(std::string expected,
                       Serialize(tensors, Metadata{{"format", "pt"}}));
  EXPECT_EQ(ReadBytes(path), expected);
  // No temporary file is left behind.
  int entries = 0;
  for ([[maybe_unused]] const auto& e :
       std::filesystem::directory_iterator(dir.path())) {
    ++entries;
  }
  EXPECT_EQ(entries, 1);
}

TEST(WriteFileTest, ReplacesByRenameSoOpenFilesKeepOldContent) {
  TempDir dir;
  const std::string path = dir.path() + "/m.safetensors";
  WriteBytes(path, "old contents");
  const int fd = ::open(path.c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  ASSERT_OK(WriteFile(path, {}, std::nullopt));
  char buf[32] = {};
  const ssize_t n = ::pread(fd, buf, sizeof(buf), 0);
  ::close(fd);
  EXPECT_EQ(std::string(buf, n > 0 ? n : 0), "old contents");
  EXPECT_EQ(ReadBytes(path), std::string("\x08\0\0\0\0\0\0\0{}      ", 16));
}

TEST(WriteFileTest, RelativePathInCurrentDirectory) {
  TempDir dir;
  const auto old = std::filesystem::current_path();
  std::filesystem::current_path(dir.path());
  const absl::Status status = WriteFile("rel.safetensors", {}, std::nullopt);
  std::filesystem::current_path(old);
  ASSERT_OK(status);
  EXPECT_EQ(ReadBytes(dir.path() + "/rel.safetensors").size(), 16u);
}

TEST(WriteFileTest, MissingDirectoryIsAnErrnoStatusNamingThePath) {
  TempDir dir;
  const std::string path = dir.path() + "/no/such/dir/m.safetensors";
  EXPECT_THAT(WriteFile(path, {}, std::nullopt),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr(dir.path() + "/no/such/dir/")));
}

TEST(WriteFileTest, ParentIsAFile) {
  TempDir dir;
  WriteBytes(dir.path() + "/file", "x");
  const absl::Status status =
      WriteFile(dir.path() + "/file/m.safetensors", {}, std::nullopt);
  EXPECT_FALSE(status.ok());
  EXPECT_THAT(status.message(), HasSubstr(dir.path() + "/file/"));
}

TEST(WriteFileTest, TargetIsADirectoryLeavesNoTempFile) {
  TempDir dir;
  std::filesystem::create_directories(dir.path() + "/target/sub");
  EXPECT_FALSE(WriteFile(dir.path() + "/target", {}, std::nullopt).ok());
  int entries = 0;
  for ([[maybe_unused]] const auto& e :
       std::filesystem::directory_iterator(dir.path())) {
    ++entries;
  }
  EXPECT_EQ(entries, 1);
}

TEST(WriteFileTest, FormatErrorsComeBeforeAnyFileIsCreated) {
  TempDir dir;
  const std::string path = dir.path() + "/m.safetensors";
  EXPECT_THAT(WriteFile(path, {Data("__metadata__", DType::kU8, {0}, "")},
                        std::nullopt),
              FormatErrorIs(absl::StatusCode::kInvalidArgument,
                            ErrorKind::kInvalidHeaderDeserialization));
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

}  // namespace
}  // namespace weightserver::format
