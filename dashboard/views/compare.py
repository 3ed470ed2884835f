"""Compare regimens: 2–4 drugs, classes or regimens side by side, effect sizes and balance chart."""

import polars as pl
import streamlit as st

import charts
from charts import adjusted as charts_adjusted
from dashboard import components, data, filters

LEVELS = {"drug": "Drugs", "drug_class": "Drug classes", "regimen": "Regimens"}

f = filters.current()
st.title("Compare regimens")
components.filters_caption(f)
st.caption("Observational data: differences are confounded by indication and severity (who was prescribed what). "
           "Check the baseline table at the bottom before reading a difference as an effect of the drug.")
level = st.segmented_control("Compare", list(LEVELS), format_func=LEVELS.get, default="drug",
                             key="cmp_level", bind="query-params") or "drug"
scope = f.without("drug_class") if level == "drug_class" else f
response = components.load("response", scope, by=level)
if response is None:
    st.stop()
candidates = data.candidate_groups(response.frame, level)
default = candidates[:data.DEFAULT_GROUPS]
picked = st.multiselect(f"{LEVELS[level]} to compare (2–4; the first is the reference)", candidates,
                        default=default, max_selections=4, key=f"cmp_{level}", bind="query-params",
                        format_func=charts.class_label if level == "drug_class" else str)
if len(picked) < 2:
    st.info("Pick at least two groups to compare.", icon=":material/compare_arrows:")
    st.stop()

OUTCOMES = [("response", "Response", False), ("remission", "Remission", False),
            ("side_effects", "Any side effect (days 0–90)", True)]
if level != "regimen":
    OUTCOMES.append(("adherence", "Adherent (PDC ≥ 80%)", False))
results = {}
for name, label, harm in OUTCOMES:
    overrides = {"level": "class" if level == "drug_class" else "ingredient"} if name == "adherence" else {}
    result = components.try_metric(name, scope, by=level, **overrides)
    if result is None:
        continue
    results[name] = result
    st.markdown(f"**{label}**" + (" (lower is better)" if harm else ""))
    comparison = data.compare_groups(result.frame, level, picked, outcome_is_harm=harm, min_cell=data.MIN_CELL)
    components.table(comparison, title=f"{label}: {' vs '.join(picked)}", key=f"cmp_{name}",
                     labels={"group": LEVELS[level][:-1], "role": "Role", "rate": "Rate (95% CI)", "events": "Events",
                             "n": "Denominator", "difference": "Difference vs reference (95% CI)",
                             "relative_risk": "Relative risk (95% CI)", "nnt": "NNT / NNH", "p_value": "p"})

if "response" in results and "side_effects" in results:
    def pick(frame: pl.DataFrame, prefix: str) -> pl.DataFrame:
        keep = frame.filter(pl.col(level).cast(pl.String).is_in(picked)).select(
            pl.col(level).cast(pl.String), pl.col("rate").alias(f"{prefix}_rate"),
            pl.col("ci_low").alias(f"{prefix}_ci_low"), pl.col("ci_high").alias(f"{prefix}_ci_high"),
            pl.col("denominator").alias(f"{prefix}_n"))
        return keep
    balance = pick(results["response"].frame, "response").join(
        pick(results["side_effects"].frame, "side_effect"), on=level, how="left")
    balance = balance.with_columns(pl.col("response_n").alias("patients"))
    components.chart(charts.balance_chart(balance, level, "Benefit–risk balance: response vs side effects"),
                     key="balance_chart", alt="Response rate against side-effect rate per group, bubble size = eligible episodes",
                     caption="Bubble area = eligible episodes. Whiskers: 95% Wilson intervals on both axes. Upper left is better.")

st.subheader("Adjusted for who got which drug")
ADJUSTMENTS = {"none": "None (crude)", "stratified": "Severity strata", "weighting": "Weighting",
               "matching": "Matching"}
if level == "regimen":
    st.caption("Adjusted comparisons are available for drugs and classes.")
else:
    adjust = st.segmented_control("Adjustment", list(ADJUSTMENTS), format_func=ADJUSTMENTS.get,
                                  default="none", key="cmp_adjust", bind="query-params") or "none"
    middle, right = st.columns(2)
    other = middle.selectbox("Group compared with the reference", picked[1:], key="cmp_adjust_group",
                             format_func=charts.class_label if level == "drug_class" else str)
    outcome = right.selectbox("Outcome", [o[0] for o in OUTCOMES if o[0] != "adherence"],
                              format_func={o[0]: o[1] for o in OUTCOMES}.get, key="cmp_adjust_outcome")
    trim = st.toggle("Only patients who could have received either (trim at the 1st percentile)",
                     key="cmp_adjust_trim") if adjust in ("weighting", "matching") else False
    if adjust != "none":
        c = data.adjusted_comparison(outcome, scope, level, other, picked[0], adjust, 1.0 if trim else None)
        if isinstance(c, str):
            st.info(c, icon=":material/info:")
        elif adjust == "stratified" or c.propensity is None:
            if c.adjusted is not None:
                a = c.adjusted
                st.markdown(f"**Severity-stratified difference, {other} − {picked[0]}:** {100 * a.value:+.1f} "
                            f"points (95% CI {100 * a.low:+.1f} to {100 * a.high:+.1f}); {c.adjusted_note}.")
            else:
                st.info(c.adjusted_note or " ".join(c.notes) or "No adjusted estimate.", icon=":material/info:")
        else:
            s = data.adjusted_summary(c)
            st.caption(f"A = {other}, B = {picked[0]}; adjusted by {s['method']}.")
            if s["trustworthy"]:
                st.success("Balance reached: every covariate within |SMD| 0.1 after adjustment and the "
                           "groups overlap. The effect below is the adjusted answer.", icon=":material/balance:")
            else:
                st.warning("The adjustment did not make the groups comparable, so the effect below is "
                           "**not** the answer:\n\n" + "\n".join(f"- {w}" for w in s["warnings"]),
                           icon=":material/warning:")
            components.chart(charts_adjusted.love_plot(s["balance"]), key="cmp_love_plot",
                             alt="Standardised mean difference of each covariate before and after adjustment",
                             caption="Love plot: hollow = before, filled = after adjustment; dashed line at 0.1.")
            components.chart(charts_adjusted.overlap_histogram(s["histogram"], other, picked[0]),
                             key="cmp_overlap", alt="Propensity-score histograms of the two groups",
                             caption=s["size"] + " Grey stubs: bins hidden (1–10 episodes).")
            st.markdown(("**Effect.** " if s["trustworthy"] else "**Effect (for information only).** ")
                        + s["effect"])
            if s["e_value"]:
                st.markdown(s["e_value"])
            st.caption(s["cannot_prove"])
            components.adjusted_download(c, key=f"cmp_adjusted_{outcome}_{adjust}")

st.subheader("Persistence")
persistence = components.load("persistence", scope, by=level)
if persistence is not None:
    components.table(persistence.frame.filter(pl.col(level).cast(pl.String).is_in(picked)), title="Persistence (Kaplan–Meier)",
                     key="cmp_persistence", formats=persistence.formats, labels={level: LEVELS[level][:-1], "events": "Discontinued"},
                     caption="Median days on treatment before a gap longer than the grace period; % still on treatment at 6 and 12 months.")
    curve = persistence.meta.get("curve")
    if isinstance(curve, pl.DataFrame) and not curve.is_empty():
        picked_curve = curve.filter(pl.col(level).cast(pl.String).is_in(picked))
        components.chart(charts.survival_curves(picked_curve, level, "Kaplan–Meier: still on treatment"),
                         key="cmp_persistence_curve", alt="Persistence curves of the compared groups",
                         caption="Shaded: 95% interval. Steps hold at least 11 discontinuations; a curve stops below 11 at risk.")

st.subheader("Were the groups alike at baseline?")
if level == "regimen":
    st.caption("Baseline tables are available for drugs and classes.")
elif data.available("baseline_characteristics"):
    tables = {}
    for group in picked:
        group_filters = filters.Filters(**{**f.__dict__, level: group})
        baseline = components.try_metric("baseline_characteristics", group_filters)
        if baseline is not None:
            tables[group] = baseline.frame
    table, imbalanced = data.baseline_balance(tables)
    if imbalanced:
        st.warning("The groups differ at baseline (|SMD| > 0.1 on at least one characteristic): the differences "
                   "above may reflect who was prescribed what, not what the drugs do.", icon=":material/warning:")
    components.table(table, title="Baseline characteristics (standardised mean differences vs the reference)",
                     key="cmp_baseline", caption="SMD: Austin 2009; |SMD| > 0.1 is usually read as imbalance.")
components.suppression_note()
