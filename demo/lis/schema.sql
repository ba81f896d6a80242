-- The demo LIS database (MariaDB/MySQL): a small, made-up laboratory information system schema.
-- Documented in docs/lis-schema.md; the queries of deploy/exporters/lis.yml read it.
-- Times are DATETIME in the hospital's local time.

CREATE TABLE lab_section (
  code      VARCHAR(16) PRIMARY KEY,           -- CHEM, HEMA, IMMU, MICRO, EMERG ...
  name      VARCHAR(64) NOT NULL,
  name_zh   VARCHAR(64) NOT NULL,
  opens     TIME NULL,                         -- NULL: staffed around the clock
  closes    TIME NULL,
  weekdays  VARCHAR(7) NOT NULL DEFAULT '0123456'  -- days staffed, as MariaDB WEEKDAY() digits (0 = Monday)
);

CREATE TABLE interface (
  code        VARCHAR(32) PRIMARY KEY,         -- HIS-ORDERS, LIS-RESULTS, or one per analyzer link
  description VARCHAR(128) NOT NULL,
  protocol    VARCHAR(16) NOT NULL             -- HL7-MLLP, ASTM, FILE
);

CREATE TABLE analyzer (
  code      VARCHAR(32) PRIMARY KEY,           -- CHEM-AU5800-1 ...
  section   VARCHAR(16) NOT NULL REFERENCES lab_section (code),
  model     VARCHAR(64) NOT NULL,
  interface VARCHAR(32) NOT NULL REFERENCES interface (code)
);

-- One row per message an interface sent or received (the payload stays in the interface engine).
CREATE TABLE message_log (
  id           BIGINT AUTO_INCREMENT PRIMARY KEY,
  interface    VARCHAR(32) NOT NULL,
  analyzer     VARCHAR(32) NULL,
  direction    ENUM('in', 'out') NOT NULL,
  message_type VARCHAR(16) NOT NULL,           -- ORM^O01, ORU^R01, ACK ...
  logged_at    DATETIME(3) NOT NULL,
  KEY by_interface (interface, logged_at),
  KEY by_analyzer (analyzer, logged_at)
);

-- One row per ordered test (sample). sample_no and patient_id are identifiers: never exported.
CREATE TABLE lab_order (
  id           BIGINT AUTO_INCREMENT PRIMARY KEY,
  sample_no    VARCHAR(20) NOT NULL,
  patient_id   VARCHAR(20) NOT NULL,
  section      VARCHAR(16) NOT NULL,
  priority     ENUM('STAT', 'ROUTINE') NOT NULL,
  test_code    VARCHAR(16) NOT NULL,
  analyzer     VARCHAR(32) NULL,
  status       ENUM('ordered', 'received', 'resulted', 'verified', 'cancelled') NOT NULL,
  ordered_at   DATETIME NOT NULL,
  received_at  DATETIME NULL,                  -- sample received in the lab: turnaround starts
  resulted_at  DATETIME NULL,                  -- analyzer result in
  verified_at  DATETIME NULL,                  -- released to the clinician: turnaround ends
  KEY by_status (status, section, priority),
  KEY by_verified (verified_at)
);

-- Critical values (危急值): detected on a result, to be notified to the clinician within the hospital's target.
CREATE TABLE critical_value (
  id              BIGINT AUTO_INCREMENT PRIMARY KEY,
  order_id        BIGINT NOT NULL REFERENCES lab_order (id),
  detected_at     DATETIME NOT NULL,
  notified_at     DATETIME NULL,               -- clinician (or ward nurse) reached and read back
  notified_role   VARCHAR(16) NULL,            -- doctor, nurse
  KEY by_notified (notified_at),
  KEY by_detected (detected_at)
);
