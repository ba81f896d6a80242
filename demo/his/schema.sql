-- The demo HIS schema (docs/his-schema.md): just enough of a hospital information system for hospmon's
-- business probes. MariaDB/MySQL dialect; times are local (Asia/Shanghai) DATETIMEs, as HIS vendors store them.
-- Tables marked "patient data" hold identifiers the monitoring queries never select.

CREATE TABLE clinic (                      -- 门诊科室: one row per clinic that takes registrations
  clinic_code   VARCHAR(32)  PRIMARY KEY,  -- e.g. internal-med
  clinic_name   VARCHAR(64)  NOT NULL,     -- e.g. 内科门诊
  clinic_type   VARCHAR(16)  NOT NULL      -- general | specialist | expert | emergency
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE pharmacy (                    -- 药房
  pharmacy_code VARCHAR(32)  PRIMARY KEY,  -- e.g. op-western
  pharmacy_name VARCHAR(64)  NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE interface_channel (           -- 集成平台通道
  channel       VARCHAR(32)  PRIMARY KEY,  -- e.g. lis-orders
  description   VARCHAR(128) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE patient (                     -- 患者 (patient data)
  patient_id    BIGINT       AUTO_INCREMENT PRIMARY KEY,
  mrn           VARCHAR(20)  NOT NULL UNIQUE,  -- 病历号
  name          VARCHAR(50)  NOT NULL,
  id_number     VARCHAR(18)  NULL,             -- 身份证号
  phone         VARCHAR(11)  NULL,
  insurance     VARCHAR(24)  NOT NULL          -- self_pay | employee | resident
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE registration (                -- 挂号
  reg_id        BIGINT       AUTO_INCREMENT PRIMARY KEY,
  patient_id    BIGINT       NOT NULL,
  clinic_code   VARCHAR(32)  NOT NULL,
  registered_at DATETIME(3)  NOT NULL,
  status        VARCHAR(12)  NOT NULL,     -- waiting | called | finished | cancelled
  called_at     DATETIME(3)  NULL,
  note          VARCHAR(255) NULL,         -- free text (patient data)
  KEY reg_time (registered_at),
  KEY reg_queue (status, clinic_code, registered_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE prescription (                -- 处方
  rx_id         BIGINT       AUTO_INCREMENT PRIMARY KEY,
  reg_id        BIGINT       NOT NULL,
  pharmacy_code VARCHAR(32)  NOT NULL,
  created_at    DATETIME(3)  NOT NULL,
  status        VARCHAR(12)  NOT NULL,     -- prescribed | paid | dispensed | cancelled
  paid_at       DATETIME(3)  NULL,
  dispensed_at  DATETIME(3)  NULL,
  KEY rx_queue (status, pharmacy_code, paid_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE billing (                     -- 收费
  bill_id       BIGINT       AUTO_INCREMENT PRIMARY KEY,
  reg_id        BIGINT       NOT NULL,
  created_at    DATETIME(3)  NOT NULL,
  amount        DECIMAL(10,2) NOT NULL,
  channel       VARCHAR(12)  NOT NULL,     -- window | kiosk | mobile
  status        VARCHAR(12)  NOT NULL,     -- ok | failed
  error_code    VARCHAR(16)  NULL,
  KEY bill_time (created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE insurance_settlement (        -- 医保结算, through the front-end processor (前置机)
  settle_id     BIGINT       AUTO_INCREMENT PRIMARY KEY,
  bill_id       BIGINT       NOT NULL,
  requested_at  DATETIME(3)  NOT NULL,
  responded_at  DATETIME(3)  NULL,
  status        VARCHAR(12)  NOT NULL,     -- pending | success | failed
  error_code    VARCHAR(16)  NULL,
  KEY settle_time (requested_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE interface_message (           -- messages waiting in the integration platform
  msg_id        BIGINT       AUTO_INCREMENT PRIMARY KEY,
  channel       VARCHAR(32)  NOT NULL,
  created_at    DATETIME(3)  NOT NULL,
  status        VARCHAR(12)  NOT NULL,     -- pending | sent | error
  sent_at       DATETIME(3)  NULL,
  payload       TEXT         NULL,         -- the HL7 or XML message (patient data)
  KEY msg_queue (status, channel, created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

INSERT INTO clinic VALUES
  ('internal-med', '内科门诊', 'general'),
  ('surgery', '外科门诊', 'general'),
  ('pediatrics', '儿科门诊', 'general'),
  ('gynecology', '妇科门诊', 'specialist'),
  ('ophthalmology', '眼科门诊', 'specialist'),
  ('cardiology-expert', '心内科专家门诊', 'expert'),
  ('emergency', '急诊', 'emergency');

INSERT INTO pharmacy VALUES
  ('op-western', '门诊西药房'),
  ('op-tcm', '门诊中药房'),
  ('emergency', '急诊药房');

INSERT INTO interface_channel VALUES
  ('lis-orders', 'Lab orders to the LIS (HL7 ORM)'),
  ('pacs-orders', 'Imaging orders to the RIS (HL7 ORM)'),
  ('emr-sync', 'Encounters to the EMR'),
  ('insurance-upload', 'Settlement detail upload to the insurance bureau');
