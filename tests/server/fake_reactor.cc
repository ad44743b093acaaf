// Copyright 2026 The Weightserver Authors.
//
// tests/server/fake_reactor.cc
#include "tests/server/fake_reactor.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "gtest/gtest.h"
#include "util/crc32c.h"

namespace weightserver::server {
namespace {

std::string Bytes(const MappedFile& file,
                  const std::vector<SourceSpan>& spans) {
  std::string out;
  for (const SourceSpan& s : spans) {
    out.append(reinterpret_cast<const char*>(file.bytes().data()) + s.offset,
               s.length);
  }
  return out;
}

}  // namespace

TestFile::TestFile(size_t size) : data_(size, '\0') {
  for (size_t i = 0; i < size; ++i) {
    data_[i] = static_cast<char>(i * 131 + (i >> 8));
  }
  const std::string path = dir_.path() + "/f.safetensors";
  testing::WriteBytes(path, data_);
  absl::StatusOr<MappedFile> f = MappedFile::Open(path);
  if (!f.ok()) std::abort();  // Cannot test without it.
  served_.name = "f.safetensors";
  served_.file = std::make_shared<const MappedFile>(*std::move(f));
}

PlannedEntry TestFile::Entry(std::vector<SourceSpan> spans, uint64_t begin,
                             uint64_t end) const {
  uint64_t output_size = 0;
  for (const SourceSpan& s : spans) output_size += s.length;
  return PlannedEntry{.file = &served_,
                      .tensor = "t",
                      .spans = {spans.begin(), spans.end()},
                      .output_size = output_size,
                      .begin = begin,
                      .end = end};
}

FetchPlan TestFile::Plan(std::vector<PlannedEntry> entries,
                         uint32_t chunk_bytes) const {
  auto model = std::make_shared<Model>();
  model->name = "test-model";
  FetchPlan plan;
  plan.model = std::move(model);
  plan.chunk_bytes = chunk_bytes;
  for (const PlannedEntry& e : entries) plan.total_bytes += e.end - e.begin;
  plan.entries = std::move(entries);
  return plan;
}

std::vector<Tile> ExpectedTiles(const FetchPlan& plan) {
  std::vector<Tile> tiles;
  for (size_t i = 0; i < plan.entries.size(); ++i) {
    const PlannedEntry& e = plan.entries[i];
    for (uint64_t at = e.begin; at < e.end;) {
      const uint64_t n = std::min<uint64_t>(plan.chunk_bytes, e.end - at);
      tiles.push_back({static_cast<uint32_t>(i), at, n});
      at += n;
    }
  }
  return tiles;
}

FakeReactor::FakeReactor(BufferPool* pool, FetchPlan plan, Config config)
    : pool_(pool), config_(std::move(config)), tiles_(ExpectedTiles(plan)) {
  for (const PlannedEntry& e : plan.entries) {
    outputs_.push_back(
        Bytes(*e.file->file, std::vector<SourceSpan>(e.spans.begin(), e.spans.end())));
  }
  FetchScheduler::Options o;
  o.pool = pool;
  o.readahead = config_.readahead;
  o.send_from_mapping = config_.send_from_mapping;
  o.submit_fill = [this](FillJob job) {
    // Chunks are issued in stream order: the n-th fill is the n-th tile.
    const size_t chunk = submitted_++;
    EXPECT_LT(chunk, tiles_.size()) << "more chunks than the plan has";
    if (job.buffer != nullptr) pooled_spans_[job.buffer] = job.spans;
    fills_.emplace(chunk, std::move(job));
  };
  // Shed chunks are the last issued, all filled: they are issued again.
  o.on_shed = [this](size_t chunks) {
    submitted_ -= chunks;
    shed_ += chunks;
  };
  o.wait_for_buffer = [this](size_t bytes, bool under_share,
                             std::function<void()> resume) {
    ++waits_;
    auto pump_after = [this, resume = std::move(resume)] {
      resume();
      Pump();
    };
    if (config_.wait) return config_.wait(bytes, std::move(pump_after));
    return pool_->WaitForRelease(bytes, std::move(pump_after), under_share);
  };
  o.resident = [this](const MappedFile&, uint64_t offset, uint64_t length) {
    return config_.resident && config_.resident(offset, length);
  };
  scheduler_ = std::make_unique<FetchScheduler>(std::move(plan), std::move(o));
}

std::vector<size_t> FakeReactor::pending_fill_chunks() const {
  std::vector<size_t> out;
  for (const auto& [chunk, job] : fills_) out.push_back(chunk);
  return out;
}

void FakeReactor::CompleteFill(size_t chunk, absl::Status error) {
  auto it = fills_.find(chunk);
  ASSERT_NE(it, fills_.end()) << "no fill out for chunk " << chunk;
  FillJob job = std::move(it->second);
  fills_.erase(it);
  if (!error.ok()) {
    job.done(std::move(error));
  } else {
    const std::string bytes = Bytes(*job.file, job.spans);
    if (job.buffer != nullptr) {
      std::memcpy(job.buffer, bytes.data(), bytes.size());
    }
    job.done(Crc32c(bytes));
  }
  Pump();
}

void FakeReactor::CompleteWrite(bool ok) {
  ASSERT_TRUE(in_flight_.has_value()) << "no write in flight";
  ReadyChunk sent = *std::move(in_flight_);
  in_flight_.reset();
  // As gRPC's slice destructor: the buffer goes back before OnWriteDone.
  if (sent.buffer != nullptr) pool_->Release(sent.buffer, sent.size);
  scheduler_->OnWriteDone(ok);
  Pump();
}

void FakeReactor::Cancel() {
  scheduler_->Cancel();
  Pump();
}

size_t FakeReactor::buffers_held() const {
  return scheduler_->stats().buffers_held +
         (in_flight_.has_value() && in_flight_->buffer != nullptr ? 1 : 0);
}

void FakeReactor::Pump() {
  FetchScheduler::Step step = scheduler_->Pump();
  EXPECT_FALSE(step.write.has_value() && step.finish.has_value());
  if (step.write.has_value()) {
    EXPECT_FALSE(finish_.has_value()) << "write after finish";
    EXPECT_FALSE(in_flight_.has_value()) << "two writes in flight";
    CheckWrite(*step.write);
    in_flight_ = std::move(step.write);
  }
  if (step.finish.has_value()) {
    EXPECT_FALSE(finish_.has_value()) << "finished twice";
    EXPECT_FALSE(in_flight_.has_value()) << "finished with a write in flight";
    finish_ = std::move(step.finish);
  }
}

bool FakeReactor::Mappable(const std::vector<SourceSpan>& spans) const {
  if (!config_.send_from_mapping || spans.size() > kMaxMappedSlices) {
    return false;
  }
  for (const SourceSpan& s : spans) {
    if (!config_.resident || !config_.resident(s.offset, s.length)) {
      return false;
    }
  }
  return true;
}

void FakeReactor::CheckWrite(const ReadyChunk& chunk) {
  ASSERT_LT(written_, tiles_.size()) << "a chunk past the end of the plan";
  const Tile& want = tiles_[written_];
  EXPECT_EQ(chunk.entry, want.entry) << "chunk " << written_;
  EXPECT_EQ(chunk.offset, want.offset) << "chunk " << written_;
  ASSERT_EQ(chunk.size, want.size) << "chunk " << written_;
  const std::string expected =
      outputs_[want.entry].substr(want.offset, want.size);
  std::string payload;
  if (chunk.buffer != nullptr) {
    payload.assign(reinterpret_cast<const char*>(chunk.buffer), chunk.size);
    auto spans = pooled_spans_.find(chunk.buffer);
    ASSERT_NE(spans, pooled_spans_.end());
    EXPECT_FALSE(Mappable(spans->second))
        << "chunk " << written_ << " could have been sent from the mapping";
    pooled_spans_.erase(spans);
  } else {
    ++mapped_written_;
    ASSERT_NE(chunk.file, nullptr);
    EXPECT_LE(chunk.spans.size(), kMaxMappedSlices);
    EXPECT_TRUE(Mappable(chunk.spans))
        << "chunk " << written_ << " sent from the mapping, not resident";
    payload = Bytes(*chunk.file, chunk.spans);
  }
  EXPECT_EQ(payload, expected) << "chunk " << written_;
  EXPECT_EQ(chunk.crc32c, Crc32c(expected)) << "chunk " << written_;
  ++written_;
}

void FakeReactor::CheckInvariants() const {
  const FetchScheduler::Stats st = scheduler_->stats();
  EXPECT_LE(st.preparing, static_cast<size_t>(config_.readahead));
  EXPECT_EQ(st.filling, fills_.size());
  EXPECT_EQ(st.write_in_flight, in_flight_.has_value());
  EXPECT_EQ(st.finished, finish_.has_value());
  if (st.finished) {
    // Only chunks whose fill is still out, and they go once it returns.
    EXPECT_EQ(st.preparing, st.filling);
  } else {
    // Never stuck: something is under way that will pump it again.
    EXPECT_TRUE(st.write_in_flight || st.filling > 0 || st.waiting)
        << "a stream with nothing under way";
  }
  // A waiting stream holds no buffer that needs another buffer to come back:
  // its buffers are in fills under way or behind the write in flight.
  if (st.waiting && st.buffers_held > 0) {
    EXPECT_TRUE(st.filling > 0 || st.write_in_flight)
        << "waits for a buffer while holding " << st.buffers_held;
  }
}

}  // namespace weightserver::server
