// Copyright 2026 The Weightserver Authors.
//
// tests/cli/model_diff_test.cc: the lines `weightctl ls --watch` prints.
#include "cli/model_diff.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace weightserver::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

client::ModelSummary Ok(const std::string& name, const std::string& revision) {
  client::ModelSummary m;
  m.name = name;
  m.revision = revision;
  m.file_count = 1;
  return m;
}
client::ModelSummary Bad(const std::string& name, const std::string& error) {
  client::ModelSummary m;
  m.name = name;
  m.error = error;
  return m;
}

TEST(DiffModelsTest, NothingChangedPrintsNothing) {
  EXPECT_THAT(DiffModels({Ok("a", "1"), Bad("b", "x")},
                         {Ok("a", "1"), Bad("b", "x")}),
              IsEmpty());
}

TEST(DiffModelsTest, AddedRemovedAndNewRevisionsInNameOrder) {
  EXPECT_THAT(
      DiffModels({Ok("a", "1"), Ok("c", "3"), Ok("d", "4")},
                 {Ok("b", "2"), Ok("c", "33"), Ok("d", "4"), Bad("e", "bad")}),
      ElementsAre("- a\n", "+ b  revision 2\n", "~ c  revision 3 -> 33\n",
                  "+ e  not servable: bad\n"));
}

TEST(DiffModelsTest, ServabilityChanges) {
  EXPECT_THAT(DiffModels({Ok("a", "1"), Bad("b", "x"), Bad("c", "x")},
                         {Bad("a", "gone bad"), Ok("b", "2"), Bad("c", "y")}),
              ElementsAre("! a  not servable: gone bad\n",
                          "~ b  servable again, revision 2\n",
                          "! c  not servable: y\n"));
}

}  // namespace
}  // namespace weightserver::cli
