// Copyright 2026 The Weightserver Authors.
//
// tools/conformance/make_conformance_main.cc: ws_make_conformance, which
// writes the conformance corpus (tools/conformance/corpus.h).
//
//   ws_make_conformance DIR     write the corpus into DIR
//   ws_make_conformance --list  one line a case: file, reference verdict,
//                               our verdict where it differs, description
#include <cstdio>
#include <string>

#include "tools/conformance/corpus.h"

int main(int argc, char** argv) {
  using weightserver::conformance::Case;
  using weightserver::conformance::ConformanceCases;
  const std::string arg = argc == 2 ? argv[1] : "";
  if (arg.empty() || arg == "--help" || arg == "-h") {
    std::fprintf(stderr, "usage: %s DIR | --list\n", argv[0]);
    return 2;
  }
  if (arg == "--list") {
    for (const Case& c : ConformanceCases()) {
      std::printf("%s\t%s\t%s\t%s\n", c.file.c_str(), c.reference.c_str(),
                  c.ours.empty() ? "-" : c.ours.c_str(), c.what.c_str());
    }
    return 0;
  }
  const auto cases = ConformanceCases();
  if (absl::Status s = weightserver::conformance::WriteCorpus(cases, arg); !s.ok()) {
    std::fprintf(stderr, "ws_make_conformance: %s\n", s.ToString().c_str());
    return 1;
  }
  std::printf("ws_make_conformance: %zu cases in %s\n", cases.size(), arg.c_str());
  return 0;
}
