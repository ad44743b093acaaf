// Copyright 2026 The Weightserver Authors.
//
// tests/cli/args_test.cc: weightctl's argument parser and its dispatcher's
// usage errors (exit code 2), run in-process.
#include "cli/args.h"

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace weightserver::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;
using ::weightserver::testing::StatusIs;

const std::vector<FlagSpec>& Specs() {
  static const auto* specs = new std::vector<FlagSpec>{
      {.name = "output", .short_name = 'o', .value_name = "PATH"},
      {.name = "tensor", .repeated = true, .value_name = "NAME"},
      {.name = "json", .takes_value = false},
      {.name = "streams", .value_name = "N"}};
  return *specs;
}

absl::StatusOr<ParsedArgs> Parse(std::vector<std::string> args,
                                 bool stop_at_positional = false) {
  return ParseArgs(args, Specs(), stop_at_positional);
}

TEST(ParseArgsTest, SeparateAndEqualsForms) {
  ASSERT_OK_AND_ASSIGN(ParsedArgs a,
                       Parse({"m", "--output", "x", "--streams=8", "--json"}));
  EXPECT_THAT(a.positional(), ElementsAre("m"));
  EXPECT_EQ(a.Get("output"), "x");
  EXPECT_EQ(a.Get("streams"), "8");
  EXPECT_TRUE(a.Has("json"));
  EXPECT_FALSE(a.Has("tensor"));
  EXPECT_EQ(a.Get("tensor"), std::nullopt);
}

TEST(ParseArgsTest, ShortFlagWithSeparateOrAttachedValue) {
  ASSERT_OK_AND_ASSIGN(ParsedArgs a, Parse({"-o", "out.safetensors"}));
  EXPECT_EQ(a.Get("output"), "out.safetensors");
  ASSERT_OK_AND_ASSIGN(ParsedArgs b, Parse({"-oout.safetensors"}));
  EXPECT_EQ(b.Get("output"), "out.safetensors");
}

TEST(ParseArgsTest, RepeatedFlagKeepsEveryValueInOrder) {
  ASSERT_OK_AND_ASSIGN(ParsedArgs a, Parse({"--tensor", "b", "m", "--tensor=a",
                                            "--tensor", "b"}));
  EXPECT_THAT(a.GetAll("tensor"), ElementsAre("b", "a", "b"));
  EXPECT_THAT(a.positional(), ElementsAre("m"));
}

TEST(ParseArgsTest, EmptyValueAfterEqualsIsAValue) {
  ASSERT_OK_AND_ASSIGN(ParsedArgs a, Parse({"--tensor="}));
  EXPECT_THAT(a.GetAll("tensor"), ElementsAre(""));
}

TEST(ParseArgsTest, ValueMayStartWithADash) {
  ASSERT_OK_AND_ASSIGN(ParsedArgs a, Parse({"--tensor", "-w-"}));
  EXPECT_THAT(a.GetAll("tensor"), ElementsAre("-w-"));
}

TEST(ParseArgsTest, DoubleDashEndsFlags) {
  ASSERT_OK_AND_ASSIGN(ParsedArgs a, Parse({"--json", "--", "--tensor", "-"}));
  EXPECT_THAT(a.positional(), ElementsAre("--tensor", "-"));
  EXPECT_FALSE(a.Has("tensor"));
}

TEST(ParseArgsTest, UnknownLongFlagIsAnError) {
  EXPECT_THAT(Parse({"--bogus"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("unknown flag '--bogus'")));
  EXPECT_THAT(Parse({"--bogus=1"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("unknown flag '--bogus'")));
}

TEST(ParseArgsTest, UnknownShortFlagIsAnError) {
  EXPECT_THAT(Parse({"-x"}), StatusIs(absl::StatusCode::kInvalidArgument,
                                      HasSubstr("unknown flag '-x'")));
}

TEST(ParseArgsTest, MissingValueIsAnError) {
  EXPECT_THAT(Parse({"m", "--tensor"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--tensor needs a value")));
  EXPECT_THAT(Parse({"-o"}), StatusIs(absl::StatusCode::kInvalidArgument,
                                      HasSubstr("-o needs a value")));
}

TEST(ParseArgsTest, ValueForASwitchIsAnError) {
  EXPECT_THAT(Parse({"--json=yes"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--json takes no value")));
}

TEST(ParseArgsTest, NonRepeatedFlagGivenTwiceIsAnError) {
  EXPECT_THAT(
      Parse({"-o", "a", "--output", "b"}),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("given twice")));
}

TEST(ParseArgsTest, StopAtPositionalLeavesTheRestUnparsed) {
  ASSERT_OK_AND_ASSIGN(ParsedArgs a,
                       Parse({"--streams", "2", "fetch", "--bogus"}, true));
  EXPECT_EQ(a.Get("streams"), "2");
  EXPECT_THAT(a.positional(), ElementsAre("fetch", "--bogus"));
}

TEST(ParseArgsTest, GetIntChecksRangeAndSyntax) {
  ASSERT_OK_AND_ASSIGN(ParsedArgs a, Parse({"--streams", "8"}));
  EXPECT_EQ(a.GetInt("streams", 4, 1, 256).value_or(-1), 8);
  EXPECT_EQ(a.GetInt("json", 4, 1, 256).value_or(-1), 4);  // Absent.
  ASSERT_OK_AND_ASSIGN(ParsedArgs b, Parse({"--streams", "0"}));
  EXPECT_THAT(
      b.GetInt("streams", 4, 1, 256),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--streams")));
  ASSERT_OK_AND_ASSIGN(ParsedArgs c, Parse({"--streams", "many"}));
  EXPECT_THAT(
      c.GetInt("streams", 4, 1, 256),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("'many'")));
}

TEST(FlagsUsageTest, ListsEveryFlag) {
  std::string usage = FlagsUsage(Specs());
  EXPECT_THAT(usage, HasSubstr("-o, --output PATH"));
  EXPECT_THAT(usage, HasSubstr("--tensor NAME"));
  EXPECT_THAT(usage, HasSubstr("--json"));
}

// The dispatcher: usage errors are one "weightctl: " line and exit code 2.
struct Outcome {
  int code;
  std::string out;
  std::string err;
};

Outcome Weightctl(std::vector<std::string> args) {
  std::ostringstream out, err;
  int code = RunWeightctl(args, CliEnvironment{}, out, err);
  return {code, out.str(), err.str()};
}

TEST(RunWeightctlTest, UnknownCommandIsAUsageError) {
  Outcome r = Weightctl({"frobnicate"});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, StartsWith("weightctl: unknown command 'frobnicate'"));
}

TEST(RunWeightctlTest, UnknownFlagIsOneLineAndExitTwo) {
  Outcome r = Weightctl({"check", "--bogus", "x"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "weightctl: check: unknown flag '--bogus'\n");
  EXPECT_EQ(Weightctl({"--bogus", "ls"}).code, 2);
}

TEST(RunWeightctlTest, MissingValueAndWrongArgumentCountAreUsageErrors) {
  EXPECT_EQ(Weightctl({"fetch", "m", "--tensor"}).code, 2);
  EXPECT_EQ(Weightctl({"fetch", "m"}).code, 2);  // -o is required.
  EXPECT_EQ(Weightctl({"inspect"}).code, 2);
  EXPECT_EQ(Weightctl({"ls", "extra"}).code, 2);
  EXPECT_EQ(Weightctl({"check"}).code, 2);
  EXPECT_EQ(Weightctl({"--streams", "0", "ls"}).code, 2);
  EXPECT_EQ(Weightctl({}).code, 2);
}

TEST(RunWeightctlTest, HelpGoesToStdoutAndExitsZero) {
  Outcome top = Weightctl({"--help"});
  EXPECT_EQ(top.code, 0);
  EXPECT_THAT(top.out, HasSubstr("usage: weightctl"));
  Outcome fetch = Weightctl({"fetch", "-h"});
  EXPECT_EQ(fetch.code, 0);
  EXPECT_THAT(fetch.out, HasSubstr("--tensor NAME"));
  EXPECT_THAT(fetch.err, IsEmpty());
}

TEST(RunWeightctlTest, UnreachableServerIsOneLineAndExitOne) {
  Outcome r =
      Weightctl({"--server", "unix:/nonexistent/weightserver.sock", "ls"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, StartsWith("weightctl: "));
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1);
}

}  // namespace
}  // namespace weightserver::cli
