// Copyright 2026 The Weightserver Authors.
//
// util/malloc_tuning.cc
#include "weightserver/util/malloc_tuning.h"

#include <malloc.h>

namespace weightserver {

void TuneMallocForStreaming(MallocUse /*use*/) {
  mallopt(M_ARENA_MAX, 1);
  mallopt(M_MMAP_THRESHOLD, 64 << 20);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
  mallopt(M_TOP_PAD, 64 << 20);
}

}  // namespace weightserver
