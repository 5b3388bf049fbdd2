package build

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
)

// maxProcfile bounds how much of a Procfile is read.
const maxProcfile = 1 << 20

// ParseProcfile reads process declarations in Procfile form, one
// "name: command" per line. Blank lines and lines starting with '#' are
// skipped; names are letters, digits, '_' and '-'; the command is kept
// verbatim after the colon and leading spaces. A malformed line, a
// duplicate name or more than 1 MiB of input is an error that names the
// line. The processes come back in file order, none marked Admin.
func ParseProcfile(r io.Reader) ([]Process, error) {
	lr := &io.LimitedReader{R: r, N: maxProcfile + 1}
	sc := bufio.NewScanner(lr)
	sc.Buffer(make([]byte, 0, 4096), maxProcfile+1)
	var ps []Process
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSuffix(sc.Text(), "\r")
		trimmed := strings.TrimSpace(text)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		name, cmd, ok := strings.Cut(text, ":")
		if !ok {
			return nil, fmt.Errorf("build: Procfile line %d: %w: want \"name: command\"", line, ErrInvalidSpec)
		}
		p := Process{Name: name, Command: strings.TrimLeft(cmd, " \t")}
		if err := checkProcesses(append(ps, p)); err != nil {
			return nil, fmt.Errorf("build: Procfile line %d: %w", line, err)
		}
		ps = append(ps, p)
	}
	if err := sc.Err(); err != nil && !errors.Is(err, bufio.ErrTooLong) {
		return nil, fmt.Errorf("build: Procfile: %w", err)
	}
	if lr.N <= 0 {
		return nil, fmt.Errorf("build: Procfile: %w: longer than %d bytes", ErrInvalidSpec, maxProcfile)
	}
	return ps, nil
}
