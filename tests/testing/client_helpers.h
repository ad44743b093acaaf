// Copyright 2026 The Weightserver Authors.
//
// tests/testing/client_helpers.h: short forms of client calls for tests
// (header-only: only tests that link the client include it).
//
// Example:
//   ASSERT_OK_AND_ASSIGN(client::TensorTable m, LoadAll(*client, toc));
//   EXPECT_EQ(HostBytes(*m.Find("w")), TensorBytes("w", 60));
#ifndef WEIGHTSERVER_TESTS_TESTING_CLIENT_HELPERS_H_
#define WEIGHTSERVER_TESTS_TESTING_CLIENT_HELPERS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "weightserver/client/client.h"
#include "weightserver/client/load_plan.h"
#include "weightserver/client/output_file.h"
#include "weightserver/client/tensor_table.h"

namespace weightserver::testing {

// The whole tensors `names` (all when empty) of `model`, into host memory.
inline absl::StatusOr<client::TensorTable> LoadAll(
    const client::Client& c, const client::ModelInfo& model,
    const std::vector<std::string>& names = {}) {
  absl::StatusOr<client::LoadPlan> plan = client::PlanWholeTensors(model, names);
  if (!plan.ok()) return plan.status();
  return client::LoadToHost(c, model, *plan);
}

// `tensors` (whole or sliced) of `model`, into host memory.
inline absl::StatusOr<client::TensorTable> LoadSlices(
    const client::Client& c, const client::ModelInfo& model,
    const std::vector<client::TensorSlice>& tensors) {
  absl::StatusOr<client::LoadPlan> plan = client::PlanLoad(model, tensors);
  if (!plan.ok()) return plan.status();
  return client::LoadToHost(c, model, *plan);
}

// FetchToFile of the whole tensors `names` (all when empty), or of `tensors`.
inline absl::Status FetchFile(const client::Client& c,
                              const client::ModelInfo& model,
                              const std::vector<std::string>& names,
                              const std::string& path) {
  absl::StatusOr<client::LoadPlan> plan = client::PlanWholeTensors(model, names);
  if (!plan.ok()) return plan.status();
  return client::FetchToFile(c, model, *plan, path);
}
inline absl::Status FetchSlicesFile(
    const client::Client& c, const client::ModelInfo& model,
    const std::vector<client::TensorSlice>& tensors, const std::string& path) {
  absl::StatusOr<client::LoadPlan> plan = client::PlanLoad(model, tensors);
  if (!plan.ok()) return plan.status();
  return client::FetchToFile(c, model, *plan, path);
}

// The bytes of a tensor loaded into host memory.
inline std::string HostBytes(const client::TensorView& t) {
  return std::string(reinterpret_cast<const char*>(t.data), t.size);
}

}  // namespace weightserver::testing

#endif  // WEIGHTSERVER_TESTS_TESTING_CLIENT_HELPERS_H_
