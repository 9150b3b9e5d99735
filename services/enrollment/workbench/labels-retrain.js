// The labels of R-24 as now written (session-subject.js, retrain.js): an exam session for one
// training content, and the trainees a fined trainer keeps training until they pass. key ->
// [English, Chinese], as labels.js; the keys start with "r_" so that no other table rewords them.

export const RETRAIN_LABELS = {
  view_retraining: ["Keep training until they pass (R-24)", "继续培训直至合格（R-24）"],

  r_f_session_for: ["Session for", "考核对象"],
  r_subject_series: ["A product series", "产品系列"],
  r_subject_content: ["A training content", "培训内容"],
  r_f_content: ["Training content", "培训内容"],
  r_series_or_content: ["Series or content", "系列或内容"],
  r_session_opened_content: ["Session {id} ({content}) is open.", "场次 {id}（{content}）已开设。"],

  r_intro: ["You were held responsible (R-24: 30 % or more of your trainees failed): keep training these trainees until each passes a later sitting.", "您被认定负有责任（R-24：所带学员不合格率达 30% 及以上）：请继续培训以下学员，直至每人在以后的考核中合格。"],
  r_trainee: ["Trainee", "学员"],
  r_session: ["Failed in session", "不合格场次"],
  r_since: ["Since", "起始日期"],
  r_none: ["No trainee is owed retraining.", "暂无需继续培训的学员。"],
  r_count: ["{n} trainee(s) to keep training.", "需继续培训的学员：{n} 名。"],

  r_content_circuit_diagrams: ["Reading circuit diagrams", "识别基本电路原理图"],
  r_content_electrical_components: ["Electrical components", "电气元件"],
  r_content_power_tools: ["Using power tools", "电动工具使用"],
  r_content_assembly: ["Assembling and disassembling the product", "产品熟练装卸"],
  r_content_commissioning: ["Commissioning the product", "产品调试"],
  r_content_working_principle: ["Working principle of the product", "产品工作原理"],
  r_content_product_structure: ["Product structure", "产品结构"],
  r_content_circuit_principles: ["Circuit principles", "电路原理知识"],
  r_content_mechanical_structure: ["Mechanical structure", "机械结构知识"],
  r_content_maintenance: ["Machine maintenance", "机器保养维护操作"],
  r_content_program_install: ["Installing and commissioning the control program", "控制程序安装/调试"],
  r_content_fault_analysis: ["Fault analysis", "故障分析"],
  r_content_fault_repair: ["Fault repair", "故障解决"],
  r_content_electrical_principles: ["Electrical principles of the company's products", "公司产品电气原理"],
  r_content_program_modification: ["Modifying the control program", "控制程序修改"],
  r_content_parts_repair: ["Repairing parts", "配件检修"],
  r_content_company_processes: ["Company processes", "公司流程"],
  r_content_department_responsibilities: ["Department responsibilities", "部门职责"],
  r_content_travel_policy: ["Travel policy", "差旅制度"],
  r_content_appraisal_rules: ["Appraisal rules", "考核制度"],
};
