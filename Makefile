# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test setup system index clean docker-test

$(STAMP): requirements.lock requirements-dev.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.lock
	touch $(STAMP)

setup: $(STAMP) system

## Debian packages for OCR and the tests' Arabic fonts, where this can install them (root).
system:
	@tools/system-packages.sh

## Start the bot: Telegram when TELEGRAM_BOT_TOKEN is set, else the console chat.
run: setup
	$(BIN)/python -m bot

## The whole test suite.
test: setup
	$(BIN)/python -m pytest -q

index: setup
	$(BIN)/python -m bot index

clean:
	rm -rf $(VENV) data .pytest_cache

## Build the Docker image for real and check it (installs and starts Docker if needed; root).
docker-test: setup
	tools/docker-test.sh
