"""The rating hot path's shared steps as SQL functions, each rule written once: the
statements of evalhub.rating.statements call them.

- rating_item_reserve: reserve the next item for a rater (the pool's rule);
- rating_judgment_record: claim a live assignment and record its judgment (the answer's);
- rating_limit_count: a session's answer count in the current one-minute window.

Self-contained (no imports from the app), so it can move into a squashed migration."""

from django.db import migrations

FUNCTIONS = r"""
-- Reserve the next item of study p_study for rater p_rater, or no row when none is left
-- for them. Real items: open ones (taken < p_k) the rater never had, fullest first, in the
-- order of rating_pool_order_idx; gold items (p_gold): the least served, else a real item.
-- The page is locked (others skip it: nobody waits), counted (gold pages never use up the
-- real pool) and the assignment made. The target's side alternates over an item's
-- reservations (served + item id), so left/right is counterbalanced. Index lookups only,
-- whatever the statistics of a just-launched study's empty tables say.
CREATE OR REPLACE FUNCTION rating_item_reserve(
    p_study bigint, p_rater bigint, p_k bigint, p_gold boolean,
    p_now timestamptz, p_expires timestamptz
) RETURNS TABLE (reserved_id bigint, reserved_item bigint, reserved_side varchar)
LANGUAGE plpgsql SET enable_seqscan = off AS $$
DECLARE
    v_item bigint;
    v_served integer;
    v_gold boolean := false;
BEGIN
    IF p_gold THEN
        SELECT p.item_id, p.served INTO v_item, v_served
        FROM rating_itempage p
        WHERE p.study_id = p_study AND p.is_gold
          AND NOT EXISTS (SELECT 1 FROM studies_assignment a
                          WHERE a.item_id = p.item_id AND a.rater_id = p_rater)
        ORDER BY p.served, p.item_id
        LIMIT 1
        FOR UPDATE OF p SKIP LOCKED;
        v_gold := FOUND;
    END IF;
    IF NOT v_gold THEN
        SELECT p.item_id, p.served INTO v_item, v_served
        FROM rating_itempage p
        WHERE p.study_id = p_study AND NOT p.is_gold AND p.taken < p_k
          AND NOT EXISTS (SELECT 1 FROM studies_assignment a
                          WHERE a.item_id = p.item_id AND a.rater_id = p_rater)
        ORDER BY p.taken DESC, p.item_id
        LIMIT 1
        FOR UPDATE OF p SKIP LOCKED;
        IF NOT FOUND THEN
            RETURN;
        END IF;
    END IF;
    UPDATE rating_itempage p
    SET taken = p.taken + CASE WHEN v_gold THEN 0 ELSE 1 END, served = p.served + 1
    WHERE p.item_id = v_item;
    RETURN QUERY
    INSERT INTO studies_assignment
        (item_id, rater_id, target_side, status, reserved_at, expires_at)
    VALUES (v_item, p_rater, CASE WHEN (v_served + v_item) % 2 = 0 THEN 'A' ELSE 'B' END,
            'reserved', p_now, p_expires)
    RETURNING id, item_id, target_side;
END
$$;

-- Record a rater's answer: claim the live assignment (only the rater's own, only while
-- reserved and unexpired: a double or late submit matches no row and writes nothing),
-- count it on the item and insert the judgment. Returns the judgment's id, or NULL when
-- nothing was written.
CREATE OR REPLACE FUNCTION rating_judgment_record(
    p_assignment bigint, p_rater bigint, p_group text, p_order text, p_raw_choice text,
    p_verdict text, p_score double precision, p_turn_labels jsonb, p_comment text,
    p_ms bigint, p_too_fast boolean, p_gold boolean, p_now timestamptz
) RETURNS bigint
LANGUAGE plpgsql SET enable_seqscan = off AS $$
DECLARE
    v_item bigint;
    v_judgment bigint;
BEGIN
    UPDATE studies_assignment a SET status = 'submitted', submitted_at = p_now
    WHERE a.id = p_assignment AND a.rater_id = p_rater AND a.status = 'reserved'
      AND a.expires_at > p_now
    RETURNING a.item_id INTO v_item;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    UPDATE studies_item i SET judgment_count = i.judgment_count + 1 WHERE i.id = v_item;
    INSERT INTO studies_judgment (
        item_id, assignment_id, rater_id, judge_group, "order", raw_choice, verdict, score,
        turn_labels, comment, time_on_task_ms, too_fast, is_attention_check, raw_response,
        parse_state, imported_from, excluded, created_at)
    VALUES (v_item, p_assignment, p_rater, p_group, p_order, p_raw_choice, p_verdict, p_score,
            p_turn_labels, p_comment, p_ms, p_too_fast, p_gold, '', '', '', false, p_now)
    RETURNING id INTO v_judgment;
    RETURN v_judgment;
END
$$;

-- A session's answer count once one more answer is counted in window p_window (minutes
-- since the epoch): fixed one-minute windows. Inlined where it is used.
CREATE OR REPLACE FUNCTION rating_limit_count(
    p_was_window integer, p_was_count integer, p_window bigint
) RETURNS integer
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN p_was_window = p_window THEN p_was_count + 1 ELSE 1 END
$$;
"""

DROP = """
DROP FUNCTION IF EXISTS rating_item_reserve(bigint, bigint, bigint, boolean, timestamptz,
                                            timestamptz);
DROP FUNCTION IF EXISTS rating_judgment_record(bigint, bigint, text, text, text, text,
                                               double precision, jsonb, text, bigint, boolean,
                                               boolean, timestamptz);
DROP FUNCTION IF EXISTS rating_limit_count(integer, integer, bigint);
"""


class Migration(migrations.Migration):
    dependencies = [('rating', '0001_rater_sessions_and_pool'), ('studies', '0001_studies_items_judgments')]

    operations = [migrations.RunSQL(FUNCTIONS, DROP)]
