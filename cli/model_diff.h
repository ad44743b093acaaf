// Copyright 2026 The Weightserver Authors.
//
// cli/model_diff.h: what changed between two listings of a server's models,
// for `weightctl ls --watch`.
//
// One line per model that was added, removed, got a new revision, or became
// servable or not servable; models whose summary is the same print nothing.
//
// Example:
//   for (const std::string& line : DiffModels(before, after)) out << line;
//   // "+ org/name  revision 3f2a...  (added)\n"
//
// Thread-safety: a pure function.
#ifndef WEIGHTSERVER_CLI_MODEL_DIFF_H_
#define WEIGHTSERVER_CLI_MODEL_DIFF_H_

#include <string>
#include <vector>

#include "weightserver/client/client.h"

namespace weightserver::cli {

// The changes from `before` to `after` (each sorted by name, as ListModels
// returns them), in name order, each line ending in '\n':
//   "+ NAME  revision R\n"                  added (servable)
//   "+ NAME  not servable: ERROR\n"         added (not servable)
//   "- NAME\n"                              removed
//   "~ NAME  revision A -> B\n"             new revision
//   "! NAME  not servable: ERROR\n"         was servable, is not any more
//   "~ NAME  servable again, revision R\n"  was not servable, is now
std::vector<std::string> DiffModels(
    const std::vector<client::ModelSummary>& before,
    const std::vector<client::ModelSummary>& after);

}  // namespace weightserver::cli

#endif  // WEIGHTSERVER_CLI_MODEL_DIFF_H_
