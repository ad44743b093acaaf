// Copyright 2026 The Weightserver Authors.
//
// client/device.cc
#include "weightserver/client/device.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#if WS_HAVE_CUDA
#include "client/cuda_copier.h"
#endif

namespace weightserver::client {

absl::StatusOr<DeviceSpec> ParseDevice(absl::string_view text) {
  if (text == "cpu") return DeviceSpec{DeviceSpec::Kind::kCpu, 0};
  if (text == "cuda") return DeviceSpec{DeviceSpec::Kind::kCuda, 0};
  absl::string_view rest = text;
  int index = -1;
  if (absl::ConsumePrefix(&rest, "cuda:") && !rest.empty() &&
      rest.find_first_not_of("0123456789") == absl::string_view::npos &&
      rest.size() <= 4 && absl::SimpleAtoi(rest, &index)) {
    return DeviceSpec{DeviceSpec::Kind::kCuda, index};
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "invalid device '", text, "' (expected cpu, cuda or cuda:N)"));
}

bool HaveCuda() { return WS_HAVE_CUDA != 0; }

absl::StatusOr<std::shared_ptr<DeviceCopier>> OpenCudaCopier(
    int index, const DeviceOptions& options) {
#if WS_HAVE_CUDA
  absl::StatusOr<std::unique_ptr<CudaCopier>> c =
      CudaCopier::Create(index, options.pinned_slots);
  if (!c.ok()) return c.status();
  return std::shared_ptr<DeviceCopier>(*std::move(c));
#else
  return absl::FailedPreconditionError(
      "this build has no CUDA support (the CUDA toolkit was not found when it "
      "was built)");
#endif
}

}  // namespace weightserver::client
