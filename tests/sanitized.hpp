#pragma once
// ASYNCIO_TEST_SANITIZED: defined when the tests are built under AddressSanitizer or
// ThreadSanitizer (whose allocators are not glibc's, and under which valgrind cannot run).
// ASYNCIO_TEST_TSAN: defined under ThreadSanitizer (watchdog.hpp says what it changes).
#if defined(__SANITIZE_THREAD__)
#define ASYNCIO_TEST_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define ASYNCIO_TEST_TSAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(ASYNCIO_TEST_TSAN)
#define ASYNCIO_TEST_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ASYNCIO_TEST_SANITIZED 1
#endif
#endif
