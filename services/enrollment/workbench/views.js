// The workbench's views and the roles that see them (docs/workbench.md). The navigation offers a
// person the views any of their token's roles may use, in this order; the first is where they
// land. A view's roles are the roles its API routes admit (docs/http.md): showing a view to
// someone the service would refuse helps nobody.
//
// A view is {id, label, roles, render}. ``id`` is its address (/app/#<id>, /app/#<id>/<param>),
// ``label`` the label key of its link, and ``render(ctx, section, param)`` fills the section it
// is given (see app.js for ``ctx``) and may return {relabel()} for what it wrote with t() that
// must change with the language. To add a role: write its module beside clerk.js, list its
// views here, put its labels in a table of its own beside them (labels-<role>.js, English and
// Chinese) and list that table in LABEL_TABLES; add the files to web.py's ASSETS.

import { enrolView, importView } from "./clerk.js";
import { traineesView } from "./trainees.js";
import { approvalsView, placementView, plansView } from "./plans.js";
import { PLANS_LABELS } from "./labels-plans.js";
import { PLAN_CONTENT_LABELS } from "./labels-plan-content.js";
import { trainerStagesView, trainerTraineesView } from "./trainer.js";
import { traineePlanView } from "./trainee-plan.js";
import { DAILY_LABELS } from "./labels-daily.js";
import { disputesView, dispositionView, sessionsView } from "./sessions.js";
import { scoringView } from "./scoring.js";
import { auditView, gradeView } from "./grade.js";
import { ASSESS_LABELS } from "./labels-assess.js";
import { PAY_LABELS } from "./labels-pay.js";
import { payInputsView, payrollView } from "./payroll.js";
import { myPayslipsView } from "./payslips.js";
import { followUpsView } from "./returns.js";
import { concernsView } from "./concerns.js";
import { RETURNS_LABELS } from "./labels-returns.js";
import { RETRAIN_LABELS } from "./labels-retrain.js";
import { retrainingView } from "./retrain.js";
import { feedbackView } from "./feedback.js";
import { FEED_LABELS } from "./labels-feed.js";
import { policiesView } from "./policies.js";
import { POLICY_LABELS } from "./labels-policy.js";
import { privacyView } from "./privacy.js";
import { PRIVACY_LABELS } from "./labels-privacy.js";

const CLERK = "branch_clerk";
const MANAGER = "after_sales_manager";
const PRODUCTION = "production_manager";
const EXEC_VP = "exec_vp";
const TRAINER = "trainer";
const TRAINEE = "trainee";
const EXAMINER = "examiner";
const AUDITOR = "auditor";
const PAYROLL = "payroll";
const ADMIN = "admin";

// The roles' label tables, after labels.js's (app.js hands them all to the Language).
export const LABEL_TABLES = [
  PLANS_LABELS,
  DAILY_LABELS,
  ASSESS_LABELS,
  PAY_LABELS,
  RETURNS_LABELS,
  RETRAIN_LABELS,
  FEED_LABELS,
  PLAN_CONTENT_LABELS,
  POLICY_LABELS,
  PRIVACY_LABELS,
];

export const VIEWS = [
  { id: "enrol", label: "view_enrol", roles: [CLERK], render: enrolView },
  { id: "trainees", label: "view_trainees", roles: [CLERK], render: traineesView },
  { id: "import", label: "view_import", roles: [CLERK], render: importView },
  { id: "feedback", label: "view_feedback", roles: [CLERK], render: feedbackView },
  { id: "placement", label: "view_placement", roles: [MANAGER], render: placementView },
  { id: "plans", label: "view_plans", roles: [MANAGER, PRODUCTION], render: plansView },
  { id: "approvals", label: "view_approvals", roles: [EXEC_VP], render: approvalsView },
  { id: "my-stages", label: "view_my_stages", roles: [TRAINER], render: trainerStagesView },
  { id: "my-trainees", label: "view_my_trainees", roles: [TRAINER], render: trainerTraineesView },
  { id: "follow-ups", label: "view_follow_ups", roles: [TRAINER], render: followUpsView },
  { id: "my-retraining", label: "view_retraining", roles: [TRAINER], render: retrainingView },
  { id: "my-plan", label: "view_my_plan", roles: [TRAINEE], render: traineePlanView },
  { id: "exam-sessions", label: "view_sessions", roles: [MANAGER], render: sessionsView },
  { id: "scoring", label: "view_scoring", roles: [EXAMINER, MANAGER], render: scoringView },
  { id: "disposition", label: "view_disposition", roles: [MANAGER], render: dispositionView },
  { id: "concerns", label: "view_concerns", roles: [MANAGER], render: concernsView },
  { id: "grade-disputes", label: "view_disputes", roles: [MANAGER], render: disputesView },
  { id: "my-grade", label: "view_my_grade", roles: [TRAINEE], render: gradeView },
  { id: "audit", label: "view_audit", roles: [AUDITOR, MANAGER], render: auditView },
  { id: "pay-inputs", label: "view_pay_inputs", roles: [PAYROLL], render: payInputsView },
  { id: "payroll", label: "view_payroll", roles: [PAYROLL], render: payrollView },
  { id: "my-payslips", label: "view_my_payslips", roles: [TRAINEE], render: myPayslipsView },
  { id: "policies", label: "view_policies", roles: [EXEC_VP, PAYROLL], render: policiesView },
  { id: "privacy", label: "view_privacy", roles: [ADMIN], render: privacyView },
];

// The views ``roles`` may use, in the navigation's order.
export function viewsFor(roles) {
  return VIEWS.filter((view) => view.roles.some((role) => roles.includes(role)));
}
