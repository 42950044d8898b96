-- name: test_clock_get
SELECT now FROM test_clock WHERE id = 1;

-- name: test_clock_set
INSERT INTO test_clock (id, now) VALUES (1, :now)
    ON CONFLICT (id) DO UPDATE SET now = excluded.now;

-- name: sweep_turn
-- One sweeper at a time: SQLite's writer lock already gives each sweep batch the whole database.
SELECT 1 AS mine;

-- name: readiness_probe
-- /readyz: a real write, so a read-only file or a full disk shows as not ready.
INSERT INTO readiness_probe (id, written_at) VALUES (1, :now)
    ON CONFLICT (id) DO UPDATE SET written_at = excluded.written_at;
