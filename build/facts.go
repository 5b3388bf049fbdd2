package build

import (
	"time"
)

// Facts are what a policy's CEL rules know of a build, as the variable
// build. The json names are the CEL field names.
type Facts struct {
	App       string         `json:"app"`
	Digest    string         `json:"digest"` // empty while the build is made
	Created   time.Time      `json:"created"`
	Source    FactsSource    `json:"source"`
	Builder   string         `json:"builder"`
	Module    string         `json:"module"`
	Toolchain string         `json:"toolchain"`
	Files     []FileFacts    `json:"files"`
	Processes []ProcessFacts `json:"processes"`
	Binaries  []BinaryFacts  `json:"binaries"`
}

// FactsSource is the source of a build in [Facts].
type FactsSource struct {
	Repository string `json:"repository"`
	Revision   string `json:"revision"`
	Dirty      bool   `json:"dirty"`
}

// FileFacts is a file, link or packed directory in [Facts].
type FileFacts struct {
	Path string `json:"path"`
	Type string `json:"type"` // "file", "symlink" or "tar"
	Size int64  `json:"size"`
	Mode int    `json:"mode"`
}

// ProcessFacts is a declared process in [Facts].
type ProcessFacts struct {
	Name    string `json:"name"`
	Command string `json:"command"`
	Admin   bool   `json:"admin"`
}

// BinaryFacts is a Go binary in [Facts].
type BinaryFacts struct {
	Path    string `json:"path"`
	Module  string `json:"module"`
	Version string `json:"version"`
}

// Facts returns what a policy knows of b.
func (b *Build) Facts() Facts {
	f := Facts{
		App:       b.rec.App,
		Digest:    b.desc.Digest.String(),
		Created:   b.created,
		Builder:   b.rec.Builder,
		Module:    b.rec.Module,
		Toolchain: b.rec.Toolchain,
	}
	if s := b.rec.Source; s != nil {
		f.Source = FactsSource{Repository: s.Repository, Revision: s.Revision, Dirty: s.Dirty}
	}
	for _, e := range b.Entries() {
		f.Files = append(f.Files, FileFacts{Path: e.Path, Type: string(e.Type), Size: e.Size, Mode: int(e.Mode.Perm())})
	}
	for _, p := range b.Processes() {
		f.Processes = append(f.Processes, ProcessFacts{Name: p.Name, Command: p.Command, Admin: p.Admin})
	}
	for _, x := range b.rec.Binaries {
		f.Binaries = append(f.Binaries, BinaryFacts{Path: x.Path, Module: x.Module, Version: x.Version})
	}
	return f
}

// Rule is a CEL rule of a policy.
type Rule struct {
	Name    string `json:"name"`
	Expr    string `json:"expr"`
	Message string `json:"message,omitempty"`
}
