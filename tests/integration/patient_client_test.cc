// Copyright 2026 The Weightserver Authors.
//
// tests/integration/patient_client_test.cc: a load over a link that breaks
// again and again (issue 11, item 5). Before, the client gave up after 4
// immediate attempts per stream, never reset by progress: a connection
// dropped every 30 MB failed a whole load after 1.5 s.
#include <cstring>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "server/server.h"
#include "tests/testing/dropping_proxy.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_models.h"
#include "weightserver/client/client.h"
#include "weightserver/client/load_plan.h"
#include "weightserver/client/tensor_table.h"

namespace weightserver {
namespace {

using format::DType;

TEST(PatientClientTest, ALinkDroppedEvery30MBStillCompletesA256MiBLoad) {
  weightserver::testing::TempDir repo;
  // Four 64 MiB tensors: each one is split over the streams (split_bytes).
  std::vector<format::TensorSpec> specs;
  for (int i = 0; i < 4; ++i) {
    specs.push_back({absl::StrCat("w", i), DType::kU8, {64 << 20}});
  }
  weightserver::testing::WriteModel(repo.path() + "/m", specs);
  server::ServerOptions options;
  options.repo = repo.path();
  options.listen = "127.0.0.1:0";
  auto server = server::Server::Start(options);
  ASSERT_OK(server.status());
  weightserver::testing::DroppingProxy proxy((*server)->address(),
                                             /*drop_every_bytes=*/30'000'000);
  // Default options: the retry policy under test is the one users get.
  auto client = client::Client::Connect(proxy.address());
  ASSERT_OK(client.status());
  auto toc = (*client)->GetModel("m");
  ASSERT_OK(toc.status());
  auto plan = client::PlanWholeTensors(*toc, {});
  ASSERT_OK(plan.status());
  auto table = client::LoadToHost(**client, *toc, *plan);
  ASSERT_OK(table.status());
  // 256 MiB over 2 connections, each cut every 30 MB: at least 8 drops.
  EXPECT_GE(proxy.drops(), 8);
  for (const format::TensorSpec& s : specs) {
    const client::TensorView* t = table->Find(s.name);
    ASSERT_NE(t, nullptr);
    const std::string want = weightserver::testing::TensorBytes(s.name, 64 << 20);
    ASSERT_EQ(t->size, want.size());
    EXPECT_EQ(std::memcmp(t->data, want.data(), want.size()), 0) << s.name;
  }
}

}  // namespace
}  // namespace weightserver
