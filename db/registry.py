"""Imports every module that declares tables, so Base.metadata holds the whole schema."""

import db.claim_models  # noqa: F401
import db.complaint_models  # noqa: F401
import db.console_models  # noqa: F401
import db.document_models  # noqa: F401
import db.follow_up_models  # noqa: F401
import db.kpi_snapshot_models  # noqa: F401
import db.models  # noqa: F401
import db.notification_models  # noqa: F401
