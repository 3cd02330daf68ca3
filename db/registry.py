"""Imports every module that declares tables, so Base.metadata holds the whole schema."""

import db.audit.models  # noqa: F401
import db.claims.models  # noqa: F401
import db.complaints.models  # noqa: F401
import db.console.models  # noqa: F401
import db.documents.models  # noqa: F401
import db.escalations.models  # noqa: F401
import db.feeds.models  # noqa: F401  (issue 19 §1: carrier pushes)
import db.follow_ups.models  # noqa: F401
import db.imports.models  # noqa: F401  (issue 19 §4)
import db.keys.models  # noqa: F401
import db.kpis.snapshot_models  # noqa: F401
import db.notifications.models  # noqa: F401
import db.orders.models  # noqa: F401
import db.personal.models  # noqa: F401  (issue 17 §6)
import db.policies.models  # noqa: F401
