// Package policy is the rule engine that build and release policies share:
// CEL expressions compiled once, when a policy is loaded, against typed
// variables, and evaluated with a cost limit, failing closed; and the
// strict JSON reading of policy files.
//
// Users write policies through build.Policy and release.Policy; the
// language is explained in docs/policy.md.
package policy
