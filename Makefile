.PHONY: run test test-pg lint typecheck check bench bench-web bench-search setup

PG_URL ?= postgres://postgres@127.0.0.1:5432/test
REDIS ?= redis://127.0.0.1:6379/0

run:        ## set up and serve on http://127.0.0.1:8000
	sh scripts/run.sh

test:       ## the whole suite on the embedded default (SQLite, in-memory fan-out)
	sh scripts/test.sh

test-pg:    ## the whole suite on PostgreSQL + Redis
	DATABASE_URL=$(PG_URL) REDIS_URL=$(REDIS) sh scripts/test.sh

setup:
	sh scripts/setup.sh

lint:
	.venv/bin/ruff check .

typecheck:
	.venv/bin/mypy chatserver bots

check: lint typecheck

bench:      ## load benchmark; see bench/README.md
	.venv/bin/python -m bench $(ARGS)

bench-web:  ## web client: bundle size, first load, a 10,000-message room (bench/web.py)
	.venv/bin/python -m bench.web $(ARGS)
bench-search: ## search benchmark on both engines (MESSAGES=1000000); see bench/search.py
	.venv/bin/python -m bench search --engine postgres --messages $(or $(MESSAGES),1000000) $(ARGS)
	.venv/bin/python -m bench search --engine sqlite --messages $(or $(MESSAGES),1000000) $(ARGS)
