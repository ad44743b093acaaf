// Copyright 2026 The Weightserver Authors.
//
// tests/testing/sanitizers.h: whether this build runs under ASan or TSan.
//
// Both replace malloc with their own allocator: freed memory waits in a
// quarantine (ASan: 256 MiB) and malloc_trim/mallinfo2 say nothing about it.
// Tests of resident memory (how much the daemon holds, whether it goes back
// to the kernel) measure glibc's allocator; they assert it only where
// kGlibcMalloc holds (the release build that scripts/test.sh runs) and check
// everything else under the sanitizers too.
//
// Example:
//   if (kGlibcMalloc) EXPECT_LT(daemon->RssAnon(), before + (16 << 20));
#ifndef WEIGHTSERVER_TESTS_TESTING_SANITIZERS_H_
#define WEIGHTSERVER_TESTS_TESTING_SANITIZERS_H_

namespace weightserver::testing {

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define WS_TESTING_SANITIZED_MALLOC 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define WS_TESTING_SANITIZED_MALLOC 1
#endif

#ifdef WS_TESTING_SANITIZED_MALLOC
inline constexpr bool kGlibcMalloc = false;
#else
inline constexpr bool kGlibcMalloc = true;
#endif
#undef WS_TESTING_SANITIZED_MALLOC

}  // namespace weightserver::testing

#endif  // WEIGHTSERVER_TESTS_TESTING_SANITIZERS_H_
