// The alerts firing now, kept from /v1/alerts?phase=firing and then from the stream's alert
// events (each carries the alert's phase after the transition and its grade).
import { GRADES_WORST_FIRST, worse } from "../grades.js";

export class FiringAlerts {
  constructor() {
    this.byFingerprint = new Map();
  }

  // Alerts as /v1/alerts lists them.
  load(alerts) {
    this.byFingerprint.clear();
    for (const alert of alerts) {
      if (alert.phase === "firing" && alert.grade) {
        this.byFingerprint.set(alert.fingerprint, {
          grade: alert.grade,
          subdistrict: alert.subject.subdistrict,
          domain: alert.subject.domain,
        });
      }
    }
  }

  // One transition as the stream sends it: firing after it, or not any more.
  apply(transition) {
    if (transition.to_phase === "firing" && transition.grade) {
      this.byFingerprint.set(transition.fingerprint, {
        grade: transition.grade,
        subdistrict: transition.subdistrict,
        domain: transition.domain,
      });
    } else {
      this.byFingerprint.delete(transition.fingerprint);
    }
  }

  // grade -> how many fire (of one domain, or of all)
  counts(domain = null) {
    const counts = Object.fromEntries(GRADES_WORST_FIRST.map((g) => [g, 0]));
    for (const alert of this.byFingerprint.values()) {
      if (domain === null || alert.domain === domain) counts[alert.grade] += 1;
    }
    return counts;
  }

  // subdistrict code -> the worst grade firing there (district- and city-wide alerts have none)
  worstBySubdistrict() {
    const worst = new Map();
    for (const { grade, subdistrict } of this.byFingerprint.values()) {
      if (subdistrict) worst.set(subdistrict, worse(grade, worst.get(subdistrict)));
    }
    return worst;
  }
}
