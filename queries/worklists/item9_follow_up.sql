/* ---
name: item9_follow_up
title: PHQ-9 item 9 without follow-up
description: >
  Patient-level worklist (DOMAIN.md 13.3). A PHQ-9 (or PHQ-A) with item 9 (thoughts of
  self-harm) above 0, dated in the item9_lookback_days before as_of, needs a documented suicide
  risk assessment (a C-SSRS assessment) or a clinician contact (a visit) in [0, +item9_followup_days]
  days (CMS161 / MIPS #107; Joint Commission NPSG 15.01.01). Listed once that window has closed
  (as_of > screen date + item9_followup_days) with neither; days_overdue = as_of - the window's
  last day. The item-9 score is listed: one-year attempt risk rises from about 0.4% at 0 to
  about 4% at 3 (Simon 2013). The product is retrospective, not an alerting system: the list is
  for review. The clinician and drug are those of the latest-starting episode active on the
  screen date, else the clinician of the patient's latest visit on or before it.
grain: one row per positive item-9 screen without follow-up
params:
  clinician_id: {type: varchar, description: 'the clinician (null = all)'}
  item9_followup_days: {type: integer, default: 1, description: 'follow-up window [0, +N] days'}
  item9_lookback_days: {type: integer, default: 365, description: 'screens dated in [as_of - N, as_of]'}
columns_from: worklist  # the columns, parameter as_of and CTEs of every worklist (pipelines/metric_shorthand.py)
columns:
  item_9: integer
tests:
  unique: [patient_id, trigger_on]
  expressions: [days_overdue >= 1, item_9 between 1 and 3]
--- */
with positives as (
    select distinct scores.patient_id, scores.assessed_on, scores.total_score, scores.item_9, as_of.as_of_on
    from marts.fct_scores as scores
    cross join as_of
    where
        scores.instrument = 'PHQ-9'
        and scores.item_9 > 0
        and scores.assessed_on >= as_of.as_of_on - $item9_lookback_days
        and as_of.as_of_on > scores.assessed_on + $item9_followup_days
),

-- the first contact (a visit or a C-SSRS) on or after the screen's day: one rule, in the mart
-- that the safety_flags metric reads too (marts.fct_safety_flags)
first_contacts as (
    select patient_id, assessed_on, min(first_contact_on) as first_contact_on
    from marts.fct_safety_flags
    group by all
),

unfollowed as (
    select positives.*, first_contacts.first_contact_on
    from positives
    left join first_contacts using (patient_id, assessed_on)
    where not coalesce(first_contacts.first_contact_on <= positives.assessed_on + $item9_followup_days, false)
),

active as (
    select
        unfollowed.patient_id,
        unfollowed.assessed_on,
        arg_max({'drug': episodes.drug, 'drug_class': episodes.drug_class,
                 'clinician_id': episodes.clinician_id},
                {'start_on': episodes.start_on, 'drug': episodes.drug}) as episode
    from unfollowed
    inner join marts.fct_treatment_episodes as episodes
        on unfollowed.patient_id = episodes.patient_id
        and unfollowed.assessed_on between episodes.start_on and episodes.end_on
    group by all
),

seen_by as (
    select
        unfollowed.patient_id,
        unfollowed.assessed_on,
        arg_max(visits.clinician_id, {'visit_on': visits.visit_on, 'id': visits.visit_id}) as clinician_id
    from unfollowed
    inner join marts.fct_visits as visits
        on unfollowed.patient_id = visits.patient_id
        and visits.visit_on <= unfollowed.assessed_on
        and visits.clinician_id is not null
    group by all
),

final as (
    select
        'item9-follow-up' as worklist,
        unfollowed.patient_id,
        coalesce(active.episode.clinician_id, seen_by.clinician_id) as clinician_id,
        active.episode.drug as drug,
        active.episode.drug_class as drug_class,
        'positive item 9 without follow-up' as reason,
        format('PHQ-9 item 9 = {} (total {}) on {}; no visit or risk assessment by {}{}',
               unfollowed.item_9, unfollowed.total_score, unfollowed.assessed_on,
               unfollowed.assessed_on + $item9_followup_days,
               case when unfollowed.first_contact_on is null
                         or unfollowed.first_contact_on > unfollowed.as_of_on then '; no contact since'
                    else format('; first contact after the window on {}', unfollowed.first_contact_on)
               end) as facts,
        unfollowed.assessed_on as trigger_on,
        cast(unfollowed.assessed_on + $item9_followup_days as date) as due_on,
        cast(unfollowed.as_of_on - (unfollowed.assessed_on + $item9_followup_days) as integer) as days_overdue,
        'review: document a suicide risk assessment (C-SSRS) or clinician contact' as clears,
        unfollowed.item_9
    from unfollowed
    left join active using (patient_id, assessed_on)
    left join seen_by using (patient_id, assessed_on)
)

select * from final
where $clinician_id is null or clinician_id = $clinician_id
order by clinician_id, patient_id, trigger_on
