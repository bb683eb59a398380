// The reasons a message is set aside (schemas/telemetry.py: RejectReason), as people read them;
// a reason added there and not here shows its code.
import { t } from "../i18n.js";

const LABELS = {
  bad_topic: "dead_letters.reason_bad_topic",
  oversized: "dead_letters.reason_oversized",
  bad_utf8: "dead_letters.reason_bad_utf8",
  bad_json: "dead_letters.reason_bad_json",
  bad_shape: "dead_letters.reason_bad_shape",
  missing_field: "dead_letters.reason_missing_field",
  bad_timestamp: "dead_letters.reason_bad_timestamp",
  future_timestamp: "dead_letters.reason_future_timestamp",
  too_old: "dead_letters.reason_too_old",
  unknown_type: "dead_letters.reason_unknown_type",
  unknown_sensor: "dead_letters.reason_unknown_sensor",
  type_mismatch: "dead_letters.reason_type_mismatch",
  domain_mismatch: "dead_letters.reason_domain_mismatch",
  unknown_metric: "dead_letters.reason_unknown_metric",
  wrong_value_type: "dead_letters.reason_wrong_value_type",
  not_finite: "dead_letters.reason_not_finite",
  out_of_range: "dead_letters.reason_out_of_range",
  wrong_unit: "dead_letters.reason_wrong_unit",
  too_many_readings: "dead_letters.reason_too_many_readings",
  bad_seq: "dead_letters.reason_bad_seq",
};

// "未登记的传感器 (unknown_sensor)": the words, and the code the API and the logs use.
export function reasonText(code) {
  return LABELS[code] ? `${t(LABELS[code])} (${code})` : code;
}
