"""Reference values for the parity suite, printed by the reference tools themselves.

Three references, each run by ``Rscript``:

* **qicharts2** (``anhoej/qicharts2``, pinned commit below, v0.8.1): ``qic(..., return.data =
  TRUE)`` and ``summary.qic`` from its own ``R/helper.functions.R``, ``R/qic.R`` and
  ``R/qic.summary.R``, sourced from a checkout (qicharts2 is not packaged for Debian; the
  ``return.data`` path never touches ggplot2). ``options(qic.screenedmr = ...)`` is set per case.
* **R survival** ``survfit(Surv(time, status) ~ 1, conf.type = ...)``: the median and its
  interval as ``summary(fit)$table`` (what ``print(fit)`` shows) and the pointwise band.
* **Funnel limits**: Spiegelhalter's interpolated exact limits written independently in R, the
  binomial CDF taken from R's ``pbeta`` (any real n) and, at integer n, from ``qbinom/pbinom``.

``python3 tests/parity/reference.py`` re-runs them and rewrites ``tests/parity/*.json`` with the
exact R code, the R and package versions and the commit. The tests (``tests/test_parity_*.py``)
compare the product with the stored values always, and re-run the references live when
``Rscript`` and the reference are available (see :func:`qicharts2_source`).
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
QICHARTS2_COMMIT = "1b9487ecb3938d25a8a04578464f960d3a064f64"
QICHARTS2_VERSION = "0.8.1"
QICHARTS2_FILES = ("R/helper.functions.R", "R/qic.R", "R/qic.summary.R")
#: a bare mirror of github.com/anhoej/qicharts2 (the ``fetch`` tool's location); override with
#: QICHARTS2_GIT, or point QICHARTS2_SRC at a checkout holding R/qic.R
DEFAULT_QICHARTS2_GIT = Path("/work/.mirror/anhoej+qicharts2/repo")

# --------------------------------------------------------------------------- qicharts2 cases

#: Each case: chart, y, optional n, freeze, part, exclude (1-based, as qic), screened_mr.
QIC_CASES: list[dict[str, Any]] = [
    # g chart: the centre line is the median of the baseline (freeze / exclude), not of all points
    {"name": "g_freeze", "chart": "g", "y": [3, 1, 4, 2, 5, 3, 60, 80, 55, 70], "freeze": 6},
    {"name": "g_exclude", "chart": "g", "y": [2, 50, 3, 4, 60, 3, 5, 2], "exclude": [2, 5]},
    {"name": "g_freeze_exclude", "chart": "g", "y": [4, 40, 2, 6, 3, 5, 30, 45, 38, 50, 41],
     "freeze": 6, "exclude": [2]},
    {"name": "g_plain", "chart": "g", "y": [10, 30, 5, 50, 20, 12, 0, 7]},
    # mr chart: 95% line (3.267/3)*2*MR-bar, lower lines 0
    {"name": "mr_plain", "chart": "mr", "y": [10, 12, 11, 15, 13, 30, 14, 12, 16, 11]},
    {"name": "mr_freeze", "chart": "mr", "y": [10, 12, 11, 15, 13, 30, 14, 12, 16, 11],
     "freeze": 5},
    {"name": "mr_exclude", "chart": "mr", "y": [10, 12, 11, 15, 13, 30, 14, 12, 16, 11],
     "exclude": [6]},
    # Nelson screening of moving ranges: i chart and Laney p'/u' (z moving ranges)
    {"name": "i_unscreened", "chart": "i", "y": [10, 11, 9, 10, 12, 40, 11, 10, 9, 11, 10, 12]},
    {"name": "i_screened", "chart": "i", "y": [10, 11, 9, 10, 12, 40, 11, 10, 9, 11, 10, 12],
     "screened_mr": True},
    {"name": "pp_unscreened", "chart": "pp",
     "y": [100, 110, 95, 105, 100, 200, 98, 103, 97, 101, 99, 104], "n": [1000] * 12},
    {"name": "pp_screened", "chart": "pp",
     "y": [100, 110, 95, 105, 100, 200, 98, 103, 97, 101, 99, 104], "n": [1000] * 12,
     "screened_mr": True},
    {"name": "pp_screened_freeze_exclude", "chart": "pp",
     "y": [100, 120, 90, 105, 100, 200, 98, 103, 97, 101, 99, 104],
     "n": [1000, 1100, 950, 1020, 990, 1005, 1010, 980, 1000, 1030, 970, 1000],
     "screened_mr": True, "freeze": 10, "exclude": [3]},
    {"name": "up_unscreened", "chart": "up", "y": [50, 62, 48, 55, 130, 51, 49, 57, 53, 60],
     "n": [400, 450, 380, 420, 410, 400, 390, 430, 415, 440]},
    {"name": "up_screened", "chart": "up", "y": [50, 62, 48, 55, 130, 51, 49, 57, 53, 60],
     "n": [400, 450, 380, 420, 410, 400, 390, 430, 415, 440], "screened_mr": True},
    # freeze with part: qicharts2 ignores freeze and draws each part on its own points
    {"name": "i_freeze_part", "chart": "i", "y": [1, 2, 3, 4, 10, 11, 12, 11, 13], "freeze": 3,
     "part": [4]},
    {"name": "p_freeze_part", "chart": "p", "y": [12, 15, 11, 14, 25, 28, 24, 27, 26],
     "n": [100, 110, 95, 105, 100, 102, 98, 101, 99], "freeze": 2, "part": [4]},
    {"name": "g_freeze_part", "chart": "g", "y": [3, 1, 4, 2, 5, 30, 60, 20, 55, 70],
     "freeze": 7, "part": [5]},
    # the rest of the chart types, and edge cases (NA where qicharts2 says NA)
    {"name": "p_plain", "chart": "p", "y": [2, 4, 3, 6, 5, 3, 4, 2], "n": [20, 40, 30, 10, 25,
                                                                         30, 35, 20]},
    {"name": "u_exclude", "chart": "u", "y": [3, 5, 2, 9, 4, 3], "n": [10, 20, 10, 12, 15, 11],
     "exclude": [4]},
    {"name": "c_part", "chart": "c", "y": [2, 3, 4, 3, 20, 2, 8, 9, 7, 10], "part": [5]},
    {"name": "run_shift", "chart": "run", "y": [1, 2, 1, 2, 1, 2, 1, 2, 1, 10, 11, 12, 13, 14,
                                                15, 16, 17, 18, 19, 20]},
    {"name": "run_all_on_median", "chart": "run", "y": [5, 5, 5, 5]},
]

QIC_POINT_COLUMNS = ("y", "cl", "lcl", "lcl.95", "ucl.95", "ucl", "part", "sigma.signal",
                     "runs.signal")
QIC_SUMMARY_COLUMNS = ("part", "n.obs", "n.useful", "longest.run", "longest.run.max",
                       "n.crossings", "n.crossings.min", "runs.signal", "aLCL", "aLCL.95", "CL",
                       "aUCL.95", "aUCL", "sigma.signal")


def _r_vector(values: list[float] | None) -> str:
    return "NULL" if not values else "c(" + ", ".join(repr(v) for v in values) + ")"


def qic_r_code(case: dict[str, Any]) -> str:
    """The R statements that compute one case with qicharts2 (after the prelude)."""
    freeze = case.get("freeze")
    return "\n".join([
        f"options(qic.screenedmr = {'TRUE' if case.get('screened_mr') else 'FALSE'})",
        f"y <- {_r_vector(case['y'])}",
        f"n <- {_r_vector(case.get('n'))}",
        f"d <- qic(seq_along(y), y, n, chart = '{case['chart']}', "
        f"freeze = {'NULL' if freeze is None else freeze}, part = {_r_vector(case.get('part'))}, "
        f"exclude = {_r_vector(case.get('exclude'))}, return.data = TRUE)",
        "emit(d[c('" + "', '".join(QIC_POINT_COLUMNS) + "')], 'points')",
        "s <- summary.qic(list(data = d))",
        "emit(s[c('" + "', '".join(QIC_SUMMARY_COLUMNS) + "')], 'summary')",
    ])


R_EMIT = """emit <- function(frame, label) {
  cat('#', label, '\\n', sep = '')
  write.csv(format(frame, digits = 15), stdout(), row.names = FALSE, quote = FALSE)
}"""


def qic_prelude(source_dir: str) -> str:
    files = ", ".join(f"'{f}'" for f in QICHARTS2_FILES)
    return (f"src <- '{source_dir}'\nfor (f in c({files})) source(file.path(src, f))\n{R_EMIT}")


# --------------------------------------------------------------------------- survival cases

KM_CONF_TYPES = ("log", "log-log", "plain")
KM_CASES: list[dict[str, Any]] = [
    {"name": "ends_at_zero", "time": [1, 2, 2, 3, 5, 6, 8, 8, 9, 12],
     "status": [1, 1, 0, 1, 0, 1, 1, 1, 0, 1]},
    {"name": "exactly_half_then_falls", "time": [1, 2, 3, 4], "status": [1, 1, 1, 1]},
    {"name": "exactly_half_to_the_end", "time": [1, 2, 3, 4], "status": [1, 1, 0, 0]},
    {"name": "never_half", "time": [5, 10, 10, 10], "status": [1, 0, 0, 0]},
    {"name": "heavy_censoring", "time": [2, 3, 3, 4, 6, 7, 9, 11, 12, 15, 18, 20, 21, 25, 30],
     "status": [1, 0, 1, 0, 1, 0, 0, 1, 0, 1, 0, 0, 1, 0, 0]},
    {"name": "zero_times_and_ties", "time": [0, 0, 1, 1, 1, 3, 3, 4, 6, 6, 6, 8, 9, 9, 12, 14],
     "status": [1, 0, 1, 1, 0, 1, 0, 1, 1, 1, 0, 1, 0, 1, 1, 0]},
    {"name": "persistence_like", "time": [30, 30, 60, 60, 60, 90, 120, 120, 150, 180, 180, 200,
                                          240, 270, 300, 330, 365, 365, 365, 365, 400, 420],
     "status": [1, 1, 1, 0, 1, 1, 1, 0, 1, 1, 1, 0, 1, 0, 1, 1, 0, 0, 0, 0, 1, 0]},
]


def km_r_code(case: dict[str, Any], conf_type: str) -> str:
    return "\n".join([
        f"time <- {_r_vector(case['time'])}",
        f"status <- {_r_vector(case['status'])}",
        f"fit <- survfit(Surv(time, status) ~ 1, conf.type = '{conf_type}')",
        "tab <- summary(fit)$table",
        "emit(data.frame(median = tab[['median']], lcl = tab[['0.95LCL']], "
        "ucl = tab[['0.95UCL']]), 'median')",
        "emit(data.frame(time = fit$time, surv = fit$surv, lower = fit$lower, "
        "upper = fit$upper), 'curve')",
    ])


KM_PRELUDE = "suppressPackageStartupMessages(library(survival))\n" + R_EMIT

# --------------------------------------------------------------------------- funnel limits

FUNNEL_N = [1, 1.5, 2.5, 7.3, 10, 12.5, 33.33, 100, 250.7, 1000, 5000.5]
FUNNEL_THETA = [0.03, 0.2, 0.5, 0.9]
FUNNEL_P = [0.001, 0.025, 0.975, 0.999]
FUNNEL_R_CODE = """cdf <- function(r, n, th) if (r < 0) 0 else if (r >= n) 1 else pbeta(1 - th, n - r, r + 1)
limit <- function(n, th, p, F = function(r) cdf(r, n, th)) {
  r <- 0
  while (F(r) < p) r <- r + 1            # smallest r with F(r) >= p, by linear search
  a <- if (F(r) == F(r - 1)) 0 else (F(r) - p) / (F(r) - F(r - 1))
  min(max((r - a) / n, 0), 1)
}
binom_limit <- function(n, th, p) {      # integer n only: qbinom and pbinom
  r <- qbinom(p, n, th)
  Fr <- pbinom(r, n, th); Fb <- pbinom(r - 1, n, th)
  a <- if (Fr == Fb) 0 else (Fr - p) / (Fr - Fb)
  min(max((r - a) / n, 0), 1)
}
grid <- expand.grid(p = P, theta0 = THETA, n = N)
grid$limit <- mapply(limit, grid$n, grid$theta0, grid$p)
grid$binom_limit <- ifelse(grid$n == round(grid$n),
  mapply(function(n, th, p) if (n == round(n)) binom_limit(n, th, p) else NA,
         grid$n, grid$theta0, grid$p), NA)
emit(grid[c('n', 'theta0', 'p', 'limit', 'binom_limit')], 'limits')"""


def funnel_r_code() -> str:
    return "\n".join([f"N <- {_r_vector(FUNNEL_N)}", f"THETA <- {_r_vector(FUNNEL_THETA)}",
                      f"P <- {_r_vector(FUNNEL_P)}", FUNNEL_R_CODE])


# --------------------------------------------------------------------------- running R


def rscript() -> str | None:
    return shutil.which("Rscript")


def r_has_package(package: str) -> bool:
    exe = rscript()
    if exe is None:
        return False
    done = subprocess.run([exe, "-e", f"quit(status = !requireNamespace('{package}', "
                           "quietly = TRUE))"], capture_output=True, check=False)
    return done.returncode == 0


def qicharts2_source(target: Path) -> Path | None:
    """A directory holding qicharts2's R files at the pinned commit: ``$QICHARTS2_SRC`` if set,
    else extracted from the git mirror (``$QICHARTS2_GIT`` or the fetch tool's default)."""
    given = os.environ.get("QICHARTS2_SRC")
    if given:
        return Path(given) if (Path(given) / "R" / "qic.R").is_file() else None
    git_dir = Path(os.environ.get("QICHARTS2_GIT", str(DEFAULT_QICHARTS2_GIT)))
    if not git_dir.exists() or shutil.which("git") is None:
        return None
    for name in QICHARTS2_FILES:
        shown = subprocess.run(["git", "--git-dir", str(git_dir), "show",
                                f"{QICHARTS2_COMMIT}:{name}"], capture_output=True, check=False)
        if shown.returncode != 0:
            return None
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        (target / name).write_bytes(shown.stdout)
    return target


def _cell(text: str) -> object:
    text = text.strip()
    if text in ("NA", "NaN", ""):
        return None
    if text in ("TRUE", "FALSE"):
        return text == "TRUE"
    if text in ("Inf", "-Inf"):
        return None  # qicharts2 and survival print no infinite limits in these cases
    try:
        return float(text)
    except ValueError:
        return text


def run_r(code: str) -> dict[str, list[dict[str, object]]]:
    """Run R ``code`` and parse the ``emit``-ted CSV blocks into lists of rows."""
    return run_r_batch("", {"": code})[""]


def run_r_batch(prelude: str, snippets: dict[str, str]) -> dict[str, dict[str, list[dict[str, object]]]]:
    """Run the prelude then every snippet in one R session (R starts slowly); per snippet, the
    ``emit``-ted CSV blocks parsed into lists of rows."""
    exe = rscript()
    if exe is None:
        raise RuntimeError("Rscript is not installed")
    code = prelude + "\n" + "\n".join(
        f"cat('@{name}\\n')\n{snippet}" for name, snippet in snippets.items()
    )
    done = subprocess.run([exe, "--vanilla", "-"], input=code, capture_output=True, text=True,
                          check=False)
    if done.returncode != 0:
        raise RuntimeError(f"Rscript failed:\n{done.stderr}")
    lines_of: dict[str, dict[str, list[str]]] = {}
    case, label = None, None
    for line in done.stdout.splitlines():
        if line.startswith("@"):
            case, label = line[1:].strip(), None
            lines_of[case] = {}
        elif line.startswith("#") and case is not None:
            label = line[1:].strip()
            lines_of[case][label] = []
        elif case is not None and label is not None:
            lines_of[case][label].append(line)
    return {case: {name: [{k.strip(): _cell(v) for k, v in row.items()}
                          for row in csv.DictReader(io.StringIO("\n".join(lines)))]
                   for name, lines in blocks.items()}
            for case, blocks in lines_of.items()}


def r_version() -> str:
    return str(run_r(R_EMIT + "\nemit(data.frame(v = R.version.string), 'v')")["v"][0]["v"])


def compute_qic(cases: list[dict[str, Any]], source_dir: Path) -> dict[str, dict[str, Any]]:
    """qicharts2's points and summary for each case, by name."""
    return run_r_batch(qic_prelude(str(source_dir)), {c["name"]: qic_r_code(c) for c in cases})


def compute_km(cases: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """survfit's median table and band per case and conf type, keyed ``name/conf_type``."""
    return run_r_batch(KM_PRELUDE, {f"{c['name']}/{conf}": km_r_code(c, conf)
                                    for c in cases for conf in KM_CONF_TYPES})


def compute_funnel() -> list[dict[str, object]]:
    return run_r(R_EMIT + "\n" + funnel_r_code())["limits"]


def write_all() -> None:
    """Re-run every reference and rewrite the stored JSON files (review the diff)."""
    version = r_version()
    with tempfile.TemporaryDirectory() as tmp:
        source = qicharts2_source(Path(tmp))
        if source is None:
            raise SystemExit("qicharts2 source not found: set QICHARTS2_SRC or QICHARTS2_GIT")
        computed = compute_qic(QIC_CASES, source)
        qic_cases = [{**case, "r_code": qic_r_code(case), **computed[case["name"]]}
                     for case in QIC_CASES]
    _dump("qicharts2_cases.json", {
        "reference": f"qicharts2 {QICHARTS2_VERSION}, github.com/anhoej/qicharts2 commit "
                     f"{QICHARTS2_COMMIT}, files {', '.join(QICHARTS2_FILES)} sourced",
        "r_version": version, "r_prelude": qic_prelude("<qicharts2 checkout>"), "cases": qic_cases})
    survival_version = run_r(KM_PRELUDE + "\nemit(data.frame(v = as.character("
                             "packageVersion('survival'))), 'v')")["v"][0]["v"]
    km = compute_km(KM_CASES)
    km_cases = [{**case, "conf_type": conf, "r_code": km_r_code(case, conf),
                 **km[f"{case['name']}/{conf}"]} for case in KM_CASES for conf in KM_CONF_TYPES]
    _dump("survival_median_ci.json", {
        "reference": f"R survival {survival_version}: summary(survfit(...))$table "
                     "(median, 0.95LCL, 0.95UCL, as print shows) and the fit's band",
        "r_version": version, "r_prelude": KM_PRELUDE, "cases": km_cases})
    _dump("funnel_exact_limits.json", {
        "reference": "Spiegelhalter (2005) App. A.1.1 interpolated exact limits, written in R "
                     "independently of the product: F from pbeta (any n) and qbinom/pbinom "
                     "(integer n)",
        "r_version": version, "r_code": funnel_r_code(), "limits": compute_funnel()})


def _dump(name: str, payload: dict[str, Any]) -> None:
    (HERE / name).write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {HERE / name}", file=sys.stderr)


if __name__ == "__main__":
    write_all()
