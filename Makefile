# forge: the main job is `make build`, every test is `make test` (README.md, .ci/run).
SHELL := /bin/bash
FORGE := target/release/forge
SUITES := forge backend frontend chart images supply-chain delivery e2e

.PHONY: build test bench forge host-tools

## build: lock-verified build of every recipe in recipes/ (out/<name>/ and out/<name>.tar)
build: forge host-tools
	$(FORGE) build --all

## forge: compile the forge CLI
forge:
	cargo build --release --locked -p forge

## host-tools: toolchains the app builders run on the host (uv; Node.js/npm come with the machine)
host-tools:
	@command -v uv >/dev/null || python3 -m pip install --quiet 'uv>=0.9'

## test: every test suite under tests/suites, in order, with a final "N passed, N failed" line
test: forge host-tools
	tests/run-suites.sh $(SUITES)

## bench: speed and size figures (measured, not asserted)
bench: forge host-tools
	tests/run-benches.sh
