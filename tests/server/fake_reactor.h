// Copyright 2026 The Weightserver Authors.
//
// tests/server/fake_reactor.h: drives a FetchScheduler as FetchReactor does,
// with a fake filler and a fake gRPC writer that the test steps by hand.
//
// Fills are kept until the test completes them (in any order, with any
// status); the write of a chunk stays in flight until the test completes it.
// Every step the scheduler returns is checked as it comes: writes in stream
// order exactly tiling every entry's [begin, end), the payload and its CRC
// right, a mapped chunk resident and of at most kMaxMappedSlices spans, a
// pooled one not eligible for the mapping, one write in flight, one finish.
// CheckInvariants checks the state between steps.
//
// Example:
//   TestFile file(8192);
//   BufferPool pool(64 << 10, 64 << 10);
//   FakeReactor r(&pool, file.Plan({file.Entry({{0, 100}}, 0, 100)}, 32), {});
//   r.Start();
//   while (r.pending_fills() > 0) r.CompleteFill(r.oldest_fill());
//   while (r.write_in_flight()) r.CompleteWrite();
//   EXPECT_THAT(*r.finish(), IsOk());
//
// Thread-safety: none; single-threaded tests only.
#ifndef WEIGHTSERVER_TESTS_SERVER_FAKE_REACTOR_H_
#define WEIGHTSERVER_TESTS_SERVER_FAKE_REACTOR_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "server/buffer_pool.h"
#include "server/fetch_plan.h"
#include "server/fetch_scheduler.h"
#include "server/model_repository.h"
#include "tests/testing/temp_dir.h"

namespace weightserver::server {

// A mapped file of known bytes, and plans over it.
class TestFile {
 public:
  explicit TestFile(size_t size);

  // An entry streaming output bytes [begin, end) of `spans`.
  PlannedEntry Entry(std::vector<SourceSpan> spans, uint64_t begin,
                     uint64_t end) const;
  FetchPlan Plan(std::vector<PlannedEntry> entries, uint32_t chunk_bytes) const;

  const std::string& data() const { return data_; }
  const ServedFile* served() const { return &served_; }

 private:
  testing::TempDir dir_;
  std::string data_;
  ServedFile served_;
};

// One chunk as the plan must be cut: bytes [offset, offset + size) of entry.
struct Tile {
  uint32_t entry = 0;
  uint64_t offset = 0;
  uint64_t size = 0;
};
std::vector<Tile> ExpectedTiles(const FetchPlan& plan);

class FakeReactor {
 public:
  struct Config {
    int readahead = 4;
    bool send_from_mapping = true;
    // Residency of file bytes [offset, offset + length); default: none.
    std::function<bool(uint64_t offset, uint64_t length)> resident = nullptr;
    // Replaces the pool's WaitForRelease when set.
    std::function<bool(size_t bytes, std::function<void()> resume)> wait =
        nullptr;
  };

  FakeReactor(BufferPool* pool, FetchPlan plan, Config config);
  FakeReactor(const FakeReactor&) = delete;
  FakeReactor& operator=(const FakeReactor&) = delete;

  // The first pump, as FetchReactor's constructor.
  void Start() { Pump(); }

  // Chunks (indices into tiles()) whose fills are out, in submission order.
  std::vector<size_t> pending_fill_chunks() const;
  size_t pending_fills() const { return fills_.size(); }
  size_t oldest_fill() const { return fills_.begin()->first; }
  // Completes chunk `chunk`'s fill: with the bytes and their CRC, or with
  // `error`. Then pumps, as the reactor does.
  void CompleteFill(size_t chunk, absl::Status error = absl::OkStatus());

  bool write_in_flight() const { return in_flight_.has_value(); }
  // Completes the write in flight: drops its buffer, then OnWriteDone(ok)
  // and a pump.
  void CompleteWrite(bool ok = true);

  void Cancel();

  const std::optional<absl::Status>& finish() const { return finish_; }
  const std::vector<Tile>& tiles() const { return tiles_; }
  size_t written() const { return written_; }
  size_t mapped_written() const { return mapped_written_; }
  size_t waits() const { return waits_; }
  // Chunks this stream gave back at the pool's request (BufferPool::ShedFor).
  size_t shed() const { return shed_; }
  // Pool buffers of this stream: its scheduler's and the write in flight's.
  size_t buffers_held() const;
  FetchScheduler& scheduler() { return *scheduler_; }

  // Checks the invariants that hold between steps (records failures).
  void CheckInvariants() const;

 private:
  void Pump();
  void CheckWrite(const ReadyChunk& chunk);
  bool Mappable(const std::vector<SourceSpan>& spans) const;

  BufferPool* const pool_;
  const Config config_;
  std::vector<Tile> tiles_;
  std::vector<std::string> outputs_;  // Each entry's whole output.
  std::map<size_t, FillJob> fills_;   // By chunk index.
  size_t submitted_ = 0;
  size_t shed_ = 0;  // Chunks shed at the pool's request.
  std::map<const std::byte*, std::vector<SourceSpan>> pooled_spans_;
  std::optional<ReadyChunk> in_flight_;
  size_t written_ = 0;
  size_t mapped_written_ = 0;
  size_t waits_ = 0;
  std::optional<absl::Status> finish_;
  std::unique_ptr<FetchScheduler> scheduler_;  // Last: calls the above.
};

}  // namespace weightserver::server

#endif  // WEIGHTSERVER_TESTS_SERVER_FAKE_REACTOR_H_
