# mnist-lab: the commands a person types. `make help` lists them.
#
#   make run     run the whole course (papermill) into runs/$(NAME)/ and print a summary
#   make test    unit tests + notebook tests (papermill) + nbval on the committed notebooks
#                + browser tests (JupyterLab in headless Chromium; skipped when no Chromium is found)
#
# Offline / classroom: `make data MNIST_LAB_MIRROR=/path/to/MNIST/raw` copies the four
# MNIST .gz files from a local folder (MD5-checked) instead of downloading them.

PYTHON      ?= python3
VENV        ?= .venv
PY          := $(VENV)/bin/python
STAMP       := $(VENV)/.installed-stamp
NAME        ?= default
PARAMS      ?=
NOTEBOOKS   ?=
PYTEST_ARGS ?=
NBVAL_ARTIFACTS := build/nbval-artifacts

# Passed through to the library when given on the command line or in the environment.
export MNIST_LAB_MIRROR
export MNIST_LAB_DATA
export MNIST_LAB_CHROMIUM
export MNIST_LAB_REQUIRE_BROWSER
export MNIST_LAB_REQUIRE_POSTGRES

.PHONY: help setup data test test-fast lint student assignments nbval test-browser run notebooks lab site bench lock clean

help:
	@echo "make setup      create $(VENV): the project (editable) with the course's and maintainers' tools, tested pins"
	@echo "make data       put MNIST in the data root (MNIST_LAB_MIRROR=folder copies instead of downloading)"
	@echo "make run        run all notebooks with papermill into runs/NAME/ (PARAMS=my.yaml, NAME=...)"
	@echo "make test       test-fast and nbval side by side (about 10 minutes on 2 cores)"
	@echo "make test-fast  lint, unit and papermill tests, the unit tests again on the stand-in GPU, then test-browser"
	@echo "make lint       ruff: lint everything, check the Python files' formatting (ruff format fixes it)"
	@echo "make nbval      nbval on the committed notebooks (executes the whole course on one thread)"
	@echo "make test-browser  headless Chromium (Playwright): JupyterLab opens and runs the notebooks, the drawing"
	@echo "                pad reads; the site's pages, images, links and folded solutions (built first if stale)"
	@echo "make notebooks  re-execute the committed notebooks in place (maintainers)"
	@echo "make lab        start JupyterLab on notebooks/ (students start here)"
	@echo "make site       the course as a static website in build/site/ (README, notebooks with outputs, docs/)"
	@echo "make student    the notebooks without their solution cells, in build/student/ (STUDENT_DIR=... elsewhere)"
	@echo "make assignments  graded assignments: an nbgrader course in build/assignments/ (ASSIGNMENTS_DIR=... elsewhere)"
	@echo "make bench      benchmarks: speed and the accuracy spread over seeds and float paths (results.json), records"
	@echo "                with their plot (records.json/png), the CNN recipe's choices on validation (cnn_recipes.json);"
	@echo "                1-2 hours on 2 cores (each script's --quick is a smoke run of a few minutes)"
	@echo "make clean      remove build outputs, runs and artifacts (keeps $(VENV) and data/)"

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -c constraints.txt -e '.[course,dev]'
	@touch $(STAMP)

data: setup
	$(PY) -c "from mnist_lab import data; print('MNIST is ready in', data.get_mnist())"

# `make test` runs two lanes side by side, one thread each, one per core of a 2-core machine: the unit
# and papermill tests then the browser tests (test-fast), and nbval (see below). Each lane's output is
# printed when the lane ends (GNU make >= 4; an older make interleaves it). Either lane alone:
# `make test-fast`, `make nbval`.
SYNC := $(if $(filter output-sync,$(.FEATURES)),--output-sync=target)
test: setup data
	@echo "make test: test-fast (unit + papermill tests, then browser tests) and nbval run side by side;"
	@echo "           each prints its results when it ends (nbval takes longest)."
	@OMP_NUM_THREADS=1 $(MAKE) --no-print-directory -j2 $(SYNC) test-fast nbval

# The unit tests run twice: as here, then as on a machine with a GPU (device="auto" picks the stand-in
# accelerator of tests/device_check.py), so a test that mixes devices fails here and not first on a GPU.
test-fast: setup data lint
	$(PY) -m pytest tests --ignore=tests/browser $(PYTEST_ARGS)
	$(PY) -m pytest tests --ignore=tests/browser -m "not integration" --stand-in-accelerator -q $(PYTEST_ARGS)
	@$(MAKE) --no-print-directory test-browser

# ruff: lint the library, tests, benchmarks and notebooks; check the Python files' formatting (`ruff format` fixes it)
lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# The course as a student meets it: JupyterLab in the system Chromium, driven by Playwright (no browser
# download). Skipped with one line when no Chromium is found (MNIST_LAB_CHROMIUM=/path/to/chromium names
# one); MNIST_LAB_REQUIRE_BROWSER=1 (set by CI) makes that a failure. Screenshots: build/screenshots/.
test-browser: setup data
	$(PY) -m pytest -p no:cacheprovider -rs tests/browser $(PYTEST_ARGS)

# nbval executes the committed notebooks in fresh kernels and compares their outputs (what is the
# same on every machine; notebooks/sanitize.cfg hides timings and the numbers from training), then
# tests/check_executed_notebooks.py checks those numbers with tolerances in the artifacts they wrote.
# The kernels run on another float path than the one that wrote the committed outputs
# (NBVAL_FLOAT_PATH: one thread and MKL's compatible code path, as another machine would), so an
# output that only one machine reproduces fails here, not for a user. Each of these variables
# changes the trained weights' bits; ATEN_CPU_CAPABILITY=default does too, but makes the CNN of
# notebook 10 about three times slower, so it is left to a run by hand:
#   ATEN_CPU_CAPABILITY=default make nbval
# The kernels write into a fresh artifacts folder so that every run starts from nothing, with
# matplotlib's inline backend (an MPLBACKEND such as Agg would hide the figures).
NBVAL_FLOAT_PATH ?= MKL_CBWR=COMPATIBLE OMP_NUM_THREADS=1
nbval: setup data
	@# build matplotlib's font cache first: its one-time notice must not appear in a cell's output
	@$(PY) -c "import matplotlib.pyplot"
	rm -rf $(NBVAL_ARTIFACTS)
	env -u MPLBACKEND $(NBVAL_FLOAT_PATH) MNIST_LAB_ARTIFACTS=$(CURDIR)/$(NBVAL_ARTIFACTS) \
	  MNIST_LAB_EXECUTED=$(CURDIR)/$(NBVAL_ARTIFACTS) $(PY) -m pytest -p no:cacheprovider --nbval \
	  --nbval-current-env --nbval-sanitize-with notebooks/sanitize.cfg --nbval-cell-timeout=900 \
	  notebooks tests/check_executed_notebooks.py $(PYTEST_ARGS)

run: setup data
	$(PY) tools/run_course.py --name $(NAME) $(if $(PARAMS),--params $(PARAMS)) $(if $(NOTEBOOKS),--notebooks $(NOTEBOOKS))

notebooks: setup data
	$(if $(NOTEBOOKS),,rm -rf $(NBVAL_ARTIFACTS))
	MNIST_LAB_ARTIFACTS=$(CURDIR)/$(NBVAL_ARTIFACTS) $(PY) tools/run_course.py --in-place $(if $(NOTEBOOKS),--notebooks $(NOTEBOOKS))

# The student edition: every notebook without its cells tagged `solution` (nbconvert's TagRemovePreprocessor).
STUDENT_DIR ?= build/student
student: setup
	$(VENV)/bin/jupyter nbconvert --to notebook --TagRemovePreprocessor.enabled=True \
	  --TagRemovePreprocessor.remove_cell_tags=solution --output-dir $(STUDENT_DIR) notebooks/[0-9]*.ipynb

# The graded assignments: an nbgrader course folder, one assignment per notebook with exercises (the instructor's
# copies in source/, the students' in release/), from the notebooks and tools/assignments.toml (points, hidden
# tests). A class's folder belongs outside build/, which `make clean` deletes: ASSIGNMENTS_DIR=~/course101.
ASSIGNMENTS_DIR ?= build/assignments
assignments: setup
	$(PY) tools/make_assignments.py --course-dir $(ASSIGNMENTS_DIR)

lab: setup data
	$(VENV)/bin/jupyter lab notebooks

# The course as a static site, built offline from the committed files (MkDocs: mkdocs.yml, tools/build_site.py,
# tools/site_hooks.py). Open build/site/index.html, or serve it: .venv/bin/python -m http.server -d build/site
site: setup
	$(PY) tools/build_site.py

bench: setup data
	$(PY) benchmarks/bench.py
	$(PY) benchmarks/records.py
	$(PY) benchmarks/cnn_recipes.py

lock: setup
	$(PY) -m pip freeze --exclude-editable | grep -v '^-e' > constraints.txt.new && mv constraints.txt.new constraints.txt

clean:
	rm -rf build runs artifacts .pytest_cache
	find . -name __pycache__ -prune -exec rm -rf {} +
