# The two commands a user needs: `make demo` and `make test`. Everything else is a building block.
JOBS ?= 2
PRESET ?= release
BUILD_DIR := $(if $(filter debug,$(PRESET)),build-debug,build)

.PHONY: all bootstrap configure build test unit-test py-test demo bench format clean

all: build

bootstrap:
	@scripts/bootstrap

configure:
	@test -f $(BUILD_DIR)/build.ninja || cmake --preset $(PRESET)

build: bootstrap configure
	cmake --build $(BUILD_DIR) -j $(JOBS)

test: build
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j $(JOBS)

demo: build
	$(BUILD_DIR)/bin/pairflow demo --no-ui --summary $(BUILD_DIR)/demo_summary.json

bench: build
	@for b in $(BUILD_DIR)/bin/bench_*; do echo "== $$b"; OPENBLAS_NUM_THREADS=1 $$b || exit 1; done
	@echo "== Engle-Granger vs statsmodels, same run (tests/s per core)"
	/usr/bin/python3 bench/stats_statsmodels.py --cpp $(BUILD_DIR)/bin/bench_stats
	@echo "== pairflow screen vs a statsmodels coint loop, same file"
	/usr/bin/python3 bench/screen_statsmodels.py --pairflow $(BUILD_DIR)/bin/pairflow

format:
	clang-format -i $$(git ls-files '*.h' '*.cc')

clean:
	rm -rf build build-debug
