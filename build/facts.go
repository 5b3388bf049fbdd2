package build

import (
	"cmp"
	"io/fs"
	"slices"
	"time"
)

// Facts is what a build policy's CEL rules read of a build as the variable
// build. Its json tags are the field names the rules use: build.app,
// build.source.dirty, build.files[0].path, and so on (docs/policy.md).
type Facts struct {
	App string `json:"app"`
	// Digest is the build manifest's digest; it is empty while [New]
	// applies a policy, as the manifest does not exist yet.
	Digest    string      `json:"digest"`
	Created   time.Time   `json:"created"` // a CEL timestamp
	Source    FactsSource `json:"source"`
	Builder   string      `json:"builder"`
	Module    string      `json:"module"`    // of the Go binaries, if they agree
	Toolchain string      `json:"toolchain"` // of the Go binaries, if they agree
	// Files are the build's entries in path order. While New applies a
	// policy they also hold the files and links inside each packed
	// directory, under its path; a stored build does not record those, so
	// [Build.Facts] lists a packed directory as its "tar" entry only.
	Files     []FileFacts    `json:"files"`
	Processes []ProcessFacts `json:"processes"` // in declaration order
	Binaries  []BinaryFacts  `json:"binaries"`  // Go binaries, in path order
}

// FactsSource is the version control origin of a build, as [Facts] gives it.
type FactsSource struct {
	Repository string `json:"repository"`
	Revision   string `json:"revision"`
	Dirty      bool   `json:"dirty"`
}

// FileFacts is one file, link or packed directory of a build, as [Facts]
// gives it.
type FileFacts struct {
	Path string `json:"path"` // slash-separated path in the build
	Type string `json:"type"` // "file", "symlink" or "tar"
	Size int64  `json:"size"` // bytes of a file, of the compressed layer of a packed directory; 0 for a link
	Mode int    `json:"mode"` // permission bits, e.g. 0o755 (493); 0 for a packed directory
}

// ProcessFacts is one declared process type, as [Facts] gives it.
type ProcessFacts struct {
	Name    string `json:"name"`
	Command string `json:"command"`
	Admin   bool   `json:"admin"`
}

// BinaryFacts is one Go binary of a build, as [Facts] gives it.
type BinaryFacts struct {
	Path    string `json:"path"`
	Module  string `json:"module"`
	Version string `json:"version"`
}

// Facts returns what a build policy's rules read of b as the variable
// build. Its Files hold no members of packed directories (see [Facts]).
func (b *Build) Facts() Facts {
	f := recordFacts(&b.rec, b.created)
	f.Digest = b.desc.Digest.String()
	return f
}

// recordFacts gives the facts a record holds, without a digest.
func recordFacts(rec *record, created time.Time) Facts {
	f := Facts{
		App:       rec.App,
		Created:   created,
		Builder:   rec.Builder,
		Module:    rec.Module,
		Toolchain: rec.Toolchain,
	}
	if rec.Source != nil {
		f.Source = FactsSource(*rec.Source)
	}
	for _, e := range rec.Files {
		ff := FileFacts{Path: e.Path, Type: string(e.Type), Size: e.Size}
		if e.Mode != "" {
			ff.Mode = int(parseMode(e.Mode))
		}
		f.Files = append(f.Files, ff)
	}
	for _, p := range rec.Processes {
		f.Processes = append(f.Processes, ProcessFacts(p))
	}
	for _, x := range rec.Binaries {
		f.Binaries = append(f.Binaries, BinaryFacts{Path: x.Path, Module: x.Module, Version: x.Version})
	}
	return f
}

// buildingFacts gives the facts of a build New is making: those of rec,
// whose files are not stored yet, with the files of items, the sizes of
// files on disk as listed, and the members of packed directories.
func buildingFacts(rec *record, created time.Time, items []item) Facts {
	f := recordFacts(rec, created)
	f.Files = nil
	for _, it := range items {
		ff := FileFacts{Path: it.entry.Path, Type: string(it.entry.Type), Size: it.entry.Size}
		if it.entry.Type == TypeFile && ff.Size == 0 {
			ff.Size = it.size // a file on disk, not hashed yet
		}
		if it.entry.Mode != "" {
			ff.Mode = int(parseMode(it.entry.Mode))
		}
		f.Files = append(f.Files, ff)
		for _, m := range it.members {
			switch {
			case m.mode.IsRegular():
				f.Files = append(f.Files, FileFacts{Path: m.name, Type: string(TypeFile), Size: m.size, Mode: int(m.mode.Perm())})
			case m.mode&fs.ModeSymlink != 0:
				f.Files = append(f.Files, FileFacts{Path: m.name, Type: string(TypeSymlink), Mode: int(m.mode.Perm())})
			}
		}
	}
	slices.SortStableFunc(f.Files, func(a, b FileFacts) int { return cmp.Compare(a.Path, b.Path) })
	return f
}
