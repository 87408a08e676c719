# Kiln — `make demo` runs Kiln on bundled sample data; `make test` runs every test suite.
# Both install what they need first: Debian packages (apt-get) and a project-local .venv.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c

SYSTEM_PACKAGES := libopenblas-dev liblapacke-dev libturbojpeg0-dev libpng-dev pkg-config
VENV := .venv
PYTHON := $(VENV)/bin/python
CC ?= cc
C_FLAGS := -std=c11 -Wall -Wextra -Werror -pedantic -Iinclude
DEBUG_BIN := .build/debug
RELEASE_BIN := .build/release

.PHONY: all deps venv build release test test-swift test-c test-python demo bench install clean

all: build

## System packages: installed with apt-get when missing (root or sudo), else named.
deps:
	@missing=""; for package in $(SYSTEM_PACKAGES); do \
	    dpkg-query -W -f='$${Status}' "$$package" 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$package"; \
	done; \
	if [ -n "$$missing" ]; then \
	    if [ "$$(id -u)" = 0 ]; then sudo=""; elif command -v sudo >/dev/null; then sudo="sudo"; \
	    else echo "kiln needs these Debian packages:$$missing — install them with: apt-get install -y$$missing" >&2; exit 1; fi; \
	    echo "installing$$missing"; \
	    $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq $$missing >/dev/null \
	      || { echo "could not install:$$missing — run: apt-get update && apt-get install -y$$missing" >&2; exit 1; }; \
	fi

## Python: a project-local virtual environment with numpy, pytest and the kiln binding (editable).
venv: $(VENV)/.installed
$(VENV)/.installed: requirements-dev.txt bindings/python/pyproject.toml
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check -r requirements-dev.txt
	$(VENV)/bin/pip install -q --disable-pip-version-check -e bindings/python
	touch $@

## Builds: libkiln.so and the `kiln` command in .build/debug or .build/release.
build: deps
	swift build
	ln -sf kiln-cli "$(DEBUG_BIN)/kiln"

# Release builds check exclusive access at compile time only (Xcode's "debug-only" setting): the
# debug builds the tests run keep the run-time checks, which in a release build cost the load
# generator about 0.3 µs a request inside SwiftNIO.
RELEASE_FLAGS := -Xswiftc -enforce-exclusivity=unchecked

release: deps
	swift build -c release $(RELEASE_FLAGS)
	ln -sf kiln-cli "$(RELEASE_BIN)/kiln"

test: deps venv build test-swift test-c test-python
	@echo "all test suites passed"

# The load generator's timing tests run alone, after the others: parallel suites would delay them.
test-swift:
	swift test --skip LoadRunTests
	swift test --filter LoadRunTests

test-c:
	mkdir -p "$(DEBUG_BIN)/c-tests"
	$(CC) $(C_FLAGS) Tests/c/test_kiln.c -L"$(DEBUG_BIN)" -lkiln -Wl,-rpath,"$(abspath $(DEBUG_BIN))" -lm -o "$(DEBUG_BIN)/c-tests/test_kiln"
	"$(DEBUG_BIN)/c-tests/test_kiln" Tests/c/fixtures/tiny_cnn.onnx
	Tests/c/check_symbols.sh "$(DEBUG_BIN)/libkiln.so"

test-python:
	KILN_LIBRARY="$(DEBUG_BIN)/libkiln.so" KILN_CLI="$(DEBUG_BIN)/kiln-cli" $(PYTHON) -m pytest -q bindings/python/tests

demo: deps venv release
	@echo "== kiln info"
	@"$(RELEASE_BIN)/kiln" info
	@echo
	@echo "== The trained Fashion-MNIST CNN (examples/models): kiln nn info"
	@"$(RELEASE_BIN)/kiln" nn info examples/models/fashion_mnist_cnn.onnx
	@echo
	@echo "== Classify the bundled Fashion-MNIST images with Kiln (examples/classify_fashion_mnist.py)"
	@KILN_LIBRARY="$(RELEASE_BIN)/libkiln.so" $(PYTHON) examples/classify_fashion_mnist.py
	@echo
	@echo "== Classify handwritten digits from Python through libkiln (examples/digits_nearest_centroid.py)"
	@KILN_LIBRARY="$(RELEASE_BIN)/libkiln.so" $(PYTHON) examples/digits_nearest_centroid.py
	@echo
	@echo "== Preprocess the bundled wage (earnings) data: kiln transform analyze, then apply (examples/transform/wage_spec.json)"
	@mkdir -p .build/demo
	@"$(RELEASE_BIN)/kiln" transform analyze --spec examples/transform/wage_spec.json examples/data/wage_islr.csv -o .build/demo/wage_graph.json
	@"$(RELEASE_BIN)/kiln" transform apply .build/demo/wage_graph.json examples/data/wage_islr.csv -o .build/demo/wage_features.csv
	@head -n 6 .build/demo/wage_features.csv
	@echo
	@echo "== Validate data: profile the bundled patient data, infer a schema, validate a new span with drift injected"
	@"$(RELEASE_BIN)/kiln" stats examples/data/pbc_patients.csv -o .build/demo/pbc_stats.json --html .build/demo/pbc_stats.html | tail -n 1
	@"$(RELEASE_BIN)/kiln" schema infer .build/demo/pbc_stats.json -o .build/demo/pbc_schema.json --not-in-serving status
	@$(PYTHON) examples/validation/make_new_span.py examples/data/pbc_patients.csv .build/demo/pbc_new_span.csv
	@"$(RELEASE_BIN)/kiln" stats .build/demo/pbc_new_span.csv -o .build/demo/pbc_new_stats.json | tail -n 1
	@"$(RELEASE_BIN)/kiln" validate --schema .build/demo/pbc_schema.json --stats .build/demo/pbc_new_stats.json \
	    --baseline .build/demo/pbc_stats.json -o .build/demo/pbc_anomalies.json --html .build/demo/pbc_validation.html \
	    | grep -v "^drift .*)$$" || test $$? -le 1
	@echo "report: .build/demo/pbc_validation.html (anomalies: .build/demo/pbc_anomalies.json)"
	@echo
	@echo "== kiln bench nn: the Fashion-MNIST CNN, batch 1 and 32, one thread"
	@"$(RELEASE_BIN)/kiln" bench nn examples/models/fashion_mnist_cnn.onnx --batch 1 --threads 1 --runs 20
	@"$(RELEASE_BIN)/kiln" bench nn examples/models/fashion_mnist_cnn.onnx --batch 32 --threads 1 --runs 10
	@echo
	@echo "== Augment the bundled photos (examples/augment/training.json, albumentations' names): 4 seeded copies each"
	@"$(RELEASE_BIN)/kiln" augment --pipeline examples/augment/training.json --seed 1 --copies 4 \
	    --output-dir .build/demo/augmented --contact-sheet .build/demo/contact_sheet.png --replay .build/demo/augment_replay.json \
	    examples/data/photos/*.png examples/data/photos/*.jpg 2>/dev/null
	@echo "contact sheet: .build/demo/contact_sheet.png (each row: the photo, then its copies); parameters: .build/demo/augment_replay.json"
	@echo
	@echo "== Serve the CNN (kiln serve), classify sample images over HTTP, load-test it (kiln load, examples/load/scenario.yaml)"
	@rm -rf .build/demo/models && mkdir -p .build/demo/models/fashion/1
	@cp examples/models/fashion_mnist_cnn.onnx .build/demo/models/fashion/1/model.onnx
	@$(PYTHON) -c 'import json; print("\n".join(json.load(open("examples/models/fashion_mnist_cnn.json"))["classes"]))' \
	    > .build/demo/models/fashion/1/labels.txt
	@echo '{"channels": 1, "transforms": [{"name": "Normalize", "mean": [0], "std": [1], "layout": "HWC"}]}' \
	    > .build/demo/models/fashion/1/preprocess.json
	@$(PYTHON) examples/load/make_requests.py .build/demo/fashion_requests.csv
	@"$(RELEASE_BIN)/kiln" serve --model-dir .build/demo/models --port 0 --threads 1 > .build/demo/serve.log 2>&1 & server=$$!; \
	    trap 'kill $$server' EXIT; \
	    for attempt in $$(seq 100); do grep -q "^serving" .build/demo/serve.log && break; sleep 0.1; done; \
	    url=$$(sed -n 's/^serving .* on //p' .build/demo/serve.log); \
	    test -n "$$url" || { cat .build/demo/serve.log; exit 1; }; \
	    $(PYTHON) examples/serve/classify_images.py "$${url}/v1/models/fashion" \
	        examples/data/fashion_mnist_1000/Bag/t10k_00018.png examples/data/fashion_mnist_1000/Sneaker/$$(ls examples/data/fashion_mnist_1000/Sneaker | head -1) \
	        examples/data/fashion_mnist_1000/Trouser/$$(ls examples/data/fashion_mnist_1000/Trouser | head -1) && \
	    "$(RELEASE_BIN)/kiln" load "$$url" --scenario examples/load/scenario.yaml --data .build/demo/fashion_requests.csv \
	        --quiet --json .build/demo/load.json --threshold 'errors<1%'

## Side-by-side benchmarks against the peers (see benchmarks/README.md).
bench: release
	benchmarks/run gemm

PREFIX ?= /usr/local
install: release
	install -d $(PREFIX)/bin $(PREFIX)/lib $(PREFIX)/include
	install -m 755 "$(RELEASE_BIN)/kiln-cli" $(PREFIX)/bin/kiln
	install -m 755 "$(RELEASE_BIN)/libkiln.so" $(PREFIX)/lib/libkiln.so
	install -m 644 include/kiln.h $(PREFIX)/include/kiln.h

clean:
	rm -rf .build $(VENV) .venv-bench
