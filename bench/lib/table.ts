/** Markdown table rendering. */

export function markdownTable(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]): string =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join(" | ")} |`;
  const sep = `|${widths.map((w, i) => (i === 0 ? `${"-".repeat(w + 1)}-` : `${"-".repeat(w + 1)}:`)).join("|")}|`;
  return [line(header), sep, ...rows.map(line)].join("\n");
}

/** One issue target checked against a measured ratio; `pass` null when the ratio could not be measured. */
export interface Check {
  name: string;
  value: number;
  /** `value` as the check's own formatter renders it (a ratio, megabytes, ...). */
  measured: string;
  limit: string;
  pass: boolean | null;
}

/** A check that `value` is at least (`atMost` false) or at most `goal`, rendered with `fmt`. */
export function check(name: string, value: number, goal: number, fmt: (x: number) => string, atMost = false): Check {
  const pass = Number.isFinite(value) ? (atMost ? value <= goal : value >= goal) : null;
  // A miss that rounds to the goal ("measured 0.80x, need >= 0.80x") shows the digits that decide it.
  const shown = fmt(value);
  const measured = pass === false && shown === fmt(goal) ? `${value.toPrecision(4)}, which rounds to ${shown}` : shown;
  return { name, value, measured, limit: `${atMost ? "<=" : ">="} ${fmt(goal)}`, pass };
}

/** The "Issue targets" section: one PASS/FAIL/n/a line per check and a verdict, or `none` when nothing was checked. */
export function targetsSection(checks: readonly Check[], none: string): string[] {
  const out = ["", "### Issue targets", ""];
  if (checks.length === 0) return [...out, none];
  for (const c of checks) out.push(`- ${c.pass === null ? "n/a" : c.pass ? "PASS" : "FAIL"}: ${c.name} (measured ${c.measured}, need ${c.limit})`);
  out.push(checks.every((c) => c.pass === true) ? "\nAll targets met." : "\nNot all targets met.");
  return out;
}
