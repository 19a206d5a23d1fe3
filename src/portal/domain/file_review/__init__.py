"""The family file on the staff side (checks, decisions, lists, search) and enrolment
requests: kept apart from portal.domain.family_file, which booking eligibility imports."""
