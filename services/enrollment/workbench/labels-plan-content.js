// The labels of the plan content by level (R-7, R-7a) and the remedial revision (R-18a) in the
// plan editor and the approval queue (plan-content.js): key -> [English, Chinese].

export const PLAN_CONTENT_LABELS = {
  item_circuit_diagrams: ["Reading circuit diagrams", "识别基本电路原理图"],
  item_electrical_components: ["Electrical components", "电气元件"],
  item_power_tools: ["Power tools", "电动工具使用"],
  item_assembly: ["Assembling the product", "产品熟练装卸"],
  item_commissioning: ["Commissioning", "产品调试"],
  item_working_principle: ["Working principle", "产品工作原理"],
  item_product_structure: ["Product structure", "产品结构"],
  item_circuit_principles: ["Circuit principles", "电路原理知识"],
  item_mechanical_structure: ["Mechanical structure", "机械结构知识"],
  item_maintenance: ["Maintenance", "机器保养维护操作"],
  item_program_install: ["Control-program install and commissioning", "控制程序安装/调试"],
  item_fault_analysis: ["Fault analysis", "故障分析"],
  item_fault_repair: ["Fault repair", "故障解决"],
  item_electrical_principles: ["Electrical principles of the products", "公司产品电气原理"],
  item_program_modification: ["Control-program modification", "控制程序修改"],
  item_parts_repair: ["Parts repair", "配件检修"],

  col_covers: ["Content items (R-7a)", "培训内容项（R-7a）"],
  f_stage_covers: ["Content items, stage {n}", "第 {n} 阶段培训内容项"],
  f_cover: ["{item}, stage {n}", "第 {n} 阶段：{item}"],
  covers_missing: ["Content of the {level} level not covered yet (R-7): {items}.", "{level}尚未涵盖的内容（R-7）：{items}。"],
  covers_covered: ["Every content item of the {level} level is covered (R-7).", "{level}的全部内容均已涵盖（R-7）。"],
  covers_no_level: ["The placement is not recorded yet: approval waits for the plan level (R-7).", "尚未录入定岗成绩：计划须待确定计划级别后方可审批（R-7）。"],
  err_covers_missing: ["The plan does not cover the {level} level's content: {items} (R-7). Tick each in some stage, then submit.", "计划未涵盖{level}的内容：{items}（R-7）。请在某一阶段勾选每一项后再提交。"],

  remedial_title: ["Draft the remedial revision (R-18a: continue training)", "制定补训修订版（R-18a：继续培训）"],
  remedial_intro: ["The completed stages are kept as they were signed; add the new stages (trainers, dates) after them. The executive vice-president approves the revision before any remedial day (R-9).", "已完成的阶段按签字时保留；在其后添加新的阶段（培训人、日期）。补训日须待常务副总批准本修订版后方可记录（R-9）。"],
  remedial_closed: ["The training is completed. A remedial revision is drafted only after a continue-training disposition (R-18a).", "培训已完成。仅在处置为“继续培训”后方可制定补训修订版（R-18a）。"],
  remedial_kept: ["Completed stage {n}: kept as signed", "第 {n} 阶段已完成：按签字保留"],
  remedial_mark: ["Remedial revision after continue training (R-18a)", "继续培训后的补训修订版（R-18a）"],
  remedial_due_mark: ["Continue training decided: a remedial revision is due (R-18a)", "已决定继续培训：需制定补训修订版（R-18a）"],
};
