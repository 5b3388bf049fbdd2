package release

import (
	"encoding/json"
	"errors"
	"testing"
	"time"
)

// FuzzParsePolicy feeds arbitrary bytes to the policy reader: it never
// panics, every refusal wraps ErrInvalidPolicy, and an accepted policy
// loads again from its own spec with the same digest.
func FuzzParsePolicy(f *testing.F) {
	for _, s := range []string{
		`{}`,
		`{"maxOpen":{"critical":0,"high":3},"allow":[{"id":"CVE-2026-1","expires":"2026-12-31","reason":"r"}]}`,
		`{"builders":["https://ci.example.com"],"sources":["https://example.com/acme/*"],"requireSBOM":true,"requireClean":true}`,
		`{"maxBuildAge":"30d","maxScanAge":"72h","environments":["prod"]}`,
		`{"rules":[{"name":"a","expr":"summary.vulnerabilities.open.critical == 0 && release.version > 0"}]}`,
		`{"rules":[{"name":"a","expr":"now - build.created < duration('1h')","message":"m"}]}`,
		`{"maxOpen":{"severe":0}}`,
		`{"requireSbom":true}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParsePolicy(data, "fuzz.json")
		if err != nil {
			if !errors.Is(err, ErrInvalidPolicy) {
				t.Fatalf("refusal does not wrap ErrInvalidPolicy: %v", err)
			}
			return
		}
		again, err := NewPolicy(p.Spec())
		if err != nil {
			t.Fatalf("accepted policy does not load from its spec: %v", err)
		}
		if again.Digest() != p.Digest() {
			t.Fatalf("digest changed: %s, then %s", p.Digest(), again.Digest())
		}
		raw, err := json.Marshal(p.Spec())
		if err != nil {
			t.Fatalf("spec does not encode: %v", err)
		}
		back, err := ParsePolicy(raw, "again.json")
		if err != nil {
			t.Fatalf("encoded spec refused: %v\n%s", err, raw)
		}
		if back.Digest() != p.Digest() {
			t.Fatalf("digest changed through JSON:\n%s", raw)
		}
	})
}

// FuzzParseDecision feeds arbitrary bytes to the decision reader, which
// reads signed predicates: it never panics, refusals wrap ErrMalformed,
// and an accepted decision is go only without blocking findings.
func FuzzParseDecision(f *testing.F) {
	d := &Decision{Verdict: VerdictNoGo, Release: DecisionSubject{App: "shop", Environment: "prod", Version: 1, Digest: "sha256:" + hex64},
		Policy: "sha256:" + hex64, Time: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		Findings: []Finding{{Rule: "maxOpen", Message: "m", Evidence: []string{"CVE-1"}, Blocking: true}}}
	raw, err := json.Marshal(d)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(raw)
	f.Add([]byte(`{"decision":"go"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := ParseDecision(data)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("refusal does not wrap ErrMalformed: %v", err)
			}
			return
		}
		if d.Go() && len(d.Blocking()) > 0 {
			t.Fatal("a go with blocking findings accepted")
		}
	})
}

const hex64 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// FuzzParseAuditRecord feeds arbitrary bytes to the audit record reader,
// which reads signed predicates: it never panics, refusals wrap
// ErrMalformed, and an accepted record ends no earlier than it started.
func FuzzParseAuditRecord(f *testing.F) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a := &AuditRecord{Release: DecisionSubject{App: "shop", Environment: "prod", Version: 1, Digest: "sha256:" + hex64},
		Process: "migrate", Command: "bin/shop migrate", Args: []string{"--dry-run"}, Operator: "ops@example.com", Host: "runner-1",
		StartedOn: start, FinishedOn: start.Add(time.Second), ExitCode: 0,
		Stdout: OutputDigest{Digest: "sha256:" + hex64, Size: 10}, Stderr: OutputDigest{Digest: "sha256:" + hex64}}
	raw, err := json.Marshal(a)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(raw)
	f.Add([]byte(`{"process":"x"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := ParseAuditRecord(data)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("refusal does not wrap ErrMalformed: %v", err)
			}
			return
		}
		if a.FinishedOn.Before(a.StartedOn) || a.Process == "" {
			t.Fatalf("accepted a record that ends before it starts or names no process: %+v", a)
		}
	})
}
