-- RunSQL-style data changes: the row locks they hold and the tables they touch.
CREATE TABLE region (id bigint PRIMARY KEY, name text);
INSERT INTO region SELECT g, 'r' || g FROM generate_series(1, 10) g;
CREATE TABLE shop (id bigint PRIMARY KEY, region_id bigint REFERENCES region (id), name text, open boolean);
INSERT INTO shop SELECT g, g % 10 + 1, 's' || g, true FROM generate_series(1, 200) g;
CREATE TABLE sale (id bigint PRIMARY KEY, shop_id bigint REFERENCES shop (id) ON DELETE CASCADE, amount integer);
INSERT INTO sale SELECT g, g % 200 + 1, g FROM generate_series(1, 1000) g;
CREATE TABLE audit (id bigint, shop_id bigint REFERENCES shop (id) DEFERRABLE INITIALLY DEFERRED);
CREATE TABLE archive (id bigint, amount integer);

-- case: insert-values
BEGIN;
INSERT INTO region (id, name) VALUES (100, 'north');
ROLLBACK;

-- case: insert-with-foreign-key
BEGIN;
INSERT INTO shop (id, region_id, name) VALUES (1000, 1, 'new');
ROLLBACK;

-- case: insert-with-deferred-foreign-key
BEGIN;
INSERT INTO audit (id, shop_id) VALUES (1, 1);
ROLLBACK;

-- case: insert-select
BEGIN;
INSERT INTO archive SELECT id, amount FROM sale;
ROLLBACK;

-- case: update-without-where
BEGIN;
UPDATE shop SET open = false;
ROLLBACK;

-- case: update-with-where
BEGIN;
UPDATE shop SET open = false WHERE id = 5;
ROLLBACK;

-- case: update-foreign-key-column
BEGIN;
UPDATE shop SET region_id = 2 WHERE id = 5;
ROLLBACK;

-- case: update-from-other-table
BEGIN;
UPDATE sale SET amount = 0 FROM shop WHERE shop.id = sale.shop_id AND shop.open;
ROLLBACK;

-- case: delete-with-cascade
BEGIN;
DELETE FROM shop WHERE id = 7;
ROLLBACK;

-- case: delete-without-where
BEGIN;
DELETE FROM sale;
ROLLBACK;

-- case: delete-using
BEGIN;
DELETE FROM sale USING shop WHERE shop.id = sale.shop_id AND NOT shop.open;
ROLLBACK;

-- case: merge
BEGIN;
MERGE INTO archive a USING sale s ON a.id = s.id WHEN NOT MATCHED THEN INSERT VALUES (s.id, s.amount);
ROLLBACK;

-- case: with-cte-update
BEGIN;
WITH big AS (SELECT id FROM sale WHERE amount > 900) UPDATE sale SET amount = 900 WHERE id IN (SELECT id FROM big);
ROLLBACK;

-- case: select
BEGIN;
SELECT count(*) FROM sale;
ROLLBACK;

-- case: select-for-update
BEGIN;
SELECT id FROM shop WHERE id = 1 FOR UPDATE;
ROLLBACK;

-- case: select-function-only
BEGIN;
SELECT setval(pg_get_serial_sequence('archive', 'id'), 1);
ROLLBACK;

-- case: truncate
BEGIN;
TRUNCATE archive;
ROLLBACK;

-- case: truncate-cascade
BEGIN;
TRUNCATE shop CASCADE;
ROLLBACK;

-- case: lock-table
BEGIN;
LOCK TABLE region IN SHARE MODE;
ROLLBACK;

-- case: lock-table-access-exclusive
BEGIN;
LOCK TABLE region;
ROLLBACK;

-- case: update-outside-a-transaction-block
UPDATE region SET name = upper(name) WHERE id = 1;
