-- Constraint forms: CHECK, FOREIGN KEY (both tables locked), UNIQUE, PRIMARY KEY, EXCLUDE.
CREATE TABLE customer (id bigint PRIMARY KEY, email text, region text);
INSERT INTO customer SELECT g, 'c' || g || '@example.org', 'eu' FROM generate_series(1, 300) g;
CREATE TABLE purchase (id bigint PRIMARY KEY, customer_id bigint, total numeric(10, 2), during tsrange);
INSERT INTO purchase SELECT g, g % 300 + 1, g, tsrange('2024-01-01'::timestamp + g * interval '1 hour', '2024-01-01'::timestamp + (g + 1) * interval '1 hour') FROM generate_series(1, 500) g;
CREATE TABLE refund (id bigint, purchase_id bigint);
INSERT INTO refund SELECT g, g FROM generate_series(1, 50) g;
ALTER TABLE purchase ADD CONSTRAINT purchase_customer_fk FOREIGN KEY (customer_id) REFERENCES customer (id);
ALTER TABLE purchase ADD CONSTRAINT purchase_total_positive CHECK (total > 0);
CREATE UNIQUE INDEX customer_email_key_idx ON customer (email);

-- case: add-check
BEGIN;
ALTER TABLE purchase ADD CONSTRAINT purchase_total_small CHECK (total < 100000);
ROLLBACK;

-- case: add-check-not-valid-then-validate
BEGIN;
ALTER TABLE purchase ADD CONSTRAINT purchase_total_small CHECK (total < 100000) NOT VALID;
ALTER TABLE purchase VALIDATE CONSTRAINT purchase_total_small;
ROLLBACK;

-- case: add-check-not-valid-then-validate-in-separate-transactions
ALTER TABLE purchase ADD CONSTRAINT purchase_total_cap CHECK (total < 1000000) NOT VALID;
ALTER TABLE purchase VALIDATE CONSTRAINT purchase_total_cap;
ALTER TABLE purchase DROP CONSTRAINT purchase_total_cap;

-- case: add-foreign-key
BEGIN;
ALTER TABLE refund ADD CONSTRAINT refund_purchase_fk FOREIGN KEY (purchase_id) REFERENCES purchase (id);
ROLLBACK;

-- case: add-foreign-key-not-valid-then-validate
BEGIN;
ALTER TABLE refund ADD CONSTRAINT refund_purchase_fk FOREIGN KEY (purchase_id) REFERENCES purchase (id) NOT VALID;
ALTER TABLE refund VALIDATE CONSTRAINT refund_purchase_fk;
ROLLBACK;

-- case: add-foreign-key-deferrable
BEGIN;
ALTER TABLE refund ADD CONSTRAINT refund_purchase_fk FOREIGN KEY (purchase_id) REFERENCES purchase (id) DEFERRABLE INITIALLY DEFERRED;
ROLLBACK;

-- case: drop-foreign-key
BEGIN;
ALTER TABLE purchase DROP CONSTRAINT purchase_customer_fk;
ROLLBACK;

-- case: drop-check
BEGIN;
ALTER TABLE purchase DROP CONSTRAINT purchase_total_positive;
ROLLBACK;

-- case: add-unique
BEGIN;
ALTER TABLE customer ADD CONSTRAINT customer_email_uniq UNIQUE (email);
ROLLBACK;

-- case: add-unique-using-index
BEGIN;
ALTER TABLE customer ADD CONSTRAINT customer_email_key UNIQUE USING INDEX customer_email_key_idx;
ROLLBACK;

-- case: add-primary-key
BEGIN;
ALTER TABLE refund ADD PRIMARY KEY (id);
ROLLBACK;

-- case: add-exclusion
BEGIN;
ALTER TABLE purchase ADD CONSTRAINT purchase_no_overlap EXCLUDE USING gist (during WITH &&);
ROLLBACK;

-- case: drop-primary-key-cascade
BEGIN;
ALTER TABLE customer DROP CONSTRAINT customer_pkey CASCADE;
ROLLBACK;

-- case: create-table-with-references
BEGIN;
CREATE TABLE voucher (id bigint PRIMARY KEY, customer_id bigint REFERENCES customer (id), purchase_id bigint);
ALTER TABLE voucher ADD CONSTRAINT voucher_purchase_fk FOREIGN KEY (purchase_id) REFERENCES purchase (id);
CREATE INDEX voucher_customer_idx ON voucher (customer_id);
ROLLBACK;

-- case: table-created-in-an-earlier-transaction-is-pre-existing
CREATE TABLE coupon (id bigint PRIMARY KEY, customer_id bigint);
ALTER TABLE coupon ADD CONSTRAINT coupon_customer_fk FOREIGN KEY (customer_id) REFERENCES customer (id);
DROP TABLE coupon;
