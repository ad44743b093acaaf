// Copyright 2026 The Weightserver Authors.
//
// cli/args.h: a small command-line parser for weightctl.
//
// absl flags has no subcommands and no repeated flags, so weightctl parses its
// own arguments. A command declares its flags as FlagSpecs; ParseArgs accepts
//   --name value    --name=value    -n value    -nvalue (short, with a value)
//   --name          (a switch: no value)
//   --              (everything after it is positional)
// Flags and positional arguments may be interleaved. A lone "-" is positional.
//
// Example:
//   const FlagSpec kSpecs[] = {
//       {.name = "output", .short_name = 'o', .value_name = "PATH"},
//       {.name = "tensor", .repeated = true, .value_name = "NAME"},
//       {.name = "json", .takes_value = false}};
//   ASSIGN_OR_RETURN(ParsedArgs args, ParseArgs(argv_rest, kSpecs));
//   args.Get("output");      // std::optional<std::string>
//   args.GetAll("tensor");   // every --tensor, in order
//   args.Has("json");
//
// Thread-safety: pure functions; a ParsedArgs is a value.
#ifndef WEIGHTSERVER_CLI_ARGS_H_
#define WEIGHTSERVER_CLI_ARGS_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace weightserver::cli {

struct FlagSpec {
  std::string name = "";        // Long name without "--": "tensor".
  char short_name = 0;          // 'o' for "-o"; 0 for none.
  bool takes_value = true;      // false: a switch ("--json").
  bool repeated = false;        // May be given more than once.
  std::string value_name = "";  // For usage text: "NAME".
  std::string help = "";        // One line.
};

class ParsedArgs {
 public:
  // Positional arguments, in order.
  const std::vector<std::string>& positional() const { return positional_; }
  // Replaces positional argument `i` (< positional().size()).
  void set_positional(size_t i, std::string value) {
    positional_[i] = std::move(value);
  }
  // Whether flag `name` (long name) was given at least once.
  bool Has(absl::string_view name) const;
  // The last value of flag `name`, or nullopt when it was not given.
  std::optional<std::string> Get(absl::string_view name) const;
  // Every value of flag `name`, in command-line order (empty when absent).
  std::vector<std::string> GetAll(absl::string_view name) const;

  // Flag `name` parsed as an integer in [min, max]; `fallback` when absent.
  // Errors: InvalidArgument naming the flag when it is not such an integer.
  absl::StatusOr<int64_t> GetInt(absl::string_view name, int64_t fallback,
                                 int64_t min, int64_t max) const;

 private:
  friend absl::StatusOr<ParsedArgs> ParseArgs(absl::Span<const std::string>,
                                              absl::Span<const FlagSpec>, bool);
  std::vector<std::string> positional_;
  std::map<std::string, std::vector<std::string>, std::less<>> values_;
};

// Parses `args` (the arguments after the program or command name) against
// `specs`. With `stop_at_positional`, parsing stops at the first positional
// argument, which is returned with everything after it, unparsed, as the
// positional list (to find a subcommand after global flags).
//
// Errors (InvalidArgument, one line, naming the flag):
//   unknown flag; a flag that takes a value without one ("--tensor" last);
//   a value given to a switch ("--json=yes"); a non-repeated flag given twice.
absl::StatusOr<ParsedArgs> ParseArgs(absl::Span<const std::string> args,
                                     absl::Span<const FlagSpec> specs,
                                     bool stop_at_positional = false);

// Usage text for `specs`, one flag a line, indented by two spaces:
//   "  -o, --output PATH   where to write".
std::string FlagsUsage(absl::Span<const FlagSpec> specs);

}  // namespace weightserver::cli

#endif  // WEIGHTSERVER_CLI_ARGS_H_
