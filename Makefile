# Toolchain of the Nanjing 12320 hotline assistant.
#
#   make setup      system-deps (a CJK font), then .venv-rasa (Rasa, bot/) and .venv (our package + tests) from the locks
#   make test       validate + test-app + test-bot + test-dialogue + test-nlu (what CI runs; trains the model once)
#   make validate   rasa data validate (fails on errors and warnings)
#   make test-app   pytest in .venv, all of tests/ but tests/bot     (PYTEST_ARGS=...)
#   make test-bot   pytest in .venv-rasa, tests/bot                  (PYTEST_ARGS=...)
#   make run        store + model, then action server :5055, Rasa :5005, app :8080 until Ctrl-C / make stop
#   make run-prod   the same scaled out: two Rasa (:5005, :5006) on PostgreSQL, Redis and RabbitMQ
#   make shell      rasa shell on the trained model, an action server alongside (stopped when it ends)
#   make actions    the action server alone on :5055, for rasa shell / rasa run by hand (endpoints.yml)
#   make gazetteer  var/gazetteer.json (names for the NLU components) from the store
#   make model      models/current.tar.gz, trained when missing or stale
#   make crisis-model  var/crisis-model.json, the crisis detector's classifier (seconds; docs/crisis.md)
#   make test-dialogue  rasa test core on tests/test_stories.yml (every form path)
#   make test-nlu   rasa test nlu on tests/nlu (held out), the realistic set, and the NLU thresholds
#   make bench-nlu  this config vs plain Rasa vs TF-IDF+SVM, held-out and SMP2017
#   make bench-crisis  the crisis sets of tests/eval: the detector, then end to end through Rasa's REST channel
#   make bench-answers the question banks of tests/eval: exact, wrong, "not held" and silent answers, end to end
#   make loadtest   simulated WeChat residents on loopback, default then production shape (LOADTEST_ARGS=...)
#   make lock       re-resolve requirements/*.in and rewrite requirements/*.lock (and the images' *-runtime.lock)
#   make clean      remove generated files (var/, models/, caches); distclean: also the venvs
#
# Two venvs because Rasa 3.6 pins SQLAlchemy 1.4 and aiohttp 3.9 while our code uses SQLAlchemy 2.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.ONESHELL:
.DELETE_ON_ERROR:
.DEFAULT_GOAL := help

PY_VERSION := $(shell cat .python-version)
SEEDS ?= ../shared/seeds
PYTEST_ARGS ?=
# Extra flags for every pip install (e.g. PIP_FLAGS=-v to see what pip does).
PIP_FLAGS ?= --quiet --no-input --progress-bar off

REQ := requirements
RASA_VENV := .venv-rasa
APP_VENV := .venv
RASA_STAMP := $(RASA_VENV)/.installed
APP_STAMP := $(APP_VENV)/.installed
STORE := var/hotline.db
# When the store last took in the seeds: the store file itself changes with every ticket and turn.
STORE_STAMP := var/store.stamp
GAZETTEER := var/gazetteer.json
# The trained model and what it is trained from (defined here: rules below name them as prerequisites).
MODEL := models/current.tar.gz
NLU_REPORT := var/nlu-report
# The model is made from the data, the config and the NLU components: bot/*.py (one module per
# component) and the pure text rules they use (safety/). bot/server/ runs the server: not an input.
TRAINING_FILES := config.yml domain.yml $(shell find data -name '*.yml' 2>/dev/null) \
    $(wildcard bot/*.py) $(wildcard safety/*.py) $(wildcard safety/data/*) $(wildcard language/*.py)
# The crisis detector's classifier (safety/train.py): seconds to train, read by the NLU component at
# training (kept in the model) and by the app at start (the WeChat gateway runs the detector too).
CRISIS_MODEL := var/crisis-model.json
CRISIS_FILES := $(wildcard safety/*.py) $(wildcard safety/data/*) $(wildcard language/*.py) \
    $(shell find data/nlu -name '*.yml' 2>/dev/null)
# Tests that import Rasa: run by .venv-rasa's pytest, left out of .venv's run.
RASA_TESTS := tests/bot

# The interpreter the venvs are made from: pyenv's $(PY_VERSION), else python3.10 on PATH.
# (Recursive variable: only evaluated when a venv is (re)built.)
BASE_PYTHON = $(shell { PYENV_VERSION=$(PY_VERSION) python3.10 -c 'import sys; print(sys.executable)' \
                      || python3.10 -c 'import sys; print(sys.executable)'; } 2>/dev/null)

# Every Rasa process: no telemetry (and no consent prompt), no model hub downloads, quieter TF/SQLAlchemy.
export RASA_TELEMETRY_ENABLED := false
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TF_CPP_MIN_LOG_LEVEL := 2
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

# (Rasa's dependencies print a few DeprecationWarnings on start; PYTHONWARNINGS can't hide them,
# sanic 21.12 re-enables DeprecationWarning at import.)
RASA := $(RASA_VENV)/bin/rasa

# pip's "Location '...' is ignored" notes come from the machine's extra local indexes (pip.conf):
# they are noise here, everything else pip says is kept.
PIP_NOISE := grep -v "^WARNING: Location '.*' is ignored: it is neither a file nor a directory" >&2 || true

.PHONY: help setup system-deps test validate test-app test-bot run store gazetteer lock lock-rasa lock-app lock-runtime lock-rasa-runtime lock-app-runtime clean distclean model nlu-report test-nlu test-dialogue bench-nlu

help:
	@sed -n '2,/^$$/s/^# \{0,1\}//p' $(firstword $(MAKEFILE_LIST))

setup: system-deps $(RASA_STAMP) $(APP_STAMP)

# --- system packages --------------------------------------------------------------------
# `hotline report --format png` draws Chinese labels: matplotlib needs a CJK font file (the machine
# has only DejaVu). Installed from Debian's packages when missing (we run as root; CI runs `make
# setup`); hotline/reports.py loads it by path and refuses to draw without it.
CJK_FONT := /usr/share/fonts/truetype/wqy/wqy-microhei.ttc
# The console's browser tests (tests/e2e/test_console_browser.py) drive Debian's headless Chromium
# through Playwright (a test tool's own browser download cannot work here: no CDN is reachable).
CHROMIUM := /usr/bin/chromium
SYSTEM_PACKAGES := fonts-wqy-microhei chromium chromium-driver

system-deps:
	@[ -f $(CJK_FONT) ] && [ -x $(CHROMIUM) ] && exit 0
	echo "== apt-get install $(SYSTEM_PACKAGES)"
	apt="$$([ "$$(id -u)" = 0 ] || echo sudo) env DEBIAN_FRONTEND=noninteractive apt-get -y -qq"
	# Without package lists (a fresh machine) the first install fails: update them, then try again.
	$$apt install --no-install-recommends $(SYSTEM_PACKAGES) >/dev/null 2>&1 \
	    || { $$apt update && $$apt install --no-install-recommends $(SYSTEM_PACKAGES) >/dev/null; }
	[ -f $(CJK_FONT) ] || { echo "fonts-wqy-microhei did not install $(CJK_FONT)" >&2; exit 1; }
	[ -x $(CHROMIUM) ] || { echo "chromium did not install $(CHROMIUM)" >&2; exit 1; }

# --- virtual environments ---------------------------------------------------------------
# A venv is rebuilt from scratch whenever a lock, an .in file or the Python version changes, so it
# holds exactly what its lock lists (checked against `pip freeze` before the stamp is written).
# A change to pyproject.toml alone only reinstalls our project into .venv (same check; a full
# rebuild if that is not enough).

# $(call venv-matches-lock,VENV,LOCK-FILE): diff of the lock against pip freeze; false if they differ.
define venv-matches-lock
diff -u <(grep -v '^\s*\(#\|$$\)' $(2) | sort -f) \
        <($(1)/bin/python -m pip freeze --all --exclude-editable | sort -f) >&2
endef

# $(call build-venv,VENV,IN-FILE,LOCK-FILE)
define build-venv
py="$(BASE_PYTHON)"
[ -n "$$py" ] || { echo "python3.10 ($(PY_VERSION)) not found: neither pyenv nor PATH has it" >&2; exit 1; }
echo "== building $(1) with $$py ($$($$py -V))"
rm -rf $(1)
"$$py" -m venv $(1)
$(1)/bin/python -m pip install $(PIP_FLAGS) -r $(REQ)/bootstrap.lock 2> >($(PIP_NOISE))
$(1)/bin/python -m pip install $(PIP_FLAGS) --build-constraint $(REQ)/bootstrap.lock \
    -r $(2) -c $(3) 2> >($(PIP_NOISE))
$(1)/bin/python -m pip check
if ! $(call venv-matches-lock,$(1),$(3)); then
    echo "$(1) differs from $(3) (lines +: installed but not locked): run 'make lock' or fix $(2)" >&2
    exit 1
fi
endef

$(RASA_STAMP): $(REQ)/bootstrap.lock $(REQ)/rasa.in $(REQ)/rasa.lock .python-version
	@start=$$SECONDS
	$(call build-venv,$(RASA_VENV),$(REQ)/rasa.in,$(REQ)/rasa.lock)
	# Our NLU components: bot/ and the pure text rules it uses (safety/, language/, and the masker
	# hotline/privacy.py, which Rasa's tracker stores use: bot/server/trackers.py) are linked (not installed)
	# into $(RASA_VENV)/src, put on sys.path by a .pth file. Only those: the rest of the repository
	# (knowledge/, the rest of hotline/ need SQLAlchemy 2) stays out.
	mkdir -p $(RASA_VENV)/src/hotline
	ln -sfn $(CURDIR)/bot $(RASA_VENV)/src/bot
	ln -sfn $(CURDIR)/safety $(RASA_VENV)/src/safety
	ln -sfn $(CURDIR)/language $(RASA_VENV)/src/language
	ln -sfn $(CURDIR)/hotline/__init__.py $(RASA_VENV)/src/hotline/__init__.py
	ln -sfn $(CURDIR)/hotline/privacy.py $(RASA_VENV)/src/hotline/privacy.py
	$(RASA_VENV)/bin/python -c 'import sysconfig; print(sysconfig.get_path("purelib"))' \
	    | { read -r site; echo "$(CURDIR)/$(RASA_VENV)/src" > "$$site/hotline-bot.pth"; }
	# Smoke test (its chatter is shown only if it fails): Rasa, and spaCy's Chinese pipeline with
	# jieba segmentation, offline.
	if ! smoke=$$( { $(RASA) --version && $(RASA_VENV)/bin/python -c 'import bot, rasa.nlu.tokenizers.jieba_tokenizer, spacy; \
	        spacy.blank("zh"); \
	        nlp = spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "jieba"}}}); \
	        print("jieba segmentation:", " | ".join(t.text for t in nlp("南京市12320卫生健康热线")))'; } 2>&1 ); then
	    echo "$$smoke" >&2; echo "$(RASA_VENV): smoke test failed" >&2; exit 1
	fi
	grep -E '^(Rasa Version|Python Version|jieba segmentation)' <<<"$$smoke"
	touch $@
	echo "== $(RASA_VENV) ready in $$((SECONDS - start)) s"

$(APP_STAMP): $(REQ)/bootstrap.lock $(REQ)/app.in $(REQ)/app.lock pyproject.toml .python-version
	@start=$$SECONDS
	if [ "$?" = pyproject.toml ] && [ -x $(APP_VENV)/bin/python ] \
	   && $(APP_VENV)/bin/python -m pip install $(PIP_FLAGS) --build-constraint $(REQ)/bootstrap.lock \
	          -r $(REQ)/app.in -c $(REQ)/app.lock 2> >($(PIP_NOISE)) \
	   && $(APP_VENV)/bin/python -m pip check && $(call venv-matches-lock,$(APP_VENV),$(REQ)/app.lock); then
	    echo "== $(APP_VENV): project reinstalled (only pyproject.toml changed)"
	else
	    $(call build-venv,$(APP_VENV),$(REQ)/app.in,$(REQ)/app.lock)
	fi
	touch $@
	echo "== $(APP_VENV) ready in $$((SECONDS - start)) s"

# --- lock files -------------------------------------------------------------------------
# Resolve X.in afresh (newest versions it allows) in a throw-away venv and freeze it into X.lock.
# Review the diff before committing; `make setup` then rebuilds the venvs from the new locks.
# X-runtime.lock (the images' locks, Dockerfile): X-runtime.in installed under X.lock's pins, i.e.
# X.lock less the test tools and what only they need; made again after X.lock (lock-runtime alone:
# from the X.lock there is).
lock: lock-rasa lock-app
	@$(MAKE) --no-print-directory lock-runtime

lock-runtime: lock-rasa-runtime lock-app-runtime

lock-rasa lock-app lock-rasa-runtime lock-app-runtime: lock-%:
	@py="$(BASE_PYTHON)"
	[ -n "$$py" ] || { echo "python3.10 ($(PY_VERSION)) not found" >&2; exit 1; }
	tmp=$$(mktemp -d)
	trap 'rm -rf "$$tmp"' EXIT
	"$$py" -m venv "$$tmp/venv"
	"$$tmp/venv/bin/python" -m pip install $(PIP_FLAGS) -r $(REQ)/bootstrap.lock 2> >($(PIP_NOISE))
	"$$tmp/venv/bin/python" -m pip install $(PIP_FLAGS) --build-constraint $(REQ)/bootstrap.lock \
	    -r $(REQ)/$*.in $(if $(filter %-runtime,$*),-c $(REQ)/$(*:-runtime=).lock) 2> >($(PIP_NOISE))
	"$$tmp/venv/bin/python" -m pip check
	{
	    echo "# Exact versions for $(REQ)/$*.in$(if $(filter %-runtime,$*),: the subset of $(REQ)/$(*:-runtime=).lock it installs) (CPython $$("$$tmp/venv/bin/python" -c 'import platform; print(platform.python_version())'), Linux x86_64)."
	    echo "# Generated by 'make lock-$*' from a clean install (pip freeze --all); do not edit by hand."
	    echo "# Used as: pip install --build-constraint $(REQ)/bootstrap.lock -r $(REQ)/$*.in -c $(REQ)/$*.lock"
	    "$$tmp/venv/bin/python" -m pip freeze --all --exclude-editable
	} > $(REQ)/$*.lock.tmp
	mv $(REQ)/$*.lock.tmp $(REQ)/$*.lock
	echo "wrote $(REQ)/$*.lock ($$(grep -vc '^#' $(REQ)/$*.lock) packages)"

# --- checks -----------------------------------------------------------------------------
# `make test` = validate + test-app + test-bot; each can be run alone (PYTEST_ARGS goes to both
# pytest runs, so narrow a run with test-app or test-bot, e.g. make test-app PYTEST_ARGS='-k store').
test: validate test-app test-bot test-dialogue test-nlu

validate: setup
	@echo "== $(RASA) data validate --quiet --fail-on-warnings"
	$(RASA) data validate --quiet --fail-on-warnings

# Seeds for tests/conftest.py (it defaults to ../shared/seeds too). The model: tests/e2e runs the
# real Rasa server with it (trained once per `make test`, before test-dialogue needs it too).
test-app: export HOTLINE_SEEDS := $(abspath $(SEEDS))
test-app: setup $(MODEL)
	@echo "== $(APP_VENV)/bin/python -m pytest --ignore=$(RASA_TESTS) --ignore=tests/nlu_eval $(PYTEST_ARGS)"
	$(APP_VENV)/bin/python -m pytest --ignore=$(RASA_TESTS) --ignore=tests/nlu_eval $(PYTEST_ARGS)

# --confcutdir: tests/conftest.py imports knowledge/ (SQLAlchemy 2), which .venv-rasa cannot.
test-bot: export HOTLINE_GAZETTEER := $(CURDIR)/$(GAZETTEER)
test-bot: setup $(GAZETTEER)
	@echo "== $(RASA_VENV)/bin/python -m pytest --confcutdir=$(RASA_TESTS) $(RASA_TESTS) $(PYTEST_ARGS)"
	$(RASA_VENV)/bin/python -m pytest --confcutdir=$(RASA_TESTS) $(RASA_TESTS) $(PYTEST_ARGS)

# Dialogue test stories: every form path (happy, cancel, digression, crisis) as the policies predict it.
test-dialogue: $(MODEL)
	@echo "== rasa test core --stories tests/test_stories.yml"
	rm -rf var/story-report
	$(RASA) test core --model $(MODEL) --stories tests/test_stories.yml --out var/story-report \
	    --fail-on-prediction-errors --no-plot

# --- the model ----------------------------------------------------------------------------
.PHONY: crisis-model bench-crisis
crisis-model: $(CRISIS_MODEL)
$(CRISIS_MODEL): $(CRISIS_FILES) $(APP_STAMP)
	@mkdir -p $(@D)
	$(APP_VENV)/bin/python -m safety.train --out $@

# Crisis benchmark (bench/crisis.py): the detector on tests/eval/crisis26 (blind), crisis25, crisis24, crisis23, crisis22, crisis21, crisis20, crisis19, crisis18, crisis17, crisis16, crisis15, crisis14, crisis13, crisis12, crisis11, crisis10, crisis7 and crisis, then end to end through the
# REST channel of the real servers; BENCH_CRISIS_ARGS=--show lists every miss and false alarm.
BENCH_CRISIS_ARGS ?=
bench-crisis: setup $(MODEL)
	$(APP_VENV)/bin/python bench/crisis.py --sets tests/eval/crisis26 $(BENCH_CRISIS_ARGS)
	$(APP_VENV)/bin/python bench/crisis.py --sets tests/eval/crisis25 $(BENCH_CRISIS_ARGS)
	$(APP_VENV)/bin/python bench/crisis.py --sets tests/eval/crisis24 $(BENCH_CRISIS_ARGS)
	$(APP_VENV)/bin/python bench/crisis.py --sets tests/eval/crisis23 $(BENCH_CRISIS_ARGS)
	$(APP_VENV)/bin/python bench/crisis.py --sets tests/eval/crisis22 $(BENCH_CRISIS_ARGS)
	$(APP_VENV)/bin/python bench/crisis.py --sets tests/eval/crisis21 $(BENCH_CRISIS_ARGS)
	$(APP_VENV)/bin/python bench/crisis.py --sets tests/eval/crisis20 $(BENCH_CRISIS_ARGS)
	$(APP_VENV)/bin/python bench/crisis.py --sets tests/eval/crisis19 $(BENCH_CRISIS_ARGS)
	$(APP_VENV)/bin/python bench/crisis.py --sets tests/eval/crisis18 $(BENCH_CRISIS_ARGS)
	$(APP_VENV)/bin/python bench/crisis.py --sets tests/eval/crisis17 $(BENCH_CRISIS_ARGS)
	$(APP_VENV)/bin/python bench/crisis.py --sets tests/eval/crisis16 $(BENCH_CRISIS_ARGS)
	$(APP_VENV)/bin/python bench/crisis.py --sets tests/eval/crisis15 $(BENCH_CRISIS_ARGS)
	$(APP_VENV)/bin/python bench/crisis.py --sets tests/eval/crisis14 $(BENCH_CRISIS_ARGS)
	$(APP_VENV)/bin/python bench/crisis.py --sets tests/eval/crisis13 $(BENCH_CRISIS_ARGS)
	$(APP_VENV)/bin/python bench/crisis.py --sets tests/eval/crisis12 $(BENCH_CRISIS_ARGS)
	$(APP_VENV)/bin/python bench/crisis.py --sets tests/eval/crisis11 $(BENCH_CRISIS_ARGS)
	$(APP_VENV)/bin/python bench/crisis.py --sets tests/eval/crisis10 $(BENCH_CRISIS_ARGS)
	$(APP_VENV)/bin/python bench/crisis.py --sets tests/eval/crisis7 $(BENCH_CRISIS_ARGS)
	$(APP_VENV)/bin/python bench/crisis.py $(BENCH_CRISIS_ARGS)
	$(APP_VENV)/bin/python bench/crisis.py --e2e --sets tests/eval/crisis26 $(BENCH_CRISIS_ARGS)
	$(APP_VENV)/bin/python bench/crisis.py --e2e --sets tests/eval/crisis25 $(BENCH_CRISIS_ARGS)
	$(APP_VENV)/bin/python bench/crisis.py --e2e --sets tests/eval/crisis24 $(BENCH_CRISIS_ARGS)
	$(APP_VENV)/bin/python bench/crisis.py --e2e --sets tests/eval/crisis23 $(BENCH_CRISIS_ARGS)
	$(APP_VENV)/bin/python bench/crisis.py --e2e --sets tests/eval/crisis22 $(BENCH_CRISIS_ARGS)
	$(APP_VENV)/bin/python bench/crisis.py --e2e --sets tests/eval/crisis21 $(BENCH_CRISIS_ARGS)
	$(APP_VENV)/bin/python bench/crisis.py --e2e --sets tests/eval/crisis20 $(BENCH_CRISIS_ARGS)
	$(APP_VENV)/bin/python bench/crisis.py --e2e --sets tests/eval/crisis19 $(BENCH_CRISIS_ARGS)
	$(APP_VENV)/bin/python bench/crisis.py --e2e --sets tests/eval/crisis18 $(BENCH_CRISIS_ARGS)
	$(APP_VENV)/bin/python bench/crisis.py --e2e --sets tests/eval/crisis17 $(BENCH_CRISIS_ARGS)
	$(APP_VENV)/bin/python bench/crisis.py --e2e --sets tests/eval/crisis16 $(BENCH_CRISIS_ARGS)
	$(APP_VENV)/bin/python bench/crisis.py --e2e --sets tests/eval/crisis15 $(BENCH_CRISIS_ARGS)
	$(APP_VENV)/bin/python bench/crisis.py --e2e --sets tests/eval/crisis14 $(BENCH_CRISIS_ARGS)
	$(APP_VENV)/bin/python bench/crisis.py --e2e --sets tests/eval/crisis13 $(BENCH_CRISIS_ARGS)
	$(APP_VENV)/bin/python bench/crisis.py --e2e --sets tests/eval/crisis12 $(BENCH_CRISIS_ARGS)
	$(APP_VENV)/bin/python bench/crisis.py --e2e --sets tests/eval/crisis11 $(BENCH_CRISIS_ARGS)
	$(APP_VENV)/bin/python bench/crisis.py --e2e --sets tests/eval/crisis10 $(BENCH_CRISIS_ARGS)
	$(APP_VENV)/bin/python bench/crisis.py --e2e --sets tests/eval/crisis7 $(BENCH_CRISIS_ARGS)
	$(APP_VENV)/bin/python bench/crisis.py --e2e $(BENCH_CRISIS_ARGS)

# Answer benchmark (bench/answers.py): the question banks of tests/eval end to end through the REST
# channel of the real servers: answers24/ (the newest), answers6/ and answers/ (written blind, never tuned on; in the
# order below) then answers23/ … answers17/, answers16/, answers15/, answers14/, answers13/, answers12/, answers11/, answers10/, answers9/, answers-seen8/, -seen7/, -seen5/, -seen4/, -seen2/ and
# answers-seen1/ (their errors were looked at); BENCH_ANSWERS_ARGS="--show wrong" prints the replies graded so.
BENCH_ANSWERS_ARGS ?=
.PHONY: bench-answers
bench-answers: setup $(MODEL)
	$(APP_VENV)/bin/python bench/answers.py --bank tests/eval/answers24/bank.tsv $(BENCH_ANSWERS_ARGS)
	$(APP_VENV)/bin/python bench/answers.py --bank tests/eval/answers23/bank.tsv $(BENCH_ANSWERS_ARGS)
	$(APP_VENV)/bin/python bench/answers.py --bank tests/eval/answers22/bank.tsv $(BENCH_ANSWERS_ARGS)
	$(APP_VENV)/bin/python bench/answers.py --bank tests/eval/answers21/bank.tsv $(BENCH_ANSWERS_ARGS)
	$(APP_VENV)/bin/python bench/answers.py --bank tests/eval/answers20/bank.tsv $(BENCH_ANSWERS_ARGS)
	$(APP_VENV)/bin/python bench/answers.py --bank tests/eval/answers19/bank.tsv $(BENCH_ANSWERS_ARGS)
	$(APP_VENV)/bin/python bench/answers.py --bank tests/eval/answers18/bank.tsv $(BENCH_ANSWERS_ARGS)
	$(APP_VENV)/bin/python bench/answers.py --bank tests/eval/answers17/bank.tsv $(BENCH_ANSWERS_ARGS)
	$(APP_VENV)/bin/python bench/answers.py --bank tests/eval/answers16/bank.tsv $(BENCH_ANSWERS_ARGS)
	$(APP_VENV)/bin/python bench/answers.py --bank tests/eval/answers15/bank.tsv $(BENCH_ANSWERS_ARGS)
	$(APP_VENV)/bin/python bench/answers.py --bank tests/eval/answers14/bank.tsv $(BENCH_ANSWERS_ARGS)
	$(APP_VENV)/bin/python bench/answers.py --bank tests/eval/answers13/bank.tsv $(BENCH_ANSWERS_ARGS)
	$(APP_VENV)/bin/python bench/answers.py --bank tests/eval/answers12/bank.tsv $(BENCH_ANSWERS_ARGS)
	$(APP_VENV)/bin/python bench/answers.py --bank tests/eval/answers11/bank.tsv $(BENCH_ANSWERS_ARGS)
	$(APP_VENV)/bin/python bench/answers.py --bank tests/eval/answers6/bank.tsv $(BENCH_ANSWERS_ARGS)
	$(APP_VENV)/bin/python bench/answers.py --bank tests/eval/answers/bank.tsv $(BENCH_ANSWERS_ARGS)
	$(APP_VENV)/bin/python bench/answers.py --bank tests/eval/answers10/bank.tsv $(BENCH_ANSWERS_ARGS)
	$(APP_VENV)/bin/python bench/answers.py --bank tests/eval/answers9/bank.tsv $(BENCH_ANSWERS_ARGS)
	$(APP_VENV)/bin/python bench/answers.py --bank tests/eval/answers-seen8/bank.tsv $(BENCH_ANSWERS_ARGS)
	$(APP_VENV)/bin/python bench/answers.py --bank tests/eval/answers-seen7/bank.tsv $(BENCH_ANSWERS_ARGS)
	$(APP_VENV)/bin/python bench/answers.py --bank tests/eval/answers-seen5/bank.tsv $(BENCH_ANSWERS_ARGS)
	$(APP_VENV)/bin/python bench/answers.py --bank tests/eval/answers-seen4/bank.tsv $(BENCH_ANSWERS_ARGS)
	$(APP_VENV)/bin/python bench/answers.py --bank tests/eval/answers-seen2/bank.tsv $(BENCH_ANSWERS_ARGS)
	$(APP_VENV)/bin/python bench/answers.py --bank tests/eval/answers-seen1/bank.tsv $(BENCH_ANSWERS_ARGS)

# Trained once, and again only when its inputs change (config, domain, data, our components, names).

model: $(MODEL)
$(MODEL): $(TRAINING_FILES) $(GAZETTEER) $(CRISIS_MODEL) $(RASA_STAMP)
	@echo "== rasa train -> $@ (log: var/train.log)"
	start=$$SECONDS
	# Rasa's whole output into the log, its epochs on the terminal (launcher/progress.py: redrawn in
	# place on a terminal, a line every few seconds elsewhere). TQDM_MININTERVAL: the featurisation
	# bars draw once a second, not ten times (the epoch bars draw once an epoch).
	TQDM_MININTERVAL=1 $(RASA) train --config config.yml --domain domain.yml --data data --out models \
	    --fixed-model-name current 2>&1 | $(RASA_VENV)/bin/python launcher/progress.py var/train.log \
	    || { tail -n 40 var/train.log >&2; exit 1; }
	echo "trained in $$((SECONDS - start)) s (log: var/train.log)"

# `rasa test nlu` on the held-out examples (tests/nlu, never trained on); test-nlu checks the thresholds
# (intent macro-F1 >= 0.95, crisis recall 1.0, no lookalike taken for a crisis; alias-to-canonical
# entity accuracy >= 0.97 is checked by tests/bot).
test-nlu: export HOTLINE_NLU_REPORT := $(CURDIR)/$(NLU_REPORT)
test-nlu: export HOTLINE_MODEL := $(CURDIR)/$(MODEL)
test-nlu: $(NLU_REPORT)/intent_report.json $(NLU_REPORT)/realistic.json $(NLU_REPORT)/realistic2.json $(NLU_REPORT)/realistic3.json $(NLU_REPORT)/realistic4.json $(NLU_REPORT)/realistic5.json $(NLU_REPORT)/realistic6.json
	$(RASA_VENV)/bin/python -m pytest --confcutdir=tests/nlu_eval tests/nlu_eval $(PYTEST_ARGS)

nlu-report: $(NLU_REPORT)/intent_report.json $(NLU_REPORT)/realistic.json $(NLU_REPORT)/realistic2.json $(NLU_REPORT)/realistic3.json $(NLU_REPORT)/realistic4.json $(NLU_REPORT)/realistic5.json $(NLU_REPORT)/realistic6.json
# The same model on the realistic sets (tests/eval/nlu/realistic.tsv … realistic6.tsv, written blind; realistic5 and 6 never
# tuned on), by one loaded model: intent macro-F1 and hospital accuracy, in all and per kind of message
# (bench/nlu.py; docs/evaluation.md).
$(NLU_REPORT)/realistic.json $(NLU_REPORT)/realistic2.json $(NLU_REPORT)/realistic3.json $(NLU_REPORT)/realistic4.json $(NLU_REPORT)/realistic5.json $(NLU_REPORT)/realistic6.json &: \
        $(NLU_REPORT)/intent_report.json bench/nlu.py \
        $(wildcard tests/eval/nlu/realistic.tsv tests/eval/nlu/realistic2.tsv tests/eval/nlu/realistic3.tsv tests/eval/nlu/realistic4.tsv tests/eval/nlu/realistic5.tsv tests/eval/nlu/realistic6.tsv)
	@echo "== bench/nlu.py --score-model $(MODEL) on tests/eval/nlu/realistic.tsv … realistic6.tsv -> $(NLU_REPORT)"
	TQDM_DISABLE=1 $(RASA_VENV)/bin/python bench/nlu.py --score-model $(MODEL) --out $(NLU_REPORT)/realistic.json \
	    --also tests/eval/nlu/realistic2.tsv=$(NLU_REPORT)/realistic2.json \
	    --also tests/eval/nlu/realistic3.tsv=$(NLU_REPORT)/realistic3.json \
	    --also tests/eval/nlu/realistic4.tsv=$(NLU_REPORT)/realistic4.json \
	    --also tests/eval/nlu/realistic5.tsv=$(NLU_REPORT)/realistic5.json \
	    --also tests/eval/nlu/realistic6.tsv=$(NLU_REPORT)/realistic6.json \
	    > var/nlu-realistic.log 2>&1 || { tail -n 40 var/nlu-realistic.log >&2; exit 1; }
	sed -n '/^== realistic/,$$p' var/nlu-realistic.log
$(NLU_REPORT)/intent_report.json: $(MODEL) $(wildcard tests/nlu/*.yml)
	@echo "== rasa test nlu --nlu tests/nlu -> $(NLU_REPORT)"
	rm -rf $(NLU_REPORT)
	TQDM_DISABLE=1 $(RASA) test nlu --model $(MODEL) --nlu tests/nlu --out $(NLU_REPORT) --successes \
	    --no-plot > var/nlu-test.log 2>&1 || { tail -n 40 var/nlu-test.log >&2; exit 1; }
	$(RASA_VENV)/bin/python -c 'import json; r = json.load(open("$@")); \
	    print("held-out intent macro-F1 %.4f, accuracy %.4f" % (r["macro avg"]["f1-score"], r["accuracy"]))'

# NLU benchmark: this config vs plain Rasa zh vs TF-IDF+SVM, on the hotline held-out set and on
# SMP2017 (bench/README.md). The withheld SMP2017 test split is scored with SMP_TEST=its folder.
SMP_TRAIN ?= ../shared/benchmarks/smp2017/train
SMP_TEST ?= ../shared/benchmarks/smp2017/develop
BENCH_ARGS ?=

bench-nlu: setup gazetteer
	$(RASA_VENV)/bin/python bench/nlu.py --smp-train $(SMP_TRAIN) --smp-test $(SMP_TEST) $(BENCH_ARGS)

# Load test (bench/README.md): the real system on free loopback ports, N simulated residents through
# /wechat for a bounded time, then the call log, tickets and crisis answers checked against the store;
# results/loadtest-<config>.json. `loadtest` runs both configurations, then fails if either did.
# e.g. make loadtest LOADTEST_ARGS='--duration 30 --no-latency-gate'
.PHONY: loadtest loadtest-default loadtest-prod
LOADTEST_ARGS ?=

loadtest: setup $(MODEL)
	status=0
	$(APP_VENV)/bin/python bench/loadtest.py --config default --seeds $(SEED_FILES) $(LOADTEST_ARGS) || status=1
	$(APP_VENV)/bin/python bench/loadtest.py --config prod --seeds $(SEED_FILES) $(LOADTEST_ARGS) || status=1
	exit $$status

loadtest-default loadtest-prod: loadtest-%: setup $(MODEL)
	$(APP_VENV)/bin/python bench/loadtest.py --config $* --seeds $(SEED_FILES) $(LOADTEST_ARGS)

# --- running ----------------------------------------------------------------------------
# The store and the model as they should be, then launcher/supervise.py runs the action server (:5055),
# the Rasa server (:5005, REST channel, HTTP API off) and our app (:8080) until Ctrl-C or SIGTERM
# (make stop), logs in var/log/. All three use this store (Rasa's event broker writes into it).
.PHONY: stop run-prod
RUN_PID := var/run.pid

run: export DATABASE_URL := sqlite:///$(CURDIR)/$(STORE)
run: export HOTLINE_VAR_DIR := $(CURDIR)/var
run: setup $(STORE_STAMP) $(MODEL)
	@# The store's schema at head (the app creates no tables): new revisions need no re-ingest.
	$(APP_VENV)/bin/hotline db upgrade
	echo "Knowledge store: $(STORE) ($$(du -h $(STORE) | cut -f1)), built from $(words $(SEED_FILES)) seed file(s) in $(SEEDS)."
	exec $(APP_VENV)/bin/python -m launcher.supervise

# Stops what `make run` started (from another terminal), through the supervisor's pid file.
stop:
	@pid=$$(cat $(RUN_PID) 2>/dev/null) || { echo "not running (no $(RUN_PID))"; exit 0; }
	# Only our supervisor: a stale file's pid may belong to another process by now.
	if ! grep -qa 'launcher.supervise' /proc/$$pid/cmdline 2>/dev/null || ! kill -TERM "$$pid" 2>/dev/null; then
	    echo "not running (stale $(RUN_PID))"; rm -f $(RUN_PID); exit 0
	fi
	echo "stopping make run (supervisor pid $$pid) ..."
	for _ in $$(seq 60); do kill -0 "$$pid" 2>/dev/null || { echo "stopped"; exit 0; }; sleep 0.5; done
	echo "pid $$pid still running after 30 s" >&2; exit 1

# Rasa's own habits (launcher/shell.py), on make run's store: `make shell` is rasa shell on the trained
# model with an action server of its own alongside (free ports: works beside make run), stopped when
# the shell ends; `make actions` is the action server alone on its port, for rasa shell / rasa run in
# another terminal (endpoints.yml names it, and make run's store).
.PHONY: shell actions
shell actions: export DATABASE_URL := sqlite:///$(CURDIR)/$(STORE)
shell actions: export HOTLINE_VAR_DIR := $(CURDIR)/var
shell: setup $(STORE_STAMP) $(MODEL)
	@exec $(APP_VENV)/bin/python -m launcher.shell shell

actions: setup $(STORE_STAMP)
	@exec $(APP_VENV)/bin/python -m launcher.shell actions

# The production shape on this machine's services (docs/configuration.md; launcher/endpoints.py): the
# store in a PostgreSQL database of its own (created when missing), Rasa's conversations and locks in
# Redis, its events through RabbitMQ to the app, two Rasa servers the app spreads conversations over
# (PROD_TRACKER_STORE_URL=$(PROD_PG)/hotline_rasa: the conversations in PostgreSQL instead, slower). Each PROD_* can be given on the command line (make run-prod PROD_PG=postgresql://...).
# RabbitMQ's guest account only works on loopback: a real deployment passes its own credentials.
PROD_PG ?= postgresql://postgres@127.0.0.1:5432
PROD_DATABASE_URL ?= $(PROD_PG)/hotline
PROD_LOCK_STORE_URL ?= redis://127.0.0.1:6379/1
PROD_TRACKER_STORE_URL ?= $(PROD_LOCK_STORE_URL)
PROD_RABBITMQ_URL ?= amqp://guest:guest@127.0.0.1:5672
PROD_RASA_SERVERS ?= 2

run-prod: export DATABASE_URL := $(PROD_DATABASE_URL)
run-prod: export HOTLINE_TRACKER_STORE_URL := $(PROD_TRACKER_STORE_URL)
run-prod: export HOTLINE_LOCK_STORE_URL := $(PROD_LOCK_STORE_URL)
run-prod: export HOTLINE_RABBITMQ_URL := $(PROD_RABBITMQ_URL)
run-prod: export HOTLINE_VAR_DIR := $(CURDIR)/var
run-prod: setup $(MODEL)
	@echo "== production shape: PostgreSQL, Redis, RabbitMQ (launcher/provision.py)"
	$(APP_VENV)/bin/python -m launcher.provision
	echo "== hotline db upgrade: the store's schema (migrations)"
	$(APP_VENV)/bin/hotline db upgrade
	echo "== hotline ingest $(SEED_FILES) -> the PostgreSQL store"
	$(APP_VENV)/bin/hotline ingest --refresh $(SEED_FILES)
	exec $(APP_VENV)/bin/python -m launcher.supervise --rasa-servers $(PROD_RASA_SERVERS)

SEED_FILES := $(sort $(wildcard $(SEEDS)/*.txt))
KNOWLEDGE_FILES := $(shell find knowledge -type f \( -name '*.py' -o -name '*.yml' \) -not -path '*/__pycache__/*' 2>/dev/null)

store: $(STORE_STAMP)
gazetteer: $(GAZETTEER)

# Ingested in place when a seed file, the knowledge code or the app venv changes: ingest is
# idempotent and replaces a bulletin's facts by source, and the same database holds the tickets,
# the call log and Rasa's broker events, which must survive it (never rm the store).
$(STORE_STAMP): $(SEED_FILES) $(KNOWLEDGE_FILES) $(APP_STAMP)
	@[ -n "$(SEED_FILES)" ] || { echo "no seed files (*.txt) in SEEDS=$(SEEDS)" >&2; exit 1; }
	mkdir -p $(@D)
	echo "== hotline db upgrade, ingest $(SEED_FILES) -> $(STORE)"
	$(APP_VENV)/bin/hotline --database-url "sqlite:///$(CURDIR)/$(STORE)" db upgrade
	$(APP_VENV)/bin/hotline --database-url "sqlite:///$(CURDIR)/$(STORE)" ingest --refresh $(SEED_FILES)
	[ -f $(STORE) ] || { echo "hotline ingest did not create $(STORE)" >&2; exit 1; }
	touch $@

# Every name of the store, for the NLU components (bot/) and their tests.
# Rewritten only when its content changes, so that re-ingesting the same names retrains nothing.
$(GAZETTEER): $(STORE_STAMP)
	$(APP_VENV)/bin/hotline --database-url "sqlite:///$(CURDIR)/$(STORE)" gazetteer --out $@.new
	if cmp -s $@.new $@; then rm $@.new; else mv $@.new $@; fi

# --- cleaning ---------------------------------------------------------------------------
clean:
	rm -rf var/* models/ .rasa/ .pytest_cache/ .hypothesis/ graph.html story_graph.dot results/
	find . -path ./.git -prune -o -path './.venv*' -prune -o \
	    \( -name __pycache__ -o -name '*.egg-info' \) -type d -exec rm -rf {} +

distclean: clean
	rm -rf $(RASA_VENV) $(APP_VENV)
