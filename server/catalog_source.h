// Copyright 2026 The Weightserver Authors.
//
// server/catalog_source.h: where the service's models come from.
//
// An origin's catalog is its repository, rescanned while served
// (LiveRepository, live_repository.h); a cache's is its upstream's
// (cache/cache_repository.h). The service (weight_service.h) asks only
// this interface.
//
// Example:
//   std::shared_ptr<const Model> m = source.Find("org/name");
//
// Thread-safety: implementations are safe to call concurrently.
#ifndef WEIGHTSERVER_SERVER_CATALOG_SOURCE_H_
#define WEIGHTSERVER_SERVER_CATALOG_SOURCE_H_

#include <memory>

#include "absl/strings/string_view.h"
#include "server/model_repository.h"

namespace weightserver::server {

class CatalogSource {
 public:
  virtual ~CatalogSource() = default;

  // The current catalog; it stays valid (and its mappings mapped) as long
  // as the caller holds it.
  virtual std::shared_ptr<const ModelRepository> Snapshot() const = 0;

  // The model named `name` now, or nullptr. A source that can learn of a
  // model it has not seen yet (a cache asks its upstream) may do so here,
  // before it answers; the default looks in Snapshot() only.
  virtual std::shared_ptr<const Model> Find(absl::string_view name) {
    return Snapshot()->Find(name);
  }
};

}  // namespace weightserver::server

#endif  // WEIGHTSERVER_SERVER_CATALOG_SOURCE_H_
