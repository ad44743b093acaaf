// Copyright 2026 The Weightserver Authors.
//
// server/hf_cache.h: reading a Hugging Face hub cache entry as models.
//
// huggingface_hub keeps each downloaded repository ORG/NAME in
// CACHE/models--ORG--NAME/ (a name without an organisation: models--NAME):
//   blobs/<sha256 or git sha1>        the files' bytes, written as
//                                     <sha>.incomplete, then renamed;
//   snapshots/<commit>/<file>         symlinks to ../../blobs/<sha>, one
//                                     directory per downloaded commit;
//   refs/main                         the commit "main" points to.
// The repository serves each snapshot as "ORG/NAME@<commit>", and the one
// refs/main names also as "ORG/NAME". Only a snapshot's top level is read
// (no models in its subfolders). Other refs, datasets--* and spaces--*
// entries are not served.
//
// A download in progress is never served with wrong bytes: a blob is only
// linked into its snapshot once complete, and a snapshot whose shards are
// named like model-00001-of-00003.safetensors but whose index is missing
// (it may come last) is listed as not servable until the index arrives.
//
// Example:
//   std::string id = HfRepoId("models--meta-llama--Llama-3-8B");
//   // id == "meta-llama/Llama-3-8B"
//   HfCacheEntry e = ReadHfCacheEntry("/cache/models--meta-llama--Llama-3-8B");
//
// Thread-safety: free functions without shared state.
#ifndef WEIGHTSERVER_SERVER_HF_CACHE_H_
#define WEIGHTSERVER_SERVER_HF_CACHE_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace weightserver::server {

// The repository id of a cache entry's directory name ("models--org--name"
// -> "org/name", "models--gpt2" -> "gpt2"); empty when `dir_name` is not a
// model entry of a cache.
std::string HfRepoId(absl::string_view dir_name);

struct HfSnapshot {
  std::string commit;
  std::string dir;  // entry/snapshots/<commit>
  // Names of the *.safetensors entries of dir (files or symlinks), sorted.
  std::vector<std::string> safetensors;
};

struct HfCacheEntry {
  std::string main_commit;  // refs/main, trimmed; empty when absent.
  std::vector<HfSnapshot> snapshots;  // Sorted by commit; hidden skipped.
};

// Reads the refs/main (a regular file only) and snapshots/ of the cache
// entry at `dir`. Never fails: what cannot be read is logged and left out.
HfCacheEntry ReadHfCacheEntry(const std::string& dir);

// FailedPrecondition when `safetensors` (one snapshot's) holds a shard named
// *-NNNNN-of-NNNNN.safetensors but the snapshot has no index
// (`has_index`): its download is not finished. OK otherwise.
absl::Status CheckSnapshotComplete(const std::vector<std::string>& safetensors,
                                   bool has_index);

}  // namespace weightserver::server

#endif  // WEIGHTSERVER_SERVER_HF_CACHE_H_
