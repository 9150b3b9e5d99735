"""The compensation service: pay rates from grades, payslips, branch fees and trainer fines (R-19,
R-24 to R-33)."""
