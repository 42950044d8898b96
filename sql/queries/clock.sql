-- name: test_clock_get
SELECT now FROM test_clock WHERE id = 1;

-- name: test_clock_set
INSERT INTO test_clock (id, now) VALUES (1, :now)
    ON CONFLICT (id) DO UPDATE SET now = excluded.now;
