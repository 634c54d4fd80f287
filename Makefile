# Everyone (newcomers, CI) runs the project the same way: through these targets.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: run test lint typecheck check bench-quality bench-speed bench-gaps bench-normalize bench-heldout bench-zh bench-titles bench-crash bench-load migration-regen demo

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/talentmatch migrate
	$(VENV)/bin/talentmatch serve --host 127.0.0.1 --port 8000

test: $(STAMP)
	$(PY) -m pytest -W error $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check service tests bench training migrations
	$(VENV)/bin/ruff format --check service tests bench training migrations
	$(VENV)/bin/lint-imports

typecheck: $(STAMP)
	$(VENV)/bin/mypy

check: lint typecheck test

demo: $(STAMP)
	$(VENV)/bin/talentmatch migrate
	$(VENV)/bin/talentmatch demo

bench-quality: $(STAMP)
	$(PY) -m bench.quality

bench-speed: $(STAMP)
	$(PY) -m bench.speed --http auto

bench-gaps: $(STAMP)
	$(PY) -m bench.gaps

bench-normalize: $(STAMP)
	$(PY) -m bench.normalize

# Held-out development cases (../shared/data/eval-dev): the service beside plain cosine, TF-IDF, keyword.
bench-heldout: $(STAMP)
	$(PY) -m bench.heldout --esco

# Chinese and cross-language matching: the issue's pairs through POST /v1/match, MRR@10 on 225 zh/en skill pairs.
bench-zh: $(STAMP)
	$(PY) -m bench.zh

# Job titles to occupations: CSCO acc@1 on real Chinese titles, ESCO MRR@10 on vacancy titles, baselines beside.
bench-titles: $(STAMP)
	$(PY) -m bench.titles

# Kill the server at random moments during writes, 20 rounds per database (PostgreSQL at 127.0.0.1).
bench-crash: $(STAMP)
	$(PY) -m bench.crash --db sqlite --rounds 20
	$(PY) -m bench.crash --db postgres --rounds 20

# 60 s of matching and list calls with 10,000 graduates, one worker then two (PostgreSQL, Redis).
bench-load: $(STAMP)
	$(PY) -m bench.load --db postgres --workers 1 --duration 60
	$(PY) -m bench.load --db postgres --workers 2 --duration 60 --redis redis://127.0.0.1:6379/0

# The schema has one initial revision until the first release; regenerate it from the ORM.
migration-regen: $(STAMP)
	$(PY) scripts/regen_migration.py
