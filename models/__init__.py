"""Table models, one module per aggregate; importing this package registers them all."""
from models.org import Department, Unit  # noqa: F401
from models.project import Project, ProjectYear  # noqa: F401
from models.indicator import Indicator, TargetChange  # noqa: F401
from models.importing import ImportBatch, ProjectYearImport  # noqa: F401
from models.target_adjustment import TargetAdjustment, TargetAdjustmentItem  # noqa: F401
from models.job import ImportJob, ImportJobFile  # noqa: F401
from models.user import ApiToken, LoginAttempt, LoginSession, User  # noqa: F401
from models.actual import Actual, ActualChange, Alert, Spending, SpendingChange  # noqa: F401
from models.evidence import Evidence  # noqa: F401
from models.summary import BudgetSummary, LightSummary  # noqa: F401
from models.outbox import OutboxMessage, ReminderSetting, SchedulerRun, SentNotice  # noqa: F401
from models.evaluation import (EvaluationNote, EvaluationPeriodNote, EvaluationReview, EvaluationStatement,  # noqa: F401
                               EvaluationStep, EvaluationWeights)
from models.export_job import ExportJob  # noqa: F401
from models.adjustment import BudgetAdjustment  # noqa: F401
from models.monitoring import MonitoringStep, MonitoringSubmission, Rectification, RectificationStep  # noqa: F401
from models.monitoring_report import MonitoringReport, MonitoringReportStep  # noqa: F401
