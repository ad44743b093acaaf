// Copyright 2026 The Weightserver Authors.
//
// cli/main.cc: the weightctl binary: process set-up around RunWeightctl.
//
//   weightctl [--server ADDR] COMMAND [ARGS]   (weightctl --help for more)
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "weightserver/util/malloc_tuning.h"

int main(int argc, char** argv) {
  weightserver::TuneMallocForStreaming(weightserver::MallocUse::kClient);

  weightserver::cli::CliEnvironment env;
  if (const char* addr = std::getenv("WEIGHTSERVER_ADDR");
      addr != nullptr && addr[0] != '\0') {
    env.default_server = addr;
  }
  if (const char* token = std::getenv("WEIGHTSERVER_TOKEN")) {
    env.default_token = token;
  }
  env.progress = isatty(STDERR_FILENO) == 1;
  std::vector<std::string> args(argv + 1, argv + argc);
  return weightserver::cli::RunWeightctl(args, env, std::cout, std::cerr);
}
