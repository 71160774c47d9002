"""Yardstick for ``icp report scorecard``: the scorecard's core in one DuckDB script.

``python bench/duckdb_scorecard.py DIR [WINDOW]`` reads DIR/accounts.csv,
subscriptions.csv and opportunities.csv and prints, per vertical and sub-industry,
NRR, GRR, logo retention, win rate, average deal size, days to close and
prospects as JSON (METRICS.md definitions; the same as-of month as ``icp``: the
last complete month by the latest start, creation or close date). It is what a
hand-written script would do: no validation, no CLV, no intervals. Run as a
script, it imports duckdb and json only, like a user's own script would.
"""

from __future__ import annotations

import json
import sys

import duckdb

SQL = """
CREATE TEMP TABLE acc AS
SELECT account_id, vertical, COALESCE(NULLIF(trim(sub_industry), ''), 'Unspecified') AS sub
FROM read_csv('{d}/accounts.csv', all_varchar = true);
CREATE TEMP TABLE subs AS
SELECT account_id, start_date, end_date, mrr
FROM read_csv('{d}/subscriptions.csv',
              types = {{'start_date': 'DATE', 'end_date': 'DATE', 'mrr': 'DECIMAL(14,2)'}});
CREATE TEMP TABLE opps AS
SELECT account_id, opportunity_type, status, created_date, close_date, amount
FROM read_csv('{d}/opportunities.csv',
              types = {{'created_date': 'DATE', 'close_date': 'DATE', 'amount': 'DECIMAL(14,2)'}});
-- The data ends at the latest start, creation or close date; the as-of month is the
-- last complete month by then.
CREATE TEMP TABLE span AS
WITH e AS (SELECT greatest((SELECT max(start_date) FROM subs), (SELECT max(created_date) FROM opps),
                           (SELECT max(close_date) FROM opps)) AS d)
SELECT CASE WHEN d = last_day(d) THEN last_day(d)
            ELSE last_day(date_trunc('month', d) - INTERVAL 1 DAY) END AS m_end,
       last_day(CASE WHEN d = last_day(d) THEN d ELSE date_trunc('month', d) - INTERVAL 1 DAY END
                - INTERVAL {w} MONTH) AS s_end
FROM e;
"""
QUERY = """
WITH at_start AS (
  SELECT account_id, sum(mrr) AS s FROM subs, span
  WHERE start_date <= s_end AND (end_date IS NULL OR end_date >= s_end)
  GROUP BY account_id HAVING sum(mrr) > 0),
at_end AS (
  SELECT account_id, sum(mrr) AS e FROM subs, span
  WHERE start_date <= m_end AND (end_date IS NULL OR end_date >= m_end)
  GROUP BY account_id HAVING sum(mrr) > 0),
ret AS (
  SELECT a.vertical, a.sub, count(*) AS accounts,
         sum(coalesce(e, 0)) / sum(s) AS nrr,
         sum(least(coalesce(e, 0), s)) / sum(s) AS grr,
         count(e) / count(*) AS logo_retention
  FROM at_start JOIN acc a USING (account_id) LEFT JOIN at_end USING (account_id)
  GROUP BY ALL),
sec AS (
  SELECT a.vertical, a.sub,
         count(*) FILTER (status = 'won')
           / count(*) FILTER (status IN ('won', 'lost')) AS win_rate,
         avg(amount) FILTER (status = 'won') AS avg_deal_size,
         median(close_date - created_date) FILTER (status = 'won') AS days_to_close
  FROM opps JOIN acc a USING (account_id), span
  WHERE coalesce(opportunity_type, 'new_business') = 'new_business'
    AND close_date > s_end AND close_date <= m_end
  GROUP BY ALL),
prospects AS (
  SELECT vertical, sub, count(*) AS prospects FROM acc
  -- Never active by the as-of month: no subscription covering a month's last day by then.
  WHERE account_id NOT IN (
    SELECT account_id FROM subs, span
    WHERE mrr > 0 AND last_day(start_date) <= m_end
      AND (end_date IS NULL OR end_date >= last_day(start_date)))
  GROUP BY ALL),
seg AS (SELECT DISTINCT vertical, sub FROM acc)
SELECT seg.vertical, seg.sub AS sub_industry, coalesce(accounts, 0) AS accounts, nrr, grr,
       logo_retention, win_rate, avg_deal_size, days_to_close,
       coalesce(prospects, 0) AS prospects
FROM seg LEFT JOIN ret USING (vertical, sub) LEFT JOIN sec USING (vertical, sub)
LEFT JOIN prospects USING (vertical, sub)
ORDER BY seg.vertical, seg.sub
"""


def scorecard(folder: str, window: int = 12) -> list[dict[str, object]]:
    """The core scorecard rows of the export folder ``folder``."""
    con = duckdb.connect()
    con.execute(SQL.format(d=folder, w=window))
    cur = con.execute(QUERY)
    names = [c[0] for c in cur.description]
    return [
        {
            k: (float(v) if v is not None and k not in ("vertical", "sub_industry") else v)
            for k, v in zip(names, row, strict=True)
        }
        for row in cur.fetchall()
    ]


if __name__ == "__main__":
    window = int(sys.argv[2]) if len(sys.argv) > 2 else 12
    print(json.dumps(scorecard(sys.argv[1], window)))
