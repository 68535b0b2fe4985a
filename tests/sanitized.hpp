#pragma once
// ASYNCIO_TEST_SANITIZED: defined when the tests are built under AddressSanitizer or
// ThreadSanitizer (whose allocators are not glibc's, and under which valgrind cannot run).
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define ASYNCIO_TEST_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define ASYNCIO_TEST_SANITIZED 1
#endif
#endif
