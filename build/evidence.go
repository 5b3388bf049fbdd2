package build

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/slipway-dev/slipway/attest"
)

// sourceGenerated is the Source of an SBOM made from Go build info.
const sourceGenerated = "generated"

// predicate is one piece of evidence on its way into a build.
type predicate struct {
	kind   string
	data   []byte // normalized
	source string
}

// readEvidence reads and checks the evidence files spec names, before
// anything is stored: each error names the file and the place in it.
func readEvidence(spec *Spec, created time.Time) ([]predicate, error) {
	var out []predicate
	if spec.SBOM != "" {
		data, err := readEvidenceFile(spec.SBOM)
		if err != nil {
			return nil, fmt.Errorf("Spec.SBOM: %w", err)
		}
		sbom, err := attest.ParseSBOM(data, spec.SBOM)
		if err != nil {
			return nil, fmt.Errorf("Spec.SBOM: %w", err)
		}
		norm, err := attest.NormalizeJSON(data)
		if err != nil {
			return nil, fmt.Errorf("Spec.SBOM: %s: %w", spec.SBOM, err)
		}
		out = append(out, predicate{kind: sbom.PredicateType, data: norm, source: filepath.Base(spec.SBOM)})
	}
	for i, sc := range spec.Scans {
		data, err := readEvidenceFile(sc.Path)
		if err != nil {
			return nil, fmt.Errorf("Spec.Scans[%d]: %w", i, err)
		}
		scan, err := attest.ParseScan(data, sc.Path)
		if err != nil {
			return nil, fmt.Errorf("Spec.Scans[%d]: %w", i, err)
		}
		if sc.Scanner.Name != "" {
			scan.Scanner.Name = sc.Scanner.Name
		}
		if sc.Scanner.Version != "" {
			scan.Scanner.Version = sc.Scanner.Version
		}
		if sc.Scanner.URI != "" {
			scan.Scanner.URI = sc.Scanner.URI
		}
		finished := sc.Finished
		if finished.IsZero() && scan.Time.IsZero() {
			finished = created // the report states no time either
		}
		pred, err := attest.NewVulnPredicate(data, scan, sc.Started, finished)
		if err != nil {
			return nil, fmt.Errorf("Spec.Scans[%d] %s: %w", i, sc.Path, err)
		}
		out = append(out, predicate{kind: attest.PredicateVuln, data: pred, source: filepath.Base(sc.Path)})
	}
	for i, p := range spec.VEX {
		data, err := readEvidenceFile(p)
		if err != nil {
			return nil, fmt.Errorf("Spec.VEX[%d]: %w", i, err)
		}
		if _, err := attest.ParseVEX(data, p); err != nil {
			return nil, fmt.Errorf("Spec.VEX[%d]: %w", i, err)
		}
		norm, err := attest.NormalizeJSON(data)
		if err != nil {
			return nil, fmt.Errorf("Spec.VEX[%d]: %s: %w", i, p, err)
		}
		out = append(out, predicate{kind: attest.PredicateOpenVEX, data: norm, source: filepath.Base(p)})
	}
	return out, nil
}

// readEvidenceFile reads a file of at most attest.MaxEvidenceSize bytes.
func readEvidenceFile(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return attest.ReadEvidence(f, name)
}

// goSBOM makes the SBOM of the build's Go binaries once their layers are
// stored and their digests known.
func goSBOM(rec *record, infos []attest.GoBinary, files []entryRecord, created time.Time) (predicate, error) {
	digests := make(map[string]digest.Digest, len(files))
	for _, e := range files {
		digests[e.Path] = digest.Digest(e.Digest)
	}
	bins := slices.Clone(infos)
	slices.SortFunc(bins, func(a, b attest.GoBinary) int { return strings.Compare(a.Path, b.Path) })
	for i := range bins {
		bins[i].Digest = digests[bins[i].Path]
	}
	data, err := attest.GoSBOM(attest.GoSBOMInput{Name: rec.App, Created: created, Binaries: bins})
	if err != nil {
		return predicate{}, fmt.Errorf("generate SBOM: %w", err)
	}
	return predicate{kind: attest.PredicateCycloneDX, data: data, source: sourceGenerated}, nil
}

// storeEvidence records each predicate in rec, computes the build's
// summary from them, and stores them as blobs.
func (s *storer) storeEvidence(ctx context.Context, rec *record, preds []predicate) error {
	uniq, err := recordEvidence(rec, preds)
	if err != nil {
		return err
	}
	for _, p := range uniq {
		desc := evidenceDescriptor(p)
		if err := pushBytes(ctx, s.dst, desc, p.data); err != nil {
			return fmt.Errorf("store evidence %s (%s): %w", p.source, desc.Digest, err)
		}
	}
	return nil
}

// recordEvidence records each predicate in rec and computes the build's
// summary from them, storing nothing. It returns the predicates without
// repeats, in the order given.
func recordEvidence(rec *record, preds []predicate) ([]predicate, error) {
	var in []attest.Predicate
	var uniq []predicate
	seen := map[digest.Digest]bool{}
	for _, p := range preds {
		desc := evidenceDescriptor(p)
		if seen[desc.Digest] {
			continue
		}
		seen[desc.Digest] = true
		rec.Evidence = append(rec.Evidence, evidenceRecord{
			PredicateType: p.kind, MediaType: desc.MediaType, Digest: desc.Digest.String(), Size: desc.Size, Source: p.source,
		})
		in = append(in, attest.Predicate{Type: p.kind, Data: p.data})
		uniq = append(uniq, p)
	}
	slices.SortFunc(rec.Evidence, func(a, b evidenceRecord) int { return strings.Compare(a.Digest, b.Digest) })
	if len(in) == 0 {
		return nil, nil
	}
	sum, err := attest.Summarize(in, productsOf(rec))
	if err != nil {
		return nil, err
	}
	rec.Summary = sum
	return uniq, nil
}

func evidenceDescriptor(p predicate) ocispec.Descriptor {
	return ocispec.Descriptor{MediaType: evidenceMediaType(p.kind), Digest: digest.FromBytes(p.data), Size: int64(len(p.data))}
}

// productsOf lists the identities VEX statements may name the build by:
// the app name and each Go binary's main module purl, with its version
// when the binary states one.
func productsOf(rec *record) []string {
	out := []string{rec.App}
	for _, b := range rec.Binaries {
		if b.Module == "" {
			continue
		}
		v := b.Version
		if v == "(devel)" {
			v = ""
		}
		if p := attest.GoPURL(b.Module, v); !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}
