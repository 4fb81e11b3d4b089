# maintenance-operator: every developer and CI entry point.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
export PYTHONPATH := $(CURDIR)/operator
CLUSTER_DIR ?= $(CURDIR)/.cluster
export MO_CLUSTER_DIR := $(CLUSTER_DIR)

.PHONY: help install lint fmt test test-unit test-integration test-e2e crds check-crds demo demo-kind demo-local \
        cluster-up cluster-down cluster-build e2e-kind image check-dockerfile bench clean

help: ## List targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -c constraints.txt -e '.[dev]'
	touch $@

install: $(VENV)/.installed ## Create .venv and install pinned dependencies

lint: install ## ruff, mypy --strict, import-linter contracts, CRD drift
	$(VENV)/bin/ruff check operator tests hack benchmarks
	$(VENV)/bin/ruff format --check operator tests hack benchmarks
	$(VENV)/bin/mypy
	MYPYPATH=hack:operator $(VENV)/bin/mypy --strict hack/chatapp_simulator.py hack/chatapp_pod.py hack/chatapp_sim \
		hack/kind_storage.py hack/demo_target.py hack/docker_engine.py
	$(VENV)/bin/lint-imports
	$(PY) -m maintenance_operator crds --check

fmt: install ## Format the code
	$(VENV)/bin/ruff format operator tests hack benchmarks
	$(VENV)/bin/ruff check --fix operator tests hack benchmarks

crds: install ## Render crds/*.yaml and the Helm chart's copy from the pydantic models
	$(PY) -m maintenance_operator crds

check-crds: install
	$(PY) -m maintenance_operator crds --check

test-unit: install ## Pure unit tests (no cluster, no Prometheus)
	$(PY) -m pytest tests/unit -q

test: install ## Everything this machine can run: unit, integration (real Prometheus), e2e (local cluster)
	hack/test.sh

demo: install ## The whole loop, five faults, offline planner: on kind if Docker is available, else the local cluster
	hack/demo.sh

demo-kind: install ## `make demo` on kind (real Pods): MO_DEMO_TARGET=kind
	MO_DEMO_TARGET=kind hack/demo.sh

demo-local: install ## `make demo` on the local cluster (kwok nodes): MO_DEMO_TARGET=local
	MO_DEMO_TARGET=local hack/demo.sh

cluster-build: ## Build (once, cached) the pinned control-plane binaries
	hack/cluster/build.sh

cluster-up: install ## Start etcd, apiserver, controller-manager, scheduler, kwok, Prometheus, simulator
	hack/cluster/up.sh

cluster-down: ## Stop exactly the processes cluster-up started
	hack/cluster/down.sh

IMAGE ?= maintenance-operator:dev
image: ## Build the operator's container image (needs Docker): IMAGE=maintenance-operator:dev
	@command -v docker >/dev/null || { echo "make image needs docker" >&2; exit 1; }
	docker build -t $(IMAGE) .

check-dockerfile: ## Check the Dockerfile with BuildKit's own parser and lint rules (no Docker needed)
	hack/dockerfile-check.sh Dockerfile

e2e-kind: install ## The e2e suite on a kind cluster (needs Docker)
	hack/kind/e2e.sh

bench: install ## Run the benchmarks and write benchmarks/results/
	$(PY) -m benchmarks

clean: cluster-down
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
