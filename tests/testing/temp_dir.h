// Copyright 2026 The Weightserver Authors.
//
// tests/testing/temp_dir.h: a scratch directory removed with its contents when
// the object dies, plus small file helpers for tests.
//
// Example:
//   TempDir dir;
//   WriteBytes(dir.path() + "/m/model.safetensors", bytes);
#ifndef WEIGHTSERVER_TESTS_TESTING_TEMP_DIR_H_
#define WEIGHTSERVER_TESTS_TESTING_TEMP_DIR_H_

#include <string>
#include <string_view>

namespace weightserver::testing {

class TempDir {
 public:
  TempDir();  // Aborts the test binary if no directory can be made.
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir();

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Writes `bytes` to `path`, creating parent directories. Aborts on failure.
void WriteBytes(const std::string& path, std::string_view bytes);
// Reads the whole file at `path`. Aborts on failure.
std::string ReadBytes(const std::string& path);
// The directory of conformance files: $WS_CONFORMANCE_DIR, else the CMake
// cache's WS_CONFORMANCE_DIR, by default the corpus generated into the build
// tree (tools/conformance/corpus.h).
std::string ConformanceDir();

}  // namespace weightserver::testing

#endif  // WEIGHTSERVER_TESTS_TESTING_TEMP_DIR_H_
