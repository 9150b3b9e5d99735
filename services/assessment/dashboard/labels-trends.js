// The "Trends" view's labels (trends.js): key -> [English, Chinese].

export const TRENDS_LABELS = {
  tab_trends: ["Trends", "趋势"],
  trends_title: ["Graded, failed and fined per month", "每月定级、不合格与罚款"],
  trends_first: ["First month", "起始月份"],
  trends_last: ["Last month", "截止月份"],
  trends_month: ["Month", "月份"],
  trends_graded: ["Graded", "定级人数"],
  trends_failed: ["Failed", "不合格人数"],
  trends_fines: ["Fines", "罚款次数"],
  trends_amount: ["Fine amount", "罚款金额"],
  trends_totals: ["Per month", "按月合计"],
  trends_by_branch: ["Per month and branch", "按月按分支机构"],
  trends_chart: ["Graded and failed per month", "每月定级与不合格人数"],
  trends_scope_all: ["Every branch, {from} to {to} (months in UTC).", "全部分支机构，{from} 至 {to}（按 UTC 月份）。"],
  trends_scope_branch: ["{branch}, {from} to {to} (months in UTC).", "{branch}，{from} 至 {to}（按 UTC 月份）。"],
  trends_fines_note: ["A fine counts in its trainer's branch; a trainer not registered yet counts in the totals only.", "罚款计入培训师所属分支机构；尚未登记的培训师的罚款只计入合计。"],
};
