# The two commands of README.md: `make demo` and `make test`. Both install what is missing first.
BUILD ?= build
CMAKE_FLAGS ?=
JOBS ?= $(shell nproc)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# Debian 12 packages. Boost 1.81 for Boost.Process v2 (libboost-dev is 1.74 and conflicts).
DEB_PACKAGES := cmake ninja-build g++ clang clang-format libclang-rt-14-dev libyaml-cpp-dev libpq-dev \
  libboost1.81-dev nlohmann-json3-dev libgtest-dev libgmock-dev libcli11-dev \
  postgresql-15 postgresql-client-15 python3 python3-django python3-psycopg2 python3-yaml \
  git curl openssh-server openssh-client \
  rsync sudo procps hyperfine time tmux zsh
# make package: CPack's DEB generator finds the package's dependencies with dpkg-shlibdeps and file.
DEB_PACKAGES += dpkg-dev file
# e2e.report renders run reports in headless Chromium.
DEB_PACKAGES += chromium

.PHONY: deps build test unit demo bench package format format-check clean

deps:
	@missing=""; for p in $(DEB_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	@# Node for the tests' node tools (tests/package.json: ajv, yaml-language-server): Debian's
	@# nodejs+npm unless a node with npm is already there (Debian's npm conflicts with other builds
	@# of nodejs).
	@command -v npm >/dev/null || ($(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends nodejs npm)
	@(cd tests && npm ls --silent >/dev/null 2>&1) || (cd tests && npm install --no-audit --no-fund --silent)

build: deps
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS) >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 1800

unit: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) -LE 'e2e|integration'

demo: build
	bash examples/demo.sh $(BUILD)/runbook

# The .deb (CPack, see the end of CMakeLists.txt) in $(BUILD)/package/; only the binary is built.
package: deps
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS) >/dev/null
	cmake --build $(BUILD) -j $(JOBS) --target runbook
	cd $(BUILD) && cpack -B package >/dev/null && ls -1 $$PWD/package/*.deb

bench: build
	bash bench/run.sh $(BUILD)

# Every C++ file of the repo, formatted with the repo's .clang-format (format-check: CI's check).
CXX_FILES = $(shell git ls-files '*.cc' '*.h')
format:
	clang-format -i $(CXX_FILES)

format-check:
	clang-format --dry-run -Werror $(CXX_FILES)

clean:
	rm -rf $(BUILD)
