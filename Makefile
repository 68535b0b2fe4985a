# Thin wrapper around CMake. `make tour` and `make test` do all the set-up.
BUILD      ?= build
ASAN_BUILD ?= build-asan
TSAN_BUILD ?= build-tsan
JOBS       ?= $(shell nproc)
PREFIX     ?= /usr/local

# CI (CI=true, as .ci/run is run there) builds with line tables only (-g1) instead of full
# debug information: the same instructions (GCC and Clang generate the same code whatever the
# -g level), stack traces and sanitizer reports still name files and lines, and each build
# takes about a quarter less time (test_locks.cpp: 25.4 s -> 18.8 s). A developer's `make
# test` keeps full debug information for gdb.
ifeq ($(CI),true)
  CI_DEBUG_INFO := -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" -DCMAKE_CXX_FLAGS_DEBUG="-g1"
endif

.PHONY: all deps build tour test twins bench soak sanitize tsan install clean docs

all: build

deps:
	@bash tools/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CI_DEBUG_INFO) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

tour: build
	@./$(BUILD)/asyncio-tour

test: build
	@ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

# The Python twins behind the scenario tests' expected logs (tests/python/):
# each must print exactly the .out its C++ test reads (tools/twins.py).
# --strict: a twin whose CPython is missing fails; --versions: also reports
# the twins that print differently on the other installed CPythons.
twins:
	@python3 tools/twins.py --strict --versions

bench: build
	@bench/compare --build $(BUILD)

# The loop under a mixed load on the real clock for SOAK_SECONDS (not in `make test`):
# RSS must stay flat and the loop must never stall longer than 100 ms.
SOAK_SECONDS ?= 60
soak: build
	@./$(BUILD)/asyncio-soak $(SOAK_SECONDS)

# ASan + UBSan with clang 14 (g++ 12 makes no tail call for symmetric transfer
# under ASan: see DESIGN.md's measured design notes).
sanitize: deps
	@CXX=clang++-14 cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug $(CI_DEBUG_INFO) \
	  -DASYNCIO_ENABLE_ASAN=ON -DASYNCIO_ENABLE_UBSAN=ON -DASYNCIO_BUILD_BENCH=OFF >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS)
	@ctest --test-dir $(ASAN_BUILD) --output-on-failure -j $(JOBS)

# ThreadSanitizer for the tests where threads meet (label `threads`).
tsan: deps
	@CXX=clang++-14 cmake -S . -B $(TSAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug $(CI_DEBUG_INFO) \
	  -DASYNCIO_ENABLE_TSAN=ON -DASYNCIO_BUILD_BENCH=OFF -DASYNCIO_BUILD_EXAMPLES=OFF >/dev/null
	@cmake --build $(TSAN_BUILD) -j $(JOBS) --target asyncio_thread_tests
	@ctest --test-dir $(TSAN_BUILD) --output-on-failure -j $(JOBS) -L threads

# The API reference from the headers (Doxygen): $(BUILD)/api/html/index.html.
# Doxygen's warnings go to $(BUILD)/api/warnings.log.
docs:
	@mkdir -p $(BUILD)/api
	@ASYNCIO_API_DIR=$(BUILD)/api doxygen tools/Doxyfile
	@echo "The API reference: $(BUILD)/api/html/index.html"

# Headers, libasyncio.a/.so, the CMake package and asyncio.pc under $(PREFIX)
# (`make install PREFIX=$$HOME/.local`); the build tree's libraries are installed as they are.
install: build
	@cmake --install $(BUILD) --prefix $(PREFIX)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD)
