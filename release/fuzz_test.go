package release

import (
	"bytes"
	"testing"
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
