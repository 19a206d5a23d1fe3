# The two commands of the README: `make run` and `make test`. Both need only Python 3.11+.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The pinned dependency set, with hashes, that `make install` installs (`make lock` writes it).
LOCK := requirements.lock
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml $(LOCK) 2>/dev/null | sha256sum | cut -c1-12)
export PORTAL_DEMO ?= 1

# pyproject's dependency lists, hashed; the lock records the hash it was computed from.
define DEPS_HASH_PY
import hashlib, json, tomllib
project = tomllib.load(open("pyproject.toml", "rb"))["project"]
lists = [project.get("dependencies", []), project.get("optional-dependencies", {})]
print(hashlib.sha256(json.dumps(lists, sort_keys=True).encode()).hexdigest()[:16])
endef
export DEPS_HASH_PY

# Which vulnerability database answers from here: OSV's API, else PyPI's JSON API.
define AUDIT_SERVICE_PY
import urllib.request
probes = [("osv", "https://api.osv.dev/v1/vulns/PYSEC-2021-66"),
          ("pypi", "https://pypi.org/pypi/jinja2/3.1.2/json")]
for service, url in probes:
    try:
        urllib.request.urlopen(url, timeout=10).read(1)
    except Exception:
        continue
    print(service)
    break
endef
export AUDIT_SERVICE_PY

.PHONY: run test lint format install lock check-lock audit clean bench

$(STAMP): pyproject.toml $(LOCK)
	@$(MAKE) --no-print-directory check-lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@# The pip that ships with Python 3.11 (23.x) treats an extra such as fonttools[woff] as
	@# an unpinned requirement in --require-hashes mode and refuses the lock; 24.1 and newer do not.
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24.1"
	$(BIN)/python -m pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

# Fails loudly when someone added or changed a dependency in pyproject.toml without the lock.
check-lock:
	@hash=$$($(PYTHON) -c "$$DEPS_HASH_PY"); grep -qx "# pyproject-deps: $$hash" $(LOCK) 2>/dev/null || { \
	  echo "ERREUR : $(LOCK) ne correspond plus aux dépendances de pyproject.toml." >&2; \
	  echo "         Lancez « make lock », puis committez $(LOCK) avec pyproject.toml." >&2; \
	  exit 1; }

# Resolves pyproject's dependencies (test extra included) for every platform, with hashes.
lock:
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@test -x $(BIN)/uv || $(BIN)/python -m pip install --quiet "uv>=0.5"
	$(BIN)/uv pip compile pyproject.toml --extra test --universal --python-version 3.11 \
	  --generate-hashes --no-header --quiet --output-file $(LOCK).new
	@{ echo "# Pinned dependencies of Portail Famille, with hashes: make install installs them."; \
	  echo "# Do not edit: change pyproject.toml, then run make lock."; \
	  echo "# pyproject-deps: $$($(PYTHON) -c "$$DEPS_HASH_PY")"; cat $(LOCK).new; } > $(LOCK)
	@rm -f $(LOCK).new
	@echo "$(LOCK) régénéré : $$(grep -c '==' $(LOCK)) paquets épinglés."

# pip-audit on the locked set; exit 0 with a clear line when no database can be reached.
audit: $(STAMP)
	@service=$$($(BIN)/python -c "$$AUDIT_SERVICE_PY"); \
	if [ -z "$$service" ]; then \
	  echo "make audit : aucune base de vulnérabilités joignable d'ici (OSV, PyPI) : audit NON effectué."; \
	  exit 0; fi; \
	echo "make audit : $(LOCK) contrôlé avec la base $$service"; \
	$(BIN)/pip-audit --requirement $(LOCK) --require-hashes --disable-pip --no-deps \
	  --vulnerability-service $$service --progress-spinner off

install: $(STAMP)

run: $(STAMP)
	$(BIN)/portal migrate
	$(BIN)/portal demo --if-empty
	$(BIN)/portal serve --host 127.0.0.1 --port 8000

test: $(STAMP)
	$(BIN)/python -m pytest

# Opening day over HTTP (bench/README.md): a script, not part of `make test`. Needs
# PostgreSQL, Redis, nginx and wrk on this machine; a few minutes.
bench: $(STAMP)
	$(BIN)/python bench/opening_rush.py --families 1000 --concurrency 200

lint: $(STAMP)
	$(BIN)/ruff check src tests bench migrations
	$(BIN)/ruff format --check src tests bench migrations
	$(BIN)/mypy
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff check --fix src tests bench migrations
	$(BIN)/ruff format src tests bench migrations

clean:
	rm -rf $(VENV) var test-artifacts
