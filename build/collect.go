package build

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// item is one entry of a build on its way into the store.
type item struct {
	entry   entryRecord
	disk    string    // file on disk to read (TypeFile)
	reader  io.Reader // contents given by the caller (TypeFile)
	size    int64     // expected size of a disk file, for progress
	members []member  // what a TypeTar entry packs
}

// member is one entry of a packed directory.
type member struct {
	name   string // slash path relative to the build root
	disk   string
	mode   fs.FileMode // type and permission bits
	target string      // symlink target
	size   int64
}

const badModeBits = fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky

// collectDir walks dir without following links and returns its entries in
// path order, with the subtrees named in tars packed as one item each.
func collectDir(dir string, tars []string) ([]item, error) {
	info, err := os.Stat(dir)
	if err != nil {
		return nil, fileErr(dir, err)
	}
	// The root itself may be a link (a "current" release directory, say):
	// that one is followed, nothing below it.
	given := dir
	if dir, err = filepath.EvalSymlinks(dir); err != nil {
		return nil, fileErr(given, err)
	}
	if !info.IsDir() {
		return nil, fileErr(dir, fmt.Errorf("%w: not a directory", ErrInvalidSpec))
	}
	tarSet := make(map[string]*item, len(tars))
	for _, t := range tars {
		if err := checkPath(t); err != nil {
			return nil, fmt.Errorf("Spec.Tar: %w", err)
		}
		if tarSet[t] != nil {
			return nil, fmt.Errorf("Spec.Tar: %w", fileErr(t, ErrDuplicatePath))
		}
		tarSet[t] = &item{entry: entryRecord{Path: t, Type: TypeTar}}
	}
	for t := range tarSet {
		for d := path.Dir(t); d != "."; d = path.Dir(d) {
			if tarSet[d] != nil {
				return nil, fmt.Errorf("Spec.Tar: %w", fileErr(t, fmt.Errorf("%w: inside packed directory %q", ErrDuplicatePath, d)))
			}
		}
	}

	var items []item
	links := make(map[string]string)
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fileErr(p, err)
		}
		if p == dir {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return fileErr(p, err)
		}
		name := filepath.ToSlash(rel)
		if err := checkPath(name); err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return fileErr(name, err)
		}
		mode := info.Mode()
		if mode&badModeBits != 0 {
			return fileErr(name, fmt.Errorf("%w: mode %s has setuid, setgid or sticky bits", ErrUnsupportedFile, mode))
		}
		m := member{name: name, disk: p, mode: mode}
		switch {
		case mode.IsDir():
		case mode.IsRegular():
			m.size = info.Size()
		case mode&fs.ModeSymlink != 0:
			if m.target, err = os.Readlink(p); err != nil {
				return fileErr(name, err)
			}
			links[name] = m.target
		default:
			return fileErr(name, fmt.Errorf("%w: %s", ErrUnsupportedFile, fileKind(mode)))
		}
		if t := owningTar(tarSet, name); t != nil {
			if name == t.entry.Path {
				if !mode.IsDir() {
					return fmt.Errorf("Spec.Tar: %w", fileErr(name, fmt.Errorf("%w: not a directory", ErrInvalidSpec)))
				}
			}
			t.members = append(t.members, m)
			return nil
		}
		switch {
		case mode.IsRegular():
			items = append(items, item{entry: entryRecord{Path: name, Type: TypeFile, Mode: formatMode(mode)}, disk: p, size: m.size})
		case mode&fs.ModeSymlink != 0:
			items = append(items, item{entry: entryRecord{Path: name, Type: TypeSymlink, Mode: formatMode(mode), Target: m.target}})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for name, t := range tarSet {
		if len(t.members) == 0 {
			return nil, fmt.Errorf("Spec.Tar: %w", fileErr(name, fmt.Errorf("%w: no such directory", ErrInvalidSpec)))
		}
		items = append(items, *t)
	}
	if err := checkLinkMap(links); err != nil {
		return nil, err
	}
	sortItems(items)
	return items, nil
}

func owningTar(tars map[string]*item, name string) *item {
	if len(tars) == 0 {
		return nil
	}
	for p := name; p != "."; p = path.Dir(p) {
		if t := tars[p]; t != nil {
			return t
		}
	}
	return nil
}

func fileKind(m fs.FileMode) string {
	switch {
	case m&fs.ModeDevice != 0:
		return "device"
	case m&fs.ModeNamedPipe != 0:
		return "named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeIrregular != 0:
		return "irregular file"
	}
	return "file of mode " + m.String()
}

// collectFiles checks an explicit file list and turns it into items.
func collectFiles(files []File) ([]item, error) {
	items := make([]item, 0, len(files))
	for i, f := range files {
		where := fmt.Sprintf("Spec.Files[%d]", i)
		if err := checkPath(f.Name); err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		if f.Mode&^fs.ModePerm != 0 {
			return nil, fmt.Errorf("%s: %w", where, fileErr(f.Name, fmt.Errorf("%w: mode %s: only permission bits are allowed", ErrUnsupportedFile, f.Mode)))
		}
		set := 0
		for _, ok := range []bool{f.Path != "", f.Reader != nil, f.Linkname != ""} {
			if ok {
				set++
			}
		}
		if set != 1 {
			return nil, fmt.Errorf("%s: %w", where, fileErr(f.Name, fmt.Errorf("%w: set exactly one of Path, Reader and Linkname", ErrInvalidSpec)))
		}
		it := item{entry: entryRecord{Path: f.Name, Type: TypeFile}, reader: f.Reader}
		mode := f.Mode
		switch {
		case f.Linkname != "":
			it.entry.Type, it.entry.Target = TypeSymlink, f.Linkname
			if mode == 0 {
				mode = 0o777
			}
		case f.Path != "":
			info, err := os.Lstat(f.Path)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", where, fileErr(f.Name, err))
			}
			if !info.Mode().IsRegular() {
				return nil, fmt.Errorf("%s: %w", where, fileErr(f.Name, fmt.Errorf("%w: %s is a %s", ErrUnsupportedFile, f.Path, fileKind(info.Mode()))))
			}
			if info.Mode()&badModeBits != 0 {
				return nil, fmt.Errorf("%s: %w", where, fileErr(f.Name, fmt.Errorf("%w: mode %s has setuid, setgid or sticky bits", ErrUnsupportedFile, info.Mode())))
			}
			if mode == 0 {
				mode = info.Mode().Perm()
			}
			it.disk, it.size = f.Path, info.Size()
		default:
			if mode == 0 {
				mode = 0o644
			}
		}
		it.entry.Mode = formatMode(mode)
		items = append(items, it)
	}
	sortItems(items)
	for i := 1; i < len(items); i++ {
		if items[i].entry.Path == items[i-1].entry.Path {
			return nil, fileErr(items[i].entry.Path, ErrDuplicatePath)
		}
	}
	entries := make([]entryRecord, len(items))
	seen := make(map[string]EntryType, len(items))
	for i, it := range items {
		entries[i] = it.entry
		seen[it.entry.Path] = it.entry.Type
	}
	if err := checkNesting(seen); err != nil {
		return nil, err
	}
	if err := checkLinks(entries); err != nil {
		return nil, err
	}
	return items, nil
}

func sortItems(items []item) {
	slices.SortFunc(items, func(a, b item) int { return strings.Compare(a.entry.Path, b.entry.Path) })
}

var errNoInput = errors.New("give Spec.Dir, Spec.Files or Spec.Image")
