// Copyright 2026 The Weightserver Authors.
//
// cli/args.cc: the command-line parser (see args.h).
#include "cli/args.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "util/status_macros.h"

namespace weightserver::cli {
namespace {

const FlagSpec* FindLong(absl::Span<const FlagSpec> specs,
                         absl::string_view name) {
  for (const FlagSpec& s : specs) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

const FlagSpec* FindShort(absl::Span<const FlagSpec> specs, char c) {
  for (const FlagSpec& s : specs) {
    if (s.short_name != 0 && s.short_name == c) return &s;
  }
  return nullptr;
}

// How the user spelled a flag, for messages: "--tensor" or "-o".
std::string Spelling(const FlagSpec& spec, bool as_short) {
  return as_short ? absl::StrCat("-", std::string(1, spec.short_name))
                  : absl::StrCat("--", spec.name);
}

}  // namespace

bool ParsedArgs::Has(absl::string_view name) const {
  return values_.find(name) != values_.end();
}

std::optional<std::string> ParsedArgs::Get(absl::string_view name) const {
  auto it = values_.find(name);
  if (it == values_.end() || it->second.empty()) return std::nullopt;
  return it->second.back();
}

std::vector<std::string> ParsedArgs::GetAll(absl::string_view name) const {
  auto it = values_.find(name);
  if (it == values_.end()) return {};
  return it->second;
}

absl::StatusOr<int64_t> ParsedArgs::GetInt(absl::string_view name,
                                           int64_t fallback, int64_t min,
                                           int64_t max) const {
  std::optional<std::string> text = Get(name);
  if (!text.has_value()) return fallback;
  int64_t value = 0;
  if (!absl::SimpleAtoi(*text, &value) || value < min || value > max) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", name, ": expected an integer in [", min, ", ", max,
                     "], got '", *text, "'"));
  }
  return value;
}

absl::StatusOr<ParsedArgs> ParseArgs(absl::Span<const std::string> args,
                                     absl::Span<const FlagSpec> specs,
                                     bool stop_at_positional) {
  ParsedArgs out;
  // Records one occurrence of `spec`; refuses a second one unless repeated.
  auto record = [&out](const FlagSpec& spec, bool as_short,
                       std::string value) -> absl::Status {
    std::vector<std::string>& values = out.values_[spec.name];
    if (!values.empty() && !spec.repeated) {
      return absl::InvalidArgumentError(
          absl::StrCat("flag ", Spelling(spec, as_short), " given twice"));
    }
    values.push_back(std::move(value));
    return absl::OkStatus();
  };

  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--") {
      out.positional_.insert(out.positional_.end(), args.begin() + i + 1,
                             args.end());
      break;
    }
    if (arg.size() < 2 || arg[0] != '-') {  // Positional (or a lone "-").
      if (stop_at_positional) {
        out.positional_.assign(args.begin() + i, args.end());
        break;
      }
      out.positional_.push_back(arg);
      continue;
    }
    const bool is_long = arg[1] == '-';
    const FlagSpec* spec = nullptr;
    std::optional<std::string> inline_value;
    if (is_long) {
      absl::string_view body = absl::string_view(arg).substr(2);
      size_t eq = body.find('=');
      absl::string_view name = body.substr(0, eq);
      if (eq != absl::string_view::npos) {
        inline_value = std::string(body.substr(eq + 1));
      }
      spec = FindLong(specs, name);
      if (spec == nullptr) {
        return absl::InvalidArgumentError(
            absl::StrCat("unknown flag '--", name, "'"));
      }
    } else {
      spec = FindShort(specs, arg[1]);
      if (spec == nullptr) {
        return absl::InvalidArgumentError(
            absl::StrCat("unknown flag '", arg.substr(0, 2), "'"));
      }
      if (arg.size() > 2) inline_value = arg.substr(2);  // "-oPATH".
    }
    const std::string spelled = Spelling(*spec, !is_long);
    if (!spec->takes_value) {
      if (inline_value.has_value()) {
        return absl::InvalidArgumentError(
            absl::StrCat("flag ", spelled, " takes no value"));
      }
      RETURN_IF_ERROR(record(*spec, !is_long, ""));
      continue;
    }
    std::string value;
    if (inline_value.has_value()) {
      value = std::move(*inline_value);
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("flag ", spelled, " needs a value",
                       spec->value_name.empty()
                           ? ""
                           : absl::StrCat(" (", spec->value_name, ")")));
    }
    RETURN_IF_ERROR(record(*spec, !is_long, std::move(value)));
  }
  return out;
}

std::string FlagsUsage(absl::Span<const FlagSpec> specs) {
  std::vector<std::pair<std::string, std::string>> lines;
  size_t width = 0;
  for (const FlagSpec& s : specs) {
    std::string left =
        s.short_name != 0
            ? absl::StrCat("-", std::string(1, s.short_name), ", --", s.name)
            : absl::StrCat("    --", s.name);
    if (s.takes_value) {
      absl::StrAppend(&left, " ",
                      s.value_name.empty() ? "VALUE" : s.value_name);
    }
    width = std::max(width, left.size());
    lines.emplace_back(std::move(left), s.help);
  }
  std::string out;
  for (const auto& [left, help] : lines) {
    absl::StrAppend(&out, "  ", left, std::string(width - left.size() + 3, ' '),
                    help, "\n");
  }
  return out;
}

}  // namespace weightserver::cli
