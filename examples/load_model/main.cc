// Copyright 2026 The Weightserver Authors.
//
// examples/load_model/main.cc: a program outside the Weightserver tree that
// links the installed client (find_package(weightserver) or pkg-config
// weightserver-client): it lists a server's models, loads one into host
// memory, verified, and prints what it got.
//
//   $ load_model 127.0.0.1:50051 demo-llama
//   models: 2
//   loaded 95 tensors, 399945728 bytes of demo-llama (revision 3f2a...)
//   first tensor: model.embed_tokens.weight BF16 [32000, 4096]
#include <cstdio>
#include <string>

#include "weightserver/client/client.h"
#include "weightserver/client/load_plan.h"
#include "weightserver/client/tensor_table.h"
#include "weightserver/util/malloc_tuning.h"

namespace ws = weightserver::client;

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s ADDRESS MODEL\n", argv[0]);
    return 2;
  }
  weightserver::TuneMallocForStreaming(weightserver::MallocUse::kClient);
  absl::StatusOr<std::unique_ptr<ws::Client>> client =
      ws::Client::Connect(argv[1]);
  if (!client.ok()) {
    std::fprintf(stderr, "%s\n", client.status().ToString().c_str());
    return 1;
  }
  absl::StatusOr<std::vector<ws::ModelSummary>> models = (*client)->ListModels();
  absl::StatusOr<ws::ModelInfo> toc = (*client)->GetModel(argv[2]);
  if (!models.ok() || !toc.ok()) {
    std::fprintf(stderr, "%s\n", (models.ok() ? toc.status() : models.status())
                                     .ToString().c_str());
    return 1;
  }
  absl::StatusOr<ws::LoadPlan> plan = ws::PlanWholeTensors(*toc, {});
  absl::StatusOr<ws::TensorTable> table =
      plan.ok() ? ws::LoadToHost(**client, *toc, *plan)
                : absl::StatusOr<ws::TensorTable>(plan.status());
  if (!table.ok()) {
    std::fprintf(stderr, "%s\n", table.status().ToString().c_str());
    return 1;
  }
  std::printf("models: %zu\n", models->size());
  std::printf("loaded %zu tensors, %llu bytes of %s (revision %s)\n",
              table->tensors().size(),
              static_cast<unsigned long long>(table->total_bytes()),
              toc->name.c_str(), toc->revision.c_str());
  if (!table->tensors().empty()) {
    const ws::TensorView& t = table->tensors().front();
    std::string shape;
    for (uint64_t d : t.shape) shape += (shape.empty() ? "" : ", ") + std::to_string(d);
    std::printf("first tensor: %s %s [%s]\n", t.name.c_str(), t.dtype.c_str(),
                shape.c_str());
  }
  return 0;
}
