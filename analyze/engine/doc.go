// Package engine runs the rules. Compile turns rule specifications
// (rules.Spec, from YAML) into expr programs type-checked against Env and
// bounded in size; Run builds the groups of a snapshot, evaluates every
// rule over the groups of its kind and returns the Report (findings with
// severity, subject, evidence and text); Explain traces one rule group by
// group. Facts are the snapshot-wide values and helpers rules read
// (settings, counters, port ranges, OS).
//
// Imports: model, group, rules and expr. Imported by report and analyze.
//
// Recipe — a new rule helper: a method on Facts (env.go) or on
// group.Group, documented in docs/rules.md, used by a rule under
// rules/builtin with fixtures in rules/testdata/<id>/. A new rule needs no
// Go at all.
package engine
