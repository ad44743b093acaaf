// Copyright 2026 The Weightserver Authors.
//
// tests/testing/status_matchers.h: gMock matchers for absl::Status (GTest 1.12
// has none).
//
// Example:
//   EXPECT_THAT(ParseFile(bytes, "x"), StatusIs(absl::StatusCode::kDataLoss));
//   EXPECT_THAT(status, StatusIs(absl::StatusCode::kNotFound,
//                                HasSubstr("'missing'")));
//   ASSERT_OK(status);  ASSERT_OK_AND_ASSIGN(auto v, MakeThing());
#ifndef WEIGHTSERVER_TESTS_TESTING_STATUS_MATCHERS_H_
#define WEIGHTSERVER_TESTS_TESTING_STATUS_MATCHERS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace weightserver::testing {

inline const absl::Status& GetStatus(const absl::Status& s) { return s; }
template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& s) {
  return s.status();
}

MATCHER_P(StatusIs, code,
          std::string("has status code ") +
              absl::StatusCodeToString(static_cast<absl::StatusCode>(code))) {
  const absl::Status& s = GetStatus(arg);
  *result_listener << "status is " << s;
  return s.code() == code;
}

MATCHER_P2(StatusIs, code, message_matcher,
           std::string("has status code ") +
               absl::StatusCodeToString(static_cast<absl::StatusCode>(code))) {
  const absl::Status& s = GetStatus(arg);
  *result_listener << "status is " << s;
  return s.code() == code &&
         ::testing::ExplainMatchResult(message_matcher, std::string(s.message()),
                                       result_listener);
}

MATCHER(IsOk, "is OK") {
  const absl::Status& s = GetStatus(arg);
  *result_listener << "status is " << s;
  return s.ok();
}

}  // namespace weightserver::testing

#define WS_TESTING_CONCAT_INNER_(a, b) a##b
#define WS_TESTING_CONCAT_(a, b) WS_TESTING_CONCAT_INNER_(a, b)

#define ASSERT_OK(expr) \
  ASSERT_THAT(expr, ::weightserver::testing::IsOk())
#define EXPECT_OK(expr) \
  EXPECT_THAT(expr, ::weightserver::testing::IsOk())

#define ASSERT_OK_AND_ASSIGN(lhs, rexpr) \
  ASSERT_OK_AND_ASSIGN_IMPL_(WS_TESTING_CONCAT_(ws_so_, __LINE__), lhs, rexpr)
#define ASSERT_OK_AND_ASSIGN_IMPL_(so, lhs, rexpr) \
  auto so = (rexpr);                               \
  ASSERT_OK(so.status());                          \
  lhs = *std::move(so)

#endif  // WEIGHTSERVER_TESTS_TESTING_STATUS_MATCHERS_H_
