// The four warning grades (蓝 < 黄 < 橙 < 红, schemas/grades.py) and their colours on the wall.
export const GRADES_WORST_FIRST = ["red", "orange", "yellow", "blue"];
export const GRADE_COLOURS = {
  red: "#e5302d",
  orange: "#f28a1c",
  yellow: "#f2cf1d",
  blue: "#1e6fd9",
};
export const NO_GRADE_COLOUR = "#24384f";

export function rank(grade) {
  const at = GRADES_WORST_FIRST.indexOf(grade);
  return at < 0 ? -1 : GRADES_WORST_FIRST.length - at;
}

export function worse(a, b) {
  return rank(a) >= rank(b) ? a : b;
}
