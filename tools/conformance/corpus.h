// Copyright 2026 The Weightserver Authors.
//
// tools/conformance/corpus.h: the conformance corpus, a set of safetensors
// files each with the verdict of the reference reader (huggingface
// `safetensors`): "ok" when it must load, else the name of the reference's
// error kind ("InvalidOffset", ...; safetensors.md §4).
//
// The cases cover every rule and test vector of docs/safetensors.md (§4 the
// reader's order, §9 the Rust and Python vectors, the PR #84 legacy samples,
// the derived vectors) and more: every dtype, sub-byte sizes, zero-sized
// tensors, overflows, UTF-8 and JSON syntax, nesting depth, duplicate keys.
// The bytes are written here by hand, independently of format/ (the code
// under test): nothing here parses or validates.
//
// A case whose verdict from this project's reader deliberately differs from
// the reference's (format/header.h: any duplicated JSON key is
// InvalidHeaderDeserialization) carries both: `reference` and `ours`.
//
// WriteCorpus lays the corpus out as
//   DIR/expected.json               {"file": "Kind" | "ok"}: the reference's
//   DIR/*.safetensors               verdicts, files where we agree with it;
//   DIR/deviations/expected.json    the reference's verdicts for the files
//   DIR/deviations/deviations.json  where we differ, and ours:
//   DIR/deviations/*.safetensors    {"file": {"ours": "Kind", "reason": ...}}.
// The deviating files sit apart so that tests which read DIR/expected.json as
// "what weightctl check reports" stay true.
//
// Example:
//   for (const Case& c : ConformanceCases()) { ... c.file, c.bytes ... }
//   absl::Status s = WriteCorpus(ConformanceCases(), "build/conformance");
//
// Thread-safety: pure functions (WriteCorpus writes the files it is given).
#ifndef WEIGHTSERVER_TOOLS_CONFORMANCE_CORPUS_H_
#define WEIGHTSERVER_TOOLS_CONFORMANCE_CORPUS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace weightserver::conformance {

struct Case {
  std::string file;       // "bad_gap.safetensors"; names are unique.
  std::string bytes;      // The whole file.
  std::string reference;  // The reference reader's verdict: "ok" or a kind.
  // This project's verdict where it deliberately differs; empty when it is
  // the reference's.
  std::string ours;
  std::string reason;  // Why `ours` differs (only with `ours`).
  std::string what;    // One line: what the case is, and where it comes from.
};

// Every case, in a fixed order. File names start with "valid_" when the
// reference accepts the file and "bad_" when it rejects it.
std::vector<Case> ConformanceCases();

// Writes `cases` under `dir` as laid out above, creating the directories and
// first removing any .safetensors and .json files already in them (so that a
// case renamed or dropped leaves no stale file behind).
// Errors: kInvalidArgument for a duplicated file name; kInternal when a file
// cannot be written or removed.
absl::Status WriteCorpus(const std::vector<Case>& cases,
                         const std::string& dir);

}  // namespace weightserver::conformance

#endif  // WEIGHTSERVER_TOOLS_CONFORMANCE_CORPUS_H_
