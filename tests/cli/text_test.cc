// Copyright 2026 The Weightserver Authors.
//
// tests/cli/text_test.cc: weightctl's text formatting and progress bar.
#include "cli/text.h"

#include <sstream>
#include <string>

#include "cli/progress.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace weightserver::cli {
namespace {

using ::testing::HasSubstr;

TEST(HumanBytesTest, PicksTheUnit) {
  EXPECT_EQ(HumanBytes(0), "0 B");
  EXPECT_EQ(HumanBytes(1023), "1023 B");
  EXPECT_EQ(HumanBytes(1024), "1.0 KiB");
  EXPECT_EQ(HumanBytes(1288490189), "1.2 GiB");
  EXPECT_EQ(HumanBytes(~uint64_t{0}), "16.0 EiB");
}

TEST(RateTest, DecimalGigabytesPerSecond) {
  EXPECT_EQ(Rate(3'000'000'000, 1.5), "2.00 GB/s");
  EXPECT_EQ(Rate(1, 0), "-");
}

TEST(FormatShapeTest, ScalarAndMatrix) {
  EXPECT_EQ(FormatShape({}), "[]");
  EXPECT_EQ(FormatShape({4096, 11008}), "[4096, 11008]");
}

TEST(PrintableNameTest, EscapesControlBytesOnly) {
  EXPECT_EQ(PrintableName("model.norm.weight"), "model.norm.weight");
  EXPECT_EQ(PrintableName("caf\xc3\xa9"), "caf\xc3\xa9");
  EXPECT_EQ(PrintableName(absl::string_view("a\0b", 3)), "a\\000b");
}

TEST(TableTest, AlignsColumns) {
  Table t({"NAME", "SIZE", "NOTE"}, {false, true, false});
  t.AddRow({"a", "1", "x"});
  t.AddRow({"longer", "12345", ""});
  std::ostringstream out;
  t.Print(out, "  ");
  EXPECT_EQ(out.str(),
            "  NAME     SIZE  NOTE\n"
            "  a           1  x\n"
            "  longer  12345\n");
}

TEST(ProgressBarTest, DisabledWritesNothing) {
  std::ostringstream out;
  {
    ProgressBar bar(out, false);
    bar.Update(1, 2);
    bar.Callback()({2, 2});
    bar.Finish();
  }
  EXPECT_EQ(out.str(), "");
}

TEST(ProgressBarTest, EnabledDrawsThenClears) {
  std::ostringstream out;
  ProgressBar bar(out, true, absl::ZeroDuration());
  bar.Update(512, 1024);
  EXPECT_THAT(out.str(), HasSubstr("512 B / 1.0 KiB"));
  EXPECT_THAT(out.str(), HasSubstr("50.0%"));
  bar.Finish();
  EXPECT_THAT(out.str(), ::testing::EndsWith("\r\033[K"));
  const std::string before = out.str();
  bar.Update(1024, 1024);  // Ignored after Finish.
  EXPECT_EQ(out.str(), before);
}

TEST(ProgressBarTest, ThrottlesRedraws) {
  std::ostringstream out;
  ProgressBar bar(out, true, absl::Hours(1));
  bar.Update(1, 100);
  const std::string first = out.str();
  bar.Update(2, 100);  // Within the interval: not drawn.
  EXPECT_EQ(out.str(), first);
  bar.Update(100, 100);  // Completion is always drawn.
  EXPECT_NE(out.str(), first);
}

TEST(ProgressBarTest, RenderShowsBytesPercentAndRate) {
  EXPECT_EQ(ProgressBar::Render(0, 0, 0),
            "[##############################] 0 B / 0 B  100.0%  -");
  EXPECT_THAT(ProgressBar::Render(1'000'000'000, 2'000'000'000, 1.0),
              HasSubstr("50.0%  1.00 GB/s"));
}

}  // namespace
}  // namespace weightserver::cli
