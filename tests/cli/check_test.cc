// Copyright 2026 The Weightserver Authors.
//
// tests/cli/check_test.cc: `weightctl check` on the conformance files, and on
// missing files and directories, in-process.
#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cli/commands.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/testing/temp_dir.h"

namespace weightserver::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::weightserver::testing::ConformanceDir;
using ::weightserver::testing::TempDir;
using ::weightserver::testing::WriteBytes;

struct Outcome {
  int code;
  std::string out;
  std::string err;
};

Outcome Check(const std::vector<std::string>& files) {
  std::vector<std::string> args = {"check"};
  args.insert(args.end(), files.begin(), files.end());
  std::ostringstream out, err;
  int code = RunWeightctl(args, CliEnvironment{}, out, err);
  return {code, out.str(), err.str()};
}

// expected.json: file name -> "ok" or the reference's error kind.
std::map<std::string, std::string> Expected() {
  std::ifstream in(ConformanceDir() + "/expected.json");
  if (!in) return {};
  return nlohmann::json::parse(in).get<std::map<std::string, std::string>>();
}

TEST(CheckTest, EveryConformanceFileGetsItsKind) {
  const std::map<std::string, std::string> expected = Expected();
  if (expected.empty())
    GTEST_SKIP() << "no conformance files in " << ConformanceDir();
  for (const auto& [name, kind] : expected) {
    SCOPED_TRACE(name);
    const std::string path = ConformanceDir() + "/" + name;
    Outcome r = Check({path});
    if (kind == "ok") {
      EXPECT_EQ(r.code, 0);
      EXPECT_THAT(r.out, ::testing::StartsWith(path + ": ok ("));
      EXPECT_THAT(r.err, IsEmpty());
    } else {
      EXPECT_EQ(r.code, 1);
      EXPECT_THAT(r.out, ::testing::StartsWith(path + ": " + kind + ": "));
      EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1);
      EXPECT_EQ(r.err, "weightctl: 1 of 1 file invalid\n");
    }
  }
}

TEST(CheckTest, ManyFilesOneLineEachAndExitOneIfAnyIsBad) {
  const std::map<std::string, std::string> expected = Expected();
  if (expected.empty())
    GTEST_SKIP() << "no conformance files in " << ConformanceDir();
  std::vector<std::string> paths;
  int bad = 0;
  for (const auto& [name, kind] : expected) {
    paths.push_back(ConformanceDir() + "/" + name);
    bad += kind != "ok";
  }
  Outcome r = Check(paths);
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'),
            static_cast<long>(paths.size()));
  EXPECT_THAT(r.err, HasSubstr(absl::StrCat(bad, " of ", paths.size())));
}

TEST(CheckTest, AllValidExitsZero) {
  if (Expected().empty())
    GTEST_SKIP() << "no conformance files in " << ConformanceDir();
  Outcome r = Check({ConformanceDir() + "/valid_single_f32.safetensors",
                     ConformanceDir() + "/valid_metadata.safetensors"});
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_THAT(
      r.out,
      HasSubstr("valid_single_f32.safetensors: ok (1 tensor, 24 bytes)"));
}

TEST(CheckTest, MissingFileIsAnErrorLine) {
  TempDir dir;
  const std::string missing = dir.path() + "/missing.safetensors";
  Outcome r = Check({missing});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.out, HasSubstr(missing + ": cannot open: No such file"));
}

TEST(CheckTest, DirectoryMeansItsSafetensorsFiles) {
  TempDir dir;
  std::string file;
  {
    std::ifstream in(ConformanceDir() + "/valid_single_f32.safetensors",
                     std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    file = s.str();
  }
  if (file.empty()) GTEST_SKIP() << "no conformance files";
  WriteBytes(dir.path() + "/m/a.safetensors", file);
  WriteBytes(dir.path() + "/m/sub/b.safetensors", file);
  WriteBytes(dir.path() + "/m/README.md", "not a tensor file");
  Outcome r = Check({dir.path() + "/m"});
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_EQ(r.out, dir.path() + "/m/a.safetensors: ok (1 tensor, 24 bytes)\n" +
                       dir.path() +
                       "/m/sub/b.safetensors: ok (1 tensor, 24 bytes)\n");
  WriteBytes(dir.path() + "/empty/README.md", "");
  Outcome empty = Check({dir.path() + "/empty"});
  EXPECT_EQ(empty.code, 1);
  EXPECT_THAT(empty.out, HasSubstr("no .safetensors files"));
}

}  // namespace
}  // namespace weightserver::cli
