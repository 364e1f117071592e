-- SPDX-License-Identifier: Apache-2.0
-- Benchmark workload for scripts/bench.sh: sqlite3 (a real program nobody
-- here wrote) builds, indexes, searches and sorts a table of @ROWS@ rows in
-- memory. scripts/bench.sh replaces @ROWS@ and runs it as
--   sqlite3 -batch -init build/bench/sqlite.sql :memory:   (stdin: /dev/null)
-- `.timer on` makes sqlite3 print each statement's own run time, so the tracer's
-- start-up and shutdown are not counted.
.timer on
CREATE TABLE t(id INTEGER PRIMARY KEY, k TEXT, v TEXT);
BEGIN;
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < @ROWS@)
INSERT INTO t(k, v) SELECT 'key' || x, printf('%.*c', 16 + x % 200, 'v') FROM c;
COMMIT;
CREATE INDEX tk ON t(k);
SELECT count(*), sum(length(v)) FROM t WHERE k LIKE 'key1%';
SELECT k FROM t ORDER BY v, k LIMIT 1;
