// Copyright 2026 The Weightserver Authors.
//
// client/extra_files.cc: ReadFile and DownloadExtraFiles, a model's
// non-weight files (config.json, tokenizer files, ...).

#include <filesystem>
#include <string>
#include <system_error>

#include <grpcpp/client_context.h>

#include "absl/strings/escaping.h"
#include "client/credentials.h"
#include "absl/strings/str_cat.h"
#include "client/channels.h"
#include "util/crc32c.h"
#include "util/file_io.h"
#include "util/quote.h"
#include "weightserver/client/client.h"
#include "wire/status.h"

namespace weightserver::client {
namespace {

// A name a server may list: one plain file name, nothing that walks out of
// the directory it is written to.
absl::Status CheckFileName(absl::string_view name) {
  if (name.empty() || name == "." || name == ".." ||
      name.find('/') != absl::string_view::npos ||
      name.find('\\') != absl::string_view::npos ||
      name.find('\0') != absl::string_view::npos || name.front() == '.') {
    return absl::InvalidArgumentError(absl::StrCat(
        "the server lists extra file ", QuoteInput(name),
        ", which is not a plain file name; refusing to write it"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> Client::ReadFile(const ModelInfo& model,
                                             absl::string_view name) const {
  const ExtraFile* listed = nullptr;
  for (const ExtraFile& f : model.extra_files) {
    if (f.name == name) listed = &f;
  }
  if (listed == nullptr) {
    return absl::NotFoundError(absl::StrCat("model '", model.name,
                                            "' lists no extra file ",
                                            QuoteInput(name)));
  }
  if (listed->size > static_cast<uint64_t>(options_.max_receive_bytes)) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "model '", model.name, "' lists extra file ", QuoteInput(listed->name),
        " of ", listed->size, " bytes, over this client's max_receive_bytes (",
        options_.max_receive_bytes, ")"));
  }
  const std::string label =
      absl::StrCat("ReadFile of model '", model.name, "' file ",
                   QuoteInput(listed->name), " from ", target_);
  v1::ReadFileRequest request;
  request.set_model(model.name);
  request.set_revision(model.revision);
  request.set_name(listed->name);
  request.set_chunk_size_hint(options_.chunk_bytes);
  absl::Status last;
  for (int attempt = 1; attempt <= options_.max_attempts; ++attempt) {
    grpc::ClientContext context;
    // unary_timeout, plus a second per MiB: a 64 MiB tokenizer on a slow
    // link is not cut at 60 s.
    context.set_deadline(absl::ToChronoTime(
        absl::Now() + options_.unary_timeout +
        absl::Seconds(static_cast<int64_t>(listed->size >> 20))));
    AddCredentials(options_.token, &context);
    std::unique_ptr<grpc::ClientReader<v1::Chunk>> reader =
        channels_->stub->ReadFile(&context, request);
    std::string bytes;
    bytes.reserve(listed->size);
    v1::Chunk chunk;
    absl::Status broken;  // A bad chunk: the stream is abandoned.
    while (broken.ok() && reader->Read(&chunk)) {
      if (chunk.entry() != 0 || chunk.offset() != bytes.size() ||
          chunk.data().size() > listed->size - bytes.size()) {
        broken = absl::DataLossError(absl::StrCat(
            label, ": chunk of entry ", chunk.entry(), " at offset ",
            chunk.offset(), " (", chunk.data().size(), " bytes) after ",
            bytes.size(), " of ", listed->size, " bytes"));
      } else if (Crc32c(chunk.data()) != chunk.crc32c()) {
        broken = absl::DataLossError(absl::StrCat(
            label, ": CRC32C mismatch in bytes [", chunk.offset(), ", ",
            chunk.offset() + chunk.data().size(), ")"));
      } else {
        bytes += chunk.data();
      }
    }
    if (!broken.ok()) {
      context.TryCancel();
      reader->Finish().IgnoreError();
      last = broken;
      continue;
    }
    absl::Status status = wire::FromGrpcStatus(reader->Finish());
    if (status.ok() && bytes.size() == listed->size) return bytes;
    if (status.ok()) {
      status = absl::DataLossError(absl::StrCat(
          "stream ended after ", bytes.size(), " of ", listed->size, " bytes"));
    }
    last = absl::Status(status.code(), absl::StrCat(label, ": ", status.message()));
    if (!wire::IsRetryable(status.code())) return last;
  }
  return absl::Status(last.code(),
                      absl::StrCat(last.message(), " (after ",
                                   options_.max_attempts, " attempts)"));
}

absl::Status Client::DownloadExtraFiles(const ModelInfo& model,
                                        const std::string& dir) const {
  for (const ExtraFile& f : model.extra_files) {
    if (absl::Status s = CheckFileName(f.name); !s.ok()) return s;
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return absl::PermissionDeniedError(
        absl::StrCat("create directory ", dir, ": ", ec.message()));
  }
  for (const ExtraFile& f : model.extra_files) {
    absl::StatusOr<std::string> bytes = ReadFile(model, f.name);
    if (!bytes.ok()) return bytes.status();
    if (absl::Status s = WriteFileAtomically(dir + "/" + f.name, *bytes);
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

}  // namespace weightserver::client
