# The README's two commands: `make run` and `make test`. Both set everything up first.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
TORCH_VERSION := 2.13.0

.PHONY: setup system-deps run test lint bench eval clean

# A fresh venv gets the CPU build of torch first: installing sentence-transformers into an
# empty venv would otherwise pull the newest torch with several GB of CUDA packages.
$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet "torch==$(TORCH_VERSION)"
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

setup: $(VENV)/.installed

# Chromium and CJK fonts for the browser tests; LibreOffice (.doc/.wps), Tesseract with its
# Simplified Chinese data (scans and images) and poppler's pdftoppm (rasterising scanned PDFs)
# for reading letters. apt only when something is missing.
system-deps:
	@if ! command -v chromium >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -qi "Noto Sans CJK" \
		|| ! command -v soffice >/dev/null 2>&1 || ! command -v tesseract >/dev/null 2>&1 \
		|| ! command -v pdftoppm >/dev/null 2>&1 || ! tesseract --list-langs 2>/dev/null | grep -qx chi_sim; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && \
		$$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-noto-cjk \
			libreoffice-writer-nogui tesseract-ocr tesseract-ocr-chi-sim poppler-utils >/dev/null; \
	fi

run: setup
	$(BIN)/replyqa ingest samples/letters
	$(BIN)/replyqa serve

test: setup system-deps
	$(BIN)/pytest

lint: setup
	$(BIN)/ruff check .

# The README's figures (they need ../shared/corpus beside the checkout).
bench: setup
	$(BIN)/replyqa bench ingest --corpus ../shared/corpus/letters
	$(BIN)/replyqa bench ask --corpus ../shared/corpus/letters

eval: setup
	$(BIN)/replyqa eval --questions eval/corpus.jsonl --corpus ../shared/corpus/letters --baseline

clean:
	rm -rf $(VENV) build *.egg-info
