"""The wards: a status page for clinical staff, downtime playbooks, the patient-facing blast radius."""
