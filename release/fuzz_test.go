package release

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

// FuzzParse feeds arbitrary manifest and record bytes to the reader: it
// never panics, and whatever it accepts encodes back to the very record
// bytes it read and parses again to the same release.
func FuzzParse(f *testing.F) {
	_, b, c := fixture(f)
	r, err := compose(b, c, nil, 0, t0)
	if err != nil {
		f.Fatal(err)
	}
	r2, err := compose(b, c, r, 1, t0)
	if err != nil {
		f.Fatal(err)
	}
	for _, x := range []*Release{r, r2} {
		f.Add(x.raw, x.record)
	}
	f.Add([]byte(`{}`), []byte(`{}`))
	f.Fuzz(func(t *testing.T, raw, rec []byte) {
		got, err := parse(raw, rec)
		if err != nil {
			return
		}
		again, err := got.rec.encode()
		if err != nil {
			t.Fatalf("accepted record does not encode: %v", err)
		}
		if !bytes.Equal(again, rec) {
			t.Fatalf("accepted record is not canonical:\n%s\n%s", rec, again)
		}
		back, err := parse(raw, again)
		if err != nil {
			t.Fatalf("re-encoded record refused: %v", err)
		}
		if back.Digest() != got.Digest() || back.Version() != got.Version() {
			t.Fatalf("parse is not stable")
		}
	})
}

// FuzzParseRevocation feeds arbitrary bytes to the revocation reader,
// which reads signed predicates: it never panics, every refusal wraps
// ErrMalformed, and what it accepts encodes to JSON that it accepts again
// as the same revocation, encoding to the same bytes.
func FuzzParseRevocation(f *testing.F) {
	rev := &Revocation{
		Release:   DecisionSubject{App: "shop", Environment: "prod", Version: 2, Digest: "sha256:" + hex64},
		Reason:    "CVE-2026-9999 is exploited\n\tsee the advisory <https://example.com/a?b&c>",
		RevokedBy: "security@example.com",
		Time:      time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
	}
	raw, err := json.Marshal(rev)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(raw)
	f.Add([]byte(`{"release":{"app":"shop","environment":"prod","version":1,"digest":"sha256:` + hex64 + `"},"reason":"r","time":"2026-01-01T00:00:00+01:00"}`))
	f.Add([]byte(`{"reason":"x"}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := ParseRevocation(data)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("refusal does not wrap ErrMalformed: %v", err)
			}
			return
		}
		if strings.TrimSpace(got.Reason) == "" {
			t.Fatal("accepted without a reason")
		}
		enc, err := json.Marshal(got)
		if err != nil {
			t.Fatalf("accepted revocation does not encode: %v", err)
		}
		back, err := ParseRevocation(enc)
		if err != nil {
			t.Fatalf("encoded revocation refused: %v\n%s", err, enc)
		}
		if back.Release != got.Release || back.Reason != got.Reason || back.RevokedBy != got.RevokedBy || !back.Time.Equal(got.Time) {
			t.Fatalf("not the same revocation:\n%+v\n%+v", got, back)
		}
		again, err := json.Marshal(back)
		if err != nil || !bytes.Equal(enc, again) {
			t.Fatalf("encodes differently:\n%s\n%s", enc, again)
		}
	})
}
